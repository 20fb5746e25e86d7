// Prometheus metrics of netrig-agent serve: the contract in docs/metrics.md, "Agent metrics".
//
// Pull model: nothing is updated per packet or per trial step for Prometheus. At scrape time
// AgentMetrics::Collect() reads the runtime (ethdev counters, the lcores' single-writer
// counters, live during a trial) and renders the families. prometheus-cpp objects never reach
// an lcore.
//
// AgentMetrics is a prometheus::Registry so that lib/common's MetricsEndpoint, which serves a
// Registry, serves it directly: Registry::Collect() is the scrape hook.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "agent/control/agent_runtime.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace netrig::agent::control {

// The controller session, as netrig_agent_session_state reports it.
enum class SessionState { kDisconnected, kIdle, kRunning };
// How a trial the controller sent ended (netrig_agent_trials_total{result}).
enum class TrialResult { kCompleted, kInterrupted, kRefused };

// A counter made monotonic over a source that may restart from zero (a PMD's counters after a
// device reset): a decrease is taken as a restart and the new value is added in full.
class MonotonicTotal {
 public:
  uint64_t Update(uint64_t raw) {
    total_ += raw >= last_ ? raw - last_ : raw;
    last_ = raw;
    return total_;
  }
  uint64_t value() const { return total_; }

 private:
  uint64_t last_ = 0;
  uint64_t total_ = 0;
};

// Everything one scrape renders: plain data, so rendering is tested without DPDK.
struct AgentMetricsSample {
  std::string version;
  SessionState session_state = SessionState::kDisconnected;
  uint64_t trials_completed = 0;
  uint64_t trials_interrupted = 0;
  uint64_t trials_refused = 0;
  RuntimeSample runtime;  // port counters already made monotonic
};

std::vector<prometheus::MetricFamily> RenderAgentMetrics(const AgentMetricsSample& sample);

// The agent's /readyz: ready (OK) while its session with the controller is registered (idle or
// running a trial), so a pool's ready pods are the agents the controller can schedule on.
// Unavailable, saying so, when disconnected.
absl::Status SessionReadiness(SessionState state);

class AgentMetrics final : public prometheus::Registry {
 public:
  // `runtime` must outlive this object and every scrape of it: stop the endpoint serving it
  // before the runtime goes.
  AgentMetrics(const AgentRuntime& runtime, std::string version);

  // Thread-safe.
  void SetSessionState(SessionState state) { session_state_.store(state); }
  void CountTrial(TrialResult result);
  // SessionReadiness of the current session state. Thread-safe.
  absl::Status Ready() const { return SessionReadiness(session_state_.load()); }

  // Scrape time (the endpoint's thread): samples the runtime and renders every family.
  std::vector<prometheus::MetricFamily> Collect() const override;

  // The counters of io::PortStats.
  static constexpr size_t kPortCounters = 8;

 private:
  const AgentRuntime& runtime_;
  const std::string version_;
  std::atomic<SessionState> session_state_{SessionState::kDisconnected};
  std::atomic<uint64_t> trials_completed_{0};
  std::atomic<uint64_t> trials_interrupted_{0};
  std::atomic<uint64_t> trials_refused_{0};
  // Serialises scrapes over the monotonic port totals.
  mutable absl::Mutex mu_;
  mutable std::vector<std::array<MonotonicTotal, kPortCounters>> port_totals_ ABSL_GUARDED_BY(mu_);
};

}  // namespace netrig::agent::control
