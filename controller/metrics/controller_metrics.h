// The controller's Prometheus metrics (docs/metrics.md "Controller metrics"): runs and their
// KPIs, the queue, agents, trials, live per-run stream aggregates, store and gRPC health.
// Run counters are rebuilt from the stored history at start (Rebuild) and then follow every
// finished run, so they are totals that survive restarts and equal what the API reports.
// Label sets are bounded: per run/stream/port live series exist only while the run executes.
// Thread-safe.
#pragma once

#include <map>
#include <set>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "controller/metrics/kpi_tracker.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "proto/netrig/v1/controller.pb.h"

namespace netrig::controller::metrics {

// One stream's live view, from an agent's interim report.
struct LiveStream {
  std::string stream;  // traffic direction, "west-east"
  std::string port;    // TX port role
  double offered_fps = 0, received_fps = 0;
  double loss_ratio = 0;
  double latency_p50_s = 0, latency_p99_s = 0, latency_p999_s = 0;
};

class ControllerMetrics {
 public:
  ControllerMetrics(const std::string& version, const std::string& store_backend);

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // Counts every finished run in `runs` (any order; sorted by completion here). Call once,
  // before the first RunFinished.
  void Rebuild(std::vector<v1::Run> runs);
  // A run reached a terminal phase (the stored record). Also ends its live series.
  void RunFinished(const v1::Run& run);
  void RunStarted(const v1::Run& run);

  void SetQueue(const std::map<std::string, int>& queued_by_level,
                const std::map<std::string, int>& running_by_level);
  void SetAgents(const std::vector<v1::AgentInfo>& agents);
  void SetLeader(bool leader);
  void SetLocalAgentsEnabled(bool enabled);
  void SetStoreUp(bool up);

  void TrialDone(const std::string& test, bool valid, double seconds);
  void SetProgress(const std::string& run, double ratio);
  void SetLive(const std::string& run, const LiveStream& s);
  void ClearRun(const std::string& run);

  void StoreOperation(const std::string& op, bool ok, double seconds);
  void GrpcHandled(const std::string& service, const std::string& method,
                   const std::string& code, double seconds);

 private:
  void CountLocked(const RunFacts& f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Creates, at 0, every counter series a run with these labels can increment when it ends, so
  // that Prometheus sees 0 -> 1 (increase() cannot see the first sample of a new series).
  // Bounded: per label combination, not per run.
  void EnsureSeriesLocked(const RunFacts& f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::shared_ptr<prometheus::Registry> registry_;
  std::string store_backend_;
  absl::Mutex mu_;
  KpiTracker kpis_ ABSL_GUARDED_BY(mu_);

  prometheus::Family<prometheus::Gauge>& build_info_;
  prometheus::Family<prometheus::Gauge>& leader_;
  prometheus::Family<prometheus::Gauge>& local_agents_;
  prometheus::Family<prometheus::Gauge>& store_up_;
  prometheus::Family<prometheus::Counter>& store_ops_;
  prometheus::Family<prometheus::Histogram>& store_seconds_;
  prometheus::Family<prometheus::Counter>& grpc_handled_;
  prometheus::Family<prometheus::Histogram>& grpc_seconds_;
  prometheus::Family<prometheus::Gauge>& agents_;
  prometheus::Family<prometheus::Gauge>& queued_;
  prometheus::Family<prometheus::Gauge>& running_;
  prometheus::Family<prometheus::Histogram>& queue_wait_;
  prometheus::Family<prometheus::Counter>& runs_;
  prometheus::Family<prometheus::Histogram>& run_seconds_;
  prometheus::Family<prometheus::Counter>& trials_;
  prometheus::Family<prometheus::Histogram>& trial_seconds_;
  prometheus::Family<prometheus::Counter>& versions_tested_;
  prometheus::Family<prometheus::Counter>& versions_passed_;
  prometheus::Family<prometheus::Counter>& flagged_;
  prometheus::Family<prometheus::Counter>& regressions_;
  prometheus::Family<prometheus::Counter>& confirmed_;
  prometheus::Family<prometheus::Counter>& dismissed_;
  prometheus::Family<prometheus::Gauge>& progress_;
  prometheus::Family<prometheus::Gauge>& offered_;
  prometheus::Family<prometheus::Gauge>& received_;
  prometheus::Family<prometheus::Gauge>& loss_;
  prometheus::Family<prometheus::Gauge>& latency_;

  // Gauge children set last time, to zero the ones that disappeared.
  std::map<prometheus::Labels, prometheus::Gauge*> agent_gauges_ ABSL_GUARDED_BY(mu_);
  // Live series per run, removed when it ends.
  std::map<std::string, std::vector<std::pair<prometheus::Family<prometheus::Gauge>*,
                                              prometheus::Gauge*>>>
      live_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> counted_ ABSL_GUARDED_BY(mu_);  // run ids already counted
};

}  // namespace netrig::controller::metrics
