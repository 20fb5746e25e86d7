#include "controller/metrics/kpi_tracker.h"

#include <gtest/gtest.h>

namespace netrig::controller::metrics {
namespace {

RunFacts Facts(const std::string& test, const std::string& version, const std::string& verdict,
               const std::string& level = "L1") {
  RunFacts f;
  f.test = test;
  f.version = version;
  f.verdict = verdict;
  f.level = level;
  f.sut = "linux-router";
  f.suite = "s";
  return f;
}

TEST(KpiTrackerTest, VersionsAreCountedOnceAndPassesOncePerLevel) {
  KpiTracker k;
  EXPECT_TRUE(k.Observe(Facts("a", "1.0", "Fail")).new_version);
  EXPECT_FALSE(k.Observe(Facts("b", "1.0", "Pass")).new_version);
  EXPECT_TRUE(k.Observe(Facts("a", "1.0", "Pass")).new_passed_version == false);  // b passed it
  EXPECT_TRUE(k.Observe(Facts("a", "1.0", "Pass", "L3")).new_passed_version);
  EXPECT_TRUE(k.Observe(Facts("a", "2.0", "Pass")).new_version);
  EXPECT_FALSE(k.Observe(Facts("a", "", "Pass")).new_version);  // no version: no release KPI
}

TEST(KpiTrackerTest, TheNextJudgedRunOfTheSameTestAndVersionResolvesAFlag) {
  KpiTracker k;
  const KpiChange first = k.Observe(Facts("a", "1.0", "Regressed"));
  EXPECT_TRUE(first.flagged);
  EXPECT_TRUE(first.regression);
  EXPECT_FALSE(first.confirmed || first.dismissed);
  // Another test, another version, or a run without a judgement leave the flag open.
  EXPECT_FALSE(k.Observe(Facts("b", "1.0", "Pass")).dismissed);
  EXPECT_FALSE(k.Observe(Facts("a", "1.1", "Pass")).dismissed);
  EXPECT_FALSE(k.Observe(Facts("a", "1.0", "none")).dismissed);
  const KpiChange again = k.Observe(Facts("a", "1.0", "Fail", "L2"));
  ASSERT_TRUE(again.confirmed);
  EXPECT_EQ(again.confirmed->level, "L1");  // counted where the flag was raised
  EXPECT_FALSE(again.regression);
  const KpiChange pass = k.Observe(Facts("a", "1.0", "Pass"));
  ASSERT_TRUE(pass.dismissed);
  EXPECT_EQ(pass.dismissed->level, "L2");
  EXPECT_FALSE(k.Observe(Facts("a", "1.0", "Pass")).dismissed);  // nothing open any more
}

TEST(KpiTrackerTest, FactsOfARunUseLabelsAndDefaults) {
  v1::Run run;
  run.set_id("r1");
  run.set_created_time("2026-11-22T10:00:00Z");
  v1::TestRun& tr = *run.mutable_test_run();
  tr.mutable_metadata()->set_generate_name("nightly-");
  (*tr.mutable_metadata()->mutable_labels())["netrig.io/suite"] = "core";
  tr.mutable_spec()->mutable_sut()->mutable_static_();
  tr.mutable_status()->set_phase("Succeeded");
  tr.mutable_status()->set_start_time("2026-11-22T10:00:05Z");
  tr.mutable_status()->set_completion_time("2026-11-22T10:01:05Z");
  const RunFacts f = FactsOf(run);
  EXPECT_EQ(f.test, "nightly-");
  EXPECT_EQ(f.level, "L1");
  EXPECT_EQ(f.suite, "core");
  EXPECT_EQ(f.trigger, "manual");
  EXPECT_EQ(f.sut, "static");
  EXPECT_EQ(f.verdict, "none");
  ASSERT_TRUE(f.queue_wait_s && f.duration_s);
  EXPECT_EQ(*f.queue_wait_s, 5);
  EXPECT_EQ(*f.duration_s, 60);
}

}  // namespace
}  // namespace netrig::controller::metrics
