// Port configuration: which PMD backs a port role, the EAL device string it needs, and the
// ethdev set-up (queues, mempools, start, link). One code path for every PMD.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_mempool.h>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/packet/frame.h"

namespace netrig::agent::io {

enum class Pmd { kAfXdp, kAfPacket, kRing, kNull, kTap, kPci };

struct PortSpec {
  std::string name;        // role ("west")
  Pmd pmd = Pmd::kRing;
  std::string iface;       // kernel interface for af_xdp / af_packet / tap
  std::string pci;         // PCI address for pci
  uint64_t speed_bps = 0;  // 0: use the link's speed, else 10 Gb/s
  uint32_t queues = 1;
  std::string mac;         // optional override
};

// "net_af_xdp" -> Pmd. InvalidArgument lists the known names.
absl::StatusOr<Pmd> ParsePmd(absl::string_view name);
std::string PmdName(Pmd pmd);
// Whether a port of this PMD receives anything (net_null is a sink: its RX invents frames).
bool PmdReceives(Pmd pmd);

// Checks what can be checked before the EAL starts (interface exists, queue counts, PCI
// address form). `path` prefixes errors ("ports[1]").
absl::Status ValidatePortSpec(const PortSpec& spec, const std::string& path);

// The --vdev argument for a virtual port (index makes the device name unique), or "" for PCI.
std::string VdevArg(const PortSpec& spec, int index);
// The ethdev name DPDK gives the device.
std::string DeviceName(const PortSpec& spec, int index);

struct PortInfo {
  std::string name;
  Pmd pmd;
  std::string driver;  // as DPDK reports it
  std::string device;
  std::string ethdev;  // DPDK's device name ("net_ring0", or the PCI address)
  uint16_t port_id = 0;
  uint32_t queues = 1;
  packet::MacAddr mac{};
  uint64_t speed_bps = 0;     // used for line-rate math
  bool link_speed_reported = false;
  int numa_node = -1;
  rte_mempool* tx_pool = nullptr;
  rte_mempool* rx_pool = nullptr;
};

// Cumulative ethdev counters of one port (as the PMD keeps them; they start at 0 when the port
// is opened). The error counters come from the xstats rx_missed_errors, rx_errors, tx_errors
// and rx_mbuf_allocation_errors, or the matching basic stats when a PMD lacks the name.
struct PortStats {
  uint64_t tx_packets = 0;
  uint64_t tx_bytes = 0;  // as the PMD counts them: frames without FCS
  uint64_t rx_packets = 0;
  uint64_t rx_bytes = 0;
  uint64_t rx_missed = 0;
  uint64_t rx_errors = 0;
  uint64_t tx_errors = 0;
  uint64_t rx_mbuf_allocation_errors = 0;
};

// Reads an open port's counters. Any thread, but never concurrently with the port's
// configuration (OpenPort / ClosePort): the caller serialises those.
absl::StatusOr<PortStats> ReadPortStats(const PortInfo& port);

// Configures and starts an ethdev for `spec` (EAL must be up). `max_frame_bytes` sizes the
// mbufs and, above 1518, the MTU.
absl::StatusOr<PortInfo> OpenPort(const PortSpec& spec, int index, uint32_t max_frame_bytes);
void ClosePort(PortInfo& port);

}  // namespace netrig::agent::io
