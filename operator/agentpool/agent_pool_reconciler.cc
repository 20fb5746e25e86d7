#include "operator/agentpool/agent_pool_reconciler.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/common/status_macros.h"
#include "lib/spec/field_error.h"
#include "operator/conditions.h"
#include "operator/log.h"

namespace netrig::op {
namespace {

using kube::Json;

constexpr char kReady[] = "Ready";

// The object, or nullopt when it does not exist.
absl::StatusOr<std::optional<Json>> GetIfExists(kube::Api& api, const kube::Resource& r,
                                                const std::string& ns, const std::string& name) {
  absl::StatusOr<Json> got = api.Get(r, ns, name);
  if (got.ok()) return std::optional<Json>(std::move(*got));
  if (absl::IsNotFound(got.status())) return std::optional<Json>();
  return got.status();
}

// True when the object's controller ownerReference is the pool with this uid.
bool ControlledBy(const Json& object, const std::string& uid) {
  const Json* owner = ControllerOwner(object);
  return owner != nullptr && owner->value("kind", "") == kube::kAgentPools.kind &&
         owner->value("uid", "") == uid;
}

int IntAt(const Json& object, const char* pointer, int fallback) {
  const Json::json_pointer p(pointer);
  if (!object.is_object() || !object.contains(p) || !object[p].is_number_integer()) {
    return fallback;
  }
  return object[p].get<int>();
}

std::string SpecHash(const Json& workload) {
  const Json::json_pointer annotations("/metadata/annotations");
  if (!workload.contains(annotations) || !workload[annotations].is_object()) return "";
  auto it = workload[annotations].find(kSpecHashAnnotation);
  return it != workload[annotations].end() && it->is_string() ? it->get<std::string>() : "";
}

// Whether the stored workload differs from the rendered one in what the operator owns: the
// rendered hash (the pool changed, or the operator renders differently now), or the replica
// count (someone scaled the Deployment by hand). Fields other controllers default are not
// compared, so they are never fought over.
bool NeedsUpdate(const Json& existing, const Json& desired) {
  if (SpecHash(existing).empty() || SpecHash(existing) != SpecHash(desired)) return true;
  const Json::json_pointer replicas("/spec/replicas");
  return desired.contains(replicas) &&
         IntAt(existing, "/spec/replicas", 1) != desired[replicas].get<int>();
}

// The stored object with the rendered labels, annotations and spec: the resourceVersion it
// carries makes the PUT fail (Aborted) if someone wrote the object since it was read.
Json Updated(const Json& existing, const Json& desired) {
  Json updated = existing;
  Json& meta = updated["metadata"];
  for (const char* key : {"labels", "annotations"}) {
    if (!meta.contains(key) || !meta[key].is_object()) meta[key] = Json::object();
    meta[key].update(desired["metadata"][key]);
  }
  updated["spec"] = desired["spec"];
  updated.erase("status");
  return updated;
}

std::string WorkloadRef(const Json& workload) {
  return absl::StrCat(workload.value("kind", ""), "/", kube::NameOf(workload));
}

}  // namespace

AgentPoolReconciler::AgentPoolReconciler(kube::Api* api, AgentPoolDefaults defaults,
                                         PoolLoadFn load, AgentPoolOptions options)
    : api_(api),
      defaults_(std::move(defaults)),
      load_(std::move(load)),
      options_(std::move(options)) {}

int AgentPoolReconciler::DesiredReplicas(const std::string& key, const v1::AgentPoolSpec& spec,
                                         int current, const absl::StatusOr<PoolLoad>& load) {
  if (!spec.has_scaling()) {
    absl::MutexLock lock(&mu_);
    scale_down_.erase(key);
    return DefaultReplicas(spec);
  }
  if (!load.ok()) {
    // Without the queue length keep the pool as it is (or at its minimum when new).
    return current >= 0 ? current : DefaultReplicas(spec);
  }
  const int target = ScaledReplicas(spec.scaling(), load->queued_runs);
  absl::MutexLock lock(&mu_);
  auto it = scale_down_.try_emplace(key, options_.scale_down_delay).first;
  return it->second.Next(current, target, options_.now());
}

absl::Status AgentPoolReconciler::WriteStatus(const std::string& ns, const std::string& name,
                                              const Json& pool, Json status) {
  if (pool.value("status", Json::object()) == status) return absl::OkStatus();
  return api_->PatchStatus(kube::kAgentPools, ns, name, Json{{"status", std::move(status)}})
      .status();
}

absl::StatusOr<ReconcileResult> AgentPoolReconciler::Reconcile(const std::string& ns,
                                                               const std::string& name) {
  const std::string key = absl::StrCat(ns, "/", name);
  ASSIGN_OR_RETURN(std::optional<Json> found, GetIfExists(*api_, kube::kAgentPools, ns, name));
  if (!found.has_value()) {
    absl::MutexLock lock(&mu_);
    scale_down_.erase(key);
    return ReconcileResult{};
  }
  const Json& pool = *found;
  if (IsBeingDeleted(pool)) return ReconcileResult{};
  const int64_t generation = kube::GenerationOf(pool);
  const absl::Time now = options_.now();
  Json status = pool.value("status", Json::object());
  status["observedGeneration"] = generation;

  // Bad input is the user's to fix: say where in status and change nothing else.
  auto invalid = [&](const std::string& message) -> absl::StatusOr<ReconcileResult> {
    SetCondition(status, {kReady, "False", "Invalid", message, generation}, now);
    RETURN_IF_ERROR(WriteStatus(ns, name, pool, status));
    return ReconcileResult{};
  };
  v1::AgentPool parsed;
  if (std::vector<spec::FieldError> errors = AgentPoolFromObject(pool, &parsed); !errors.empty()) {
    return invalid(spec::JoinErrors(errors));
  }
  const v1::AgentPoolSpec& spec = parsed.spec();
  const bool daemonset = spec.mode() == "DaemonSet";
  const kube::Resource& kind = daemonset ? kube::kDaemonSets : kube::kDeployments;
  const kube::Resource& other_kind = daemonset ? kube::kDeployments : kube::kDaemonSets;
  const std::string workload_name = AgentWorkloadName(name);
  const std::string uid = kube::UidOf(pool);

  ASSIGN_OR_RETURN(std::optional<Json> existing, GetIfExists(*api_, kind, ns, workload_name));
  absl::StatusOr<PoolLoad> load = load_ ? load_(ns, name) : absl::StatusOr<PoolLoad>(PoolLoad{});
  if (!load.ok()) {
    Log(Severity::kWarning, absl::StrCat("agentpool ", key, ": agent counts from the controller: ",
                                         load.status().ToString()));
  }
  int replicas = -1;
  if (!daemonset) {
    replicas =
        DesiredReplicas(key, spec, existing ? IntAt(*existing, "/spec/replicas", 1) : -1, load);
  }
  absl::StatusOr<Json> desired = RenderAgentWorkload(pool, defaults_, replicas);
  if (!desired.ok()) {
    if (absl::IsInvalidArgument(desired.status())) {
      return invalid(std::string(desired.status().message()));
    }
    return desired.status();
  }

  if (existing.has_value() && !ControlledBy(*existing, uid)) {
    SetCondition(status,
                 {kReady, "False", "WorkloadConflict",
                  absl::StrCat(WorkloadRef(*existing),
                               " exists and is not controlled by this AgentPool; delete or "
                               "rename it"),
                  generation},
                 now);
    RETURN_IF_ERROR(WriteStatus(ns, name, pool, status));
    return ReconcileResult{options_.conflict_requeue};
  }

  // After a mode change: the other kind goes first, so the agents of both never compete for
  // the same VFs and hugepages.
  ASSIGN_OR_RETURN(std::optional<Json> stale, GetIfExists(*api_, other_kind, ns, workload_name));
  if (stale.has_value() && ControlledBy(*stale, uid)) {
    kube::DeleteOptions background;
    background.propagation_policy = "Background";
    absl::Status deleted = api_->Delete(other_kind, ns, workload_name, background);
    if (!deleted.ok() && !absl::IsNotFound(deleted)) return deleted;
    Log(Severity::kInfo, absl::StrCat("agentpool ", key, ": deleted ", WorkloadRef(*stale),
                                      " (mode is now ", kind.kind, ")"));
  }

  Json workload;
  if (!existing.has_value()) {
    ASSIGN_OR_RETURN(workload, api_->Create(kind, ns, *desired));
    Log(Severity::kInfo, absl::StrCat("agentpool ", key, ": created ", WorkloadRef(*desired)));
  } else if (NeedsUpdate(*existing, *desired)) {
    ASSIGN_OR_RETURN(workload,
                     api_->Replace(kind, ns, workload_name, Updated(*existing, *desired)));
    Log(Severity::kInfo, absl::StrCat("agentpool ", key, ": updated ", WorkloadRef(*desired)));
  } else {
    workload = std::move(*existing);
  }

  // Status from the workload's own status (ready pods = agents registered with the controller,
  // the readiness probe's meaning) and the controller's view.
  int want = 0;
  int ready = 0;
  bool observed = true;
  if (daemonset) {
    want = IntAt(workload, "/status/desiredNumberScheduled", 0);
    ready = IntAt(workload, "/status/numberReady", 0);
    observed = IntAt(workload, "/status/observedGeneration", 0) >= kube::GenerationOf(workload);
  } else {
    want = IntAt(workload, "/spec/replicas", 0);
    ready = IntAt(workload, "/status/readyReplicas", 0);
  }
  status["replicas"] = want;
  status["readyReplicas"] = ready;
  if (load.ok()) {
    status["registeredAgents"] = load->registered_agents;
  } else if (!status.contains("registeredAgents")) {
    status["registeredAgents"] = 0;
  }
  status["workload"] = absl::StrCat(kind.kind, "/", workload_name);

  Condition c{kReady, "False", "AgentsNotReady", "", generation};
  if (daemonset && !observed) {
    c.message = "waiting for the DaemonSet controller";
  } else if (daemonset && want == 0) {
    c.reason = "NoNodes";
    c.message = "no node matches spec.nodeSelector";
  } else if (want == 0) {
    c = {kReady, "True", "ScaledToZero",
         spec.has_scaling() ? "no agents: no runs are queued for this pool" : "replicas is 0",
         generation};
  } else if (ready >= want) {
    c = {kReady, "True", "AgentsReady", absl::StrCat(ready, " of ", want, " agents ready"),
         generation};
  } else {
    c.message =
        absl::StrCat(ready, " of ", want, " agents ready (ready: registered with the controller)");
  }
  SetCondition(status, c, now);
  RETURN_IF_ERROR(WriteStatus(ns, name, pool, status));
  return ReconcileResult{spec.has_scaling() ? options_.scaling_requeue : absl::ZeroDuration()};
}

}  // namespace netrig::op
