// AgentPoolReconciler against an in-memory API: create, then no write while nothing changes;
// update on spec changes and manual scaling but not on other controllers' defaults; mode
// switches; conflicts; invalid pools; status; elastic scaling with the scale-down delay.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "operator/agentpool/agent_pool_reconciler.h"
#include "tests/unit/operator/fake_api.h"

namespace netrig::op {
namespace {

using kube::Json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kNs[] = "lab";
constexpr char kPool[] = "west";
constexpr char kWorkload[] = "netrig-agent-west";

class AgentPoolReconcilerTest : public ::testing::Test {
 protected:
  AgentPoolReconcilerTest() {
    defaults_.image = "registry.example/netrig-agent:0.1.0";
    defaults_.controller_address = "netrig-controller:7400";
    options_.now = [this] { return now_; };
    api_.Put(kube::kAgentPools, Json::parse(R"({
      "apiVersion": "netrig.io/v1alpha1", "kind": "AgentPool",
      "metadata": {"name": "west", "namespace": "lab"},
      "spec": {"sriovResource": "intel.com/sriov_netdevice", "hugepages": "1Gi"}})"));
  }

  AgentPoolReconciler Reconciler() {
    return AgentPoolReconciler(
        &api_, defaults_,
        [this](const std::string& ns, const std::string& pool) -> absl::StatusOr<PoolLoad> {
          EXPECT_EQ(ns, kNs);
          EXPECT_EQ(pool, kPool);
          if (!load_.ok()) return load_.status();
          return *load_;
        },
        options_);
  }

  // Edits the pool's spec the way kubectl apply would (generation + 1).
  void EditSpec(const Json& patch) {
    Json pool = api_.Object(kube::kAgentPools, kNs, kPool);
    pool["spec"].merge_patch(patch);
    pool["metadata"]["generation"] = pool["metadata"]["generation"].get<int>() + 1;
    api_.Put(kube::kAgentPools, pool);
  }

  Json Pool() { return api_.Object(kube::kAgentPools, kNs, kPool); }
  Json Deployment() { return api_.Object(kube::kDeployments, kNs, kWorkload); }
  Json Ready() {
    const Json pool = Pool();
    for (const Json& c : pool["status"]["conditions"]) {
      if (c["type"] == "Ready") return c;
    }
    return Json();
  }

  testing::FakeApi api_;
  AgentPoolDefaults defaults_;
  AgentPoolOptions options_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  absl::StatusOr<PoolLoad> load_ = PoolLoad{};
};

TEST_F(AgentPoolReconcilerTest, CreatesTheDeploymentThenWritesNothing) {
  AgentPoolReconciler r = Reconciler();
  load_ = PoolLoad{0, 1, 1};
  absl::StatusOr<ReconcileResult> result = r.Reconcile(kNs, kPool);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requeue_after, absl::ZeroDuration());
  EXPECT_THAT(api_.writes(), ElementsAre("create deployments lab/netrig-agent-west",
                                         "patch-status agentpools lab/west"));
  const Json d = Deployment();
  EXPECT_EQ(d["spec"]["replicas"], 1);
  EXPECT_EQ(d["metadata"]["ownerReferences"][0]["uid"], Pool()["metadata"]["uid"]);
  const Json status = Pool()["status"];
  EXPECT_EQ(status["replicas"], 1);
  EXPECT_EQ(status["readyReplicas"], 0);
  EXPECT_EQ(status["registeredAgents"], 1);
  EXPECT_EQ(status["workload"], "Deployment/netrig-agent-west");
  EXPECT_EQ(status["observedGeneration"], 1);
  EXPECT_EQ(Ready()["status"], "False");
  EXPECT_EQ(Ready()["reason"], "AgentsNotReady");
  EXPECT_EQ(Ready()["observedGeneration"], 1);
  EXPECT_EQ(Ready()["lastTransitionTime"], "2027-01-15T08:00:00Z");

  api_.ClearWrites();
  now_ += absl::Minutes(1);
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_THAT(api_.writes(), IsEmpty()) << "level-triggered: nothing changed, nothing written";
}

TEST_F(AgentPoolReconcilerTest, ReadyWhenTheDeploymentsPodsAreReady) {
  AgentPoolReconciler r = Reconciler();
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  api_.SetStatus(kube::kDeployments, kNs, kWorkload, {{"replicas", 1}, {"readyReplicas", 1}});
  api_.ClearWrites();
  now_ += absl::Minutes(1);
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_THAT(api_.writes(), ElementsAre("patch-status agentpools lab/west"));
  EXPECT_EQ(Pool()["status"]["readyReplicas"], 1);
  EXPECT_EQ(Ready()["status"], "True");
  EXPECT_EQ(Ready()["reason"], "AgentsReady");
  EXPECT_EQ(Ready()["lastTransitionTime"], "2027-01-15T08:01:00Z");
}

TEST_F(AgentPoolReconcilerTest, UpdatesOnSpecChangeButNotOnOtherControllersDefaults) {
  AgentPoolReconciler r = Reconciler();
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  // The API server and the deployment controller default fields and write status.
  Json d = Deployment();
  d["spec"]["progressDeadlineSeconds"] = 600;
  d["spec"]["template"]["spec"]["restartPolicy"] = "Always";
  d["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] = "/dev/termination-log";
  d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "1";
  api_.Put(kube::kDeployments, d);
  api_.ClearWrites();
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_THAT(api_.writes(), IsEmpty());

  EditSpec({{"cpu", 4}});
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_THAT(api_.writes(), ElementsAre("replace deployments lab/netrig-agent-west",
                                         "patch-status agentpools lab/west"));
  const Json updated = Deployment();
  EXPECT_EQ(updated["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"],
            "4");
  EXPECT_EQ(updated["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1")
      << "annotations of others are kept";
  EXPECT_EQ(Pool()["status"]["observedGeneration"], 2);
}

TEST_F(AgentPoolReconcilerTest, ManualScalingIsReverted) {
  AgentPoolReconciler r = Reconciler();
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  Json d = Deployment();
  d["spec"]["replicas"] = 5;
  api_.Put(kube::kDeployments, d);
  api_.ClearWrites();
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_THAT(api_.writes(), ElementsAre("replace deployments lab/netrig-agent-west"));
  EXPECT_EQ(Deployment()["spec"]["replicas"], 1);
}

TEST_F(AgentPoolReconcilerTest, ModeChangeReplacesTheDeploymentWithADaemonSet) {
  AgentPoolReconciler r = Reconciler();
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EditSpec({{"mode", "DaemonSet"}});
  api_.ClearWrites();
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_THAT(api_.writes(), ElementsAre("delete deployments lab/netrig-agent-west",
                                         "create daemonsets lab/netrig-agent-west",
                                         "patch-status agentpools lab/west"));
  EXPECT_TRUE(Deployment().is_null());
  EXPECT_EQ(Pool()["status"]["workload"], "DaemonSet/netrig-agent-west");
  EXPECT_EQ(Ready()["message"], "waiting for the DaemonSet controller");

  // The DaemonSet controller reports: two nodes selected, both agents ready.
  api_.SetStatus(kube::kDaemonSets, kNs, kWorkload,
                 {{"observedGeneration", 1}, {"desiredNumberScheduled", 2}, {"numberReady", 2}});
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_EQ(Pool()["status"]["replicas"], 2);
  EXPECT_EQ(Ready()["reason"], "AgentsReady");
  api_.SetStatus(kube::kDaemonSets, kNs, kWorkload,
                 {{"observedGeneration", 1}, {"desiredNumberScheduled", 0}, {"numberReady", 0}});
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_EQ(Ready()["reason"], "NoNodes");

  EditSpec({{"mode", "Deployment"}});
  api_.ClearWrites();
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_THAT(api_.writes(), ElementsAre("delete daemonsets lab/netrig-agent-west",
                                         "create deployments lab/netrig-agent-west",
                                         "patch-status agentpools lab/west"));
}

TEST_F(AgentPoolReconcilerTest, NeverTouchesAWorkloadItDoesNotControl) {
  api_.Put(kube::kDeployments, Json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
      "metadata": {"name": "netrig-agent-west", "namespace": "lab"}, "spec": {"replicas": 3}})"));
  api_.Put(kube::kDaemonSets, Json::parse(R"({"apiVersion": "apps/v1", "kind": "DaemonSet",
      "metadata": {"name": "netrig-agent-west", "namespace": "lab"}, "spec": {}})"));
  AgentPoolReconciler r = Reconciler();
  absl::StatusOr<ReconcileResult> result = r.Reconcile(kNs, kPool);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requeue_after, absl::Seconds(30));
  EXPECT_THAT(api_.writes(), ElementsAre("patch-status agentpools lab/west"));
  EXPECT_EQ(Deployment()["spec"]["replicas"], 3);
  EXPECT_EQ(Ready()["reason"], "WorkloadConflict");
  EXPECT_THAT(Ready()["message"].get<std::string>(),
              HasSubstr("Deployment/netrig-agent-west exists and is not controlled"));
}

TEST_F(AgentPoolReconcilerTest, InvalidPoolIsReportedAndTheWorkloadLeftAlone) {
  AgentPoolReconciler r = Reconciler();
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  const Json before = Deployment();
  EditSpec(Json::parse(R"({"cpu": 1, "networks": ["a", "b", "c"]})"));
  api_.ClearWrites();
  absl::StatusOr<ReconcileResult> result = r.Reconcile(kNs, kPool);
  ASSERT_TRUE(result.ok()) << "bad input is not a reconcile error: " << result.status();
  EXPECT_THAT(api_.writes(), ElementsAre("patch-status agentpools lab/west"));
  EXPECT_EQ(Deployment(), before);
  EXPECT_EQ(Ready()["status"], "False");
  EXPECT_EQ(Ready()["reason"], "Invalid");
  EXPECT_EQ(Ready()["observedGeneration"], 2);
  EXPECT_THAT(Ready()["message"].get<std::string>(), HasSubstr("spec.cpu: must be between 2"));
  EXPECT_THAT(Ready()["message"].get<std::string>(), HasSubstr("spec.networks: 3 networks"));
  api_.ClearWrites();
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_THAT(api_.writes(), IsEmpty());
}

TEST_F(AgentPoolReconcilerTest, MissingImageIsInvalidToo) {
  defaults_.image.clear();
  AgentPoolReconciler r = Reconciler();
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_THAT(api_.writes(), ElementsAre("patch-status agentpools lab/west"));
  EXPECT_THAT(Ready()["message"].get<std::string>(), HasSubstr("spec.image: required"));
}

TEST_F(AgentPoolReconcilerTest, GonePoolIsNothingToDo) {
  AgentPoolReconciler r = Reconciler();
  absl::StatusOr<ReconcileResult> result = r.Reconcile(kNs, "other");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(api_.writes(), IsEmpty());
}

TEST_F(AgentPoolReconcilerTest, ElasticPoolFollowsTheQueueWithAScaleDownDelay) {
  EditSpec(Json::parse(R"({"scaling": {"minReplicas": 0, "maxReplicas": 4}})"));
  AgentPoolReconciler r = Reconciler();
  load_ = PoolLoad{3, 0, 0};
  absl::StatusOr<ReconcileResult> result = r.Reconcile(kNs, kPool);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requeue_after, absl::Seconds(10));
  EXPECT_EQ(Deployment()["spec"]["replicas"], 3);

  load_ = PoolLoad{9, 3, 3};
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_EQ(Deployment()["spec"]["replicas"], 4) << "clamped to maxReplicas";
  EXPECT_EQ(Pool()["status"]["registeredAgents"], 3);

  // The queue empties: the pool keeps its agents for the scale-down delay (5 min).
  load_ = PoolLoad{0, 4, 4};
  api_.ClearWrites();
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  now_ += absl::Minutes(4);
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_EQ(Deployment()["spec"]["replicas"], 4);
  EXPECT_THAT(api_.writes(), ElementsAre("patch-status agentpools lab/west"));  // registered 4
  now_ += absl::Minutes(1);
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_EQ(Deployment()["spec"]["replicas"], 0);
  EXPECT_EQ(Ready()["status"], "True");
  EXPECT_EQ(Ready()["reason"], "ScaledToZero");
}

TEST_F(AgentPoolReconcilerTest, ControllerOutageKeepsTheSizeAndTheLastCounts) {
  EditSpec(Json::parse(R"({"scaling": {"minReplicas": 1, "maxReplicas": 4}})"));
  AgentPoolReconciler r = Reconciler();
  load_ = PoolLoad{2, 2, 2};
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_EQ(Deployment()["spec"]["replicas"], 2);
  load_ = absl::UnavailableError("controller: connection refused");
  now_ += absl::Hours(1);
  api_.ClearWrites();
  absl::StatusOr<ReconcileResult> result = r.Reconcile(kNs, kPool);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requeue_after, absl::Seconds(10));
  EXPECT_EQ(Deployment()["spec"]["replicas"], 2);
  EXPECT_EQ(Pool()["status"]["registeredAgents"], 2);
  EXPECT_THAT(api_.writes(), IsEmpty());
}

TEST_F(AgentPoolReconcilerTest, WriteErrorsAreReturnedForARetry) {
  AgentPoolReconciler r = Reconciler();
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EditSpec({{"cpu", 4}});
  api_.FailNext("replace", absl::AbortedError("the object has been modified"));
  api_.ClearWrites();
  absl::StatusOr<ReconcileResult> result = r.Reconcile(kNs, kPool);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(api_.writes(), IsEmpty()) << "no status written from a half-done reconcile";
  ASSERT_TRUE(r.Reconcile(kNs, kPool).ok());
  EXPECT_THAT(api_.writes(), ElementsAre("replace deployments lab/netrig-agent-west",
                                         "patch-status agentpools lab/west"));
}

}  // namespace
}  // namespace netrig::op
