// Line-rate arithmetic for Ethernet benchmarking (RFC 2544 App. B, RFC 5180 App. A,
// RFC 2889 App. A). Frame sizes are RFC 1242 §3.5 sizes: destination MAC through FCS.
// Every frame also occupies 20 bytes of preamble, SFD and minimum inter-frame gap on the wire.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace netrig::rate {

inline constexpr uint32_t kWireOverheadBytes = 20;  // preamble 7 + SFD 1 + IFG 12
inline constexpr uint32_t kFcsBytes = 4;
inline constexpr uint32_t kMinEthernetFrameBytes = 64;
inline constexpr uint32_t kMaxEthernetFrameBytes = 9216;  // largest jumbo frame we accept

// Exact theoretical maximum: link_bps / (8 * (frame_bytes + 20)).
double MaxFrameRate(uint64_t link_bps, uint32_t frame_bytes);
// Truncated (RFC 2544 App. B, RFC 5180 App. A convention) and round-half-up values.
uint64_t MaxFrameRateFloor(uint64_t link_bps, uint32_t frame_bytes);
uint64_t MaxFrameRateRound(uint64_t link_bps, uint32_t frame_bytes);
// Time one frame occupies the wire, preamble and gap included, in nanoseconds.
double FrameWireTimeNs(uint64_t link_bps, uint32_t frame_bytes);
// Layer-2 bit rate (frames incl. FCS, no preamble/IFG) at 100% line rate: bps * X / (X + 20).
double L2BitRateAtLineRate(uint64_t link_bps, uint32_t frame_bytes);

// A frame-size mix (IMIX). Weights are relative counts (7:4:1).
struct SizeMixEntry {
  uint32_t frame_bytes = 0;
  uint32_t weight = 0;
};
struct SizeMix {
  std::string name;
  std::vector<SizeMixEntry> entries;
  // Weighted average frame size in bytes.
  double AverageFrameBytes() const;
};
// Known mixes: "imix" / "simple-imix" (7:4:1 of 64/594/1518), "imix-570" (64/570/1518),
// "imix-576" (64/576/1518). Unknown names are InvalidArgument naming the known ones.
absl::StatusOr<SizeMix> NamedMix(std::string_view name);
// Maximum frame rate of a mix: link_bps / (8 * (avg + 20)).
double MaxFrameRate(uint64_t link_bps, const SizeMix& mix);
// Deterministic interleaved cycle of frame sizes whose counts equal the weights (smooth
// weighted round-robin, so 7:4:1 never sends 7 small frames in a row unless it must).
std::vector<uint32_t> ExpandMixCycle(const SizeMix& mix);

// RFC 2889 Appendix A burst formulas. load_percent in (0, 100]; SPEED in bit/s.
// TXTIME = (BURST * (IFG + 64 + 8*LENGTH) - IFG) / SPEED
double BurstTxTimeSeconds(uint32_t frame_bytes, uint32_t burst_frames, uint64_t link_bps);
// IBG = ((100/LOAD - 1) * BURST * (IFG + 64 + 8*LENGTH) + IFG) / SPEED
double InterBurstGapSeconds(uint32_t frame_bytes, double load_percent, uint32_t burst_frames,
                            uint64_t link_bps);

// How a stream's rate is expressed.
enum class RateUnit {
  kPps,              // frames per second
  kL1Bps,            // wire bits per second: (frame + 20) * 8 per frame
  kL2Bps,            // frame bits per second: frame * 8 per frame (FCS included)
  kPercentLineRate,  // percent of the link's wire capacity (L1)
};
struct RateSpec {
  RateUnit unit = RateUnit::kPercentLineRate;
  double value = 0;
};
// Parses "50%", "1.5Mpps", "2000pps", "200Mbps" (L2), "200Mbit" (L2), "1Gbps-l1" (L1).
// Errors name the text and the reason.
absl::StatusOr<RateSpec> ParseRate(std::string_view text);
// Parses a link speed or bit rate: "10G", "25G", "100M", "1000000000", "37mbit", "10Gbps".
absl::StatusOr<uint64_t> ParseBitsPerSecond(std::string_view text);
// Converts a rate into frames per second for frames of avg_frame_bytes on a link of link_bps.
// InvalidArgument when the rate exceeds the link's line rate (more than 100% of L1 capacity)
// or is negative.
absl::StatusOr<double> ToFramesPerSecond(const RateSpec& rate, uint64_t link_bps,
                                         double avg_frame_bytes);
std::string FormatRate(const RateSpec& rate);

}  // namespace netrig::rate
