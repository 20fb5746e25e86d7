#include "controller/methodology/rfc2544.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/rate/line_rate.h"
#include "tests/unit/controller/methodology/simulated_dut.h"

namespace netrig::controller::methodology {
namespace {

using sim::Drive;
using sim::DriveLog;
using sim::OfTest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t k1G = 1000000000ull;
constexpr uint64_t k10G = 10000000000ull;

Rfc2544Config ThroughputOnly(uint32_t frame_bytes, uint64_t link_bps) {
  Rfc2544Config c;
  c.tests = {kTestThroughput};
  c.frame_sizes = {frame_bytes};
  c.link_bps = link_bps;
  c.trial_duration = absl::Seconds(60);
  c.loss_tolerance_pct = 0;
  c.resolution_pct = 0.1;
  return c;
}

std::unique_ptr<Rfc2544> MustCreate(Rfc2544Config c) {
  absl::StatusOr<std::unique_ptr<Rfc2544>> m = Rfc2544::Create(std::move(c));
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

std::vector<double> Rates(const std::vector<TrialRequest>& v) {
  std::vector<double> out;
  for (const auto& r : v) out.push_back(r.rate_percent);
  return out;
}

// ---- Config validation -----------------------------------------------------------------------

struct BadConfig {
  std::string name;
  std::function<void(Rfc2544Config&)> mutate;
  std::string expected;  // substring of the error, starting with the field
};
void PrintTo(const BadConfig& b, std::ostream* os) { *os << b.name; }

class Rfc2544ValidationTest : public testing::TestWithParam<BadConfig> {};

TEST_P(Rfc2544ValidationTest, RejectsAndNamesTheField) {
  Rfc2544Config c;
  c.tests = {kTestThroughput, kTestLatency, kTestFrameLoss, kTestBackToBack};
  c.frame_sizes = {64, 128, 256, 512, 1024, 1280, 1518};
  c.link_bps = k10G;
  ASSERT_TRUE(Rfc2544::Create(c).ok());
  GetParam().mutate(c);
  absl::StatusOr<std::unique_ptr<Rfc2544>> m = Rfc2544::Create(c);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(m.status().message()), HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, Rfc2544ValidationTest,
    testing::Values(
        BadConfig{"NoTests", [](Rfc2544Config& c) { c.tests.clear(); }, "tests:"},
        BadConfig{"UnknownTest", [](Rfc2544Config& c) { c.tests.push_back("jitter"); },
                  "tests[4]: unknown test \"jitter\""},
        BadConfig{"DuplicateTest", [](Rfc2544Config& c) { c.tests.push_back(kTestLatency); },
                  "tests[4]: \"latency\" is listed twice"},
        BadConfig{"LatencyWithoutThroughput", [](Rfc2544Config& c) { c.tests = {kTestLatency}; },
                  "tests: latency needs"},
        BadConfig{"B2bWithoutThroughput",
                  [](Rfc2544Config& c) {
                    c.tests = {kTestFrameLoss, kTestBackToBack};
                  },
                  "tests: backToBack needs"},
        BadConfig{"NoFrameSizes", [](Rfc2544Config& c) { c.frame_sizes.clear(); }, "frame_sizes:"},
        BadConfig{"TinyFrame", [](Rfc2544Config& c) { c.frame_sizes[2] = 20; },
                  "frame_sizes[2]: 20 is below the 64-byte minimum"},
        BadConfig{"HugeFrame", [](Rfc2544Config& c) { c.frame_sizes[0] = 10000; },
                  "frame_sizes[0]: 10000 is above"},
        BadConfig{"DuplicateFrame", [](Rfc2544Config& c) { c.frame_sizes.push_back(64); },
                  "frame_sizes[7]: 64 is listed twice"},
        BadConfig{"NoLink", [](Rfc2544Config& c) { c.link_bps = 0; }, "link_bps:"},
        BadConfig{"ZeroTrial", [](Rfc2544Config& c) { c.trial_duration = absl::ZeroDuration(); },
                  "trial_duration:"},
        BadConfig{"NegativeTolerance", [](Rfc2544Config& c) { c.loss_tolerance_pct = -1; },
                  "loss_tolerance_pct:"},
        BadConfig{"NanTolerance", [](Rfc2544Config& c) { c.loss_tolerance_pct = std::nan(""); },
                  "loss_tolerance_pct:"},
        BadConfig{"ZeroResolution", [](Rfc2544Config& c) { c.resolution_pct = 0; },
                  "resolution_pct:"},
        BadConfig{"MinAboveMax",
                  [](Rfc2544Config& c) {
                    c.min_rate_pct = 60;
                    c.max_rate_pct = 50;
                  },
                  "min_rate_pct: 60 is above max_rate_pct 50"},
        BadConfig{"MaxAbove100", [](Rfc2544Config& c) { c.max_rate_pct = 110; }, "max_rate_pct:"},
        BadConfig{"NegativeMin", [](Rfc2544Config& c) { c.min_rate_pct = -1; }, "min_rate_pct:"},
        BadConfig{"NoLatencyTrials", [](Rfc2544Config& c) { c.latency_trials = 0; },
                  "latency_trials:"},
        BadConfig{"ZeroLatencyDuration",
                  [](Rfc2544Config& c) { c.latency_duration = absl::ZeroDuration(); },
                  "latency_duration:"},
        BadConfig{"CoarseFrameLossStep", [](Rfc2544Config& c) { c.frame_loss_step_pct = 20; },
                  "frame_loss_step_pct:"},
        BadConfig{"NoB2bTrials", [](Rfc2544Config& c) { c.b2b_trials = 0; }, "b2b_trials:"},
        BadConfig{"ZeroB2bIdle",
                  [](Rfc2544Config& c) { c.b2b_trial_duration = absl::ZeroDuration(); },
                  "b2b_trial_duration:"},
        BadConfig{"ZeroB2bStep", [](Rfc2544Config& c) { c.b2b_min_step_frames = 0; },
                  "b2b_min_step_frames:"},
        BadConfig{"B2bLimitHoldsNoFrame",
                  [](Rfc2544Config& c) { c.b2b_max_burst_duration = absl::Nanoseconds(10); },
                  "b2b_max_burst_duration:"}),
    [](const testing::TestParamInfo<BadConfig>& info) { return info.param.name; });

TEST(Rfc2544ConfigTest, OnlyFieldsOfRequestedTestsAreValidated) {
  Rfc2544Config c = ThroughputOnly(64, k1G);
  c.latency_trials = 0;
  c.b2b_trials = 0;
  c.frame_loss_step_pct = 50;
  EXPECT_TRUE(Rfc2544::Create(c).ok());
}

TEST(Rfc2544ConfigTest, DeviationsFromTheRfcAreListed) {
  Rfc2544Config c;
  c.tests = {kTestThroughput, kTestLatency, kTestFrameLoss, kTestBackToBack};
  c.frame_sizes = {64, 128, 256, 512, 1024, 1280, 1518};
  c.link_bps = k10G;
  EXPECT_THAT(MustCreate(c)->deviations(), testing::IsEmpty());

  c.frame_sizes = {64};
  c.trial_duration = absl::Seconds(30);
  c.loss_tolerance_pct = 0.001;
  c.latency_trials = 5;
  c.b2b_trials = 10;
  const std::vector<std::string> d = MustCreate(c)->deviations();
  const auto mentions = [&d](const std::string& s) {
    return std::any_of(d.begin(), d.end(),
                       [&s](const std::string& x) { return x.find(s) != std::string::npos; });
  };
  EXPECT_TRUE(mentions("frame_sizes:"));
  EXPECT_TRUE(mentions("trial_duration: 30s"));
  EXPECT_TRUE(mentions("loss_tolerance_pct:"));
  EXPECT_TRUE(mentions("latency_trials: 5"));
  EXPECT_TRUE(mentions("b2b_trials: N = 10"));
}

// ---- Throughput (§26.1) --------------------------------------------------------------------

// METHODOLOGY.md §13.5: 64 B at 1 GbE, DUT limit 734,000 fps.
TEST(Rfc2544ThroughputTest, GoldenFpsTrace64BytesAt1GbE) {
  auto m = MustCreate(ThroughputOnly(64, k1G));
  sim::RateLimitedDut dut(734000);
  const DriveLog log = Drive(*m, dut);
  ASSERT_TRUE(log.finished);
  const std::vector<double> expected = {1488095.24, 744047.62, 372023.81, 558035.71,
                                        651041.67,  697544.64, 720796.13, 732421.88,
                                        738234.75,  735328.31, 733875.09};
  ASSERT_EQ(log.requests.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(log.requests[i].rate_fps, expected[i], 0.0051) << "trial " << i + 1;  // 2 dp
    EXPECT_EQ(log.requests[i].test, kTestThroughput);
    EXPECT_EQ(log.requests[i].frame_bytes, 64u);
    EXPECT_EQ(log.requests[i].duration, absl::Seconds(60));
    EXPECT_EQ(log.requests[i].burst_frames, 0u);
  }
  const ThroughputReport& tp = m->report(64)->throughput;
  EXPECT_EQ(tp.outcome.state, TestState::kCompleted);
  EXPECT_NEAR(tp.fps, 733875.09, 0.005);
  EXPECT_DOUBLE_EQ(tp.rate_pct, 49.31640625);
  EXPECT_NEAR(tp.max_theoretical_fps, 1488095.238, 0.001);
  EXPECT_NEAR(tp.l2_mbps, 733875.09 * 64 * 8 / 1e6, 1e-4);  // 375.74
  EXPECT_NEAR(tp.l1_mbps, 733875.09 * 84 * 8 / 1e6, 1e-4);  // 493.16
  EXPECT_EQ(tp.outcome.trials, 11u);
  EXPECT_EQ(tp.max_trials, 11u);
  EXPECT_FALSE(tp.no_passing_rate);
  ASSERT_EQ(tp.trace.size(), 11u);
  EXPECT_FALSE(tp.trace[0].pass);
  EXPECT_NEAR(tp.trace[0].loss_pct, (1488095.238 - 734000) * 100 / 1488095.238, 1e-3);
  EXPECT_TRUE(tp.trace[10].pass);
  EXPECT_EQ(tp.trace[10].loss_pct, 0);
}

TEST(Rfc2544ThroughputTest, GoldenPercentTraceAndNotes) {
  auto m = MustCreate(ThroughputOnly(1518, k10G));
  const double line = rate::MaxFrameRate(k10G, 1518);
  sim::RateLimitedDut dut(0.734 * line);
  const DriveLog log = Drive(*m, dut);
  EXPECT_THAT(Rates(log.requests), ElementsAre(100, 50, 75, 62.5, 68.75, 71.875, 73.4375, 72.65625,
                                               73.046875, 73.2421875, 73.33984375));
  EXPECT_EQ(log.requests[0].note, "binary search step 1: 100% (lo 0, hi 100)");
  EXPECT_EQ(log.requests[3].note, "binary search step 4: 62.5% (lo 50, hi 75)");
  EXPECT_DOUBLE_EQ(m->report(1518)->throughput.rate_pct, 73.33984375);
  EXPECT_DOUBLE_EQ(m->report(1518)->throughput.upper_bound_pct, 73.4375);
}

TEST(Rfc2544ThroughputTest, DutThatForwardsNothingHasNoPassingRateAfter11Trials) {
  Rfc2544Config c = ThroughputOnly(64, k1G);
  c.tests = {kTestThroughput, kTestLatency, kTestBackToBack};
  auto m = MustCreate(c);
  sim::RateLimitedDut dut(0);
  const DriveLog log = Drive(*m, dut);
  ASSERT_TRUE(log.finished);
  EXPECT_EQ(log.requests.size(), 11u);  // latency and back-to-back never ran
  const FrameSizeReport& r = *m->report(64);
  EXPECT_TRUE(r.throughput.no_passing_rate);
  EXPECT_EQ(r.throughput.rate_pct, 0);
  EXPECT_EQ(r.throughput.fps, 0);
  EXPECT_THAT(r.throughput.outcome.reason, HasSubstr("no passing rate"));
  EXPECT_EQ(r.latency.outcome.state, TestState::kSkipped);
  EXPECT_THAT(r.latency.outcome.reason, HasSubstr("no passing rate"));
  EXPECT_EQ(r.back_to_back.outcome.state, TestState::kSkipped);
}

TEST(Rfc2544ThroughputTest, LosslessDutPassesAtLineRateInOneTrial) {
  auto m = MustCreate(ThroughputOnly(64, k10G));
  sim::LosslessDut dut;
  const DriveLog log = Drive(*m, dut);
  ASSERT_EQ(log.requests.size(), 1u);
  const ThroughputReport& tp = m->report(64)->throughput;
  EXPECT_TRUE(tp.passed_at_max);
  EXPECT_DOUBLE_EQ(tp.rate_pct, 100);
  EXPECT_NEAR(tp.fps, 14880952.38, 0.01);
  EXPECT_NEAR(tp.l1_mbps, 10000, 1e-6);
}

// Acceptance: against a DUT that drops above X, every frame size finds X within the resolution
// in exactly the stated number of trials.
TEST(Rfc2544ThroughputTest, FindsXWithinResolutionInStatedTrialsForEveryFrameSize) {
  for (double res : {0.1, 0.5, 1.0}) {
    for (uint32_t f : {64u, 128u, 256u, 512u, 1024u, 1280u, 1518u}) {
      for (double frac : {0.05, 0.333, 0.5002, 0.9, 0.999}) {
        Rfc2544Config c = ThroughputOnly(f, k10G);
        c.resolution_pct = res;
        auto m = MustCreate(c);
        const double line = rate::MaxFrameRate(k10G, f);
        const double x = frac * line;
        sim::RateLimitedDut dut(x);
        Drive(*m, dut);
        const ThroughputReport& tp = m->report(f)->throughput;
        SCOPED_TRACE(testing::Message() << f << " B, X " << x << " fps, res " << res);
        const uint32_t stated =
            1 + static_cast<uint32_t>(std::ceil(std::log2((100.0 - 0.0) / res)));
        EXPECT_EQ(tp.outcome.trials, stated);
        EXPECT_EQ(tp.max_trials, stated);
        EXPECT_LE(tp.fps, x);
        EXPECT_GT(tp.fps, x - res / 100 * line);
      }
    }
  }
}

TEST(Rfc2544ThroughputTest, SearchIsConfinedToMinAndMaxRate) {
  Rfc2544Config c = ThroughputOnly(256, k10G);
  c.min_rate_pct = 20;
  c.max_rate_pct = 80;
  auto m = MustCreate(c);
  const double line = rate::MaxFrameRate(k10G, 256);
  sim::RateLimitedDut dut(0.503 * line);
  const DriveLog log = Drive(*m, dut);
  EXPECT_EQ(log.requests.front().rate_percent, 80);
  EXPECT_EQ(log.requests[1].rate_percent, 50);
  EXPECT_EQ(log.requests.size(), 11u);  // 1 + ceil(log2(60 / 0.1))
  for (const auto& r : log.requests) {
    EXPECT_GE(r.rate_percent, 20);
    EXPECT_LE(r.rate_percent, 80);
  }
  const ThroughputReport& tp = m->report(256)->throughput;
  EXPECT_LE(tp.rate_pct, 50.3);
  EXPECT_GT(tp.rate_pct, 50.2);
  EXPECT_EQ(tp.max_trials, 11u);
}

TEST(Rfc2544ThroughputTest, NoPassingRateAboveMinReportsZeroNotMin) {
  Rfc2544Config c = ThroughputOnly(64, k10G);
  c.min_rate_pct = 30;
  auto m = MustCreate(c);
  sim::RateLimitedDut dut(0.1 * rate::MaxFrameRate(k10G, 64));
  Drive(*m, dut);
  const ThroughputReport& tp = m->report(64)->throughput;
  EXPECT_TRUE(tp.no_passing_rate);
  EXPECT_EQ(tp.rate_pct, 0);
  EXPECT_LE(tp.upper_bound_pct, 30.1);
}

// (b) Lossy plateau: zero loss up to X, 0.001 % loss between X and Y, 20 % above Y.
TEST(Rfc2544ThroughputTest, LossyPlateauZeroToleranceConvergesToHighestZeroLossRate) {
  const double line = rate::MaxFrameRate(k10G, 512);
  sim::PiecewiseLossDut dut({{0.6 * line, 0}, {0.8 * line, 1e-5}}, 0.2);
  auto m = MustCreate(ThroughputOnly(512, k10G));
  Drive(*m, dut);
  const ThroughputReport& tp = m->report(512)->throughput;
  EXPECT_LE(tp.rate_pct, 60);
  EXPECT_GT(tp.rate_pct, 59.9);
  EXPECT_EQ(tp.outcome.trials, 11u);
}

TEST(Rfc2544ThroughputTest, LossyPlateauWithinToleranceConvergesToPlateauEnd) {
  const double line = rate::MaxFrameRate(k10G, 512);
  sim::PiecewiseLossDut dut({{0.6 * line, 0}, {0.8 * line, 1e-5}}, 0.2);
  Rfc2544Config c = ThroughputOnly(512, k10G);
  c.loss_tolerance_pct = 0.01;  // 0.001 % plateau loss passes, 20 % does not
  auto m = MustCreate(c);
  Drive(*m, dut);
  const ThroughputReport& tp = m->report(512)->throughput;
  EXPECT_LE(tp.rate_pct, 80);
  EXPECT_GT(tp.rate_pct, 79.9);
  // The trace keeps the non-zero loss that passed.
  const bool lossy_pass = std::any_of(tp.trace.begin(), tp.trace.end(),
                                      [](const auto& t) { return t.pass && t.loss_pct > 0; });
  EXPECT_TRUE(lossy_pass);
}

// Small loss at low rates only (below 5 %), zero up to 70 %, 30 % above: the search never
// probes below its first passing rate, so it still converges to 70 %.
TEST(Rfc2544ThroughputTest, LossAtLowRatesOnlyStillConvergesToTheZeroLossTop) {
  const double line = rate::MaxFrameRate(k10G, 128);
  sim::PiecewiseLossDut dut({{0.05 * line, 1e-5}, {0.7 * line, 0}}, 0.3);
  auto m = MustCreate(ThroughputOnly(128, k10G));
  Drive(*m, dut);
  const ThroughputReport& tp = m->report(128)->throughput;
  EXPECT_LE(tp.rate_pct, 70);
  EXPECT_GT(tp.rate_pct, 69.9);
}

// ---- Latency (§26.2) -------------------------------------------------------------------------

TEST(Rfc2544LatencyTest, RunsTrialsAtTheThroughputRateAndAveragesThem) {
  Rfc2544Config c = ThroughputOnly(64, k10G);
  c.tests = {kTestThroughput, kTestLatency};
  auto m = MustCreate(c);
  sim::LosslessDut dut(5000, 100);
  const DriveLog log = Drive(*m, dut);
  ASSERT_TRUE(log.finished);
  const std::vector<TrialRequest> lat = OfTest(log, kTestLatency, 64);
  ASSERT_EQ(lat.size(), 20u);
  for (const auto& r : lat) {
    EXPECT_EQ(r.rate_percent, 100);
    EXPECT_EQ(r.duration, absl::Seconds(120));
  }
  EXPECT_EQ(lat[0].note, "latency trial 1 of 20 at the throughput rate 100%");
  const LatencyReport& rep = m->report(64)->latency;
  EXPECT_EQ(rep.outcome.state, TestState::kCompleted);
  ASSERT_EQ(rep.trials.size(), 20u);
  double sum = 0;
  for (int k = 1; k <= 20; ++k) sum += dut.AvgLatencyOfCall(k);  // call 0 was throughput
  EXPECT_DOUBLE_EQ(rep.avg_ns, sum / 20);
  EXPECT_DOUBLE_EQ(rep.min_ns, 5000 * 0.9);
  EXPECT_DOUBLE_EQ(rep.max_ns, 5400 * 1.5);
  EXPECT_DOUBLE_EQ(rep.avg_pdv_p99_ns, rep.avg_p99_ns - rep.avg_min_ns);
  EXPECT_EQ(rep.trials_with_loss, 0u);
  EXPECT_DOUBLE_EQ(rep.trials[3].avg_ns, dut.AvgLatencyOfCall(4));
}

TEST(Rfc2544LatencyTest, UsesTheMeasuredThroughputOfThatFrameSize) {
  Rfc2544Config c = ThroughputOnly(64, k1G);
  c.tests = {kTestThroughput, kTestLatency};
  c.frame_sizes = {64, 1518};
  c.latency_trials = 3;
  c.latency_duration = absl::Seconds(10);
  auto m = MustCreate(c);
  sim::RateLimitedDut dut(734000);
  const DriveLog log = Drive(*m, dut);
  for (uint32_t f : {64u, 1518u}) {
    const std::vector<TrialRequest> lat = OfTest(log, kTestLatency, f);
    ASSERT_EQ(lat.size(), 3u);
    const ThroughputReport& tp = m->report(f)->throughput;
    for (const auto& r : lat) {
      EXPECT_EQ(r.rate_percent, tp.rate_pct);
      EXPECT_EQ(r.rate_fps, tp.fps);
      EXPECT_EQ(r.duration, absl::Seconds(10));
    }
  }
  EXPECT_NEAR(m->report(64)->latency.rate_fps, 733875.09, 0.005);
  EXPECT_EQ(m->report(1518)->latency.rate_pct, 100);  // 81,274 fps < 734,000
}

// ---- Frame loss rate (§26.3) -----------------------------------------------------------------

TEST(Rfc2544FrameLossTest, GoldenV1FrameLossRate) {
  EXPECT_DOUBLE_EQ(FrameLossPercent(1000000, 999000), 0.1);
  EXPECT_DOUBLE_EQ(FrameLossPercent(1000, 0), 100);
  EXPECT_DOUBLE_EQ(FrameLossPercent(1000, 1000), 0);
  EXPECT_DOUBLE_EQ(FrameLossPercent(0, 0), 0);
}

Rfc2544Config FrameLossOnly(uint32_t f) {
  Rfc2544Config c = ThroughputOnly(f, k10G);
  c.tests = {kTestFrameLoss};
  return c;
}

TEST(Rfc2544FrameLossTest, GoldenV2StopsAfterTwoSuccessiveZeroLossTrials) {
  auto m = MustCreate(FrameLossOnly(64));
  const double line = rate::MaxFrameRate(k10G, 64);
  sim::RateLimitedDut dut(0.85 * line);
  const DriveLog log = Drive(*m, dut);
  ASSERT_TRUE(log.finished);
  EXPECT_THAT(Rates(log.requests), ElementsAre(100, 90, 80, 70));
  const FrameLossReport& fl = m->report(64)->frame_loss;
  EXPECT_EQ(fl.outcome.state, TestState::kCompleted);
  ASSERT_EQ(fl.curve.size(), 4u);
  EXPECT_NEAR(fl.curve[0].loss_pct, 15, 1e-6);
  EXPECT_NEAR(fl.curve[1].loss_pct, (90.0 - 85) / 90 * 100, 1e-5);
  EXPECT_EQ(fl.curve[2].loss_pct, 0);
  EXPECT_EQ(fl.curve[3].loss_pct, 0);
  EXPECT_DOUBLE_EQ(fl.curve[2].offered_pct, 80);
  EXPECT_NEAR(fl.curve[2].offered_fps, 0.8 * line, 1e-6);
  for (const auto& p : fl.curve) {
    EXPECT_DOUBLE_EQ(p.loss_pct, FrameLossPercent(p.tx_frames, p.rx_frames));
  }
}

TEST(Rfc2544FrameLossTest, LosslessDutNeedsOnlyTwoTrials) {
  auto m = MustCreate(FrameLossOnly(1518));
  sim::LosslessDut dut;
  const DriveLog log = Drive(*m, dut);
  EXPECT_THAT(Rates(log.requests), ElementsAre(100, 90));
}

TEST(Rfc2544FrameLossTest, ZeroLossThenLossResetsTheCount) {
  // Loss only in a band between 75 % and 85 %: 100 and 90 lossless, then loss, then 70, 60.
  const double line = rate::MaxFrameRate(k10G, 64);
  sim::PiecewiseLossDut dut({{0.75 * line, 0}, {0.85 * line, 0.01}}, 0);
  Rfc2544Config c = FrameLossOnly(64);
  auto m = MustCreate(c);
  const DriveLog log = Drive(*m, dut);
  // 100 and 90 are two successive zero-loss trials: the RFC stops there.
  EXPECT_THAT(Rates(log.requests), ElementsAre(100, 90));
  // Starting at 90 instead: 90 zero, 80 loss, 70 zero, 60 zero.
  c.max_rate_pct = 90;
  auto m2 = MustCreate(c);
  const DriveLog log2 = Drive(*m2, dut);
  EXPECT_THAT(Rates(log2.requests), ElementsAre(90, 80, 70, 60));
}

TEST(Rfc2544FrameLossTest, DutThatLosesEverythingStopsBeforeZeroPercent) {
  auto m = MustCreate(FrameLossOnly(64));
  sim::RateLimitedDut dut(0);
  const DriveLog log = Drive(*m, dut);
  EXPECT_THAT(Rates(log.requests), ElementsAre(100, 90, 80, 70, 60, 50, 40, 30, 20, 10));
  for (const auto& p : m->report(64)->frame_loss.curve) EXPECT_EQ(p.loss_pct, 100);
  EXPECT_THAT(m->report(64)->frame_loss.outcome.reason, HasSubstr("0%"));
}

TEST(Rfc2544FrameLossTest, FinerStepsAreHonoured) {
  Rfc2544Config c = FrameLossOnly(64);
  c.frame_loss_step_pct = 5;
  auto m = MustCreate(c);
  sim::RateLimitedDut dut(0.83 * rate::MaxFrameRate(k10G, 64));
  const DriveLog log = Drive(*m, dut);
  EXPECT_THAT(Rates(log.requests), ElementsAre(100, 95, 90, 85, 80, 75));
}

// ---- Back-to-back (§26.4, RFC 9004) ----------------------------------------------------------

TEST(Rfc2544BackToBackTest, GoldenV4BufferTimes) {
  const double rmax = rate::MaxFrameRate(k10G, 64);
  const double implied = ImpliedBufferTimeSeconds(26000, rmax);
  EXPECT_NEAR(implied, 1.7472e-3, 1e-12);
  const double corrected = CorrectedBufferTimeSeconds(implied, 10000000, rmax);
  EXPECT_NEAR(corrected, 0.5730816e-3, 1e-12);
  EXPECT_NEAR(ActualBufferTimeSeconds(corrected, rmax, 5000000), 1.7056e-3, 1e-12);
  EXPECT_EQ(CorrectedBufferTimeSeconds(implied, rmax, rmax), 0);
}

Rfc2544Config B2bConfig(uint32_t f) {
  Rfc2544Config c = ThroughputOnly(f, k10G);
  c.tests = {kTestThroughput, kTestBackToBack};
  return c;
}

// (d) Buffered DUT: forwards X = 10 Mfps, buffer B = 8192 frames, 64 B at 10 GbE.
TEST(Rfc2544BackToBackTest, BufferedDutFindsBOverOneMinusXOverRAndCorrectedTimeBOverR) {
  auto m = MustCreate(B2bConfig(64));
  const double rmax = rate::MaxFrameRate(k10G, 64);
  const uint64_t b = 8192;
  sim::RateLimitedDut dut(10000000, b);
  const DriveLog log = Drive(*m, dut);
  ASSERT_TRUE(log.finished);
  const FrameSizeReport& r = *m->report(64);
  const BackToBackReport& b2b = r.back_to_back;
  ASSERT_EQ(b2b.outcome.state, TestState::kCompleted) << b2b.outcome.reason;

  // Search parameters, reported as RFC 9004 requires.
  EXPECT_EQ(b2b.searches_planned, 50u);
  EXPECT_EQ(b2b.min_step_frames, 1u);
  EXPECT_EQ(b2b.max_burst_frames, 29761904u);  // floor(2 s * 14,880,952.38 fps)

  // The model: N passes iff N - B <= floor(N X / R); longest = floor(B / (1 - X / R)).
  const uint64_t longest = dut.LongestBurst(rmax);
  EXPECT_NEAR(static_cast<double>(longest), b / (1 - 10000000 / rmax), 1.0);  // 24,975.6
  EXPECT_EQ(longest, 24975u);
  ASSERT_EQ(b2b.searches.size(), 50u);
  const uint32_t bound = CountBinarySearch::MaxTrials(29761904, 1);
  for (const auto& s : b2b.searches) {
    EXPECT_EQ(s.result_frames, longest);
    EXPECT_LE(s.trials, bound);
    EXPECT_EQ(s.trace.front().first, 29761904u);  // each independent search starts at the limit
    EXPECT_FALSE(s.trace.front().second);
    EXPECT_FALSE(s.at_limit);
  }
  EXPECT_DOUBLE_EQ(b2b.avg_frames, static_cast<double>(longest));
  EXPECT_EQ(b2b.min_frames, longest);
  EXPECT_EQ(b2b.max_frames, longest);
  EXPECT_EQ(b2b.stddev_frames, 0);
  EXPECT_FALSE(b2b.at_search_limit);

  // Formulas with the measured throughput.
  EXPECT_EQ(b2b.throughput_fps, r.throughput.fps);
  EXPECT_DOUBLE_EQ(b2b.implied_buffer_time_s, longest / rmax);
  EXPECT_DOUBLE_EQ(b2b.corrected_buffer_time_s, (longest / rmax) * (1 - r.throughput.fps / rmax));
  // Corrected buffer time recovers the buffer, B / R = 0.5505 ms: the measured throughput is
  // at most 0.1 % of line rate below X, which inflates it by at most 0.1 / 32.8 = 0.3 %.
  const double buffer_time = b / rmax;
  EXPECT_GE(b2b.corrected_buffer_time_s, buffer_time * (1 - 1e-4));
  EXPECT_LE(b2b.corrected_buffer_time_s, buffer_time * 1.004);

  // Requests: bursts at line rate; trial = burst send time + 2 s idle.
  const std::vector<TrialRequest> reqs = OfTest(log, kTestBackToBack, 64);
  ASSERT_FALSE(reqs.empty());
  for (const auto& q : reqs) {
    EXPECT_EQ(q.rate_percent, 100);
    EXPECT_DOUBLE_EQ(q.rate_fps, rmax);
    EXPECT_GT(q.burst_frames, 0u);
    EXPECT_EQ(q.duration, absl::Nanoseconds(std::ceil(q.burst_frames * 67.2)) + absl::Seconds(2));
  }
  EXPECT_EQ(reqs[0].note,
            "back-to-back search 1 of 50, step 1: burst of 29761904 frames (lo 0, hi 29761904)");
}

TEST(Rfc2544BackToBackTest, StatisticsOverIndependentSearches) {
  Rfc2544Config c = B2bConfig(128);
  c.b2b_trials = 4;
  auto m = MustCreate(c);
  const double rmax = rate::MaxFrameRate(k10G, 128);
  sim::RateLimitedDut dut(0.5 * rmax, 1000);
  const std::vector<uint64_t> buffers = {1000, 2000, 3000, 6000};
  std::vector<uint64_t> expected;
  size_t search = 0;
  const uint64_t limit = m->report(128)->back_to_back.max_burst_frames;
  Drive(*m, dut, 100000, [&](const TrialRequest& q) {
    if (q.test == kTestBackToBack && q.burst_frames == limit) {  // first trial of a search
      dut.set_buffer_frames(buffers[search++]);
      expected.push_back(dut.LongestBurst(rmax));
    }
  });
  const BackToBackReport& b2b = m->report(128)->back_to_back;
  ASSERT_EQ(b2b.searches.size(), 4u);
  ASSERT_EQ(expected.size(), 4u);
  double sum = 0;
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(b2b.searches[i].result_frames, expected[i]);
    EXPECT_NEAR(static_cast<double>(expected[i]), 2.0 * buffers[i], 1.0);  // B / (1 - 1/2)
    sum += expected[i];
  }
  const double mean = sum / 4;
  double ss = 0;
  for (uint64_t e : expected) ss += (e - mean) * (e - mean);
  EXPECT_DOUBLE_EQ(b2b.avg_frames, mean);
  EXPECT_EQ(b2b.min_frames, expected[0]);
  EXPECT_EQ(b2b.max_frames, expected[3]);
  EXPECT_DOUBLE_EQ(b2b.stddev_frames, std::sqrt(ss / 3));
}

TEST(Rfc2544BackToBackTest, SkippedWhenThroughputIsLineRate) {
  Rfc2544Config c = B2bConfig(64);
  auto m = MustCreate(c);
  sim::LosslessDut dut;
  const DriveLog log = Drive(*m, dut);
  EXPECT_EQ(log.requests.size(), 1u);
  const BackToBackReport& b2b = m->report(64)->back_to_back;
  EXPECT_EQ(b2b.outcome.state, TestState::kSkipped);
  EXPECT_THAT(b2b.outcome.reason,
              HasSubstr("burst length effectively infinite: throughput = line rate"));
}

TEST(Rfc2544BackToBackTest, PassAtTheSearchLimitIsFlagged) {
  Rfc2544Config c = B2bConfig(1518);
  c.b2b_trials = 3;
  auto m = MustCreate(c);
  // Buffer larger than the 1,625,487-frame limit but far below a 60 s throughput trial.
  sim::RateLimitedDut dut(0.5 * rate::MaxFrameRate(k10G, 1518), 2000000);
  Drive(*m, dut);
  const BackToBackReport& b2b = m->report(1518)->back_to_back;
  ASSERT_EQ(b2b.searches.size(), 3u);
  for (const auto& s : b2b.searches) {
    EXPECT_EQ(s.trials, 1u);
    EXPECT_TRUE(s.at_limit);
    EXPECT_EQ(s.result_frames, b2b.max_burst_frames);
  }
  EXPECT_TRUE(b2b.at_search_limit);
  EXPECT_THAT(b2b.outcome.reason, HasSubstr("b2b_max_burst_duration"));
}

TEST(Rfc2544BackToBackTest, CoarserMinimumStepBracketsTheBurst) {
  Rfc2544Config c = B2bConfig(64);
  c.b2b_trials = 2;
  c.b2b_min_step_frames = 100;
  auto m = MustCreate(c);
  const double rmax = rate::MaxFrameRate(k10G, 64);
  sim::RateLimitedDut dut(10000000, 8192);
  Drive(*m, dut);
  const BackToBackReport& b2b = m->report(64)->back_to_back;
  EXPECT_EQ(b2b.min_step_frames, 100u);
  const uint64_t longest = dut.LongestBurst(rmax);
  for (const auto& s : b2b.searches) {
    EXPECT_LE(s.result_frames, longest);
    EXPECT_GT(s.result_frames + 100, longest);
    EXPECT_LE(s.trials, CountBinarySearch::MaxTrials(b2b.max_burst_frames, 100));
  }
}

// A burst must be sent as asked: a short burst does not measure burst N.
class ShortBurstDut : public sim::SimulatedDut {
 public:
  TrialResult Run(const TrialRequest& q) override {
    TrialResult r;
    r.tx_frames = q.burst_frames > 0 ? q.burst_frames - 1 : sim::OfferedFrames(q);
    r.rx_frames = q.burst_frames > 0 ? r.tx_frames : r.tx_frames / 2;  // throughput < line
    if (q.burst_frames == 0 && q.rate_percent <= 50) r.rx_frames = r.tx_frames;
    return r;
  }
};

TEST(Rfc2544BackToBackTest, BurstNotSentInFullIsInvalid) {
  Rfc2544Config c = B2bConfig(64);
  c.b2b_trials = 1;
  auto m = MustCreate(c);
  ShortBurstDut dut;
  const DriveLog log = Drive(*m, dut);
  ASSERT_TRUE(log.finished);
  const BackToBackReport& b2b = m->report(64)->back_to_back;
  EXPECT_EQ(b2b.outcome.state, TestState::kFailed);
  EXPECT_THAT(b2b.outcome.reason, HasSubstr("were transmitted"));
  EXPECT_EQ(b2b.outcome.invalid_trials, 3u);
  EXPECT_EQ(log.statuses.back().code(), absl::StatusCode::kAborted);
}

// ---- Invalid trials and retries -------------------------------------------------------------

TEST(Rfc2544RetryTest, InvalidTrialIsReissuedAndNotAveragedIn) {
  auto m = MustCreate(ThroughputOnly(64, k1G));
  sim::RateLimitedDut inner(734000);
  bool failed_once = false;
  sim::InvalidatingDut dut(inner, [&](const TrialRequest& q) {
    if (!failed_once && q.note.rfind("binary search step 3:", 0) == 0) {
      failed_once = true;
      return true;
    }
    return false;
  });
  const DriveLog log = Drive(*m, dut);
  ASSERT_TRUE(log.finished);
  ASSERT_EQ(log.requests.size(), 12u);
  EXPECT_EQ(log.statuses[2].code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(log.statuses[2].message()), HasSubstr("agent died"));
  const TrialRequest& bad = log.requests[2];
  const TrialRequest& again = log.requests[3];
  EXPECT_EQ(again.rate_percent, bad.rate_percent);
  EXPECT_EQ(again.rate_fps, bad.rate_fps);
  EXPECT_EQ(again.duration, bad.duration);
  EXPECT_EQ(again.index, bad.index + 1);
  EXPECT_EQ(again.note, "binary search step 3: 25% (lo 0, hi 50) (retry 1 of 2: agent died)");
  for (size_t i = 0; i < log.statuses.size(); ++i) {
    if (i != 2) {
      EXPECT_TRUE(log.statuses[i].ok()) << i << ": " << log.statuses[i];
    }
  }
  const ThroughputReport& tp = m->report(64)->throughput;
  EXPECT_NEAR(tp.fps, 733875.09, 0.005);
  EXPECT_EQ(tp.outcome.trials, 11u);
  EXPECT_EQ(tp.outcome.invalid_trials, 1u);
  EXPECT_EQ(tp.trace.size(), 11u);
}

TEST(Rfc2544RetryTest, RetryLimitExhaustedFailsThatFrameSizeOnly) {
  Rfc2544Config c;
  c.tests = {kTestThroughput, kTestLatency, kTestFrameLoss, kTestBackToBack};
  c.frame_sizes = {64, 128, 256};
  c.link_bps = k10G;
  c.latency_trials = 2;
  c.b2b_trials = 2;
  auto m = MustCreate(c);
  sim::RateLimitedDut inner(1000000, 500);
  sim::InvalidatingDut dut(inner, [](const TrialRequest& q) {
    return q.frame_bytes == 128 && q.test == kTestThroughput &&
           q.note.find("step 2:") != std::string::npos;
  });
  const DriveLog log = Drive(*m, dut);
  ASSERT_TRUE(log.finished);
  EXPECT_EQ(dut.invalidated(), 3);  // 1 + 2 retries
  const int aborted = std::count_if(log.statuses.begin(), log.statuses.end(), [](const auto& s) {
    return s.code() == absl::StatusCode::kAborted;
  });
  EXPECT_EQ(aborted, 1);
  const FrameSizeReport& r = *m->report(128);
  EXPECT_EQ(r.throughput.outcome.state, TestState::kFailed);
  EXPECT_THAT(r.throughput.outcome.reason, HasSubstr("invalid 3 time(s)"));
  EXPECT_THAT(r.throughput.outcome.reason, HasSubstr("agent died"));
  EXPECT_EQ(r.throughput.outcome.invalid_trials, 3u);
  EXPECT_EQ(r.latency.outcome.state, TestState::kSkipped);
  EXPECT_THAT(r.latency.outcome.reason, HasSubstr("throughput failed"));
  EXPECT_EQ(r.back_to_back.outcome.state, TestState::kSkipped);
  EXPECT_EQ(r.frame_loss.outcome.state, TestState::kCompleted);  // independent of throughput
  for (uint32_t f : {64u, 256u}) {
    const FrameSizeReport& ok = *m->report(f);
    EXPECT_EQ(ok.throughput.outcome.state, TestState::kCompleted);
    EXPECT_EQ(ok.latency.outcome.state, TestState::kCompleted);
    EXPECT_EQ(ok.frame_loss.outcome.state, TestState::kCompleted);
    EXPECT_EQ(ok.back_to_back.outcome.state, TestState::kCompleted);
  }
}

TEST(Rfc2544RetryTest, RetriesAreConfigurable) {
  Rfc2544Config c = ThroughputOnly(64, k10G);
  c.tests = {kTestThroughput, kTestLatency};
  c.retries = 0;
  c.latency_trials = 4;
  auto m = MustCreate(c);
  sim::LosslessDut inner;
  sim::InvalidatingDut dut(inner, [](const TrialRequest& q) {
    return q.test == kTestLatency && q.note.rfind("latency trial 3 ", 0) == 0;
  });
  const DriveLog log = Drive(*m, dut);
  EXPECT_EQ(dut.invalidated(), 1);
  EXPECT_EQ(log.statuses.back().code(), absl::StatusCode::kAborted);
  const LatencyReport& lat = m->report(64)->latency;
  EXPECT_EQ(lat.outcome.state, TestState::kFailed);
  EXPECT_EQ(lat.trials.size(), 2u);  // the two valid trials are kept, nothing invalid averaged
  EXPECT_DOUBLE_EQ(lat.avg_ns, (inner.AvgLatencyOfCall(1) + inner.AvgLatencyOfCall(2)) / 2);
}

TEST(Rfc2544RetryTest, InconsistentCountersAreInvalid) {
  auto m = MustCreate(ThroughputOnly(64, k10G));
  TrialRequest q = *m->Next();
  TrialResult more_rx;
  more_rx.tx_frames = 10;
  more_rx.rx_frames = 11;
  EXPECT_EQ(m->Record(q, more_rx).code(), absl::StatusCode::kUnavailable);
  q = *m->Next();
  TrialResult nothing_sent;
  EXPECT_EQ(m->Record(q, nothing_sent).code(), absl::StatusCode::kUnavailable);
  q = *m->Next();
  EXPECT_EQ(m->Record(q, nothing_sent).code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(m->Done());
  EXPECT_EQ(m->report(64)->throughput.outcome.state, TestState::kFailed);
  EXPECT_THAT(m->report(64)->throughput.outcome.reason, HasSubstr("no frames were transmitted"));
}

// ---- Driving protocol, order, progress -------------------------------------------------------

TEST(Rfc2544ProtocolTest, NextIsIdempotentAndRecordChecksTheOutstandingTrial) {
  auto m = MustCreate(ThroughputOnly(64, k1G));
  TrialResult fail;
  fail.tx_frames = 100;
  fail.rx_frames = 50;
  EXPECT_EQ(m->Record(TrialRequest{}, fail).code(), absl::StatusCode::kFailedPrecondition);
  const TrialRequest a = *m->Next();
  const TrialRequest b = *m->Next();
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.note, b.note);
  TrialRequest wrong = a;
  wrong.index = a.index + 7;
  EXPECT_EQ(m->Record(wrong, fail).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(m->Next()->index, a.index);  // unchanged
  EXPECT_TRUE(m->Record(a, fail).ok());
  const TrialRequest c = *m->Next();
  EXPECT_EQ(c.index, a.index + 1);
  EXPECT_EQ(c.rate_percent, 50);
  EXPECT_EQ(m->Record(a, fail).code(), absl::StatusCode::kFailedPrecondition);  // stale
}

TEST(Rfc2544ProtocolTest, RecordAfterDoneIsRejected) {
  auto m = MustCreate(ThroughputOnly(64, k1G));
  sim::LosslessDut dut;
  Drive(*m, dut);
  ASSERT_TRUE(m->Done());
  EXPECT_FALSE(m->Next().has_value());
  TrialResult ok;
  ok.tx_frames = ok.rx_frames = 1;
  EXPECT_EQ(m->Record(TrialRequest{}, ok).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Rfc2544OrderTest, FrameSizeMajorInDependencyOrderWhateverTheTestsOrder) {
  Rfc2544Config c;
  c.tests = {kTestBackToBack, kTestFrameLoss, kTestLatency, kTestThroughput};
  c.frame_sizes = {128, 64};
  c.link_bps = k10G;
  c.latency_trials = 2;
  c.b2b_trials = 2;
  auto m = MustCreate(c);
  sim::RateLimitedDut dut(3000000, 2000);  // below line rate for both sizes
  const DriveLog log = Drive(*m, dut);
  ASSERT_TRUE(log.finished);
  std::vector<std::string> blocks;
  for (const auto& q : log.requests) {
    const std::string key = std::to_string(q.frame_bytes) + " " + q.test;
    if (blocks.empty() || blocks.back() != key) blocks.push_back(key);
  }
  EXPECT_THAT(blocks,
              ElementsAre("128 throughput", "128 latency", "128 frameLoss", "128 backToBack",
                          "64 throughput", "64 latency", "64 frameLoss", "64 backToBack"));
  for (size_t i = 0; i < log.requests.size(); ++i) EXPECT_EQ(log.requests[i].index, i);
  ASSERT_EQ(m->reports().size(), 2u);
  EXPECT_EQ(m->reports()[0].frame_bytes, 128u);
}

TEST(Rfc2544ProgressTest, GrowsMonotonicallyFromZeroToOne) {
  Rfc2544Config c;
  c.tests = {kTestThroughput, kTestLatency, kTestFrameLoss, kTestBackToBack};
  c.frame_sizes = {64, 512, 1518};
  c.link_bps = k10G;
  c.b2b_trials = 5;
  auto m = MustCreate(c);
  EXPECT_EQ(m->Progress(), 0);
  sim::RateLimitedDut dut(1500000, 4000);
  const DriveLog log = Drive(*m, dut);
  ASSERT_TRUE(log.finished);
  double prev = 0;
  for (size_t i = 0; i < log.progress.size(); ++i) {
    EXPECT_GE(log.progress[i], prev) << i;
    EXPECT_LE(log.progress[i], 1.0);
    if (i + 1 < log.progress.size()) {
      EXPECT_LT(log.progress[i], 1.0) << i;
    }
    prev = log.progress[i];
  }
  EXPECT_EQ(m->Progress(), 1.0);
  // Half way through the trials (by time) progress is neither stuck near 0 nor near 1.
  double total = 0;
  for (const auto& q : log.requests) total += absl::ToDoubleSeconds(q.duration);
  double acc = 0;
  for (size_t i = 0; i < log.requests.size(); ++i) {
    acc += absl::ToDoubleSeconds(log.requests[i].duration);
    if (acc >= total / 2) {
      EXPECT_GT(log.progress[i], 0.25);
      EXPECT_LT(log.progress[i], 0.75);
      break;
    }
  }
}

}  // namespace
}  // namespace netrig::controller::methodology
