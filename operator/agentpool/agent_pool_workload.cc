#include "operator/agentpool/agent_pool_workload.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/common/stable_hash.h"
#include "lib/spec/testrun.h"
#include "lib/spec/units.h"

namespace netrig::op {
namespace {

using kube::Json;

// AgentPoolSpec defaults (proto/netrig/v1/testrun.proto).
constexpr uint32_t kDefaultCpu = 2;
constexpr char kDefaultMemory[] = "1Gi";
constexpr char kDefaultHugepageSize[] = "1Gi";
constexpr int kDefaultReplicas = 1;
constexpr size_t kMaxLabelValue = 63;
// Without hugepages the agent's DPDK memory comes out of the container's memory: half of it,
// leaving the rest to the agent itself (gRPC, flow tables, histograms).
constexpr uint64_t kMinNoHugeMemMb = 64;

std::string Str(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

std::vector<std::string> PortNames(const v1::AgentPoolSpec& spec) {
  if (spec.port_names().empty()) return {"p0", "p1"};
  return {spec.port_names().begin(), spec.port_names().end()};
}

// The agent's command line: docs/agent.md "Serving a controller" for each flag.
std::vector<std::string> AgentArgs(const std::string& pool, const v1::AgentPoolSpec& spec,
                                   const AgentPoolDefaults& d, uint32_t cpu) {
  std::vector<std::string> args = {"serve", "--controller", d.controller_address, "--id",
                                   "$(POD_NAME)"};
  args.insert(args.end(), {"--label", absl::StrCat("pool=", pool)});
  // Sorted, so the rendered object (and its hash) does not depend on map order.
  const std::map<std::string, std::string> labels(spec.labels().begin(), spec.labels().end());
  for (const auto& [k, v] : labels) {
    args.push_back("--label");
    args.push_back(absl::StrCat(k, "=", v));
  }
  if (!spec.sriov_resource().empty()) {
    args.insert(args.end(), {"--sriov-resource", spec.sriov_resource(), "--port-names",
                             absl::StrJoin(PortNames(spec), ",")});
  }
  // The static CPU manager pins `cpu` exclusive cores: the first is the main lcore, the others
  // run workers.
  args.insert(args.end(), {"--lcores", "auto", "--workers", absl::StrCat(cpu - 1)});
  if (!spec.hugepages().empty()) {
    const uint64_t bytes = spec::ParseByteQuantity(spec.hugepages()).value_or(0);
    args.insert(args.end(), {"--no-huge", "no", "--mem", absl::StrCat(bytes >> 20)});
  } else {
    const std::string memory = spec.memory().empty() ? kDefaultMemory : spec.memory();
    const uint64_t mb = spec::ParseByteQuantity(memory).value_or(0) >> 20;
    args.insert(args.end(),
                {"--no-huge", "yes", "--mem", absl::StrCat(std::max(kMinNoHugeMemMb, mb / 2))});
  }
  args.insert(args.end(), {"--metrics-address", absl::StrCat("0.0.0.0:", kAgentMetricsPort)});
  args.insert(args.end(), spec.extra_args().begin(), spec.extra_args().end());
  return args;
}

Json HttpProbe(const char* path, int period_seconds, int failure_threshold) {
  return Json{{"httpGet", {{"path", path}, {"port", "metrics"}}},
              {"periodSeconds", period_seconds},
              {"failureThreshold", failure_threshold}};
}

Json AgentContainer(const std::string& pool, const v1::AgentPoolSpec& spec,
                    const AgentPoolDefaults& d, const std::string& image) {
  const uint32_t cpu = spec.has_cpu() ? spec.cpu() : kDefaultCpu;
  // Guaranteed QoS: every resource has requests == limits, and cpu is a whole number.
  Json resources = {{"cpu", absl::StrCat(cpu)},
                    {"memory", spec.memory().empty() ? kDefaultMemory : spec.memory()}};
  const std::string page_size =
      spec.hugepage_size().empty() ? kDefaultHugepageSize : spec.hugepage_size();
  if (!spec.hugepages().empty()) {
    resources[absl::StrCat("hugepages-", page_size)] = spec.hugepages();
  }
  if (!spec.sriov_resource().empty()) {
    const uint32_t vfs =
        spec.has_sriov_count() ? spec.sriov_count() : static_cast<uint32_t>(PortNames(spec).size());
    resources[spec.sriov_resource()] = absl::StrCat(vfs);
  }
  Json c = {
      {"name", "agent"},
      {"image", image},
      {"imagePullPolicy", d.image_pull_policy},
      {"command", {kAgentName}},
      {"args", AgentArgs(pool, spec, d, cpu)},
      {"env",
       {{{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}}}},
      {"ports", {{{"name", "metrics"}, {"containerPort", kAgentMetricsPort}, {"protocol", "TCP"}}}},
      {"resources", {{"requests", resources}, {"limits", resources}}},
      // DPDK needs to lock its memory and the agent configures its VFs; nothing more.
      {"securityContext",
       {{"privileged", false}, {"capabilities", {{"add", {"IPC_LOCK", "NET_ADMIN", "NET_RAW"}}}}}},
      // /healthz answers as soon as the agent has opened its ports (EAL init can take a while on
      // hugepages: the startup probe allows two minutes); /readyz only while the agent is
      // registered with the controller.
      {"startupProbe", HttpProbe("/healthz", 2, 60)},
      {"livenessProbe", HttpProbe("/healthz", 10, 3)},
      {"readinessProbe", HttpProbe("/readyz", 5, 2)},
  };
  if (!spec.hugepages().empty()) {
    c["volumeMounts"] = {{{"name", "hugepages"}, {"mountPath", "/dev/hugepages"}}};
  }
  return c;
}

std::string NetworksAnnotation(const v1::AgentPoolSpec& spec) {
  return absl::StrJoin(spec.networks(), ",");
}

}  // namespace

std::string AgentWorkloadName(const std::string& pool_name) {
  return absl::StrCat(kAgentName, "-", pool_name);
}

int DefaultReplicas(const v1::AgentPoolSpec& spec) {
  if (spec.has_scaling()) return static_cast<int>(spec.scaling().min_replicas());
  return spec.has_replicas() ? static_cast<int>(spec.replicas()) : kDefaultReplicas;
}

std::vector<spec::FieldError> AgentPoolFromObject(const Json& object, v1::AgentPool* pool) {
  if (!object.is_object()) {
    return {spec::FieldError{"", "expected an AgentPool object"}};
  }
  // Only what the schema defines: the server adds uid, managedFields, status...
  Json doc = Json::object();
  for (const char* key : {"apiVersion", "kind", "spec"}) {
    if (auto it = object.find(key); it != object.end()) doc[key] = *it;
  }
  Json meta = Json::object();
  if (auto m = object.find("metadata"); m != object.end() && m->is_object()) {
    for (const char* key : {"name", "namespace"}) {
      if (auto it = m->find(key); it != m->end()) meta[key] = *it;
    }
  }
  doc["metadata"] = meta;
  spec::Parsed<v1::AgentPool> parsed = spec::ParseAgentPool(doc.dump());
  *pool = std::move(parsed.object);
  return std::move(parsed.errors);
}

std::string WorkloadHash(const Json& workload) {
  Json meta = workload.value("metadata", Json::object());
  Json annotations = meta.value("annotations", Json::object());
  annotations.erase(kSpecHashAnnotation);
  const Json hashed = {{"labels", meta.value("labels", Json::object())},
                       {"annotations", annotations},
                       {"spec", workload.value("spec", Json::object())}};
  return common::HashHex(hashed.dump());
}

absl::StatusOr<Json> RenderAgentWorkload(const Json& pool, const AgentPoolDefaults& d,
                                         int replicas) {
  v1::AgentPool parsed;
  std::vector<spec::FieldError> errors = AgentPoolFromObject(pool, &parsed);
  const v1::AgentPoolSpec& spec = parsed.spec();
  const std::string& name = parsed.metadata().name();
  if (name.size() > kMaxLabelValue) {
    errors.push_back({"metadata.name", absl::StrCat("at most ", kMaxLabelValue,
                                                    " characters for an AgentPool (it is the "
                                                    "value of the agents' netrig.io/pool label)")});
  }
  const std::string image = spec.image().empty() ? d.image : spec.image();
  if (image.empty()) {
    errors.push_back({"spec.image", "required: the operator has no default agent image"});
  }
  if (!errors.empty()) return absl::InvalidArgumentError(spec::JoinErrors(errors));
  if (d.controller_address.empty()) {
    return absl::FailedPreconditionError(
        "the operator has no controller address for the agents (AgentPoolDefaults)");
  }
  const bool daemonset = spec.mode() == "DaemonSet";
  const std::string ns = Str(pool.value("metadata", Json::object()), "namespace");

  const Json selector = {{kNameLabel, kAgentName}, {kPoolLabel, name}};
  Json pod_meta = {{"labels", selector},
                   {"annotations",
                    {{"prometheus.io/scrape", "true"},
                     {"prometheus.io/port", absl::StrCat(kAgentMetricsPort)},
                     {"prometheus.io/path", "/metrics"}}}};
  if (!spec.networks().empty()) {
    pod_meta["annotations"][kMultusAnnotation] = NetworksAnnotation(spec);
  }

  Json pod_spec = {{"containers", {AgentContainer(name, spec, d, image)}}};
  const std::string service_account =
      spec.service_account().empty() ? d.service_account : spec.service_account();
  if (!service_account.empty()) pod_spec["serviceAccountName"] = service_account;
  if (!spec.priority_class().empty()) pod_spec["priorityClassName"] = spec.priority_class();
  if (!spec.node_selector().empty()) {
    pod_spec["nodeSelector"] = std::map<std::string, std::string>(spec.node_selector().begin(),
                                                                  spec.node_selector().end());
  }
  if (!spec.hugepages().empty()) {
    const std::string page_size =
        spec.hugepage_size().empty() ? kDefaultHugepageSize : spec.hugepage_size();
    pod_spec["volumes"] = {
        {{"name", "hugepages"}, {"emptyDir", {{"medium", absl::StrCat("HugePages-", page_size)}}}}};
  }
  // agentsPerNode 1 (the default): never two agents of this pool on one node. Larger values
  // lift the rule; the node's CPUs, hugepages and VFs then bound how many fit.
  if (!daemonset && spec.agents_per_node() <= 1) {
    pod_spec["affinity"] = {{"podAntiAffinity",
                             {{"requiredDuringSchedulingIgnoredDuringExecution",
                               {{{"labelSelector", {{"matchLabels", selector}}},
                                 {"topologyKey", "kubernetes.io/hostname"}}}}}}};
  }

  Json labels = selector;
  labels["app.kubernetes.io/managed-by"] = "netrig-operator";
  Json workload = {
      {"apiVersion", "apps/v1"},
      {"kind", daemonset ? "DaemonSet" : "Deployment"},
      {"metadata",
       {{"name", AgentWorkloadName(name)},
        {"namespace", ns},
        {"labels", labels},
        {"annotations", Json::object()},
        {"ownerReferences",
         {{{"apiVersion", kube::kAgentPools.ApiVersion()},
           {"kind", kube::kAgentPools.kind},
           {"name", name},
           {"uid", Str(pool.value("metadata", Json::object()), "uid")},
           {"controller", true},
           {"blockOwnerDeletion", true}}}}}},
      {"spec",
       {{"selector", {{"matchLabels", selector}}},
        {"template", {{"metadata", pod_meta}, {"spec", pod_spec}}}}},
  };
  if (daemonset) {
    workload["spec"]["updateStrategy"] = {{"type", "RollingUpdate"},
                                          {"rollingUpdate", {{"maxUnavailable", 1}}}};
  } else {
    workload["spec"]["replicas"] = replicas >= 0 ? replicas : DefaultReplicas(spec);
    // Replace one agent at a time without a surge pod: a node rarely has spare VFs and
    // hugepages for an extra agent.
    workload["spec"]["strategy"] = {{"type", "RollingUpdate"},
                                    {"rollingUpdate", {{"maxSurge", 0}, {"maxUnavailable", 1}}}};
  }
  workload["metadata"]["annotations"][kSpecHashAnnotation] = WorkloadHash(workload);
  return workload;
}

}  // namespace netrig::op
