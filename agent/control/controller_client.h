// The agent's session with the controller: dial, register capabilities, heartbeat, run the
// trials the controller sends (one at a time) and report final per-flow counters; reconnect
// with exponential backoff. Trials that ask for progress (TrialStart.progress_interval_ns)
// also report interim stream aggregates while they run, on a ReportStats stream of their own.
//
// Safety stop: when the session breaks (controller gone, network cut, HTTP/2 keepalive
// unanswered), a running trial is interrupted at once: a line-rate generator never keeps
// transmitting into a network nobody is watching. The bound is the keepalive timeout plus the
// trial loop's 5 ms poll.
#pragma once

#include <atomic>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "agent/control/agent_metrics.h"
#include "agent/control/agent_runtime.h"

namespace netrig::agent::control {

struct ClientOptions {
  std::string target;  // controller address, "127.0.0.1:7400"
  std::string agent_id;
  std::map<std::string, std::string> labels;
  absl::Duration heartbeat = absl::Seconds(1);
  absl::Duration backoff_min = absl::Milliseconds(200);
  absl::Duration backoff_max = absl::Seconds(5);
  absl::Duration rpc_deadline = absl::Seconds(5);
  absl::Duration keepalive = absl::Seconds(2);  // HTTP/2 ping interval; timeout the same
  // /metrics address reported at registration; empty: metrics are off.
  std::string metrics_address;
};

class ControllerClient {
 public:
  // `metrics` (may be null) follows the session state and counts trials; it must outlive Run().
  ControllerClient(AgentRuntime& runtime, ClientOptions options, AgentMetrics* metrics = nullptr);
  // Serves until `shutdown` is set (checked at least every heartbeat).
  void Run(const std::atomic<bool>& shutdown);

 private:
  // One session; returns when it ends. True if it had registered (resets the backoff).
  bool ServeSession(const std::atomic<bool>& shutdown);
  void SetState(SessionState state);
  void CountTrial(TrialResult result);

  AgentRuntime& runtime_;
  ClientOptions options_;
  AgentMetrics* metrics_;
};

}  // namespace netrig::agent::control
