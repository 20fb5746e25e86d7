#include "operator/manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/unit/operator/fake_api.h"

namespace netrig::op {
namespace {

using kube::Json;
using testing::FakeApi;
using ::testing::HasSubstr;

// Polls `pred` (the manager works on its own threads); false after `timeout`.
bool WaitUntil(const std::function<bool()>& pred, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time until = absl::Now() + timeout;
  while (absl::Now() < until) {
    if (pred()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return pred();
}

// Records every Reconcile; fails a key the first `failures[key]` times.
class RecordingReconciler : public Reconciler {
 public:
  explicit RecordingReconciler(const kube::Resource& r) : resource_(r) {}
  const kube::Resource& resource() const override { return resource_; }
  absl::StatusOr<ReconcileResult> Reconcile(const std::string& ns,
                                            const std::string& name) override {
    const std::string key = ns + "/" + name;
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_[key];
    if (failures_[key] > 0) {
      --failures_[key];
      return absl::UnavailableError("scripted failure");
    }
    return ReconcileResult{requeue_after_};
  }
  int calls(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[key];
  }
  void Fail(const std::string& key, int times) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_[key] = times;
  }
  void set_requeue_after(absl::Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    requeue_after_ = d;
  }

 private:
  kube::Resource resource_;
  std::mutex mu_;
  std::map<std::string, int> calls_;
  std::map<std::string, int> failures_;
  absl::Duration requeue_after_ = absl::ZeroDuration();
};

Json Object(const std::string& name, Json owner = Json()) {
  Json obj = {{"metadata", {{"name", name}, {"namespace", "ci"}}}, {"spec", {{"x", 1}}}};
  if (!owner.is_null()) obj["metadata"]["ownerReferences"] = Json::array({owner});
  return obj;
}

ManagerConfig FastConfig() {
  ManagerConfig c;
  c.namespaces = {"ci"};
  c.workers = 2;
  c.metrics_address = "127.0.0.1:0";
  c.queue.base_delay = absl::Milliseconds(1);
  c.queue.max_delay = absl::Milliseconds(20);
  return c;
}

// Runs a manager on a thread; stops and joins it at the end of the scope.
class RunningManager {
 public:
  RunningManager(Manager& m) : m_(m) {
    thread_ = std::thread([this] { status_ = m_.Run(); });
  }
  ~RunningManager() { (void)Finish(); }
  absl::Status Finish() {
    m_.Stop();
    if (thread_.joinable()) thread_.join();
    return status_;
  }

 private:
  Manager& m_;
  std::thread thread_;
  absl::Status status_;
};

TEST(ManagerTest, ReconcilesExistingAndChangedObjectsAndOwnersOfOwnedOnes) {
  FakeApi api;
  ASSERT_TRUE(api.Create(kube::kTestSuites, "ci", Object("suite-a")).ok());
  RecordingReconciler suites(kube::kTestSuites);
  Manager m(&api, FastConfig(), nullptr);
  m.Add(&suites, {kube::kTestRuns});
  RunningManager running(m);

  // The first list queues what exists.
  EXPECT_TRUE(WaitUntil([&] { return suites.calls("ci/suite-a") >= 1; }));
  EXPECT_TRUE(WaitUntil([&] { return m.ready(); }));
  // A new object and a changed object are reconciled.
  ASSERT_TRUE(api.Create(kube::kTestSuites, "ci", Object("suite-b")).ok());
  EXPECT_TRUE(WaitUntil([&] { return suites.calls("ci/suite-b") >= 1; }));
  const int before = suites.calls("ci/suite-a");
  Json a = *api.Get(kube::kTestSuites, "ci", "suite-a");
  a["spec"]["x"] = 2;
  ASSERT_TRUE(api.Replace(kube::kTestSuites, "ci", "suite-a", a).ok());
  EXPECT_TRUE(WaitUntil([&] { return suites.calls("ci/suite-a") > before; }));

  // A TestRun controlled by suite-b queues suite-b; one controlled by something else does not.
  const int b_before = suites.calls("ci/suite-b");
  ASSERT_TRUE(api.Create(kube::kTestRuns, "ci",
                         Object("run-1", {{"apiVersion", "netrig.io/v1alpha1"},
                                          {"kind", "TestSuite"},
                                          {"name", "suite-b"},
                                          {"uid", "u"},
                                          {"controller", true}}))
                  .ok());
  ASSERT_TRUE(api.Create(kube::kTestRuns, "ci",
                         Object("run-2", {{"apiVersion", "apps/v1"},
                                          {"kind", "Deployment"},
                                          {"name", "suite-c"},
                                          {"uid", "u"},
                                          {"controller", true}}))
                  .ok());
  EXPECT_TRUE(WaitUntil([&] { return suites.calls("ci/suite-b") > b_before; }));
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(suites.calls("ci/suite-c"), 0);
  EXPECT_TRUE(running.Finish().ok());
}

TEST(ManagerTest, RetriesFailuresWithBackoffAndServesHealthAndMetrics) {
  FakeApi api;
  ASSERT_TRUE(api.Create(kube::kTestRuns, "ci", Object("flaky")).ok());
  RecordingReconciler runs(kube::kTestRuns);
  runs.Fail("ci/flaky", 3);
  auto registry = std::make_shared<prometheus::Registry>();
  Manager m(&api, FastConfig(), registry);
  m.Add(&runs);
  RunningManager running(m);

  // Three failures, then the success: four calls, and no more without a new event.
  EXPECT_TRUE(WaitUntil([&] { return runs.calls("ci/flaky") >= 4; }));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(runs.calls("ci/flaky"), 4);

  ASSERT_TRUE(WaitUntil([&] { return !m.metrics_address().empty(); }));
  const std::string address = m.metrics_address();
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port)) << address;
  httplib::Client http("127.0.0.1", port);
  auto healthz = http.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
  EXPECT_TRUE(WaitUntil([&] {
    auto readyz = http.Get("/readyz");
    return readyz && readyz->status == 200;
  }));
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(
      metrics->body,
      HasSubstr("netrig_operator_reconciles_total{resource=\"testruns\",result=\"error\"} 3"));
  EXPECT_THAT(
      metrics->body,
      HasSubstr("netrig_operator_reconciles_total{resource=\"testruns\",result=\"success\"} 1"));
  EXPECT_THAT(
      metrics->body,
      HasSubstr("netrig_operator_reconcile_duration_seconds_count{resource=\"testruns\"} 4"));
  EXPECT_THAT(metrics->body, HasSubstr("netrig_operator_queue_depth{resource=\"testruns\"}"));
  EXPECT_THAT(metrics->body, HasSubstr("netrig_operator_leader 1"));
  EXPECT_TRUE(running.Finish().ok());
}

TEST(ManagerTest, RequeueAfterCallsAgainWithoutAnEvent) {
  FakeApi api;
  ASSERT_TRUE(api.Create(kube::kTestRuns, "ci", Object("poll")).ok());
  RecordingReconciler runs(kube::kTestRuns);
  runs.set_requeue_after(absl::Milliseconds(20));
  ManagerConfig config = FastConfig();
  config.metrics_address.clear();
  Manager m(&api, config, nullptr);
  m.Add(&runs);
  RunningManager running(m);
  EXPECT_TRUE(WaitUntil([&] { return runs.calls("ci/poll") >= 5; }));
}

TEST(ManagerTest, OnlyTheLeaderReconcilesAndAStoppedLeaderHandsOver) {
  FakeApi api;
  ASSERT_TRUE(api.Create(kube::kTestRuns, "ci", Object("x")).ok());
  auto config = [](const std::string& identity) {
    ManagerConfig c = FastConfig();
    c.metrics_address.clear();
    c.leader_elect = true;
    c.leader_election.ns = "ci";
    c.leader_election.name = "netrig-operator";
    c.leader_election.identity = identity;
    c.leader_election.lease_duration = absl::Seconds(2);
    c.leader_election.renew_deadline = absl::Seconds(1);
    c.leader_election.retry_period = absl::Milliseconds(20);
    return c;
  };
  RecordingReconciler first_runs(kube::kTestRuns), second_runs(kube::kTestRuns);
  Manager first(&api, config("first"), nullptr);
  first.Add(&first_runs);
  auto running_first = std::make_unique<RunningManager>(first);
  ASSERT_TRUE(WaitUntil([&] { return first_runs.calls("ci/x") >= 1; }));

  Manager second(&api, config("second"), nullptr);
  second.Add(&second_runs);
  RunningManager running_second(second);
  // A standby is ready (it serves health, not work).
  EXPECT_TRUE(WaitUntil([&] { return second.ready(); }));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(second_runs.calls("ci/x"), 0);
  const Json lease = *api.Get(kube::kLeases, "ci", "netrig-operator");
  EXPECT_EQ(lease["spec"]["holderIdentity"], "first");

  // The leader stops (SIGTERM): it releases the lease and the standby takes over at once.
  EXPECT_TRUE(running_first->Finish().ok());
  EXPECT_TRUE(WaitUntil([&] { return second_runs.calls("ci/x") >= 1; }, absl::Seconds(1)));
  EXPECT_EQ((*api.Get(kube::kLeases, "ci", "netrig-operator"))["spec"]["holderIdentity"], "second");
}

TEST(ManagerTest, LosingTheLeaseStopsTheReconcilersAndRunFails) {
  FakeApi api;
  ManagerConfig c = FastConfig();
  c.metrics_address.clear();
  c.leader_elect = true;
  c.leader_election = {.ns = "ci",
                       .name = "op",
                       .identity = "me",
                       .lease_duration = absl::Seconds(10),
                       .renew_deadline = absl::Seconds(5),
                       .retry_period = absl::Milliseconds(20)};
  RecordingReconciler runs(kube::kTestRuns);
  Manager m(&api, c, nullptr);
  m.Add(&runs);
  absl::Status status;
  std::thread t([&] { status = m.Run(); });
  ASSERT_TRUE(WaitUntil([&] { return api.Get(kube::kLeases, "ci", "op").ok() && m.ready(); }));
  // Another candidate takes the lease over (as after a partition).
  Json lease = *api.Get(kube::kLeases, "ci", "op");
  lease["spec"]["holderIdentity"] = "someone-else";
  lease["spec"]["renewTime"] = "2099-01-01T00:00:00.000000Z";
  ASSERT_TRUE(api.Replace(kube::kLeases, "ci", "op", lease).ok());
  t.join();
  EXPECT_TRUE(absl::IsAborted(status)) << status;
}

}  // namespace
}  // namespace netrig::op
