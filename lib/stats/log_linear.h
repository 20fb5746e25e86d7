// Bucket arithmetic of log-linear (HDR-style) histograms, shared by the exact per-trial
// histogram (stats::LatencyHistogram, 32 sub-buckets) and the agent's coarse live one (8).
//
// With S = 2^Bits sub-buckets: values below S get one bucket each (exact). A value v >= S with
// k = bit_width(v) - 1 falls in one of S equal sub-buckets of [2^k, 2^(k+1)), each 2^(k-Bits)
// wide. The midpoint of a bucket is within width/2 <= 2^k/(2S) <= v/(2S) of any value in it,
// so a quantile reported as a midpoint has a relative error of at most 1/(2S).
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

namespace netrig::stats {

template <uint32_t Bits>
struct LogLinearBuckets {
  static_assert(Bits >= 1 && Bits <= 16);
  static constexpr uint32_t kSubBucketBits = Bits;
  static constexpr uint32_t kSubBuckets = 1u << Bits;
  // Exact buckets for [0, S) plus S sub-buckets for each k in [Bits, 63].
  static constexpr uint32_t kBucketCount = kSubBuckets + (64 - Bits) * kSubBuckets;
  static constexpr double kMaxRelativeError = 1.0 / (2.0 * kSubBuckets);

  static constexpr uint32_t Index(uint64_t v) {
    if (v < kSubBuckets) return static_cast<uint32_t>(v);
    const uint32_t k = static_cast<uint32_t>(std::bit_width(v)) - 1;  // k >= Bits
    const uint32_t shift = k - Bits;
    const uint32_t sub = static_cast<uint32_t>(v >> shift) & (kSubBuckets - 1);
    return kSubBuckets + shift * kSubBuckets + sub;
  }
  // Inclusive lower bound of bucket i.
  static constexpr uint64_t Low(uint32_t i) {
    if (i < kSubBuckets) return i;
    return Mantissa(i) << Shift(i);
  }
  // Exclusive upper bound of bucket i; the last bucket saturates at UINT64_MAX.
  static constexpr uint64_t High(uint32_t i) {
    if (i < kSubBuckets) return uint64_t{i} + 1;
    const uint64_t next = Mantissa(i) + 1;  // <= 2S
    if (Shift(i) + static_cast<uint32_t>(std::bit_width(next)) > 64) {
      return std::numeric_limits<uint64_t>::max();
    }
    return next << Shift(i);
  }
  // The value a quantile reports for bucket i: exact where the bucket is one wide.
  static constexpr uint64_t Midpoint(uint32_t i) { return Low(i) + (High(i) - Low(i)) / 2; }

  // The midpoint of the bucket holding rank ceil(q * total) (q clamped to [0, 1]; NaN -> 0)
  // in `counts` (kBucketCount entries summing to `total`). 0 when total is 0.
  template <typename Counts>
  static uint64_t Quantile(const Counts& counts, uint64_t total, double q) {
    if (total == 0) return 0;
    q = q > 0 ? (q < 1 ? q : 1) : 0;
    const double exact = q * static_cast<double>(total);
    uint64_t rank = static_cast<uint64_t>(exact);
    if (static_cast<double>(rank) < exact) ++rank;  // ceil
    rank = rank == 0 ? 1 : (rank > total ? total : rank);
    uint64_t seen = 0;
    for (uint32_t i = 0; i < kBucketCount; ++i) {
      seen += counts[i];
      if (seen >= rank) return Midpoint(i);
    }
    return Midpoint(kBucketCount - 1);  // unreachable while total == sum of counts
  }

 private:
  // Bucket i >= S covers [(S + sub) << shift, (S + sub + 1) << shift).
  static constexpr uint32_t Shift(uint32_t i) { return (i - kSubBuckets) >> Bits; }
  static constexpr uint64_t Mantissa(uint32_t i) { return kSubBuckets + (i & (kSubBuckets - 1)); }
};

}  // namespace netrig::stats
