#include "operator/testsuite_reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "operator/conditions.h"
#include "tests/unit/operator/fake_api.h"

namespace netrig::op {
namespace {

using kube::Json;
using ::testing::ElementsAre;
using testing::FakeApi;
using ::testing::HasSubstr;

Json RunSpec() {
  return Json::parse(R"({
    "sut": {"template": "linux-router"},
    "ports": [{"name": "west", "agent": {"pool": "default"}},
              {"name": "east", "agent": {"pool": "default"}}],
    "benchmark": {"rfc2544": {"tests": ["throughput"], "frameSizes": [64],
                              "trialDuration": "2s",
                              "traffic": [{"from": "west", "to": "east"}]}}
  })");
}

// 2027-01-15T08:00:00Z, a Friday.
const absl::Time kStart =
    absl::FromCivil(absl::CivilMinute(2027, 1, 15, 8, 0), absl::UTCTimeZone());

class TestSuiteReconcilerTest : public ::testing::Test {
 protected:
  TestSuiteReconcilerTest() : api_([this] { return now_; }), r_(&api_, {[this] { return now_; }}) {}

  void CreateSuite(Json spec) {
    Json suite = {{"apiVersion", "netrig.io/v1alpha1"},
                  {"kind", "TestSuite"},
                  {"metadata", {{"name", "nightly"}, {"namespace", "ci"}}},
                  {"spec", std::move(spec)}};
    ASSERT_TRUE(api_.Create(kube::kTestSuites, "ci", suite).ok());
  }
  Json Suite() { return *api_.Get(kube::kTestSuites, "ci", "nightly"); }
  void UpdateSpec(const std::function<void(Json&)>& change) {
    Json s = Suite();
    change(s["spec"]);
    ASSERT_TRUE(api_.Replace(kube::kTestSuites, "ci", "nightly", s).ok());
  }
  absl::Duration Reconcile() {
    absl::StatusOr<ReconcileResult> result = r_.Reconcile("ci", "nightly");
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->requeue_after : absl::InfiniteDuration();
  }
  std::vector<std::string> RunNames() {
    std::vector<std::string> names;
    for (const Json& run : api_.Objects(kube::kTestRuns)) {
      if (!IsBeingDeleted(run)) names.push_back(kube::NameOf(run));
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  // What the TestRun reconciler and the controller would do: finish a run.
  void Finish(const std::string& name, const std::string& phase, const std::string& verdict) {
    Json run = *api_.Get(kube::kTestRuns, "ci", name);
    run["status"] = {{"phase", phase}, {"completionTime", kube::FormatTime(now_)}};
    if (!verdict.empty()) run["status"]["verdict"] = verdict;
    ASSERT_TRUE(api_.ReplaceStatus(kube::kTestRuns, "ci", name, run).ok());
  }
  static std::string Unix(absl::Time t) { return std::to_string(absl::ToUnixSeconds(t)); }

  absl::Time now_ = kStart;
  FakeApi api_;
  TestSuiteReconciler r_;
};

Json TwoTemplates(const std::string& schedule) {
  Json spec = {
      {"level", "L2"},
      {"runs",
       Json::array({{{"name", "throughput"}, {"labels", {{"team", "net"}}}, {"spec", RunSpec()}},
                    {{"name", "latency"}, {"spec", RunSpec()}}})}};
  if (!schedule.empty()) spec["schedule"] = schedule;
  return spec;
}

TEST_F(TestSuiteReconcilerTest, RunsOnItsCronScheduleOncePerFireTime) {
  CreateSuite(TwoTemplates("0 2 * * *"));
  // Created at 08:00: the next fire time is 02:00 tomorrow.
  EXPECT_EQ(Reconcile(), absl::Hours(18));
  EXPECT_TRUE(RunNames().empty());
  EXPECT_EQ(FindCondition(Suite()["status"], "Ready")->value("reason", ""), "Scheduled");

  now_ = kStart + absl::Hours(18);  // 02:00
  const absl::Time fire = now_;
  EXPECT_EQ(Reconcile(), absl::Hours(24));
  EXPECT_THAT(RunNames(),
              ElementsAre("nightly-latency-" + Unix(fire), "nightly-throughput-" + Unix(fire)));
  EXPECT_EQ(Suite()["status"]["lastScheduleTime"], kube::FormatTime(fire));
  EXPECT_THAT(Suite()["status"]["activeRuns"],
              ElementsAre("nightly-latency-" + Unix(fire), "nightly-throughput-" + Unix(fire)));

  // The created TestRun: owned by the suite, labelled, level inherited, template labels kept.
  const Json run = *api_.Get(kube::kTestRuns, "ci", "nightly-throughput-" + Unix(fire));
  const Json* owner = ControllerOwner(run);
  ASSERT_NE(owner, nullptr);
  EXPECT_EQ(owner->value("kind", ""), "TestSuite");
  EXPECT_EQ(owner->value("uid", ""), kube::UidOf(Suite()));
  EXPECT_EQ(run["metadata"]["labels"]["netrig.io/suite"], "nightly");
  EXPECT_EQ(run["metadata"]["labels"]["netrig.io/template"], "throughput");
  EXPECT_EQ(run["metadata"]["labels"]["netrig.io/trigger"], "schedule");
  EXPECT_EQ(run["metadata"]["labels"]["team"], "net");
  EXPECT_EQ(run["spec"]["level"], "L2");
  EXPECT_EQ(run["spec"]["benchmark"], RunSpec()["benchmark"]);

  // The same instant again (a retry): nothing new.
  Reconcile();
  EXPECT_EQ(RunNames().size(), 2u);
}

TEST_F(TestSuiteReconcilerTest, MissedSchedulesRunOnceNotInABurst) {
  CreateSuite(TwoTemplates("*/10 * * * *"));
  Reconcile();
  // The operator was down for an hour: six fire times passed; one execution, the latest.
  now_ = kStart + absl::Minutes(65);
  const absl::Duration requeue = Reconcile();
  EXPECT_EQ(requeue, absl::Minutes(5));
  const absl::Time latest = kStart + absl::Minutes(60);
  EXPECT_THAT(RunNames(),
              ElementsAre("nightly-latency-" + Unix(latest), "nightly-throughput-" + Unix(latest)));
  EXPECT_EQ(Suite()["status"]["lastScheduleTime"], kube::FormatTime(latest));
}

TEST_F(TestSuiteReconcilerTest, ACrashBeforeTheStatusWriteDoesNotRunTwice) {
  CreateSuite(TwoTemplates("0 * * * *"));
  Reconcile();
  now_ = kStart + absl::Hours(1);
  api_.FailNext("replaceStatus", absl::UnavailableError("connection reset"));
  EXPECT_FALSE(r_.Reconcile("ci", "nightly").ok());
  EXPECT_EQ(RunNames().size(), 2u);
  Reconcile();  // lastScheduleTime was not stored: the same fire time, the same names
  EXPECT_EQ(RunNames().size(), 2u);
  EXPECT_EQ(Suite()["status"]["lastScheduleTime"], kube::FormatTime(now_));
}

TEST_F(TestSuiteReconcilerTest, SuspendIsHonoured) {
  Json spec = TwoTemplates("@hourly");
  spec["suspend"] = true;
  CreateSuite(spec);
  now_ = kStart + absl::Hours(3);
  EXPECT_EQ(Reconcile(), absl::ZeroDuration());
  EXPECT_TRUE(RunNames().empty());
  EXPECT_EQ(FindCondition(Suite()["status"], "Ready")->value("reason", ""), "Suspended");
  // Resumed: the missed executions give one run per template.
  UpdateSpec([](Json& s) { s["suspend"] = false; });
  Reconcile();
  EXPECT_EQ(RunNames().size(), 2u);
}

TEST_F(TestSuiteReconcilerTest, ATriggerChangeRunsTheSuiteOnce) {
  CreateSuite(TwoTemplates(""));
  EXPECT_EQ(Reconcile(), absl::ZeroDuration());  // manual suite: no timer
  EXPECT_TRUE(RunNames().empty());
  EXPECT_EQ(FindCondition(Suite()["status"], "Ready")->value("reason", ""), "Manual");

  UpdateSpec([](Json& s) { s["trigger"] = "build-41"; });
  Reconcile();
  EXPECT_THAT(RunNames(),
              ElementsAre("nightly-latency-" + Unix(now_), "nightly-throughput-" + Unix(now_)));
  const Json run = *api_.Get(kube::kTestRuns, "ci", "nightly-latency-" + Unix(now_));
  EXPECT_EQ(run["metadata"]["labels"]["netrig.io/trigger"], "operator");
  EXPECT_EQ(run["metadata"]["annotations"]["netrig.io/trigger-value"], "build-41");
  EXPECT_EQ(Suite()["metadata"]["annotations"]["netrig.io/last-trigger"], "build-41");
  Reconcile();
  EXPECT_EQ(RunNames().size(), 2u);

  // A new value in the same second still gets its own runs.
  UpdateSpec([](Json& s) { s["trigger"] = "build-42"; });
  Reconcile();
  EXPECT_EQ(RunNames().size(), 4u);
  EXPECT_THAT(RunNames(), ::testing::Contains("nightly-latency-" + Unix(now_ + absl::Seconds(1))));
}

TEST_F(TestSuiteReconcilerTest, KeepsHistoryLimitFinishedRunsPerTemplate) {
  Json spec = TwoTemplates("");
  spec["historyLimit"] = 2;
  CreateSuite(spec);
  std::vector<std::string> throughput_runs;
  for (int i = 1; i <= 4; ++i) {
    now_ += absl::Minutes(1);
    UpdateSpec([i](Json& s) { s["trigger"] = "t" + std::to_string(i); });
    Reconcile();
    throughput_runs.push_back("nightly-throughput-" + Unix(now_));
    Finish("nightly-throughput-" + Unix(now_), "Succeeded", "Pass");
    if (i < 4) Finish("nightly-latency-" + Unix(now_), "Succeeded", "Pass");
  }
  Reconcile();
  std::vector<std::string> names = RunNames();
  // Throughput: the two newest. Latency: two newest finished plus the running one.
  EXPECT_THAT(names, ::testing::Contains(throughput_runs[3]));
  EXPECT_THAT(names, ::testing::Contains(throughput_runs[2]));
  EXPECT_THAT(names, ::testing::Not(::testing::Contains(throughput_runs[1])));
  EXPECT_THAT(names, ::testing::Not(::testing::Contains(throughput_runs[0])));
  EXPECT_EQ(names.size(), 5u);
}

TEST_F(TestSuiteReconcilerTest, AggregatesTheLatestVerdicts) {
  CreateSuite(TwoTemplates(""));
  UpdateSpec([](Json& s) { s["trigger"] = "a"; });
  Reconcile();
  const std::string t = Unix(now_);
  Finish("nightly-throughput-" + t, "Succeeded", "Pass");
  Reconcile();
  Json status = Suite()["status"];
  EXPECT_EQ(status["lastVerdict"], "Pass");
  EXPECT_EQ(status["latest"]["throughput"]["testRun"], "nightly-throughput-" + t);
  EXPECT_EQ(status["latest"]["throughput"]["verdict"], "Pass");
  EXPECT_FALSE(status["latest"].contains("latency"));
  EXPECT_THAT(status["activeRuns"], ElementsAre("nightly-latency-" + t));

  Finish("nightly-latency-" + t, "Failed", "Regressed");
  Reconcile();
  status = Suite()["status"];
  EXPECT_EQ(status["lastVerdict"], "Regressed");  // the worst of Pass and Regressed
  EXPECT_EQ(status["latest"]["latency"]["phase"], "Failed");
  EXPECT_FALSE(status.contains("activeRuns"));
  EXPECT_EQ(status["observedGeneration"], kube::GenerationOf(Suite()));
  EXPECT_EQ(FindCondition(status, "Ready")->value("status", ""), "True");
}

TEST_F(TestSuiteReconcilerTest, AnInvalidSuiteIsReportedAndCreatesNothing) {
  Json spec = TwoTemplates("61 * * * *");
  CreateSuite(spec);
  now_ += absl::Hours(2);
  EXPECT_EQ(Reconcile(), absl::ZeroDuration());
  const Json status = Suite()["status"];
  const Json* ready = FindCondition(status, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->value("status", ""), "False");
  EXPECT_EQ(ready->value("reason", ""), "Invalid");
  EXPECT_THAT(ready->value("message", ""), HasSubstr("spec.schedule"));
  EXPECT_TRUE(RunNames().empty());
}

TEST_F(TestSuiteReconcilerTest, RunsOfOtherSuitesAreNotItsHistory) {
  CreateSuite(TwoTemplates(""));
  // A TestRun with the suite label but another owner (copied by hand) is left alone.
  Json stranger = {
      {"metadata",
       {{"name", "nightly-throughput-1"},
        {"namespace", "ci"},
        {"labels", {{"netrig.io/suite", "nightly"}, {"netrig.io/template", "throughput"}}}}},
      {"spec", RunSpec()},
      {"status", {{"phase", "Failed"}}}};
  api_.Put(kube::kTestRuns, stranger);
  Reconcile();
  EXPECT_FALSE(Suite()["status"].contains("lastVerdict"));
  EXPECT_THAT(RunNames(), ElementsAre("nightly-throughput-1"));
}

TEST(VerdictSeverityTest, FailIsWorst) {
  EXPECT_GT(VerdictSeverity("Fail"), VerdictSeverity("Regressed"));
  EXPECT_GT(VerdictSeverity("Regressed"), VerdictSeverity("Inconclusive"));
  EXPECT_GT(VerdictSeverity("Inconclusive"), VerdictSeverity("Pass"));
  EXPECT_GT(VerdictSeverity("Pass"), VerdictSeverity(""));
}

}  // namespace
}  // namespace netrig::op
