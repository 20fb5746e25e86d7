#include "controller/methodology/binary_search.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace netrig::controller::methodology {
namespace {

struct Trial {
  double rate;
  bool pass;
};

// Runs the search against "pass iff rate <= t".
std::vector<Trial> RunRateSearch(RateBinarySearch& s, double t) {
  std::vector<Trial> trace;
  while (!s.Done() && trace.size() < 1000) {
    const double r = s.NextRate();
    const bool pass = r <= t;
    trace.push_back({r, pass});
    s.Record(pass);
  }
  return trace;
}

// METHODOLOGY.md §13.5 worked trace, verbatim.
TEST(RateBinarySearchTest, GoldenTraceThroughput73Point4PercentTakes11Trials) {
  RateBinarySearch s(0, 100, 0.1);
  const std::vector<Trial> trace = RunRateSearch(s, 73.4);
  const std::vector<Trial> expected = {
      {100, false},      {50, true},         {75, false},         {62.5, true},
      {68.75, true},     {71.875, true},     {73.4375, false},    {72.65625, true},
      {73.046875, true}, {73.2421875, true}, {73.33984375, true},
  };
  ASSERT_EQ(trace.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_DOUBLE_EQ(trace[i].rate, expected[i].rate) << "trial " << i + 1;
    EXPECT_EQ(trace[i].pass, expected[i].pass) << "trial " << i + 1;
  }
  EXPECT_DOUBLE_EQ(s.lo(), 73.33984375);
  EXPECT_DOUBLE_EQ(s.hi(), 73.4375);
  EXPECT_TRUE(s.any_pass());
  EXPECT_FALSE(s.passed_at_max());
  EXPECT_EQ(s.trials(), 11u);
}

TEST(RateBinarySearchTest, GoldenThroughput1Point2PercentFinds1Point171875) {
  RateBinarySearch s(0, 100, 0.1);
  RunRateSearch(s, 1.2);
  EXPECT_EQ(s.trials(), 11u);
  EXPECT_DOUBLE_EQ(s.lo(), 1.171875);
}

TEST(RateBinarySearchTest, GoldenThroughputZeroTakes11TrialsAndNothingPasses) {
  RateBinarySearch s(0, 100, 0.1);
  RunRateSearch(s, 0);
  EXPECT_EQ(s.trials(), 11u);
  EXPECT_FALSE(s.any_pass());
  EXPECT_DOUBLE_EQ(s.lo(), 0);
  EXPECT_DOUBLE_EQ(s.hi(), 100.0 / 1024);
}

TEST(RateBinarySearchTest, GoldenThroughputLineRateTakesOneTrial) {
  RateBinarySearch s(0, 100, 0.1);
  RunRateSearch(s, 100);
  EXPECT_EQ(s.trials(), 1u);
  EXPECT_TRUE(s.passed_at_max());
  EXPECT_DOUBLE_EQ(s.lo(), 100);
}

// The stated bound: 1 + ceil(log2((max - min) / resolution)).
TEST(RateBinarySearchTest, MaxTrialsMatchesTheStatedFormula) {
  EXPECT_EQ(RateBinarySearch::MaxTrials(0, 100, 0.1), 11u);
  EXPECT_EQ(RateBinarySearch::MaxTrials(0, 100, 1), 8u);
  EXPECT_EQ(RateBinarySearch::MaxTrials(0, 100, 0.01), 15u);
  EXPECT_EQ(RateBinarySearch::MaxTrials(20, 80, 0.1), 11u);
  EXPECT_EQ(RateBinarySearch::MaxTrials(0, 100, 100), 1u);
  EXPECT_EQ(RateBinarySearch::MaxTrials(50, 50, 0.1), 1u);
  for (double res : {0.01, 0.03, 0.1, 0.25, 0.7, 1.0, 3.0, 10.0}) {
    for (double min : {0.0, 5.0, 33.0}) {
      const double range = 100 - min;
      const uint32_t formula = 1 + static_cast<uint32_t>(std::ceil(std::log2(range / res)));
      EXPECT_EQ(RateBinarySearch::MaxTrials(min, 100, res), formula)
          << "min " << min << " res " << res;
    }
  }
}

// Any deterministic threshold: the result is the highest passing rate, within the resolution
// of the true threshold, in exactly the stated number of trials (1 when max passes).
TEST(RateBinarySearchTest, FindsAnyThresholdWithinResolutionInTheStatedTrials) {
  for (double res : {0.01, 0.1, 0.5, 1.0}) {
    for (double min : {0.0, 10.0}) {
      const uint32_t bound = RateBinarySearch::MaxTrials(min, 100, res);
      for (int i = 0; i <= 1000; ++i) {
        const double t = i * 0.1 + 0.0137;  // avoid landing exactly on a probed rate
        RateBinarySearch s(min, 100, res);
        RunRateSearch(s, t);
        SCOPED_TRACE(testing::Message() << "t " << t << " res " << res << " min " << min);
        if (t >= 100) {
          EXPECT_EQ(s.trials(), 1u);
          continue;
        }
        EXPECT_EQ(s.trials(), bound);
        EXPECT_LE(s.hi() - s.lo(), res);
        EXPECT_GT(s.hi(), t);  // hi failed
        if (s.any_pass()) {
          EXPECT_LE(s.lo(), t);  // lo passed
          EXPECT_LE(t - s.lo(), res);
        } else {
          EXPECT_LT(t, min + res);  // the threshold is below the first rate probed above min
        }
      }
    }
  }
}

TEST(RateBinarySearchTest, RemainingTrialsCountsDownToZero) {
  RateBinarySearch s(0, 100, 0.1);
  EXPECT_EQ(s.RemainingTrials(), 11u);
  uint32_t expected = 11;
  while (!s.Done()) {
    EXPECT_EQ(s.RemainingTrials(), expected);
    s.Record(s.NextRate() <= 42.42);
    --expected;
  }
  EXPECT_EQ(s.RemainingTrials(), 0u);
  EXPECT_EQ(expected, 0u);
}

uint32_t RunCountSearch(CountBinarySearch& s, uint64_t boundary) {
  uint32_t n = 0;
  while (!s.Done() && n < 200) {
    s.Record(s.Next() <= boundary);
    ++n;
  }
  return n;
}

TEST(CountBinarySearchTest, FindsTheExactBoundaryWithStepOne) {
  const uint64_t max = 29761904;  // 2 s of 64-byte frames at 10 Gbit/s
  const uint32_t bound = CountBinarySearch::MaxTrials(max, 1);
  EXPECT_EQ(bound, 1 + static_cast<uint32_t>(std::ceil(std::log2(static_cast<double>(max)))));
  for (uint64_t b : std::vector<uint64_t>{0, 1, 2, 17, 24975, 26000, 1000000, max - 1}) {
    CountBinarySearch s(max, 1);
    const uint32_t trials = RunCountSearch(s, b);
    EXPECT_EQ(s.lo(), b);
    EXPECT_EQ(s.hi(), b + 1);
    EXPECT_LE(trials, bound) << b;
    EXPECT_GE(trials, bound - 1) << b;
    EXPECT_FALSE(s.passed_at_max());
  }
}

TEST(CountBinarySearchTest, PassAtTheLimitStopsAfterOneTrial) {
  CountBinarySearch s(1000, 1);
  EXPECT_EQ(RunCountSearch(s, 5000), 1u);
  EXPECT_TRUE(s.passed_at_max());
  EXPECT_EQ(s.lo(), 1000u);
}

TEST(CountBinarySearchTest, CoarserMinimumStepBracketsTheBoundary) {
  for (uint64_t b : std::vector<uint64_t>{3, 999, 12345, 99998}) {
    CountBinarySearch s(100000, 100);
    const uint32_t trials = RunCountSearch(s, b);
    EXPECT_LE(s.lo(), b);
    EXPECT_GT(s.hi(), b);
    EXPECT_LE(s.hi() - s.lo(), 100u);
    EXPECT_LE(trials, CountBinarySearch::MaxTrials(100000, 100));
  }
}

}  // namespace
}  // namespace netrig::controller::methodology
