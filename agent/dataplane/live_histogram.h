// A coarse log-linear latency histogram the control thread may read while the owning lcore
// writes it, for interim (live) stream statistics. Final results never come from it: they use
// stats::LatencyHistogram (32 sub-buckets, 1.6 %), which only the lcore touches until it stopped.
//
// Buckets: lib/stats/log_linear.h with 8 sub-buckets per octave (12.5 % of 2^k wide); Quantile()
// reports the bucket midpoint, so its relative error is at most 1/16 (6.25 %).
//
// Thread contract: Record() only on the owning lcore (single writer, relaxed load + store, no
// lock-prefixed RMW); Snapshot() on any thread. A snapshot taken mid-trial is a consistent
// histogram of its own (its count is the sum of the buckets it read), though buckets may be
// read at slightly different instants.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

#include "agent/dataplane/lcore_counters.h"
#include "lib/stats/log_linear.h"

namespace netrig::agent::dataplane {

class LiveHistogramSnapshot;

class LiveHistogram {
 public:
  using Buckets = stats::LogLinearBuckets<3>;  // 8 sub-buckets: 1/16 = 6.25 %
  static constexpr uint32_t kSubBucketBits = Buckets::kSubBucketBits;
  static constexpr uint32_t kSubBuckets = Buckets::kSubBuckets;
  static constexpr uint32_t kBucketCount = Buckets::kBucketCount;
  static constexpr double kMaxRelativeError = Buckets::kMaxRelativeError;

  static constexpr uint32_t BucketIndex(uint64_t v) { return Buckets::Index(v); }
  static constexpr uint64_t BucketLow(uint32_t i) { return Buckets::Low(i); }
  static constexpr uint64_t BucketMidpoint(uint32_t i) { return Buckets::Midpoint(i); }

  // Owning lcore only.
  void Record(uint64_t v) { buckets_[BucketIndex(v)].Add(1); }

 private:
  friend class LiveHistogramSnapshot;
  std::array<Counter, kBucketCount> buckets_{};
};

// A plain copy of one or more live histograms (control thread).
class LiveHistogramSnapshot {
 public:
  // Adds `h`'s current buckets.
  void Add(const LiveHistogram& h) {
    for (uint32_t i = 0; i < LiveHistogram::kBucketCount; ++i) {
      const uint64_t c = h.buckets_[i].Read();
      counts_[i] += c;
      count_ += c;
    }
  }
  uint64_t count() const { return count_; }

  // Estimate of the value of rank ceil(q * count) (q in [0, 1]): the midpoint of the bucket
  // holding it. 0 when empty.
  uint64_t Quantile(double q) const {
    return LiveHistogram::Buckets::Quantile(counts_, count_, q);
  }

 private:
  std::array<uint64_t, LiveHistogram::kBucketCount> counts_{};
  uint64_t count_ = 0;
};

}  // namespace netrig::agent::dataplane
