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

namespace netrig::stats {

class LatencyHistogram {
 public:
  static constexpr uint32_t kSubBucketBits = 5;
  static constexpr uint32_t kSubBuckets = 1u << kSubBucketBits;  // 32
  // Exact buckets for [0, 32) plus 32 sub-buckets for each k in [5, 63].
  static constexpr uint32_t kBucketCount = kSubBuckets + (64 - kSubBucketBits) * kSubBuckets;
  static constexpr double kMaxRelativeError = 1.0 / 64;

  static uint32_t BucketIndex(uint64_t v) {
    if (v < kSubBuckets) {
      return static_cast<uint32_t>(v);
    }
    const uint32_t k = static_cast<uint32_t>(std::bit_width(v)) - 1;  // k >= 5
    const uint32_t shift = k - kSubBucketBits;
    const uint32_t sub = static_cast<uint32_t>(v >> shift) & (kSubBuckets - 1);
    return kSubBuckets + shift * kSubBuckets + sub;
  }
  // Inclusive lower and exclusive upper bound of bucket i (upper saturates at UINT64_MAX).
  static uint64_t BucketLow(uint32_t i);
  static uint64_t BucketHigh(uint32_t i);

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
