#include "lib/stats/latency_histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace netrig::stats {
namespace {

// Bucket i >= 32 covers [(32 + sub) << shift, (33 + sub) << shift).
uint32_t ShiftOf(uint32_t i) {
  return (i - LatencyHistogram::kSubBuckets) >> LatencyHistogram::kSubBucketBits;
}
uint64_t MantissaOf(uint32_t i) {
  return LatencyHistogram::kSubBuckets + (i & (LatencyHistogram::kSubBuckets - 1));
}

// Value Quantile() reports for bucket i: exact below 64 (width 1), else the midpoint.
uint64_t Midpoint(uint32_t i) {
  const uint64_t lo = LatencyHistogram::BucketLow(i);
  return lo + (LatencyHistogram::BucketHigh(i) - lo) / 2;
}

}  // namespace

uint64_t LatencyHistogram::BucketLow(uint32_t i) {
  if (i < kSubBuckets) {
    return i;
  }
  return MantissaOf(i) << ShiftOf(i);
}

uint64_t LatencyHistogram::BucketHigh(uint32_t i) {
  if (i < kSubBuckets) {
    return uint64_t{i} + 1;
  }
  const uint32_t shift = ShiftOf(i);
  const uint64_t next = MantissaOf(i) + 1;  // <= 64
  // 64 << 58 = 2^64 for the last bucket: saturate.
  if (shift + static_cast<uint32_t>(std::bit_width(next)) > 64) {
    return std::numeric_limits<uint64_t>::max();
  }
  return next << shift;
}

uint64_t LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) {
    return 0;
  }
  if (!(q > 0)) {  // also NaN
    q = 0;
  }
  q = std::min(q, 1.0);
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (uint32_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      return Midpoint(i);
    }
  }
  return Midpoint(kBucketCount - 1);  // unreachable while count_ == sum of counts_
}

double LatencyHistogram::ApproxMean() const {
  if (count_ == 0) {
    return 0;
  }
  long double sum = 0;
  for (uint32_t i = 0; i < kBucketCount; ++i) {
    if (counts_[i] != 0) {
      sum += static_cast<long double>(counts_[i]) * static_cast<long double>(Midpoint(i));
    }
  }
  return static_cast<double>(sum / static_cast<long double>(count_));
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (uint32_t i = 0; i < kBucketCount; ++i) {
    counts_[i] += other.counts_[i];
  }
  count_ += other.count_;
}

void LatencyHistogram::Reset() {
  counts_.fill(0);
  count_ = 0;
}

std::vector<std::pair<uint32_t, uint64_t>> LatencyHistogram::NonEmpty() const {
  std::vector<std::pair<uint32_t, uint64_t>> out;
  for (uint32_t i = 0; i < kBucketCount; ++i) {
    if (counts_[i] != 0) {
      out.emplace_back(i, counts_[i]);
    }
  }
  return out;
}

}  // namespace netrig::stats
