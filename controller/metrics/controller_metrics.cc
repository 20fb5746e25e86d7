#include "controller/metrics/controller_metrics.h"

#include <algorithm>

namespace netrig::controller::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

// Seconds: queue waits and runs last from seconds to hours.
const Histogram::BucketBoundaries kRunBuckets = {1,   5,    15,   30,   60,    120,  300,
                                                 600, 1200, 1800, 3600, 7200, 14400};
const Histogram::BucketBoundaries kTrialBuckets = {0.1, 0.25, 0.5, 1,  2,   5,
                                                   10,  30,   60,  120, 300, 600};
const Histogram::BucketBoundaries kFastBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                  0.05,   0.1,   0.25,   0.5,   1,    2.5,
                                                  5,      10};

}  // namespace

ControllerMetrics::ControllerMetrics(const std::string& version, const std::string& store_backend)
    : registry_(std::make_shared<prometheus::Registry>()),
      store_backend_(store_backend),
      build_info_(BuildGauge().Name("netrig_controller_build_info")
                      .Help("Controller version and state store backend (always 1)")
                      .Register(*registry_)),
      leader_(BuildGauge().Name("netrig_controller_leader")
                  .Help("1 while this controller runs the scheduler")
                  .Register(*registry_)),
      local_agents_(BuildGauge().Name("netrig_controller_local_agents_enabled")
                        .Help("1 when the controller starts agents on demand (local mode)")
                        .Register(*registry_)),
      store_up_(BuildGauge().Name("netrig_store_up")
                    .Help("1 when the last state store health probe succeeded")
                    .Register(*registry_)),
      store_ops_(BuildCounter().Name("netrig_store_operations_total")
                     .Help("State store calls by operation and result")
                     .Register(*registry_)),
      store_seconds_(BuildHistogram().Name("netrig_store_operation_duration_seconds")
                         .Help("State store call latency by operation")
                         .Register(*registry_)),
      grpc_handled_(BuildCounter().Name("netrig_grpc_server_handled_total")
                        .Help("gRPC calls finished by the controller, by status code")
                        .Register(*registry_)),
      grpc_seconds_(BuildHistogram().Name("netrig_grpc_server_handling_seconds")
                        .Help("gRPC call duration (streams: open to close)")
                        .Register(*registry_)),
      agents_(BuildGauge().Name("netrig_agents")
                  .Help("Registered agents by pool and state")
                  .Register(*registry_)),
      queued_(BuildGauge().Name("netrig_runs_queued")
                  .Help("Runs waiting in the queue, by level")
                  .Register(*registry_)),
      running_(BuildGauge().Name("netrig_runs_running")
                   .Help("Runs executing, by level")
                   .Register(*registry_)),
      queue_wait_(BuildHistogram().Name("netrig_run_queue_wait_seconds")
                      .Help("Time from submission to start, by level")
                      .Register(*registry_)),
      runs_(BuildCounter().Name("netrig_runs_total")
                .Help("Finished runs by level, suite, SUT template, trigger, phase and verdict")
                .Register(*registry_)),
      run_seconds_(BuildHistogram().Name("netrig_run_duration_seconds")
                       .Help("Execution time of finished runs (start to completion)")
                       .Register(*registry_)),
      trials_(BuildCounter().Name("netrig_trials_total")
                  .Help("Trials run, by test and validity")
                  .Register(*registry_)),
      trial_seconds_(BuildHistogram().Name("netrig_trial_duration_seconds")
                         .Help("Wall time of one trial, configuration to final counters")
                         .Register(*registry_)),
      versions_tested_(BuildCounter().Name("netrig_sut_versions_tested_total")
                           .Help("Distinct SUT versions with a finished run")
                           .Register(*registry_)),
      versions_passed_(BuildCounter().Name("netrig_sut_versions_passed_total")
                           .Help("Distinct SUT versions with a first Pass at a level")
                           .Register(*registry_)),
      flagged_(BuildCounter().Name("netrig_failures_flagged_total")
                   .Help("Runs judged Fail or Regressed")
                   .Register(*registry_)),
      regressions_(BuildCounter().Name("netrig_regressions_detected_total")
                       .Help("Runs judged Regressed against their baseline")
                       .Register(*registry_)),
      confirmed_(BuildCounter().Name("netrig_failures_confirmed_total")
                     .Help("Flagged runs reproduced by the next run of the test on that version")
                     .Register(*registry_)),
      dismissed_(BuildCounter().Name("netrig_failures_dismissed_total")
                     .Help("Flagged runs the next run of the test on that version passed")
                     .Register(*registry_)),
      progress_(BuildGauge().Name("netrig_run_progress_ratio")
                    .Help("Live: frame sizes done / total of an executing run")
                    .Register(*registry_)),
      offered_(BuildGauge().Name("netrig_run_stream_offered_frames_per_second")
                   .Help("Live: frames per second sent by a stream of an executing run")
                   .Register(*registry_)),
      received_(BuildGauge().Name("netrig_run_stream_received_frames_per_second")
                    .Help("Live: frames per second received for a stream of an executing run")
                    .Register(*registry_)),
      loss_(BuildGauge().Name("netrig_run_stream_loss_ratio")
                .Help("Live: 1 - received/sent over the last interim interval")
                .Register(*registry_)),
      latency_(BuildGauge().Name("netrig_run_stream_latency_seconds")
                   .Help("Live: latency quantiles of a stream (coarse live histogram)")
                   .Register(*registry_)) {
  build_info_.Add({{"version", version}, {"store", store_backend}}).Set(1);
  leader_.Add({}).Set(0);
  local_agents_.Add({}).Set(0);
  store_up_.Add({{"backend", store_backend}}).Set(0);
}

void ControllerMetrics::EnsureSeriesLocked(const RunFacts& f) {
  // Every (phase, verdict) a run can end with (RunService's endings).
  static const std::pair<const char*, const char*> kEndings[] = {
      {"Succeeded", "Pass"}, {"Failed", "Fail"},     {"Failed", "Regressed"},
      {"Failed", "none"},    {"Cancelled", "none"},  {"Interrupted", "none"}};
  for (const auto& [phase, verdict] : kEndings) {
    runs_.Add({{"level", f.level}, {"suite", f.suite}, {"sut", f.sut}, {"trigger", f.trigger},
               {"phase", phase}, {"verdict", verdict}});
  }
  run_seconds_.Add({{"level", f.level}, {"suite", f.suite}, {"sut", f.sut}}, kRunBuckets);
  flagged_.Add({{"level", f.level}, {"suite", f.suite}});
  confirmed_.Add({{"level", f.level}, {"suite", f.suite}});
  dismissed_.Add({{"level", f.level}, {"suite", f.suite}});
  regressions_.Add({{"level", f.level}, {"suite", f.suite}, {"sut", f.sut}});
  if (!f.version.empty()) {
    versions_tested_.Add({{"sut", f.sut}});
    versions_passed_.Add({{"sut", f.sut}, {"level", f.level}});
  }
}

void ControllerMetrics::CountLocked(const RunFacts& f) {
  EnsureSeriesLocked(f);
  runs_.Add({{"level", f.level}, {"suite", f.suite}, {"sut", f.sut}, {"trigger", f.trigger},
             {"phase", f.phase}, {"verdict", f.verdict}})
      .Increment();
  if (f.duration_s) {
    run_seconds_.Add({{"level", f.level}, {"suite", f.suite}, {"sut", f.sut}}, kRunBuckets)
        .Observe(*f.duration_s);
  }
  const KpiChange c = kpis_.Observe(f);
  if (c.new_version) versions_tested_.Add({{"sut", f.sut}}).Increment();
  if (c.new_passed_version) versions_passed_.Add({{"sut", f.sut}, {"level", f.level}}).Increment();
  if (c.flagged) flagged_.Add({{"level", f.level}, {"suite", f.suite}}).Increment();
  if (c.regression) {
    regressions_.Add({{"level", f.level}, {"suite", f.suite}, {"sut", f.sut}}).Increment();
  }
  if (c.confirmed) {
    confirmed_.Add({{"level", c.confirmed->level}, {"suite", c.confirmed->suite}}).Increment();
  }
  if (c.dismissed) {
    dismissed_.Add({{"level", c.dismissed->level}, {"suite", c.dismissed->suite}}).Increment();
  }
}

void ControllerMetrics::Rebuild(std::vector<v1::Run> runs) {
  // Completion order (RFC 3339 UTC strings sort as times; the id breaks ties).
  std::sort(runs.begin(), runs.end(), [](const v1::Run& a, const v1::Run& b) {
    return std::tie(a.test_run().status().completion_time(), a.id()) <
           std::tie(b.test_run().status().completion_time(), b.id());
  });
  absl::MutexLock lock(&mu_);
  for (const v1::Run& r : runs) {
    const std::string& phase = r.test_run().status().phase();
    if (phase != "Succeeded" && phase != "Failed" && phase != "Cancelled" &&
        phase != "Interrupted") {
      continue;
    }
    const RunFacts f = FactsOf(r);
    if (!counted_.insert(f.id).second) continue;
    CountLocked(f);
    if (f.queue_wait_s) {
      queue_wait_.Add({{"level", f.level}}, kRunBuckets).Observe(*f.queue_wait_s);
    }
  }
}

void ControllerMetrics::RunStarted(const v1::Run& run) {
  const RunFacts f = FactsOf(run);
  absl::MutexLock lock(&mu_);
  EnsureSeriesLocked(f);
  if (!f.queue_wait_s) return;
  queue_wait_.Add({{"level", f.level}}, kRunBuckets).Observe(*f.queue_wait_s);
}

void ControllerMetrics::RunFinished(const v1::Run& run) {
  const RunFacts f = FactsOf(run);
  ClearRun(run.id());
  absl::MutexLock lock(&mu_);
  if (!counted_.insert(run.id()).second) return;
  // A run that never started was never observed by RunStarted: its wait is not a queue wait
  // (it was cancelled or failed validation while queued).
  CountLocked(f);
}

void ControllerMetrics::SetQueue(const std::map<std::string, int>& queued_by_level,
                                 const std::map<std::string, int>& running_by_level) {
  absl::MutexLock lock(&mu_);
  for (const char* level : {"L1", "L2", "L3"}) {
    const auto q = queued_by_level.find(level);
    const auto r = running_by_level.find(level);
    queued_.Add({{"level", level}}).Set(q == queued_by_level.end() ? 0 : q->second);
    running_.Add({{"level", level}}).Set(r == running_by_level.end() ? 0 : r->second);
  }
}

void ControllerMetrics::SetAgents(const std::vector<v1::AgentInfo>& agents) {
  std::map<prometheus::Labels, int> counts;
  for (const v1::AgentInfo& a : agents) {
    const auto& labels = a.capabilities().labels();
    const auto pool = labels.find("pool");
    const std::string pool_name = pool == labels.end() ? "default" : pool->second;
    for (const char* state : {"available", "busy", "unavailable"}) {
      counts[{{"pool", pool_name}, {"state", state}}] += a.state() == state ? 1 : 0;
    }
  }
  absl::MutexLock lock(&mu_);
  for (auto& [labels, gauge] : agent_gauges_) {
    if (counts.count(labels) == 0) gauge->Set(0);  // the pool has no agent left
  }
  for (const auto& [labels, n] : counts) {
    prometheus::Gauge*& g = agent_gauges_[labels];
    if (g == nullptr) g = &agents_.Add(labels);
    g->Set(n);
  }
}

void ControllerMetrics::SetLeader(bool leader) { leader_.Add({}).Set(leader ? 1 : 0); }

void ControllerMetrics::SetLocalAgentsEnabled(bool enabled) {
  local_agents_.Add({}).Set(enabled ? 1 : 0);
}

void ControllerMetrics::SetStoreUp(bool up) {
  store_up_.Add({{"backend", store_backend_}}).Set(up ? 1 : 0);
}

void ControllerMetrics::TrialDone(const std::string& test, bool valid, double seconds) {
  trials_.Add({{"test", test}, {"valid", valid ? "false" : "true"}});  // the other one, at 0
  trials_.Add({{"test", test}, {"valid", valid ? "true" : "false"}}).Increment();
  trial_seconds_.Add({{"test", test}}, kTrialBuckets).Observe(seconds);
}

void ControllerMetrics::SetProgress(const std::string& run, double ratio) {
  absl::MutexLock lock(&mu_);
  prometheus::Gauge& g = progress_.Add({{"run", run}});
  g.Set(ratio);
  auto& series = live_[run];
  const auto entry = std::make_pair(&progress_, &g);
  if (std::find(series.begin(), series.end(), entry) == series.end()) series.push_back(entry);
}

void ControllerMetrics::SetLive(const std::string& run, const LiveStream& s) {
  absl::MutexLock lock(&mu_);
  auto& series = live_[run];
  const auto set = [&](prometheus::Family<prometheus::Gauge>& family,
                       const prometheus::Labels& labels, double v) {
    prometheus::Gauge& g = family.Add(labels);
    g.Set(v);
    const auto entry = std::make_pair(&family, &g);
    if (std::find(series.begin(), series.end(), entry) == series.end()) series.push_back(entry);
  };
  const prometheus::Labels base = {{"run", run}, {"stream", s.stream}, {"port", s.port}};
  set(offered_, base, s.offered_fps);
  set(received_, base, s.received_fps);
  set(loss_, base, s.loss_ratio);
  const std::pair<const char*, double> quantiles[] = {
      {"0.5", s.latency_p50_s}, {"0.99", s.latency_p99_s}, {"0.999", s.latency_p999_s}};
  for (const auto& [q, v] : quantiles) {
    prometheus::Labels l = base;
    l["quantile"] = q;
    set(latency_, l, v);
  }
}

void ControllerMetrics::ClearRun(const std::string& run) {
  absl::MutexLock lock(&mu_);
  const auto it = live_.find(run);
  if (it == live_.end()) return;
  for (auto& [family, gauge] : it->second) family->Remove(gauge);
  live_.erase(it);
}

void ControllerMetrics::StoreOperation(const std::string& op, bool ok, double seconds) {
  store_ops_.Add({{"operation", op}, {"result", ok ? "error" : "ok"}});  // the other, at 0
  store_ops_.Add({{"operation", op}, {"result", ok ? "ok" : "error"}}).Increment();
  store_seconds_.Add({{"operation", op}}, kFastBuckets).Observe(seconds);
}

void ControllerMetrics::GrpcHandled(const std::string& service, const std::string& method,
                                    const std::string& code, double seconds) {
  grpc_handled_.Add({{"service", service}, {"method", method}, {"code", code}}).Increment();
  grpc_seconds_.Add({{"service", service}, {"method", method}}, kFastBuckets).Observe(seconds);
}

}  // namespace netrig::controller::metrics
