// The AgentPool reconciler of netrig-operator: keeps a Deployment (or DaemonSet) of netrig-agent
// pods matching each AgentPool, scales elastic pools by the controller's queue, and reports the
// pool's agents in its status.
//
// One Reconcile(ns, name):
//  1. reads the pool; gone or being deleted -> nothing to do (the workload carries an
//     ownerReference to the pool, so the garbage collector removes it);
//  2. validates it (lib/spec ValidateAgentPool). Invalid -> status condition Ready=False,
//     reason Invalid, the message listing "path: reason" lines; the workload is left alone;
//  3. decides the replicas (spec.replicas, or ScaledReplicas of the pool's queued runs with the
//     scale-down delay), renders the workload (RenderAgentWorkload) and creates it, or replaces
//     it when the rendered hash or the replica count differ from what is stored. An object of
//     that name which this pool does not control is never touched (Ready=False,
//     reason WorkloadConflict);
//  4. deletes the pool's workload of the other kind after a mode change;
//  5. patches status (replicas, readyReplicas, registeredAgents, workload, the Ready condition,
//     observedGeneration) through the status subresource, only when it changed.
// Pools with spec.scaling are requeued every `scaling_requeue` (10 s) to follow the queue.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"
#include "operator/agentpool/agent_pool_scaling.h"
#include "operator/agentpool/agent_pool_workload.h"
#include "operator/reconciler.h"

namespace netrig::op {

// What the controller knows about a pool.
struct PoolLoad {
  int queued_runs = 0;        // runs waiting for this pool's agents
  int registered_agents = 0;  // agents registered with pool=<name>
  int ready_agents = 0;       // of those, idle or running (session up)
};
using PoolLoadFn =
    std::function<absl::StatusOr<PoolLoad>(const std::string& ns, const std::string& pool)>;

struct AgentPoolOptions {
  // How long the scaling target must stay below the current count before a pool shrinks.
  absl::Duration scale_down_delay = absl::Minutes(5);
  absl::Duration scaling_requeue = absl::Seconds(10);
  // A workload name held by an object this pool does not control: look again after this.
  absl::Duration conflict_requeue = absl::Seconds(30);
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class AgentPoolReconciler : public Reconciler {
 public:
  // `api` must outlive the reconciler. `load` may fail (controller unreachable): the pool then
  // keeps its current size and its last registeredAgents.
  AgentPoolReconciler(kube::Api* api, AgentPoolDefaults defaults, PoolLoadFn load,
                      AgentPoolOptions options = {});

  const kube::Resource& resource() const override { return kube::kAgentPools; }
  // Thread-safe: different pools may be reconciled concurrently.
  absl::StatusOr<ReconcileResult> Reconcile(const std::string& ns,
                                            const std::string& name) override;

 private:
  // The replicas for a Deployment pool; `current` < 0 when there is no Deployment yet.
  int DesiredReplicas(const std::string& key, const v1::AgentPoolSpec& spec, int current,
                      const absl::StatusOr<PoolLoad>& load);
  absl::Status WriteStatus(const std::string& ns, const std::string& name, const kube::Json& pool,
                           kube::Json status);

  kube::Api* api_;
  AgentPoolDefaults defaults_;
  PoolLoadFn load_;
  AgentPoolOptions options_;
  absl::Mutex mu_;
  std::map<std::string, ScaleDownDelay> scale_down_ ABSL_GUARDED_BY(mu_);  // by "ns/name"
};

}  // namespace netrig::op
