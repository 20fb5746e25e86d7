#include "lib/stats/latency_histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace netrig::stats {
namespace {

uint64_t Midpoint(uint32_t i) { return LatencyHistogram::Buckets::Midpoint(i); }

}  // namespace

uint64_t LatencyHistogram::Quantile(double q) const { return Buckets::Quantile(counts_, count_, q); }

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
