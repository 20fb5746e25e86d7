// RenderAgentWorkload: the pod spec an AgentPool becomes (SR-IOV, hugepages, pinned CPUs,
// Multus, probes, agent arguments), the Deployment / DaemonSet forms, the defaults, and the
// field errors of invalid pools. Also the scaling arithmetic (ScaledReplicas, ScaleDownDelay).
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "operator/agentpool/agent_pool_reconciler.h"

namespace netrig::op {
namespace {

using kube::Json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

AgentPoolDefaults Defaults() {
  AgentPoolDefaults d;
  d.image = "registry.example/netrig-agent:0.1.0";
  d.controller_address = "netrig-controller.netrig:7400";
  d.service_account = "netrig-agent";
  return d;
}

// An SR-IOV pool with every pod-level field set.
Json SriovPool() {
  return Json::parse(R"({
    "apiVersion": "netrig.io/v1alpha1", "kind": "AgentPool",
    "metadata": {"name": "west", "namespace": "lab", "uid": "pool-uid", "generation": 3,
                 "resourceVersion": "17", "managedFields": [{"manager": "kubectl"}]},
    "spec": {
      "sriovResource": "intel.com/sriov_netdevice",
      "hugepages": "2Gi",
      "cpu": 4,
      "memory": "2Gi",
      "portNames": ["west", "east"],
      "networks": ["sriov-west", "sriov-east"],
      "nodeSelector": {"netrig.io/agent": "true"},
      "labels": {"rack": "r1", "nic": "e810"},
      "serviceAccount": "custom-sa",
      "priorityClass": "netrig-agents",
      "extraArgs": ["--poll", "busy"]
    },
    "status": {"replicas": 7}
  })");
}

const Json& Container(const Json& workload) {
  return workload["spec"]["template"]["spec"]["containers"][0];
}

std::vector<std::string> Args(const Json& workload) {
  return Container(workload)["args"].get<std::vector<std::string>>();
}

TEST(AgentPoolWorkloadTest, SriovPoolGetsVfsHugepagesPinnedCpusAndMultus) {
  absl::StatusOr<Json> w = RenderAgentWorkload(SriovPool(), Defaults(), 2);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ((*w)["apiVersion"], "apps/v1");
  EXPECT_EQ((*w)["kind"], "Deployment");
  EXPECT_EQ((*w)["metadata"]["name"], "netrig-agent-west");
  EXPECT_EQ((*w)["metadata"]["namespace"], "lab");
  EXPECT_EQ((*w)["spec"]["replicas"], 2);

  const Json& c = Container(*w);
  EXPECT_EQ(c["name"], "agent");
  EXPECT_EQ(c["image"], "registry.example/netrig-agent:0.1.0");
  EXPECT_EQ(c["command"], Json({"netrig-agent"}));
  EXPECT_THAT(
      Args(*w),
      ElementsAre("serve", "--controller", "netrig-controller.netrig:7400", "--id", "$(POD_NAME)",
                  "--label", "pool=west", "--label", "nic=e810", "--label", "rack=r1",
                  "--sriov-resource", "intel.com/sriov_netdevice", "--port-names", "west,east",
                  "--lcores", "auto", "--workers", "3", "--no-huge", "no", "--mem", "2048",
                  "--metrics-address", "0.0.0.0:9465", "--poll", "busy"));
  EXPECT_EQ(c["env"][0], Json::parse(R"({"name": "POD_NAME",
      "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})"));

  // Guaranteed QoS: requests == limits, whole CPUs; one VF per port; hugepages of 1 GiB pages.
  const Json expected_resources = Json::parse(R"({"cpu": "4", "memory": "2Gi",
      "hugepages-1Gi": "2Gi", "intel.com/sriov_netdevice": "2"})");
  EXPECT_EQ(c["resources"]["requests"], expected_resources);
  EXPECT_EQ(c["resources"]["limits"], expected_resources);
  EXPECT_EQ(c["volumeMounts"],
            Json::parse(R"([{"name": "hugepages", "mountPath": "/dev/hugepages"}])"));
  const Json& pod = (*w)["spec"]["template"]["spec"];
  EXPECT_EQ(pod["volumes"],
            Json::parse(R"([{"name": "hugepages", "emptyDir": {"medium": "HugePages-1Gi"}}])"));

  EXPECT_EQ(c["securityContext"], Json::parse(R"({"privileged": false,
      "capabilities": {"add": ["IPC_LOCK", "NET_ADMIN", "NET_RAW"]}})"));
  EXPECT_EQ(c["readinessProbe"]["httpGet"],
            Json::parse(R"({"path": "/readyz", "port": "metrics"})"));
  EXPECT_EQ(c["livenessProbe"]["httpGet"],
            Json::parse(R"({"path": "/healthz", "port": "metrics"})"));
  EXPECT_EQ(c["ports"], Json::parse(R"([{"name": "metrics", "containerPort": 9465,
      "protocol": "TCP"}])"));

  const Json& meta = (*w)["spec"]["template"]["metadata"];
  EXPECT_EQ(meta["annotations"]["k8s.v1.cni.cncf.io/networks"], "sriov-west,sriov-east");
  EXPECT_EQ(meta["annotations"]["prometheus.io/scrape"], "true");
  EXPECT_EQ(meta["annotations"]["prometheus.io/port"], "9465");
  EXPECT_EQ(meta["labels"], Json::parse(R"({"app.kubernetes.io/name": "netrig-agent",
      "netrig.io/pool": "west"})"));
  EXPECT_EQ((*w)["spec"]["selector"]["matchLabels"], meta["labels"]);
  EXPECT_EQ(pod["nodeSelector"], Json::parse(R"({"netrig.io/agent": "true"})"));
  EXPECT_EQ(pod["serviceAccountName"], "custom-sa");
  EXPECT_EQ(pod["priorityClassName"], "netrig-agents");
  EXPECT_EQ((*w)["metadata"]["ownerReferences"], Json::parse(R"([{
      "apiVersion": "netrig.io/v1alpha1", "kind": "AgentPool", "name": "west",
      "uid": "pool-uid", "controller": true, "blockOwnerDeletion": true}])"));
  EXPECT_EQ((*w)["metadata"]["labels"]["netrig.io/pool"], "west");
  EXPECT_EQ((*w)["metadata"]["annotations"][kSpecHashAnnotation], WorkloadHash(*w));
  // Rolling updates replace one agent at a time without a surge pod.
  EXPECT_EQ((*w)["spec"]["strategy"]["rollingUpdate"],
            Json::parse(R"({"maxSurge": 0, "maxUnavailable": 1})"));
  // agentsPerNode defaults to 1: never two agents of the pool on one node.
  EXPECT_EQ(pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
               ["topologyKey"],
            "kubernetes.io/hostname");
}

TEST(AgentPoolWorkloadTest, DefaultsFillWhatThePoolLeavesOut) {
  Json pool = SriovPool();
  pool["spec"] = Json::parse(R"({"sriovResource": "intel.com/sriov_netdevice"})");
  absl::StatusOr<Json> w = RenderAgentWorkload(pool, Defaults(), -1);
  ASSERT_TRUE(w.ok()) << w.status();
  const Json& c = Container(*w);
  const Json& pod = (*w)["spec"]["template"]["spec"];
  EXPECT_EQ((*w)["spec"]["replicas"], 1);
  EXPECT_EQ(c["image"], Defaults().image);
  EXPECT_EQ(c["imagePullPolicy"], "IfNotPresent");
  EXPECT_EQ(pod["serviceAccountName"], "netrig-agent");
  EXPECT_FALSE(pod.contains("priorityClassName"));
  EXPECT_FALSE(pod.contains("nodeSelector"));
  EXPECT_FALSE(pod.contains("volumes"));
  EXPECT_FALSE(c.contains("volumeMounts"));
  EXPECT_FALSE(
      (*w)["spec"]["template"]["metadata"]["annotations"].contains("k8s.v1.cni.cncf.io/networks"));
  EXPECT_EQ(c["resources"]["limits"], Json::parse(R"({"cpu": "2", "memory": "1Gi",
      "intel.com/sriov_netdevice": "2"})"));
  // No hugepages: DPDK runs with --no-huge on half the container's memory.
  EXPECT_THAT(Args(*w), ElementsAre("serve", "--controller", "netrig-controller.netrig:7400",
                                    "--id", "$(POD_NAME)", "--label", "pool=west",
                                    "--sriov-resource", "intel.com/sriov_netdevice", "--port-names",
                                    "p0,p1", "--lcores", "auto", "--workers", "1", "--no-huge",
                                    "yes", "--mem", "512", "--metrics-address", "0.0.0.0:9465"));
}

TEST(AgentPoolWorkloadTest, ScalingPoolsStartAtTheirMinimumAndReplicasArgumentWins) {
  Json pool = SriovPool();
  pool["spec"]["scaling"] = {{"minReplicas", 2}, {"maxReplicas", 5}};
  EXPECT_EQ((*RenderAgentWorkload(pool, Defaults(), -1))["spec"]["replicas"], 2);
  EXPECT_EQ((*RenderAgentWorkload(pool, Defaults(), 4))["spec"]["replicas"], 4);
  pool["spec"].erase("scaling");
  pool["spec"]["replicas"] = 3;
  EXPECT_EQ((*RenderAgentWorkload(pool, Defaults(), -1))["spec"]["replicas"], 3);
}

TEST(AgentPoolWorkloadTest, TwoMegabytePagesAndSriovCount) {
  Json pool = SriovPool();
  pool["spec"]["hugepageSize"] = "2Mi";
  pool["spec"]["hugepages"] = "512Mi";
  pool["spec"]["sriovCount"] = 4;
  absl::StatusOr<Json> w = RenderAgentWorkload(pool, Defaults(), 1);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(Container(*w)["resources"]["limits"]["hugepages-2Mi"], "512Mi");
  EXPECT_FALSE(Container(*w)["resources"]["limits"].contains("hugepages-1Gi"));
  EXPECT_EQ(Container(*w)["resources"]["limits"]["intel.com/sriov_netdevice"], "4");
  EXPECT_EQ((*w)["spec"]["template"]["spec"]["volumes"][0]["emptyDir"]["medium"], "HugePages-2Mi");
  EXPECT_THAT(Args(*w), ::testing::Contains("512"));
}

TEST(AgentPoolWorkloadTest, DaemonSetModeRunsOneAgentPerSelectedNode) {
  Json pool = SriovPool();
  pool["spec"]["mode"] = "DaemonSet";
  absl::StatusOr<Json> w = RenderAgentWorkload(pool, Defaults(), 5);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ((*w)["kind"], "DaemonSet");
  EXPECT_EQ((*w)["metadata"]["name"], "netrig-agent-west");
  EXPECT_FALSE((*w)["spec"].contains("replicas"));
  EXPECT_FALSE((*w)["spec"].contains("strategy"));
  EXPECT_EQ((*w)["spec"]["updateStrategy"]["type"], "RollingUpdate");
  const Json& pod = (*w)["spec"]["template"]["spec"];
  EXPECT_FALSE(pod.contains("affinity")) << "a DaemonSet places one pod per node by itself";
  EXPECT_EQ(pod["nodeSelector"], Json::parse(R"({"netrig.io/agent": "true"})"));
  // The same pod as in Deployment mode.
  Json deployment_pool = SriovPool();
  absl::StatusOr<Json> d = RenderAgentWorkload(deployment_pool, Defaults(), 1);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(Container(*w), Container(*d));
}

TEST(AgentPoolWorkloadTest, AgentsPerNodeAboveOneLiftsTheAntiAffinity) {
  Json pool = SriovPool();
  pool["spec"]["agentsPerNode"] = 2;
  absl::StatusOr<Json> w = RenderAgentWorkload(pool, Defaults(), 2);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_FALSE((*w)["spec"]["template"]["spec"].contains("affinity"));
}

TEST(AgentPoolWorkloadTest, PoolImageAndNoSriovPortsFromExtraArgs) {
  Json pool = SriovPool();
  pool["spec"] = Json::parse(R"({"image": "lab/agent:dev",
      "extraArgs": ["--port", "name=p0,pmd=net_af_packet,iface=eth0"]})");
  absl::StatusOr<Json> w = RenderAgentWorkload(pool, Defaults(), 1);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(Container(*w)["image"], "lab/agent:dev");
  EXPECT_THAT(Args(*w), ::testing::Not(::testing::Contains("--sriov-resource")));
  EXPECT_EQ(Args(*w).back(), "name=p0,pmd=net_af_packet,iface=eth0");
  EXPECT_EQ(Container(*w)["resources"]["limits"], Json::parse(R"({"cpu": "2", "memory": "1Gi"})"));
}

struct InvalidCase {
  const char* name;
  const char* spec_patch;  // merged into SriovPool()'s spec
  const char* error;       // one line of the InvalidArgument message
};

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

class AgentPoolInvalidTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(AgentPoolInvalidTest, NamesTheField) {
  Json pool = SriovPool();
  pool["spec"].merge_patch(Json::parse(GetParam().spec_patch));
  absl::StatusOr<Json> w = RenderAgentWorkload(pool, Defaults(), 1);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(w.status().message()), HasSubstr(GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(
    Rules, AgentPoolInvalidTest,
    ::testing::Values(
        InvalidCase{"OneCpu", R"({"cpu": 1})", "spec.cpu: must be between 2 and 256 whole CPUs"},
        InvalidCase{"FractionalCpu", R"({"cpu": 2.5})",
                    "spec.cpu: expected a non-negative integer, got \"2.5\""},
        InvalidCase{"Mode", R"({"mode": "Daemonset"})",
                    "spec.mode: unknown mode \"Daemonset\" (did you mean DaemonSet?)"},
        InvalidCase{"ScalingBounds", R"({"scaling": {"minReplicas": 3, "maxReplicas": 2}})",
                    "spec.scaling.minReplicas: 3 is above maxReplicas 2"},
        InvalidCase{"TooFewVfs", R"({"sriovCount": 1})",
                    "spec.sriovCount: 1 VFs for 2 ports (spec.portNames)"},
        InvalidCase{"NetworksPerPort", R"({"networks": ["sriov-west"]})",
                    "spec.networks: 1 networks for 2 ports"},
        InvalidCase{"ReservedLabel", R"({"labels": {"pool": "x"}})", "spec.labels.pool: reserved"},
        InvalidCase{"ManagedFlag", R"({"extraArgs": ["--lcores=0,1"]})",
                    "spec.extraArgs[0]: --lcores is set by the operator"},
        InvalidCase{"PageMultiple", R"({"hugepageSize": "2Mi", "hugepages": "3Mi"})",
                    "spec.hugepages: 3Mi is not a whole number of 2 MiB hugepages"},
        InvalidCase{"Memory", R"({"memory": "100Mi"})", "spec.memory: 100Mi is below the 256Mi"},
        InvalidCase{"UnknownField", R"({"cpus_per_agent": 4})",
                    "spec.cpus_per_agent: unknown field"}),
    [](const ::testing::TestParamInfo<InvalidCase>& info) { return info.param.name; });

TEST(AgentPoolWorkloadTest, ImageIsRequiredWithoutADefault) {
  AgentPoolDefaults d = Defaults();
  d.image.clear();
  absl::StatusOr<Json> w = RenderAgentWorkload(SriovPool(), d, 1);
  ASSERT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("spec.image: required"));
  d.image = "x";
  d.controller_address.clear();
  EXPECT_EQ(RenderAgentWorkload(SriovPool(), d, 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(AgentPoolWorkloadTest, LongPoolNamesCannotBeLabelValues) {
  Json pool = SriovPool();
  pool["metadata"]["name"] = std::string(64, 'a');
  absl::StatusOr<Json> w = RenderAgentWorkload(pool, Defaults(), 1);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("metadata.name: at most 63"));
}

TEST(AgentPoolWorkloadTest, HashFollowsTheRenderedSpecOnly) {
  const Json a = *RenderAgentWorkload(SriovPool(), Defaults(), 1);
  const Json b = *RenderAgentWorkload(SriovPool(), Defaults(), 1);
  EXPECT_EQ(a, b) << "rendering is deterministic";
  Json status_only = SriovPool();
  status_only["status"] = {{"readyReplicas", 1}};
  status_only["metadata"]["resourceVersion"] = "99";
  EXPECT_EQ(*RenderAgentWorkload(status_only, Defaults(), 1), a);
  Json changed = SriovPool();
  changed["spec"]["memory"] = "4Gi";
  EXPECT_NE((*RenderAgentWorkload(changed, Defaults(),
                                  1))["metadata"]["annotations"][kSpecHashAnnotation],
            a["metadata"]["annotations"][kSpecHashAnnotation]);
  EXPECT_NE((*RenderAgentWorkload(SriovPool(), Defaults(),
                                  2))["metadata"]["annotations"][kSpecHashAnnotation],
            a["metadata"]["annotations"][kSpecHashAnnotation]);
}

TEST(AgentPoolFromObjectTest, ServerFieldsAreIgnoredAndErrorsHavePaths) {
  v1::AgentPool pool;
  EXPECT_THAT(AgentPoolFromObject(SriovPool(), &pool), IsEmpty());
  EXPECT_EQ(pool.metadata().name(), "west");
  EXPECT_EQ(pool.spec().cpu(), 4u);
  Json bad = SriovPool();
  bad.erase("spec");
  std::vector<spec::FieldError> errors = AgentPoolFromObject(bad, &pool);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(), "spec: required");
}

// ---------------------------------------------------------------- scaling

v1::AgentPoolScaling Scaling(uint32_t min, uint32_t max, int per_agent = -1) {
  v1::AgentPoolScaling s;
  s.set_min_replicas(min);
  s.set_max_replicas(max);
  if (per_agent >= 0) s.set_queued_runs_per_agent(static_cast<uint32_t>(per_agent));
  return s;
}

TEST(ScaledReplicasTest, OneAgentPerQueuedRunClampedToTheBounds) {
  EXPECT_EQ(ScaledReplicas(Scaling(0, 4), 0), 0);
  EXPECT_EQ(ScaledReplicas(Scaling(0, 4), 3), 3);
  EXPECT_EQ(ScaledReplicas(Scaling(0, 4), 9), 4);
  EXPECT_EQ(ScaledReplicas(Scaling(2, 4), 0), 2);
  EXPECT_EQ(ScaledReplicas(Scaling(2, 4), -5), 2);
}

TEST(ScaledReplicasTest, QueuedRunsPerAgentRoundsUp) {
  EXPECT_EQ(ScaledReplicas(Scaling(0, 10, 4), 1), 1);
  EXPECT_EQ(ScaledReplicas(Scaling(0, 10, 4), 4), 1);
  EXPECT_EQ(ScaledReplicas(Scaling(0, 10, 4), 5), 2);
  EXPECT_EQ(ScaledReplicas(Scaling(0, 10, 4), 100), 10);
  EXPECT_EQ(ScaledReplicas(Scaling(1, 10, 0), 3), 3) << "0 per agent is treated as 1";
}

TEST(ScaleDownDelayTest, UpAtOnceDownOnlyAfterTheDelay) {
  const absl::Time t0 = absl::FromUnixSeconds(1'000'000);
  ScaleDownDelay d(absl::Minutes(5));
  EXPECT_EQ(d.Next(-1, 2, t0), 2) << "no workload yet: the target";
  EXPECT_EQ(d.Next(2, 4, t0), 4) << "up at once";
  EXPECT_EQ(d.Next(4, 0, t0), 4);
  EXPECT_EQ(d.waiting_since(), t0);
  EXPECT_EQ(d.Next(4, 0, t0 + absl::Minutes(4)), 4);
  EXPECT_EQ(d.Next(4, 0, t0 + absl::Minutes(5)), 0);
  EXPECT_EQ(d.waiting_since(), absl::InfinitePast());
}

TEST(ScaleDownDelayTest, AQueueThatRefillsRestartsTheWindow) {
  const absl::Time t0 = absl::FromUnixSeconds(1'000'000);
  ScaleDownDelay d(absl::Minutes(5));
  EXPECT_EQ(d.Next(3, 0, t0), 3);
  EXPECT_EQ(d.Next(3, 3, t0 + absl::Minutes(3)), 3) << "back at the current count";
  EXPECT_EQ(d.Next(3, 0, t0 + absl::Minutes(6)), 3) << "a new window starts";
  EXPECT_EQ(d.Next(3, 0, t0 + absl::Minutes(10)), 3);
  EXPECT_EQ(d.Next(3, 0, t0 + absl::Minutes(11)), 0);
}

TEST(ScaleDownDelayTest, ScalesDownToTheHighestTargetOfTheWindow) {
  const absl::Time t0 = absl::FromUnixSeconds(1'000'000);
  ScaleDownDelay d(absl::Minutes(5));
  EXPECT_EQ(d.Next(4, 0, t0), 4);
  EXPECT_EQ(d.Next(4, 2, t0 + absl::Minutes(2)), 4);
  EXPECT_EQ(d.Next(4, 0, t0 + absl::Minutes(5)), 2);
  EXPECT_EQ(d.Next(2, 0, t0 + absl::Minutes(5)), 2) << "the next step waits again";
  EXPECT_EQ(d.Next(2, 0, t0 + absl::Minutes(10)), 0);
}

}  // namespace
}  // namespace netrig::op
