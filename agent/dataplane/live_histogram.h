// A coarse log-linear latency histogram the control thread may read while the owning lcore
// writes it, for interim (live) stream statistics. Final results never come from it: they use
// stats::LatencyHistogram (32 sub-buckets, 1.6 %), which only the lcore touches until it stopped.
//
// Values below 8 get one bucket each. A value v >= 8 with k = bit_width(v) - 1 falls in one of
// 8 equal sub-buckets of [2^k, 2^(k+1)), each 2^(k-3) wide (12.5 % of 2^k). Quantile() reports
// the bucket midpoint, so its relative error is at most 1/16 (6.25 %).
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

namespace netrig::agent::dataplane {

class LiveHistogramSnapshot;

class LiveHistogram {
 public:
  static constexpr uint32_t kSubBucketBits = 3;
  static constexpr uint32_t kSubBuckets = 1u << kSubBucketBits;  // 8
  // Exact buckets for [0, 8) plus 8 sub-buckets for each k in [3, 63].
  static constexpr uint32_t kBucketCount = kSubBuckets + (64 - kSubBucketBits) * kSubBuckets;
  static constexpr double kMaxRelativeError = 1.0 / 16;

  static constexpr uint32_t BucketIndex(uint64_t v) {
    if (v < kSubBuckets) {
      return static_cast<uint32_t>(v);
    }
    const uint32_t k = static_cast<uint32_t>(std::bit_width(v)) - 1;  // k >= 3
    const uint32_t shift = k - kSubBucketBits;
    const uint32_t sub = static_cast<uint32_t>(v >> shift) & (kSubBuckets - 1);
    return kSubBuckets + shift * kSubBuckets + sub;
  }
  // Inclusive lower bound of bucket i.
  static constexpr uint64_t BucketLow(uint32_t i) {
    if (i < kSubBuckets) {
      return i;
    }
    const uint32_t shift = (i - kSubBuckets) >> kSubBucketBits;
    return (uint64_t{kSubBuckets} + (i & (kSubBuckets - 1))) << shift;
  }
  // Value reported for bucket i: exact below 16 (width 1), else the midpoint.
  static constexpr uint64_t BucketMidpoint(uint32_t i) {
    if (i < kSubBuckets) {
      return i;
    }
    const uint32_t shift = (i - kSubBuckets) >> kSubBucketBits;
    return BucketLow(i) + ((uint64_t{1} << shift) >> 1);
  }

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
    if (count_ == 0) {
      return 0;
    }
    q = q > 0 ? (q < 1 ? q : 1) : 0;  // also NaN -> 0
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_));
    if (static_cast<double>(rank) < q * static_cast<double>(count_)) {
      ++rank;  // ceil
    }
    rank = rank == 0 ? 1 : (rank > count_ ? count_ : rank);
    uint64_t seen = 0;
    for (uint32_t i = 0; i < LiveHistogram::kBucketCount; ++i) {
      seen += counts_[i];
      if (seen >= rank) {
        return LiveHistogram::BucketMidpoint(i);
      }
    }
    return LiveHistogram::BucketMidpoint(LiveHistogram::kBucketCount - 1);
  }

 private:
  std::array<uint64_t, LiveHistogram::kBucketCount> counts_{};
  uint64_t count_ = 0;
};

}  // namespace netrig::agent::dataplane
