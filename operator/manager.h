// The operator's manager: runs every reconciler the way controller-runtime does.
//
//  - per reconciler, a kube::Reflector (list + watch) on its resource in each configured
//    namespace (or all), and one on each resource it owns: an event on an owned object queues
//    the owner named by its controller ownerReference (a TestRun owned by a TestSuite queues
//    the suite; a Deployment owned by an AgentPool queues the pool);
//  - a WorkQueue per reconciler (per-key dedup, exponential per-key backoff on error,
//    requeue_after timers) drained by `workers` threads;
//  - optional leader election on a coordination.k8s.io Lease: only the leader runs the
//    reflectors and workers; losing the lease stops them and Run() returns an error (the
//    process exits and Kubernetes restarts it, as controller-runtime does);
//  - /healthz, /readyz and /metrics on `metrics_address` (metrics prefixed netrig_operator_).
//
//   Manager m(api, config, registry);
//   m.Add(&testruns);
//   m.Add(&suites, {kube::kTestRuns});
//   absl::Status s = m.Run();        // until Stop() (from a signal thread) or lost leadership
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "lib/common/metrics_endpoint.h"
#include "lib/kube/client.h"
#include "lib/kube/leader_election.h"
#include "operator/reconciler.h"
#include "operator/work_queue.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace netrig::op {

struct ManagerConfig {
  std::vector<std::string> namespaces;  // watched namespaces; empty: all namespaces
  int workers = 2;                      // reconcile threads per reconciler
  std::string metrics_address;          // host:port for /healthz /readyz /metrics; empty: none
  bool leader_elect = false;
  kube::LeaderElectionConfig leader_election;
  WorkQueue::Options queue;  // backoff bounds (tests shorten them)
};

class Manager {
 public:
  Manager(kube::Api* api, ManagerConfig config, std::shared_ptr<prometheus::Registry> registry);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Before Run(). `owns`: resources whose objects queue their controller owner when that owner
  // is of the reconciler's kind. The reconciler must outlive the manager.
  void Add(Reconciler* reconciler, std::vector<kube::Resource> owns = {});

  // Serves health and metrics, campaigns for the lease (or starts at once), and runs the
  // reconcilers until Stop(). OK after Stop(); Aborted when leadership was lost; an error when
  // the metrics address cannot be bound.
  absl::Status Run();
  // Thread-safe; Run() returns once the workers have finished their current reconcile.
  void Stop();

  // host:port the health/metrics server bound ("" before Run or without one).
  std::string metrics_address() const;
  // True once every reconciler's first list has been queued (or while standing by).
  bool ready() const;

 private:
  struct Controller;

  void StartControllers();
  void StopControllers();
  void Worker(Controller* c);
  void Enqueue(Controller* c, const std::string& ns, const std::string& name);
  absl::Status StartHttp();
  void StopHttp();

  kube::Api* api_;
  ManagerConfig config_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<std::unique_ptr<Controller>> controllers_;

  prometheus::Family<prometheus::Counter>* reconciles_;
  prometheus::Family<prometheus::Histogram>* durations_;
  prometheus::Family<prometheus::Gauge>* queue_depth_;
  prometheus::Gauge* leader_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_requested_ = false;
  bool lost_leadership_ = false;
  bool running_ = false;  // controllers started
  std::atomic<bool> standby_{false};

  std::unique_ptr<common::MetricsEndpoint> http_;  // guarded by mu_
};

}  // namespace netrig::op
