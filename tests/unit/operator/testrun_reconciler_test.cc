#include "operator/testrun_reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/time/time.h"
#include "operator/conditions.h"
#include "tests/unit/operator/fake_api.h"
#include "tests/unit/operator/fake_controller.h"

namespace netrig::op {
namespace {

using kube::Json;
using testing::FakeApi;
using testing::FakeController;
using ::testing::HasSubstr;

Json ValidSpec() {
  return Json::parse(R"({
    "sut": {"template": "linux-router"},
    "ports": [{"name": "west", "agent": {"pool": "default"}},
              {"name": "east", "agent": {"pool": "default"}}],
    "benchmark": {"rfc2544": {"tests": ["throughput"], "frameSizes": [64, 512],
                              "trialDuration": "2s",
                              "traffic": [{"from": "west", "to": "east"}]}}
  })");
}

Json TestRun(const std::string& name, Json spec) {
  return Json{{"apiVersion", "netrig.io/v1alpha1"},
              {"kind", "TestRun"},
              {"metadata", {{"name", name}, {"namespace", "ci"}}},
              {"spec", std::move(spec)}};
}

class TestRunReconcilerTest : public ::testing::Test {
 protected:
  TestRunReconcilerTest() : api_([this] { return now_; }) {}

  TestRunReconciler MakeReconciler() {
    TestRunReconcilerOptions o;
    o.controller_rest = "http://controller:7401/";
    o.clock = [this] { return now_; };
    return TestRunReconciler(&api_, &controller_, o);
  }
  Json Create(const std::string& name, Json spec = ValidSpec()) {
    absl::StatusOr<Json> created = api_.Create(kube::kTestRuns, "ci", TestRun(name, spec));
    EXPECT_TRUE(created.ok()) << created.status();
    return *created;
  }
  Json Get(const std::string& name) {
    absl::StatusOr<Json> got = api_.Get(kube::kTestRuns, "ci", name);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : Json();
  }
  absl::Duration Reconcile(TestRunReconciler& r, const std::string& name) {
    absl::StatusOr<ReconcileResult> result = r.Reconcile("ci", name);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->requeue_after : absl::InfiniteDuration();
  }
  // The condition (a copy), or an empty object.
  static Json Cond(const Json& obj, const std::string& type) {
    const Json status = obj.value("status", Json::object());
    const Json* c = FindCondition(status, type);
    return c == nullptr ? Json::object() : *c;
  }
  int Events(const std::string& reason) {
    int n = 0;
    for (const Json& e : api_.Objects(kube::kEvents)) n += e.value("reason", "") == reason;
    return n;
  }

  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  FakeApi api_;
  FakeController controller_;
};

TEST_F(TestRunReconcilerTest, InvalidSpecIsMarkedWithTheFieldPathAndNeverSubmitted) {
  Json spec = ValidSpec();
  spec["benchmark"]["rfc2544"]["traffic"][0]["from"] = "north";
  spec["benchmark"]["rfc2544"]["frameSizes"] = Json::array({64, 20});
  Create("bad", spec);
  TestRunReconciler r = MakeReconciler();

  EXPECT_EQ(Reconcile(r, "bad"), absl::ZeroDuration());  // no polling: nothing to wait for
  const Json obj = Get("bad");
  const Json succeeded = Cond(obj, "Succeeded");
  EXPECT_EQ(succeeded.value("status", ""), "False");
  EXPECT_EQ(succeeded.value("reason", ""), "Invalid");
  // Every error, each with its path relative to the object.
  EXPECT_THAT(succeeded.value("message", ""), HasSubstr("spec.benchmark.rfc2544.traffic[0].from"));
  EXPECT_THAT(succeeded.value("message", ""), HasSubstr("spec.benchmark.rfc2544.frameSizes[1]"));
  EXPECT_EQ(obj["status"].value("phase", ""), "Failed");
  EXPECT_FALSE(obj["status"].contains("verdict"));
  EXPECT_FALSE(obj["status"].contains("runID"));
  EXPECT_EQ(controller_.submit_calls(), 0);
  EXPECT_EQ(Events("Invalid"), 1);

  // Reconciling again writes nothing (no watch event, no hot loop) and reports nothing new.
  const int64_t rv = api_.resource_version();
  now_ += absl::Minutes(1);
  EXPECT_EQ(Reconcile(r, "bad"), absl::ZeroDuration());
  EXPECT_EQ(api_.resource_version(), rv);
  EXPECT_EQ(controller_.submit_calls(), 0);
  EXPECT_EQ(Events("Invalid"), 1);
}

TEST_F(TestRunReconcilerTest, FixingAnInvalidSpecSubmitsIt) {
  Json spec = ValidSpec();
  spec["benchmark"]["rfc2544"]["traffic"][0]["from"] = "north";
  Create("fixme", spec);
  TestRunReconciler r = MakeReconciler();
  Reconcile(r, "fixme");
  ASSERT_EQ(Cond(Get("fixme"), "Succeeded").value("reason", ""), "Invalid");

  Json obj = Get("fixme");
  obj["spec"] = ValidSpec();
  ASSERT_TRUE(api_.Replace(kube::kTestRuns, "ci", "fixme", obj).ok());
  Reconcile(r, "fixme");
  const Json fixed = Get("fixme");
  EXPECT_EQ(controller_.submit_calls(), 1);
  EXPECT_FALSE(fixed["status"].value("runID", "").empty());
  EXPECT_EQ(Cond(fixed, "Succeeded").value("status", ""), "Unknown");
  EXPECT_EQ(fixed["status"].value("observedGeneration", 0), 2);
}

TEST_F(TestRunReconcilerTest, ControllerRejectionIsInvalidToo) {
  Create("rejected");
  controller_.SetSubmitError(absl::InvalidArgumentError(
      "spec.sut.template: no SutTemplate \"linux-router\"\nspec.ports[0]: no agent in pool"));
  TestRunReconciler r = MakeReconciler();
  EXPECT_EQ(Reconcile(r, "rejected"), absl::ZeroDuration());
  const Json c = Cond(Get("rejected"), "Succeeded");
  EXPECT_EQ(c.value("reason", ""), "Invalid");
  EXPECT_EQ(c.value("message", ""),
            "spec.sut.template: no SutTemplate \"linux-router\"; spec.ports[0]: no agent in pool");
}

TEST_F(TestRunReconcilerTest, AddsTheFinalizerAndSubmitsExactlyOnce) {
  const Json created = Create("once");
  TestRunReconciler r = MakeReconciler();
  EXPECT_EQ(Reconcile(r, "once"), absl::Seconds(2));
  for (int i = 0; i < 5; ++i) Reconcile(r, "once");

  const Json obj = Get("once");
  EXPECT_TRUE(HasFinalizer(obj, kRunCleanupFinalizer));
  EXPECT_EQ(controller_.submit_calls(), 1);
  EXPECT_EQ(controller_.run_count(), 1u);
  const std::string id = obj["status"].value("runID", "");
  ASSERT_EQ(id, "run-1");
  // The document is the object's spec, under its own name, with the uid label.
  const Json doc = Json::parse(controller_.document(id));
  EXPECT_EQ(doc["metadata"]["name"], "once");
  EXPECT_EQ(doc["spec"], ValidSpec());
  EXPECT_EQ(Cond(obj, "Submitted").value("status", ""), "True");
  EXPECT_EQ(Events("Submitted"), 1);
}

TEST_F(TestRunReconcilerTest, ARestartBeforeTheStatusWriteDoesNotSubmitTwice) {
  Create("crash");
  {
    // The first operator submits, then dies before status.runID is stored.
    TestRunReconciler first = MakeReconciler();
    api_.FailNext("replaceStatus", absl::UnavailableError("connection reset"));
    absl::StatusOr<ReconcileResult> result = first.Reconcile("ci", "crash");
    EXPECT_FALSE(result.ok());
  }
  EXPECT_FALSE(Get("crash").value("status", Json::object()).contains("runID"));
  // A new operator (new reconciler, nothing in memory) submits with the same request id: the
  // controller answers with the run it already has.
  TestRunReconciler second = MakeReconciler();
  Reconcile(second, "crash");
  Reconcile(second, "crash");
  EXPECT_EQ(controller_.run_count(), 1u);
  EXPECT_EQ(Get("crash")["status"].value("runID", ""), "run-1");
  // Once runID is stored nothing is ever submitted again, even by yet another instance.
  TestRunReconciler third = MakeReconciler();
  const int submits = controller_.submit_calls();
  Reconcile(third, "crash");
  EXPECT_EQ(controller_.submit_calls(), submits);
}

TEST_F(TestRunReconcilerTest, MirrorsTheRunAndKeepsTransitionTimesStable) {
  Create("mirror");
  TestRunReconciler r = MakeReconciler();
  Reconcile(r, "mirror");
  const std::string id = Get("mirror")["status"].value("runID", "");
  const Json queued = Cond(Get("mirror"), "Succeeded");
  EXPECT_EQ(queued.value("status", ""), "Unknown");
  EXPECT_EQ(Get("mirror")["status"]["progress"].value("message", ""), "queued");

  const absl::Time t_running = now_ += absl::Seconds(10);
  v1::TestRunStatus st;
  st.set_phase("Running");
  st.set_start_time("2027-01-15T08:00:10Z");
  st.mutable_progress()->set_test("throughput");
  st.mutable_progress()->set_frame_size(512);
  st.mutable_progress()->set_trial(3);
  st.mutable_progress()->set_offered_rate_percent(47.5);
  controller_.SetStatus(id, st);
  EXPECT_EQ(Reconcile(r, "mirror"), absl::Seconds(2));
  Json obj = Get("mirror");
  EXPECT_EQ(obj["status"]["phase"], "Running");
  EXPECT_EQ(obj["status"]["startTime"], "2027-01-15T08:00:10Z");
  EXPECT_EQ(obj["status"]["progress"]["message"], "throughput 512B trial 3 (47.5%)");
  EXPECT_EQ(obj["status"]["progress"]["frameSize"], 512);
  EXPECT_EQ(Cond(obj, "Running").value("status", ""), "True");
  EXPECT_EQ(Cond(obj, "Running").value("lastTransitionTime", ""), kube::FormatTime(t_running));
  // Still Unknown: its transition time has not moved.
  EXPECT_EQ(Cond(obj, "Succeeded").value("lastTransitionTime", ""),
            queued.value("lastTransitionTime", ""));

  // Progress moves on; Running stays True with its first transition time.
  now_ += absl::Seconds(10);
  st.mutable_progress()->set_trial(4);
  controller_.SetStatus(id, st);
  Reconcile(r, "mirror");
  obj = Get("mirror");
  EXPECT_EQ(obj["status"]["progress"]["message"], "throughput 512B trial 4 (47.5%)");
  EXPECT_EQ(Cond(obj, "Running").value("lastTransitionTime", ""), kube::FormatTime(t_running));

  // Finished: verdict, summary, results, report, Succeeded=True; no more polling.
  const absl::Time t_done = now_ += absl::Seconds(10);
  st.set_phase("Succeeded");
  st.set_verdict("Pass");
  st.set_summary("throughput 64B: 14880952 fps");
  st.set_completion_time("2027-01-15T08:01:00Z");
  v1::TestRunResult* res = st.add_results();
  res->set_test("throughput");
  res->set_frame_size(64);
  res->set_metric("throughput_fps");
  res->set_value(14880952);
  controller_.SetStatus(id, st);
  EXPECT_EQ(Reconcile(r, "mirror"), absl::ZeroDuration());
  obj = Get("mirror");
  EXPECT_EQ(obj["status"]["phase"], "Succeeded");
  EXPECT_EQ(obj["status"]["verdict"], "Pass");
  EXPECT_EQ(obj["status"]["completionTime"], "2027-01-15T08:01:00Z");
  EXPECT_EQ(obj["status"]["reportURL"], "http://controller:7401/v1/runs/" + id + "/results");
  ASSERT_EQ(obj["status"]["results"].size(), 1u);
  EXPECT_EQ(obj["status"]["results"][0]["metric"], "throughput_fps");
  EXPECT_EQ(obj["status"]["observedGeneration"], 1);
  const Json succeeded = Cond(obj, "Succeeded");
  EXPECT_EQ(succeeded.value("status", ""), "True");
  EXPECT_EQ(succeeded.value("observedGeneration", 0), 1);
  EXPECT_EQ(succeeded.value("lastTransitionTime", ""), kube::FormatTime(t_done));
  EXPECT_EQ(Cond(obj, "Running").value("status", ""), "False");
  EXPECT_EQ(Events("Succeeded"), 1);

  // Nothing new: nothing written, no second event.
  const int64_t rv = api_.resource_version();
  now_ += absl::Minutes(5);
  Reconcile(r, "mirror");
  EXPECT_EQ(api_.resource_version(), rv);
  EXPECT_EQ(Events("Succeeded"), 1);
}

TEST_F(TestRunReconcilerTest, ARegressionIsSucceededFalseWithReasonRegressed) {
  Create("regress");
  TestRunReconciler r = MakeReconciler();
  Reconcile(r, "regress");
  v1::TestRunStatus st;
  st.set_phase("Failed");
  st.set_verdict("Regressed");
  st.set_summary("regressed against baseline run-0");
  controller_.SetStatus("run-1", st);
  Reconcile(r, "regress");
  const Json c = Cond(Get("regress"), "Succeeded");
  EXPECT_EQ(c.value("status", ""), "False");
  EXPECT_EQ(c.value("reason", ""), "Regressed");
  EXPECT_EQ(c.value("message", ""), "regressed against baseline run-0");
  EXPECT_EQ(Events("Failed"), 1);
}

TEST_F(TestRunReconcilerTest, ASpecChangeAfterSubmissionIsReportedAndIgnored) {
  Create("immutable");
  TestRunReconciler r = MakeReconciler();
  Reconcile(r, "immutable");
  Json obj = Get("immutable");
  obj["spec"]["benchmark"]["rfc2544"]["frameSizes"] = Json::array({128});
  ASSERT_TRUE(api_.Replace(kube::kTestRuns, "ci", "immutable", obj).ok());

  Reconcile(r, "immutable");
  obj = Get("immutable");
  EXPECT_EQ(controller_.submit_calls(), 1);
  EXPECT_EQ(obj["status"]["runID"], "run-1");
  EXPECT_EQ(obj["status"]["observedGeneration"], 2);
  EXPECT_EQ(Cond(obj, "Submitted").value("observedGeneration", 0), 1);
  const Json ignored = Cond(obj, "SpecIgnored");
  EXPECT_EQ(ignored.value("status", ""), "True");
  EXPECT_THAT(ignored.value("message", ""), HasSubstr("generation 2"));
  EXPECT_EQ(Events("SpecChangeIgnored"), 1);
  Reconcile(r, "immutable");
  EXPECT_EQ(Events("SpecChangeIgnored"), 1);
}

TEST_F(TestRunReconcilerTest, ControllerErrorsAreRetriedNotReported) {
  Create("down");
  controller_.SetSubmitError(absl::UnavailableError("controller 127.0.0.1:7400: SubmitRun: down"));
  TestRunReconciler r = MakeReconciler();
  absl::StatusOr<ReconcileResult> result = r.Reconcile("ci", "down");
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  EXPECT_TRUE(Cond(Get("down"), "Succeeded").empty());
}

TEST_F(TestRunReconcilerTest, DeletionCancelsWaitsAndRemovesSutPods) {
  Create("doomed");
  TestRunReconciler r = MakeReconciler();
  Reconcile(r, "doomed");
  v1::TestRunStatus st;
  st.set_phase("Running");
  controller_.SetStatus("run-1", st);
  Reconcile(r, "doomed");
  // A SUT pod of this run, one of another run.
  api_.Put(kube::kPods,
           Json{{"metadata",
                 {{"name", "sut-1"}, {"namespace", "ci"}, {"labels", {{kRunLabel, "run-1"}}}}}});
  api_.Put(
      kube::kPods,
      Json{{"metadata",
            {{"name", "sut-other"}, {"namespace", "ci"}, {"labels", {{kRunLabel, "run-9"}}}}}});

  // The controller finishes a cancelled run only after tearing its SUT down.
  controller_.SetCancelFinishesAtOnce(false);
  ASSERT_TRUE(api_.Delete(kube::kTestRuns, "ci", "doomed").ok());
  ASSERT_TRUE(IsBeingDeleted(Get("doomed")));  // held by the finalizer
  EXPECT_EQ(Reconcile(r, "doomed"), absl::Milliseconds(500));
  EXPECT_EQ(controller_.cancels(), std::vector<std::string>{"run-1"});
  EXPECT_EQ(controller_.cancel_reasons(), std::vector<std::string>{"TestRun ci/doomed deleted"});
  EXPECT_TRUE(HasFinalizer(Get("doomed"), kRunCleanupFinalizer));

  st.set_phase("Cancelled");
  controller_.SetStatus("run-1", st);
  Reconcile(r, "doomed");  // deletes the SUT pod, checks again
  std::vector<Json> pods = api_.Objects(kube::kPods);
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0]["metadata"]["name"], "sut-other");
  Reconcile(r, "doomed");  // no pod left: the finalizer goes, and the object with it
  EXPECT_TRUE(absl::IsNotFound(api_.Get(kube::kTestRuns, "ci", "doomed").status()));
  EXPECT_EQ(controller_.cancels().size(), 1u);
  // A reconcile of the vanished object is fine.
  EXPECT_EQ(Reconcile(r, "doomed"), absl::ZeroDuration());
}

TEST_F(TestRunReconcilerTest, DeletingAnInvalidRunNeedsNoController) {
  Json spec = ValidSpec();
  spec["ports"] = Json::array();
  Create("invalid");
  Json obj = Get("invalid");
  obj["spec"] = spec;
  ASSERT_TRUE(api_.Replace(kube::kTestRuns, "ci", "invalid", obj).ok());
  TestRunReconciler r = MakeReconciler();
  Reconcile(r, "invalid");
  ASSERT_EQ(Cond(Get("invalid"), "Succeeded").value("reason", ""), "Invalid");
  controller_.SetGetError(absl::UnavailableError("down"));
  ASSERT_TRUE(api_.Delete(kube::kTestRuns, "ci", "invalid").ok());
  Reconcile(r, "invalid");
  EXPECT_TRUE(absl::IsNotFound(api_.Get(kube::kTestRuns, "ci", "invalid").status()));
  EXPECT_TRUE(controller_.cancels().empty());
}

TEST_F(TestRunReconcilerTest, DeletionFindsARunWhoseIdWasNeverWritten) {
  Create("lost-id");
  TestRunReconciler r = MakeReconciler();
  api_.FailNext("replaceStatus", absl::UnavailableError("connection reset"));
  EXPECT_FALSE(r.Reconcile("ci", "lost-id").ok());  // submitted, status not written
  controller_.SetStatus("run-1", [] {
    v1::TestRunStatus st;
    st.set_phase("Running");
    return st;
  }());
  // The label the operator sent with the submission identifies it.
  ASSERT_TRUE(api_.Delete(kube::kTestRuns, "ci", "lost-id").ok());
  Reconcile(r, "lost-id");
  EXPECT_EQ(controller_.cancels(), std::vector<std::string>{"run-1"});
  EXPECT_TRUE(absl::IsNotFound(api_.Get(kube::kTestRuns, "ci", "lost-id").status()));
}

TEST(ProgressMessageTest, SaysWhereTheRunIs) {
  v1::TestRunProgress p;
  EXPECT_EQ(ProgressMessage(p, "Pending"), "queued");
  EXPECT_EQ(ProgressMessage(p, "Running"), "starting");
  p.set_frame_sizes_done(2);
  p.set_frame_sizes_total(4);
  EXPECT_EQ(ProgressMessage(p, "Running"), "2/4 frame sizes");
  p.set_message("calibrating");
  EXPECT_EQ(ProgressMessage(p, "Running"), "calibrating");
  p.set_test("latency");
  p.set_frame_size(1518);
  EXPECT_EQ(ProgressMessage(p, "Running"), "latency 1518B, 2/4 frame sizes");
  EXPECT_EQ(ProgressMessage(p, "Succeeded"), "done");
  EXPECT_EQ(ProgressMessage(p, "Cancelled"), "cancelled");
}

}  // namespace
}  // namespace netrig::op
