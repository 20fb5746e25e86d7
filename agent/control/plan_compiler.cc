#include "absl/strings/string_view.h"
#include "agent/control/plan_compiler.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/common/status_macros.h"
#include "lib/packet/checksum.h"
#include "lib/packet/frame.h"
#include "lib/rate/line_rate.h"

namespace netrig::agent::control {
namespace {

using dataplane::FlowTemplate;
using dataplane::kPacerShift;
using dataplane::SizeEntry;
using dataplane::StreamPlan;

constexpr uint32_t kMaxFlows = 1u << 24;
constexpr uint32_t kMaxSizeCycle = 16384;

absl::Status Err(const std::string& path, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", reason));
}

packet::L3 L3Of(const v1::StreamConfig& s) {
  return s.l3() == v1::L3_PROTOCOL_IPV6 ? packet::L3::kIpv6 : packet::L3::kIpv4;
}

uint32_t CountOf(const v1::FieldRange& r) { return r.count() == 0 ? 1 : r.count(); }
uint32_t StepOf(const v1::FieldRange& r) { return r.step() == 0 ? 1 : r.step(); }

std::string StartOr(const v1::FieldRange& r, absl::string_view fallback) {
  return r.start().empty() ? std::string(fallback) : r.start();
}

struct AddressPlan {
  uint32_t v4 = 0;
  packet::Ipv6Addr v6{};
};

absl::StatusOr<AddressPlan> ParseAddress(const v1::FieldRange& r, packet::L3 l3,
                                         absl::string_view fallback4, absl::string_view fallback6,
                                         const std::string& path) {
  AddressPlan a;
  if (l3 == packet::L3::kIpv4) {
    auto v = packet::ParseIpv4(StartOr(r, fallback4));
    if (!v.ok()) return Err(path + ".start", v.status().message());
    a.v4 = *v;
    if (uint64_t{a.v4} + uint64_t{CountOf(r) - 1} * StepOf(r) > 0xffffffffu) {
      return Err(path, "address range runs past 255.255.255.255");
    }
  } else {
    auto v = packet::ParseIpv6(StartOr(r, fallback6));
    if (!v.ok()) return Err(path + ".start", v.status().message());
    a.v6 = *v;
  }
  return a;
}

absl::StatusOr<uint16_t> ParsePort(const v1::FieldRange& r, uint16_t fallback,
                                   const std::string& path) {
  uint32_t v = fallback;
  if (!r.start().empty()) {
    if (!absl::SimpleAtoi(r.start(), &v) || v > 65535) {
      return Err(path + ".start", absl::StrCat("\"", r.start(), "\" is not a UDP port (0..65535)"));
    }
  }
  if (v + uint64_t{CountOf(r) - 1} * StepOf(r) > 65535) {
    return Err(path, "port range runs past 65535");
  }
  return static_cast<uint16_t>(v);
}

void AddToIpv6(packet::Ipv6Addr& a, uint64_t add) {
  for (int i = 15; i >= 0 && add != 0; --i) {
    const uint64_t v = a[i] + (add & 0xff);
    a[i] = static_cast<uint8_t>(v);
    add = (add >> 8) + (v >> 8);
  }
}

}  // namespace

absl::StatusOr<std::vector<uint32_t>> StreamSizes(const v1::StreamConfig& s,
                                                  const std::string& path) {
  std::vector<uint32_t> sizes;
  const v1::SizeProfile& p = s.size();
  switch (p.profile_case()) {
    case v1::SizeProfile::PROFILE_NOT_SET:
      sizes.push_back(64);
      break;
    case v1::SizeProfile::kFixedBytes:
      sizes.push_back(p.fixed_bytes());
      break;
    case v1::SizeProfile::kImix: {
      auto mix = rate::NamedMix(p.imix());
      if (!mix.ok()) return Err(path + ".size.imix", mix.status().message());
      sizes = rate::ExpandMixCycle(*mix);
      break;
    }
    case v1::SizeProfile::kCustom: {
      rate::SizeMix mix;
      mix.name = "custom";
      uint64_t total = 0;
      for (int i = 0; i < p.custom().entries_size(); ++i) {
        const auto& e = p.custom().entries(i);
        if (e.weight() == 0) {
          return Err(absl::StrCat(path, ".size.custom.entries[", i, "].weight"), "must be >= 1");
        }
        total += e.weight();
        mix.entries.push_back({e.frame_bytes(), e.weight()});
      }
      if (mix.entries.empty()) return Err(path + ".size.custom.entries", "must not be empty");
      if (total > kMaxSizeCycle) {
        return Err(path + ".size.custom", absl::StrCat("weights add up to ", total,
                                                       "; at most ", kMaxSizeCycle));
      }
      sizes = rate::ExpandMixCycle(mix);
      break;
    }
    case v1::SizeProfile::kSweep: {
      const auto& w = p.sweep();
      const uint32_t step = w.step_bytes() == 0 ? 1 : w.step_bytes();
      if (w.max_bytes() < w.min_bytes()) {
        return Err(path + ".size.sweep.max_bytes",
                   absl::StrCat(w.max_bytes(), " is below min_bytes ", w.min_bytes()));
      }
      if ((w.max_bytes() - w.min_bytes()) / step + 1 > kMaxSizeCycle) {
        return Err(path + ".size.sweep", absl::StrCat("more than ", kMaxSizeCycle, " sizes"));
      }
      for (uint32_t v = w.min_bytes(); v <= w.max_bytes(); v += step) sizes.push_back(v);
      break;
    }
  }
  const packet::L3 l3 = L3Of(s);
  const uint32_t min = packet::MinFrameBytes(l3);
  for (uint32_t v : sizes) {
    const std::string field = p.profile_case() == v1::SizeProfile::kFixedBytes
                                  ? path + ".size.fixed_bytes"
                                  : path + ".size";
    if (v < min) {
      return Err(field, l3 == packet::L3::kIpv4 || min == 64
                            ? absl::StrCat(v, " is below the ", min,
                                           "-byte minimum (headers plus the 18-byte signature)")
                            : absl::StrCat(v, " is too small for an IPv6 frame with the 18-byte "
                                              "signature (minimum ", min, ")"));
    }
    if (v > rate::kMaxEthernetFrameBytes) {
      return Err(field, absl::StrCat(v, " is above the ", rate::kMaxEthernetFrameBytes,
                                     "-byte maximum"));
    }
  }
  return sizes;
}

absl::Status ValidateStream(const v1::StreamConfig& s, const std::string& path,
                            const std::vector<std::string>& port_names) {
  auto known = [&](const std::string& name) {
    return std::find(port_names.begin(), port_names.end(), name) != port_names.end();
  };
  if (s.tx_port().empty() && s.rx_port().empty()) {
    return Err(path + ".tx_port", "required (or rx_port alone for a receive-only stream)");
  }
  if (!s.tx_port().empty() && !known(s.tx_port())) {
    return Err(path + ".tx_port", absl::StrCat("no port named \"", s.tx_port(), "\""));
  }
  if (!s.rx_port().empty() && !known(s.rx_port())) {
    return Err(path + ".rx_port", absl::StrCat("no port named \"", s.rx_port(), "\""));
  }
  if (s.flows() > kMaxFlows) {
    return Err(path + ".flows", absl::StrCat(s.flows(), " is above the maximum ", kMaxFlows));
  }
  if (s.tx_port().empty()) {
    return absl::OkStatus();  // receive-only: addresses, sizes and rate belong to the sender
  }
  if (s.ttl() > 255) return Err(path + ".ttl", "must be 1..255");
  if (s.dscp() > 63) return Err(path + ".dscp", "must be 0..63");
  ASSIGN_OR_RETURN(std::vector<uint32_t> sizes, StreamSizes(s, path));
  (void)sizes;
  const packet::L3 l3 = L3Of(s);
  RETURN_IF_ERROR(
      ParseAddress(s.src_ip(), l3, "198.18.1.2", "2001:2::2", path + ".src_ip").status());
  RETURN_IF_ERROR(
      ParseAddress(s.dst_ip(), l3, "198.19.1.2", "2001:2:0:1::2", path + ".dst_ip").status());
  RETURN_IF_ERROR(ParsePort(s.src_port(), 0xC020, path + ".src_port").status());
  RETURN_IF_ERROR(ParsePort(s.dst_port(), 7, path + ".dst_port").status());
  if (!s.src_mac().empty()) {
    if (auto m = packet::ParseMac(s.src_mac()); !m.ok()) return Err(path + ".src_mac", m.status().message());
  }
  if (!s.dst_mac().empty()) {
    if (auto m = packet::ParseMac(s.dst_mac()); !m.ok()) return Err(path + ".dst_mac", m.status().message());
  }
  const v1::RateProfile& r = s.rate();
  if (!r.unlimited() && r.burst_bytes() == 0) {
    if (r.unit() == v1::RATE_UNIT_UNSPECIFIED) {
      return Err(path + ".rate", "set a rate: \"10%\", \"1Mpps\", \"200Mbps\", \"max\" or a burst profile");
    }
    if (!(r.value() > 0)) {
      return Err(path + ".rate.value", absl::StrCat(r.value(), " must be above 0"));
    }
    if (r.unit() == v1::RATE_UNIT_PERCENT_LINE && r.value() > 100) {
      return Err(path + ".rate", absl::StrCat(r.value(), "% exceeds line rate (100%)"));
    }
  }
  if (r.burst_bytes() != 0 && r.gap_ns() == 0) {
    return Err(path + ".rate.gap_ns", "a burst profile needs a gap");
  }
  return absl::OkStatus();
}

absl::StatusOr<CompiledStream> CompileStream(const v1::StreamConfig& s, const std::string& path,
                                             const io::PortInfo& tx, const io::PortInfo* rx,
                                             uint32_t first_flow_id, uint64_t tsc_hz) {
  CompiledStream out;
  StreamPlan& plan = out.plan;
  plan.port_id = tx.port_id;
  plan.queue_id = 0;
  plan.l3 = L3Of(s);
  plan.udp_checksum = plan.l3 == packet::L3::kIpv6 || s.udp_checksum();
  plan.first_flow_id = first_flow_id;
  plan.flows = s.flows() == 0 ? 1 : s.flows();
  plan.max_packets = s.max_packets();
  ASSIGN_OR_RETURN(std::vector<uint32_t> sizes, StreamSizes(s, path));

  // Rate -> pacer cost per frame size.
  double sum_bytes = 0;
  for (uint32_t v : sizes) sum_bytes += v;
  out.avg_frame_bytes = sum_bytes / static_cast<double>(sizes.size());
  const v1::RateProfile& r = s.rate();
  const double hz_fp = static_cast<double>(tsc_hz) * (1u << kPacerShift);
  const double link = static_cast<double>(tx.speed_bps);
  // cost(size) = hz * bits(size) / bps, or hz / pps.
  double per_frame_ticks = 0;     // pps mode
  double per_bit_ticks = 0;       // bit-rate modes
  bool l1_bits = true;
  if (r.unlimited()) {
    plan.unlimited = true;
  } else if (r.burst_bytes() != 0) {
    per_bit_ticks = hz_fp / link;  // frames inside a burst go at line rate
    plan.burst_bytes = r.burst_bytes();
    plan.gap_fp = static_cast<uint64_t>(static_cast<double>(r.gap_ns()) * hz_fp / 1e9);
  } else {
    rate::RateSpec spec;
    switch (r.unit()) {
      case v1::RATE_UNIT_PPS: spec.unit = rate::RateUnit::kPps; break;
      case v1::RATE_UNIT_L1_BPS: spec.unit = rate::RateUnit::kL1Bps; break;
      case v1::RATE_UNIT_L2_BPS: spec.unit = rate::RateUnit::kL2Bps; break;
      default: spec.unit = rate::RateUnit::kPercentLineRate; break;
    }
    spec.value = r.value();
    auto fps = rate::ToFramesPerSecond(spec, tx.speed_bps, out.avg_frame_bytes);
    if (!fps.ok()) {
      return Err(path + ".rate", absl::StrCat(fps.status().message(), " on port ", tx.name));
    }
    out.frames_per_second = *fps;
    switch (spec.unit) {
      case rate::RateUnit::kPps:
        per_frame_ticks = hz_fp / r.value();
        break;
      case rate::RateUnit::kL1Bps:
        per_bit_ticks = hz_fp / r.value();
        break;
      case rate::RateUnit::kL2Bps:
        per_bit_ticks = hz_fp / r.value();
        l1_bits = false;
        break;
      case rate::RateUnit::kPercentLineRate:
        per_bit_ticks = hz_fp / (link * r.value() / 100.0);
        break;
    }
  }

  const uint32_t sig = packet::SignatureOffset(plan.l3);
  for (uint32_t v : sizes) {
    SizeEntry e;
    e.frame_bytes = v;
    e.data_len = static_cast<uint16_t>(v - 4);
    e.udp_len = static_cast<uint16_t>(e.data_len - (sig - packet::kUdpHeaderBytes));
    e.ip_len = plan.l3 == packet::L3::kIpv4
                   ? static_cast<uint16_t>(e.data_len - packet::kEthHeaderBytes)
                   : e.udp_len;
    e.payload_sum = packet::PayloadPatternPartialSum(sig + packet::kSignatureBytes, e.data_len);
    const double bits = 8.0 * (l1_bits ? v + rate::kWireOverheadBytes : v);
    const double ticks = per_frame_ticks != 0 ? per_frame_ticks : per_bit_ticks * bits;
    e.cost_fp = static_cast<uint64_t>(std::llround(ticks));
    plan.sizes.push_back(e);
  }

  // Addresses and ports per flow.
  const packet::L3 l3 = plan.l3;
  ASSIGN_OR_RETURN(AddressPlan src, ParseAddress(s.src_ip(), l3, "198.18.1.2", "2001:2::2",
                                                 path + ".src_ip"));
  ASSIGN_OR_RETURN(AddressPlan dst, ParseAddress(s.dst_ip(), l3, "198.19.1.2", "2001:2:0:1::2",
                                                 path + ".dst_ip"));
  ASSIGN_OR_RETURN(uint16_t sport, ParsePort(s.src_port(), 0xC020, path + ".src_port"));
  ASSIGN_OR_RETURN(uint16_t dport, ParsePort(s.dst_port(), 7, path + ".dst_port"));
  packet::FrameSpec fs;
  fs.l3 = l3;
  fs.src_mac = s.src_mac().empty() ? tx.mac : *packet::ParseMac(s.src_mac());
  if (!s.dst_mac().empty()) {
    fs.dst_mac = *packet::ParseMac(s.dst_mac());
  } else if (rx != nullptr) {
    fs.dst_mac = rx->mac;
  } else {
    fs.dst_mac = {0x02, 0, 0, 0, 0, 0x02};
  }
  fs.ttl = s.ttl() == 0 ? 64 : static_cast<uint8_t>(s.ttl());
  fs.dscp = static_cast<uint8_t>(s.dscp());
  fs.ipv4_udp_checksum = false;  // the engine writes the UDP checksum itself
  fs.frame_bytes = sizes[0];

  plan.templates.resize(plan.flows);
  for (uint32_t k = 0; k < plan.flows; ++k) {
    const uint32_t si = k % CountOf(s.src_ip()), di = k % CountOf(s.dst_ip());
    const uint32_t spi = k % CountOf(s.src_port()), dpi = k % CountOf(s.dst_port());
    fs.src_ipv4 = src.v4 + si * StepOf(s.src_ip());
    fs.dst_ipv4 = dst.v4 + di * StepOf(s.dst_ip());
    fs.src_ipv6 = src.v6;
    AddToIpv6(fs.src_ipv6, uint64_t{si} * StepOf(s.src_ip()));
    fs.dst_ipv6 = dst.v6;
    AddToIpv6(fs.dst_ipv6, uint64_t{di} * StepOf(s.dst_ip()));
    fs.src_port = static_cast<uint16_t>(sport + spi * StepOf(s.src_port()));
    fs.dst_port = static_cast<uint16_t>(dport + dpi * StepOf(s.dst_port()));
    packet::Signature signature{first_flow_id + k, 0, 0};
    ASSIGN_OR_RETURN(std::vector<uint8_t> frame, packet::BuildFrame(fs, signature));
    FlowTemplate& t = plan.templates[k];
    for (uint32_t o = 0; o < dataplane::kTemplateBytes; ++o) {
      t.bytes[o] = o < frame.size() ? frame[o] : packet::PayloadPatternByte(o);
    }
    // UDP checksum field is finished per frame by the engine (or stays 0 for IPv4).
    t.bytes[sig - packet::kUdpHeaderBytes + 6] = 0;
    t.bytes[sig - packet::kUdpHeaderBytes + 7] = 0;
    if (l3 == packet::L3::kIpv4) {
      uint8_t hdr[packet::kIpv4HeaderBytes];
      std::memcpy(hdr, t.bytes + packet::kEthHeaderBytes, sizeof(hdr));
      hdr[2] = hdr[3] = 0;    // total length
      hdr[10] = hdr[11] = 0;  // checksum
      t.ip_header_sum = packet::ChecksumPartial(hdr);
    }
    // Pseudo-header addresses + protocol, UDP ports, signature magic + flow id.
    const uint32_t addr_off = packet::kEthHeaderBytes + (l3 == packet::L3::kIpv4 ? 12 : 8);
    const uint32_t addr_len = l3 == packet::L3::kIpv4 ? 8 : 32;
    uint64_t sum = packet::ChecksumPartial({t.bytes + addr_off, addr_len});
    sum += packet::kIpProtoUdp;
    sum += packet::ChecksumPartial({t.bytes + sig - packet::kUdpHeaderBytes, 4});
    sum += packet::ChecksumPartial({t.bytes + sig, packet::kSigSeqOffset});
    t.udp_sum = sum;
  }
  return out;
}

}  // namespace netrig::agent::control
