// Log-linear latency histogram (HDR style) with a stated relative error bound.
//
// Values below 32 get one bucket each (exact). A value v >= 32 with k = bit_width(v) - 1
// falls in one of 32 equal sub-buckets of [2^k, 2^(k+1)), each 2^(k-5) wide. Quantile()
// reports the bucket midpoint, so |estimate - true| <= width/2 <= 2^k/64 <= true/64:
// the relative error of any quantile is at most kMaxRelativeError = 1/64 (1.5625 %).
// Record() is O(1), integer-only, allocation-free: safe on an lcore.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <utility>
#include <vector>

#include "lib/stats/log_linear.h"

namespace netrig::stats {

class LatencyHistogram {
 public:
  using Buckets = LogLinearBuckets<5>;  // 32 sub-buckets: 1/64 = 1.5625 %
  static constexpr uint32_t kSubBucketBits = Buckets::kSubBucketBits;
  static constexpr uint32_t kSubBuckets = Buckets::kSubBuckets;
  static constexpr uint32_t kBucketCount = Buckets::kBucketCount;
  static constexpr double kMaxRelativeError = Buckets::kMaxRelativeError;

  static uint32_t BucketIndex(uint64_t v) { return Buckets::Index(v); }
  // Inclusive lower and exclusive upper bound of bucket i (upper saturates at UINT64_MAX).
  static uint64_t BucketLow(uint32_t i) { return Buckets::Low(i); }
  static uint64_t BucketHigh(uint32_t i) { return Buckets::High(i); }

  void Record(uint64_t v) {
    ++counts_[BucketIndex(v)];
    ++count_;
  }
  void RecordN(uint64_t v, uint64_t n) {
    counts_[BucketIndex(v)] += n;
    count_ += n;
  }

  uint64_t count() const { return count_; }
  uint64_t bucket_count(uint32_t i) const { return counts_[i]; }

  // Estimate of the value of rank ceil(q * count) (q in [0, 1]; q = 0 -> smallest value):
  // the midpoint of the bucket holding it, exact below 32. Returns 0 when empty.
  uint64_t Quantile(double q) const;
  // Mean of bucket midpoints (an estimate; keep exact sums beside the histogram for means).
  double ApproxMean() const;

  void Merge(const LatencyHistogram& other);
  void Reset();
  // Non-empty buckets as (index, count), ascending, for export and serialisation.
  std::vector<std::pair<uint32_t, uint64_t>> NonEmpty() const;

 private:
  std::array<uint64_t, kBucketCount> counts_{};
  uint64_t count_ = 0;
};

}  // namespace netrig::stats
