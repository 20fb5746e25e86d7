// The coarse live latency histogram (interim statistics) and the lcore busy-time meter: plain
// arithmetic, tested without DPDK.
#include "agent/dataplane/live_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "agent/dataplane/lcore_counters.h"

namespace netrig::agent::dataplane {
namespace {

uint64_t ExactQuantile(std::vector<uint64_t> values, double q) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

TEST(LiveHistogramTest, BucketsAreExactBelowSixteenAndEighthsOfAPowerOfTwoAbove) {
  for (uint64_t v = 0; v < 16; ++v) {
    EXPECT_EQ(LiveHistogram::BucketLow(LiveHistogram::BucketIndex(v)), v);
    EXPECT_EQ(LiveHistogram::BucketMidpoint(LiveHistogram::BucketIndex(v)), v);
  }
  // [1024, 2048) is split into 8 buckets of 128.
  EXPECT_EQ(LiveHistogram::BucketIndex(1024), LiveHistogram::BucketIndex(1151));
  EXPECT_NE(LiveHistogram::BucketIndex(1151), LiveHistogram::BucketIndex(1152));
  EXPECT_EQ(LiveHistogram::BucketLow(LiveHistogram::BucketIndex(1100)), 1024u);
  EXPECT_EQ(LiveHistogram::BucketMidpoint(LiveHistogram::BucketIndex(1100)), 1088u);
  EXPECT_EQ(LiveHistogram::BucketIndex(UINT64_MAX), LiveHistogram::kBucketCount - 1);
  // Indices are monotonic in the value and every bucket starts where the previous one ends.
  for (uint32_t i = 1; i < LiveHistogram::kBucketCount; ++i) {
    ASSERT_GT(LiveHistogram::BucketLow(i), LiveHistogram::BucketLow(i - 1)) << i;
    ASSERT_EQ(LiveHistogram::BucketIndex(LiveHistogram::BucketLow(i)), i);
    ASSERT_EQ(LiveHistogram::BucketIndex(LiveHistogram::BucketLow(i) - 1), i - 1);
  }
}

TEST(LiveHistogramTest, EmptySnapshotReportsZero) {
  LiveHistogram h;
  LiveHistogramSnapshot s;
  s.Add(h);
  EXPECT_EQ(s.count(), 0u);
  EXPECT_EQ(s.Quantile(0.5), 0u);
  EXPECT_EQ(s.Quantile(0.999), 0u);
}

TEST(LiveHistogramTest, QuantilesStayWithinTheStatedRelativeError) {
  std::mt19937_64 rng(42);
  // Latencies from 1 us to 10 ms, log-uniform: every octave gets values.
  std::uniform_real_distribution<double> exponent(3, 7);
  LiveHistogram h;
  std::vector<uint64_t> values;
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<uint64_t>(std::pow(10.0, exponent(rng)));
    values.push_back(v);
    h.Record(v);
  }
  LiveHistogramSnapshot s;
  s.Add(h);
  ASSERT_EQ(s.count(), values.size());
  for (double q : {0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const double exact = static_cast<double>(ExactQuantile(values, q));
    const double estimate = static_cast<double>(s.Quantile(q));
    EXPECT_LE(std::abs(estimate - exact), exact * LiveHistogram::kMaxRelativeError)
        << "q " << q << ": exact " << exact << ", estimate " << estimate;
  }
}

TEST(LiveHistogramTest, QuantileRanksFollowTheSmallSampleDefinition) {
  LiveHistogram h;
  for (uint64_t v : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) h.Record(v);
  LiveHistogramSnapshot s;
  s.Add(h);
  EXPECT_EQ(s.Quantile(0.5), 5u);    // rank ceil(0.5 * 10) = 5
  EXPECT_EQ(s.Quantile(0.99), 10u);  // rank 10
  EXPECT_EQ(s.Quantile(0), 1u);
  EXPECT_EQ(s.Quantile(0.11), 2u);  // rank ceil(1.1) = 2
}

TEST(LiveHistogramTest, SnapshotSumsSeveralLcoresHistograms) {
  LiveHistogram a, b;
  for (int i = 0; i < 900; ++i) a.Record(1000);
  for (int i = 0; i < 100; ++i) b.Record(1'000'000);
  LiveHistogramSnapshot s;
  s.Add(a);
  s.Add(b);
  EXPECT_EQ(s.count(), 1000u);
  EXPECT_NEAR(static_cast<double>(s.Quantile(0.5)), 1000, 1000 * LiveHistogram::kMaxRelativeError);
  EXPECT_NEAR(static_cast<double>(s.Quantile(0.95)), 1e6, 1e6 * LiveHistogram::kMaxRelativeError);
}

TEST(LiveHistogramTest, ReaderSeesCountsGrowWhileTheWriterRecords) {
  // One writer (the lcore) and one reader (the control thread): every snapshot is a valid
  // histogram whose count never goes down, and the last one holds every value.
  LiveHistogram h;
  constexpr uint64_t kValues = 2'000'000;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (uint64_t i = 0; i < kValues; ++i) h.Record(100 + i % 5000);
    done.store(true);
  });
  uint64_t last = 0;
  int snapshots = 0;
  bool writer_done = false;
  do {
    writer_done = done.load();
    LiveHistogramSnapshot s;
    s.Add(h);
    EXPECT_GE(s.count(), last);
    last = s.count();
    ++snapshots;
  } while (!writer_done);
  writer.join();
  LiveHistogramSnapshot s;
  s.Add(h);
  EXPECT_EQ(s.count(), kValues);
  EXPECT_GT(snapshots, 0);
}

TEST(BusyMeterTest, CountsLoopTimeAndLeavesSleepsOut) {
  Counter busy;
  BusyMeter meter;
  meter.Start(1000);
  meter.Publish(1600, busy);  // housekeeping after 600 ticks of work
  EXPECT_EQ(busy.Read(), 600u);
  meter.Publish(1700, busy);  // before a sleep
  meter.Resume(5700);         // slept 4000 ticks
  EXPECT_EQ(busy.Read(), 700u);
  meter.Publish(5750, busy);  // at exit
  EXPECT_EQ(busy.Read(), 750u);
}

TEST(BusyMeterTest, AnAlwaysBusyLoopIsBusyForItsWholeRunTime) {
  Counter busy;
  BusyMeter meter;
  meter.Start(0);
  for (uint64_t t = 256; t <= 256 * 100; t += 256) meter.Publish(t, busy);
  EXPECT_EQ(busy.Read(), 256u * 100);
}

TEST(BusyMeterTest, ATscThatStepsBackAddsNothing) {
  Counter busy;
  BusyMeter meter;
  meter.Start(1000);
  meter.Publish(900, busy);
  EXPECT_EQ(busy.Read(), 0u);
  meter.Publish(1000, busy);
  EXPECT_EQ(busy.Read(), 100u);
}

}  // namespace
}  // namespace netrig::agent::dataplane
