#include "lib/stats/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <vector>

namespace netrig::stats {
namespace {

using H = LatencyHistogram;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

TEST(LatencyHistogramTest, BucketIndexOfBucketLowIsTheBucket) {
  for (uint32_t i = 0; i < H::kBucketCount; ++i) {
    EXPECT_EQ(H::BucketIndex(H::BucketLow(i)), i) << i;
    EXPECT_EQ(H::BucketIndex(H::BucketHigh(i) - 1), i) << i;
  }
}

TEST(LatencyHistogramTest, BucketsAreContiguousAndCoverAllOfUint64) {
  EXPECT_EQ(H::BucketLow(0), 0u);
  for (uint32_t i = 0; i + 1 < H::kBucketCount; ++i) {
    ASSERT_LT(H::BucketLow(i), H::BucketHigh(i)) << i;
    ASSERT_EQ(H::BucketHigh(i), H::BucketLow(i + 1)) << i;
  }
  EXPECT_EQ(H::BucketHigh(H::kBucketCount - 1), kMax);  // saturated 2^64
  EXPECT_EQ(H::BucketIndex(kMax), H::kBucketCount - 1);
  EXPECT_EQ(H::BucketLow(H::kBucketCount - 1), uint64_t{63} << 58);
}

TEST(LatencyHistogramTest, BucketWidthIsAtMostOneThirtySecondOfItsLowerBound) {
  for (uint32_t i = H::kSubBuckets; i < H::kBucketCount; ++i) {
    const uint64_t lo = H::BucketLow(i);
    const uint64_t width = H::BucketHigh(i) - lo;
    EXPECT_LE(width, lo / 32) << i;
  }
}

TEST(LatencyHistogramTest, PowersOfTwoStartABucketRow) {
  for (uint32_t k = 5; k < 64; ++k) {
    const uint64_t v = uint64_t{1} << k;
    const uint32_t i = H::BucketIndex(v);
    EXPECT_EQ(H::BucketLow(i), v);
    EXPECT_EQ((i - H::kSubBuckets) % H::kSubBuckets, 0u);
    EXPECT_EQ(H::BucketIndex(v - 1), i - 1);
  }
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  H h;
  for (uint64_t v = 0; v < 64; ++v) {
    h.Reset();
    h.Record(v);
    EXPECT_EQ(h.Quantile(0.5), v);
  }
}

TEST(LatencyHistogramTest, EmptyHistogramReportsZero) {
  H h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Quantile(0), 0u);
  EXPECT_EQ(h.Quantile(1), 0u);
  EXPECT_EQ(h.ApproxMean(), 0);
  EXPECT_TRUE(h.NonEmpty().empty());
}

TEST(LatencyHistogramTest, QuantileUsesRankCeilQTimesCount) {
  H h;
  for (uint64_t v = 1; v <= 10; ++v) {
    h.Record(v);
  }
  EXPECT_EQ(h.Quantile(0), 1u);     // smallest
  EXPECT_EQ(h.Quantile(0.1), 1u);   // rank 1
  EXPECT_EQ(h.Quantile(0.11), 2u);  // rank 2
  EXPECT_EQ(h.Quantile(0.5), 5u);
  EXPECT_EQ(h.Quantile(0.95), 10u);
  EXPECT_EQ(h.Quantile(1), 10u);
  EXPECT_EQ(h.Quantile(-1), 1u);  // clamped
  EXPECT_EQ(h.Quantile(2), 10u);
  EXPECT_EQ(h.Quantile(std::nan("")), 1u);
}

TEST(LatencyHistogramTest, QuantileReportsBucketMidpoint) {
  H h;
  h.Record(1000);  // k = 9, width 16: bucket [992, 1008)
  const uint32_t i = H::BucketIndex(1000);
  EXPECT_EQ(H::BucketLow(i), 992u);
  EXPECT_EQ(H::BucketHigh(i), 1008u);
  EXPECT_EQ(h.Quantile(0.5), 1000u);
}

TEST(LatencyHistogramTest, MaxValueIsRecordedInTheLastBucket) {
  H h;
  h.Record(kMax);
  EXPECT_EQ(h.bucket_count(H::kBucketCount - 1), 1u);
  const uint64_t q = h.Quantile(1);
  EXPECT_LE(static_cast<double>(kMax - q), static_cast<double>(kMax) * H::kMaxRelativeError);
}

TEST(LatencyHistogramTest, RecordNMergeResetAndNonEmpty) {
  H a, b;
  a.Record(5);
  a.RecordN(1000, 3);
  b.RecordN(5, 2);
  b.Record(1u << 20);
  a.Merge(b);
  EXPECT_EQ(a.count(), 7u);
  const auto ne = a.NonEmpty();
  ASSERT_EQ(ne.size(), 3u);
  EXPECT_EQ(ne[0], std::make_pair(H::BucketIndex(5), uint64_t{3}));
  EXPECT_EQ(ne[1], std::make_pair(H::BucketIndex(1000), uint64_t{3}));
  EXPECT_EQ(ne[2], std::make_pair(H::BucketIndex(1u << 20), uint64_t{1}));
  a.Reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_TRUE(a.NonEmpty().empty());
}

// Property: every quantile estimate is within kMaxRelativeError of the exact quantile (same
// rank definition, computed by sorting), and the mean estimate within it of the exact mean.
TEST(LatencyHistogramTest, QuantilesAreWithinTheStatedRelativeErrorOnRandomData) {
  std::mt19937_64 rng(20240607);
  struct Dist {
    const char* name;
    std::function<uint64_t()> draw;
  };
  std::uniform_int_distribution<uint64_t> small(0, 100);
  std::uniform_int_distribution<uint64_t> wide(0, 50'000'000);
  std::uniform_int_distribution<uint64_t> full(0, kMax);
  std::exponential_distribution<double> expo(1.0 / 20'000);
  std::lognormal_distribution<double> lognorm(9.0, 1.5);
  std::uniform_int_distribution<int> bit(0, 63);
  const std::vector<Dist> dists = {
      {"uniform_small", [&] { return small(rng); }},
      {"uniform_wide", [&] { return wide(rng); }},
      {"uniform_full_u64", [&] { return full(rng); }},
      {"exponential", [&] { return static_cast<uint64_t>(expo(rng)); }},
      {"lognormal", [&] { return static_cast<uint64_t>(lognorm(rng)); }},
      {"bucket_edges",
       [&] {
         const uint64_t p = uint64_t{1} << bit(rng);
         return p + (rng() % 3) - 1;  // 2^k - 1, 2^k, 2^k + 1
       }},
      {"constant", [&] { return uint64_t{123456}; }},
  };
  std::vector<double> qs = {0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};
  std::uniform_real_distribution<double> uq(0, 1);
  for (int r = 0; r < 50; ++r) {
    qs.push_back(uq(rng));
  }
  for (const Dist& d : dists) {
    for (const size_t n : {size_t{1}, size_t{7}, size_t{1000}, size_t{50'000}}) {
      H h;
      std::vector<uint64_t> v(n);
      long double sum = 0;
      for (auto& x : v) {
        x = d.draw();
        h.Record(x);
        sum += x;
      }
      std::sort(v.begin(), v.end());
      for (const double q : qs) {
        uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(n)));
        rank = std::clamp<uint64_t>(rank, 1, n);
        const uint64_t exact = v[rank - 1];
        const uint64_t est = h.Quantile(q);
        const double err = std::fabs(static_cast<double>(est) - static_cast<double>(exact));
        if (exact < 32) {
          ASSERT_EQ(est, exact) << d.name << " n=" << n << " q=" << q;
        } else {
          ASSERT_LE(err, static_cast<double>(exact) * H::kMaxRelativeError)
              << d.name << " n=" << n << " q=" << q << " exact=" << exact << " est=" << est;
        }
      }
      const double mean = static_cast<double>(sum / n);
      EXPECT_LE(std::fabs(h.ApproxMean() - mean), mean * H::kMaxRelativeError + 1e-9)
          << d.name << " n=" << n;
    }
  }
}

}  // namespace
}  // namespace netrig::stats
