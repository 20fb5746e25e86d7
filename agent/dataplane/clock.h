// TSC <-> nanoseconds on the lcore: one multiply and shift, no division, no syscalls.
// The nanosecond scale is the Unix epoch (CLOCK_REALTIME sampled once at calibration), so
// timestamps from agents with synchronised clocks are comparable.
#pragma once

#include <cstdint>

namespace netrig::agent::dataplane {

class TscClock {
 public:
  TscClock() = default;
  TscClock(uint64_t tsc_hz, uint64_t base_tsc, uint64_t base_ns)
      : tsc_hz_(tsc_hz),
        base_tsc_(base_tsc),
        base_ns_(base_ns),
        ns_per_tsc_q32_(static_cast<uint64_t>((static_cast<unsigned __int128>(1000000000u) << 32) /
                                              tsc_hz)) {}

  uint64_t ToNs(uint64_t tsc) const {
    const uint64_t d = tsc - base_tsc_;
    return base_ns_ +
           static_cast<uint64_t>((static_cast<unsigned __int128>(d) * ns_per_tsc_q32_) >> 32);
  }
  uint64_t NsToTicks(uint64_t ns) const {
    return static_cast<uint64_t>(static_cast<unsigned __int128>(ns) * tsc_hz_ / 1000000000u);
  }
  uint64_t FromNs(uint64_t ns) const {
    return ns >= base_ns_ ? base_tsc_ + NsToTicks(ns - base_ns_) : base_tsc_ - NsToTicks(base_ns_ - ns);
  }
  uint64_t tsc_hz() const { return tsc_hz_; }

 private:
  uint64_t tsc_hz_ = 1;
  uint64_t base_tsc_ = 0;
  uint64_t base_ns_ = 0;
  uint64_t ns_per_tsc_q32_ = 0;
};

}  // namespace netrig::agent::dataplane
