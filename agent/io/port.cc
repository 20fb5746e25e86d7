#include "absl/strings/string_view.h"
#include "agent/io/port.h"

#include <net/if.h>

#include <cstring>
#include <vector>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/packet/frame.h"

namespace netrig::agent::io {
namespace {

constexpr uint16_t kRxDescriptors = 1024;
constexpr uint16_t kTxDescriptors = 1024;
constexpr unsigned kPoolCache = 256;

struct PmdEntry {
  const char* name;
  Pmd pmd;
};
constexpr PmdEntry kPmds[] = {
    {"net_af_xdp", Pmd::kAfXdp}, {"net_af_packet", Pmd::kAfPacket}, {"net_ring", Pmd::kRing},
    {"net_null", Pmd::kNull},    {"net_tap", Pmd::kTap},            {"pci", Pmd::kPci},
};

bool NeedsIface(Pmd pmd) { return pmd == Pmd::kAfXdp || pmd == Pmd::kAfPacket; }

// Every pattern byte of a TX frame's payload is written once here, when the pool is made; the
// TX engine only writes headers and the signature per frame.
void FillPattern(rte_mempool*, void*, void* obj, unsigned) {
  auto* m = static_cast<rte_mbuf*>(obj);
  auto* data = static_cast<uint8_t*>(m->buf_addr) + RTE_PKTMBUF_HEADROOM;
  const uint32_t room = m->buf_len - RTE_PKTMBUF_HEADROOM;
  for (uint32_t o = 0; o < room; ++o) {
    data[o] = packet::PayloadPatternByte(o);
  }
}

}  // namespace

absl::StatusOr<Pmd> ParsePmd(absl::string_view name) {
  std::string known;
  for (const PmdEntry& e : kPmds) {
    if (name == e.name) {
      return e.pmd;
    }
    absl::StrAppend(&known, known.empty() ? "" : ", ", e.name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown PMD \"", name, "\" (known: ", known, ")"));
}

std::string PmdName(Pmd pmd) {
  for (const PmdEntry& e : kPmds) {
    if (e.pmd == pmd) {
      return e.name;
    }
  }
  return "?";
}

bool PmdReceives(Pmd pmd) { return pmd != Pmd::kNull; }

absl::Status ValidatePortSpec(const PortSpec& spec, const std::string& path) {
  if (spec.name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".name: must not be empty"));
  }
  if (spec.queues == 0 || spec.queues > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".queues: ", spec.queues, " is outside 1..64"));
  }
  if (spec.pmd == Pmd::kRing && spec.queues != 1) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".queues: net_ring ports have one queue"));
  }
  if (NeedsIface(spec.pmd) || spec.pmd == Pmd::kTap) {
    if (spec.iface.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".iface: required for ", PmdName(spec.pmd)));
    }
    if (spec.iface.size() >= IF_NAMESIZE) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".iface: \"", spec.iface, "\" is longer than ", IF_NAMESIZE - 1));
    }
  }
  if (NeedsIface(spec.pmd) && if_nametoindex(spec.iface.c_str()) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ".iface: interface \"", spec.iface, "\" does not exist in this network namespace"));
  }
  if (spec.pmd == Pmd::kPci && spec.pci.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".pci: required for a pci port"));
  }
  if (!spec.mac.empty()) {
    if (auto mac = packet::ParseMac(spec.mac); !mac.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ".mac: ", mac.status().message()));
    }
  }
  return absl::OkStatus();
}

std::string DeviceName(const PortSpec& spec, int index) {
  if (spec.pmd == Pmd::kPci) {
    return spec.pci;
  }
  return absl::StrCat(PmdName(spec.pmd), index);
}

std::string VdevArg(const PortSpec& spec, int index) {
  const std::string dev = DeviceName(spec, index);
  switch (spec.pmd) {
    case Pmd::kAfXdp:
      return absl::StrCat(dev, ",iface=", spec.iface, ",start_queue=0,queue_count=", spec.queues);
    case Pmd::kAfPacket:
      return absl::StrCat(dev, ",iface=", spec.iface, ",qpairs=", spec.queues,
                          ",blocksz=4096,framesz=2048,framecnt=4096");
    case Pmd::kTap:
      return absl::StrCat(dev, ",iface=", spec.iface);
    case Pmd::kRing:
    case Pmd::kNull:
      return dev;
    case Pmd::kPci:
      return "";
  }
  return "";
}

absl::StatusOr<PortInfo> OpenPort(const PortSpec& spec, int index, uint32_t max_frame_bytes) {
  PortInfo info;
  info.name = spec.name;
  info.pmd = spec.pmd;
  info.device = spec.pmd == Pmd::kPci ? spec.pci : spec.iface;
  info.queues = spec.queues;
  const std::string dev = DeviceName(spec, index);
  info.ethdev = dev;
  if (rte_eth_dev_get_port_by_name(dev.c_str(), &info.port_id) != 0) {
    return absl::NotFoundError(absl::StrCat("port ", spec.name, ": DPDK has no device \"", dev,
                                            "\" (did the PMD fail to probe? see the EAL log)"));
  }
  rte_eth_dev_info dev_info;
  if (int rc = rte_eth_dev_info_get(info.port_id, &dev_info); rc != 0) {
    return absl::InternalError(absl::StrCat("port ", spec.name, ": dev_info: ", rte_strerror(-rc)));
  }
  info.driver = dev_info.driver_name ? dev_info.driver_name : "";
  if (spec.queues > dev_info.max_rx_queues || spec.queues > dev_info.max_tx_queues) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "port %s: queues %u exceeds what %s offers (rx %u, tx %u)", spec.name, spec.queues,
        info.driver, dev_info.max_rx_queues, dev_info.max_tx_queues));
  }
  info.numa_node = rte_eth_dev_socket_id(info.port_id);
  const int socket = info.numa_node < 0 ? 0 : info.numa_node;

  const uint32_t data_room = std::max<uint32_t>(RTE_MBUF_DEFAULT_DATAROOM, max_frame_bytes);
  const unsigned pool_size = 8191 * spec.queues;
  const std::string tx_name = absl::StrCat("tx", index);
  info.tx_pool = rte_pktmbuf_pool_create(tx_name.c_str(), pool_size, kPoolCache, 0,
                                         data_room + RTE_PKTMBUF_HEADROOM, socket);
  if (info.tx_pool == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "port ", spec.name, ": TX mempool: ", rte_strerror(rte_errno), " (raise --mem?)"));
  }
  rte_mempool_obj_iter(info.tx_pool, FillPattern, nullptr);
  const std::string rx_name = absl::StrCat("rx", index);
  info.rx_pool = rte_pktmbuf_pool_create(rx_name.c_str(), pool_size, kPoolCache, 0,
                                         data_room + RTE_PKTMBUF_HEADROOM, socket);
  if (info.rx_pool == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "port ", spec.name, ": RX mempool: ", rte_strerror(rte_errno), " (raise --mem?)"));
  }

  rte_eth_conf conf;
  std::memset(&conf, 0, sizeof(conf));
  if (spec.queues > 1) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & dev_info.flow_type_rss_offloads;
  }
  if (int rc = rte_eth_dev_configure(info.port_id, spec.queues, spec.queues, &conf); rc != 0) {
    return absl::InternalError(
        absl::StrCat("port ", spec.name, ": configure: ", rte_strerror(-rc)));
  }
  if (max_frame_bytes > 1518) {
    const uint16_t mtu = static_cast<uint16_t>(max_frame_bytes - 18);
    if (int rc = rte_eth_dev_set_mtu(info.port_id, mtu); rc != 0) {
      return absl::InvalidArgumentError(absl::StrCat("port ", spec.name, ": frames of ",
                                                     max_frame_bytes, " bytes need MTU ", mtu,
                                                     ", which the port refused: ",
                                                     rte_strerror(-rc)));
    }
  }
  uint16_t nb_rxd = kRxDescriptors;
  uint16_t nb_txd = kTxDescriptors;
  rte_eth_dev_adjust_nb_rx_tx_desc(info.port_id, &nb_rxd, &nb_txd);
  for (uint16_t q = 0; q < spec.queues; ++q) {
    if (int rc = rte_eth_rx_queue_setup(info.port_id, q, nb_rxd, socket, nullptr, info.rx_pool);
        rc != 0) {
      return absl::InternalError(
          absl::StrCat("port ", spec.name, ": RX queue ", q, ": ", rte_strerror(-rc)));
    }
    if (int rc = rte_eth_tx_queue_setup(info.port_id, q, nb_txd, socket, nullptr); rc != 0) {
      return absl::InternalError(
          absl::StrCat("port ", spec.name, ": TX queue ", q, ": ", rte_strerror(-rc)));
    }
  }
  if (int rc = rte_eth_dev_start(info.port_id); rc != 0) {
    return absl::InternalError(absl::StrCat("port ", spec.name, ": start: ", rte_strerror(-rc)));
  }
  rte_eth_promiscuous_enable(info.port_id);  // not every PMD supports it; harmless if not

  rte_ether_addr mac;
  rte_eth_macaddr_get(info.port_id, &mac);
  std::memcpy(info.mac.data(), mac.addr_bytes, 6);
  if (!spec.mac.empty()) {
    info.mac = *packet::ParseMac(spec.mac);  // validated in ValidatePortSpec
  }
  rte_eth_link link;
  std::memset(&link, 0, sizeof(link));
  rte_eth_link_get_nowait(info.port_id, &link);
  info.link_speed_reported =
      link.link_speed != RTE_ETH_SPEED_NUM_NONE && link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN;
  if (spec.speed_bps != 0) {
    info.speed_bps = spec.speed_bps;
  } else if (info.link_speed_reported) {
    info.speed_bps = uint64_t{link.link_speed} * 1000000u;
  } else {
    info.speed_bps = 10'000'000'000u;
  }
  return info;
}

absl::StatusOr<PortStats> ReadPortStats(const PortInfo& port) {
  rte_eth_stats basic;
  if (int rc = rte_eth_stats_get(port.port_id, &basic); rc != 0) {
    return absl::InternalError(absl::StrCat("port ", port.name, ": stats: ", rte_strerror(-rc)));
  }
  PortStats out;
  out.tx_packets = basic.opackets;
  out.tx_bytes = basic.obytes;
  out.rx_packets = basic.ipackets;
  out.rx_bytes = basic.ibytes;
  out.rx_missed = basic.imissed;
  out.rx_errors = basic.ierrors;
  out.tx_errors = basic.oerrors;
  out.rx_mbuf_allocation_errors = basic.rx_nombuf;
  // Extended stats by name (ethdev adds the generic names for every PMD; a PMD may refine
  // them). Ids are positions, so names and values are read in one go each scrape.
  const int n = rte_eth_xstats_get_names(port.port_id, nullptr, 0);
  if (n <= 0) {
    return out;
  }
  std::vector<rte_eth_xstat_name> names(static_cast<size_t>(n));
  std::vector<rte_eth_xstat> values(static_cast<size_t>(n));
  const int got_names = rte_eth_xstats_get_names(port.port_id, names.data(), n);
  const int got_values = rte_eth_xstats_get(port.port_id, values.data(), n);
  if (got_names != n || got_values != n) {
    return out;  // the set changed under us: the basic stats stand
  }
  struct Wanted {
    const char* name;
    uint64_t* field;
  };
  const Wanted wanted[] = {
      {"rx_missed_errors", &out.rx_missed},
      {"rx_errors", &out.rx_errors},
      {"tx_errors", &out.tx_errors},
      {"rx_mbuf_allocation_errors", &out.rx_mbuf_allocation_errors},
  };
  for (const rte_eth_xstat& v : values) {
    if (v.id >= names.size()) continue;
    for (const Wanted& w : wanted) {
      if (std::strcmp(names[v.id].name, w.name) == 0) {
        *w.field = v.value;
      }
    }
  }
  return out;
}

void ClosePort(PortInfo& port) {
  rte_eth_dev_stop(port.port_id);
  rte_eth_dev_close(port.port_id);
}

}  // namespace netrig::agent::io
