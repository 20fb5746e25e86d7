// Plain data an lcore reads: everything sized and filled by the control thread before the
// trial starts (agent/control/plan_compiler.cc). No protobuf, no strings on the hot path.
#pragma once

#include <cstdint>
#include <vector>

#include "lib/packet/frame.h"

namespace netrig::agent::dataplane {

inline constexpr uint16_t kBurstSize = 32;
// Bytes of header template copied into every frame: Ethernet + IPv6 + UDP + signature = 80.
inline constexpr uint32_t kTemplateBytes = 96;

// One flow's frame template. Lengths and checksums are zero in `bytes`; the partial sums let
// the TX engine finish both checksums for any frame size with a few additions.
struct alignas(64) FlowTemplate {
  uint8_t bytes[kTemplateBytes];
  // IPv4: sum of the header words with total length and checksum zero.
  uint64_t ip_header_sum = 0;
  // UDP: pseudo-header addresses + protocol, UDP ports, signature magic and flow id words.
  uint64_t udp_sum = 0;
};

// One entry of the stream's frame-size cycle (fixed: one entry; IMIX/sweep: several).
struct SizeEntry {
  uint32_t frame_bytes = 0;   // incl. FCS
  uint16_t data_len = 0;      // bytes handed to the NIC: frame_bytes - 4
  uint16_t ip_len = 0;        // IPv4 total length or IPv6 payload length
  uint16_t udp_len = 0;
  uint64_t payload_sum = 0;   // pattern bytes after the signature, as checksum words
  uint64_t cost_fp = 0;       // pacer cost of this frame (TSC ticks << kPacerShift)
};

inline constexpr uint32_t kPacerShift = 8;  // pacer works in 1/256 TSC ticks

struct StreamPlan {
  uint32_t stream_index = 0;
  uint16_t port_id = 0;
  uint16_t queue_id = 0;
  packet::L3 l3 = packet::L3::kIpv4;
  bool udp_checksum = false;      // finish the UDP checksum per frame
  uint32_t first_flow_id = 0;
  uint32_t flows = 1;
  std::vector<FlowTemplate> templates;  // [flows]
  std::vector<SizeEntry> sizes;         // cycle, >= 1 entry
  bool unlimited = false;               // send as fast as the port accepts
  // Burst profile: after `burst_bytes` frame bytes, wait `gap_fp` (ticks << kPacerShift).
  uint64_t burst_bytes = 0;
  uint64_t gap_fp = 0;
  uint64_t max_packets = 0;             // 0: no limit
};

// Receive side: which flows exist (global ids [0, total_flows)) and to which stream each
// belongs (streams own contiguous id ranges).
struct RxPlan {
  uint32_t total_flows = 0;
  std::vector<uint32_t> stream_first_flow;  // ascending; stream i = [first[i], first[i+1])
  uint64_t late_threshold_ns = UINT64_MAX;
};

}  // namespace netrig::agent::dataplane
