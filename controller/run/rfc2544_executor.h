// Drives an RFC 2544 benchmark (controller/methodology) through real agents: each trial the
// methodology asks for becomes streams on the agents that own the spec's ports, runs in
// lock-step through the TrialCoordinator, and comes back as one TrialResult built from final
// counters: frames sent from the sender's counters, frames received from the receiver's.
// One methodology instance per traffic entry (direction); a bidirectional entry offers the
// same rate from each side (RFC 2544 §14) and passes only if both directions do.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/agents/trial_coordinator.h"
#include "controller/methodology/rfc2544.h"
#include "lib/spec/run_plan.h"
#include "proto/netrig/v1/controller.pb.h"

namespace netrig::controller::run {

// Where a port role of the spec is, once agents are placed.
struct BoundPort {
  std::string role;        // "west"
  std::string agent_id;
  std::string agent_port;  // the agent's port name
  uint64_t speed_bps = 0;
  std::string mac;         // the agent port's MAC
  // Next hop for frames this port SENDS: the SUT interface it is cabled to (a router's MAC).
  // Empty: frames go to the receiving port's own MAC (back to back, or through a bridge).
  std::string gateway_mac;
};

// One stream's live counters during a trial, as one agent reported them.
struct LiveSample {
  std::string stream;      // "west-east": the direction frames travel
  std::string port;        // the TX port role ("west")
  bool sender = false;     // reported by the agent that transmits the stream (tx counters)
  bool receiver = false;   // reported by the agent that receives it (rx counters)
  double elapsed_s = 0;    // since the trial's start
  uint64_t tx_packets = 0, rx_packets = 0;
  double target_fps = 0;
  uint64_t latency_p50_ns = 0, latency_p99_ns = 0, latency_p999_ns = 0;
};

struct ExecutorCallbacks {
  // Every trial as it ends, with the agents' final per-flow counters (`outcome.batches`).
  std::function<void(const v1::TrialRecord&, const agents::TrialOutcome& outcome)> on_trial;
  std::function<void(const v1::TestRunProgress&)> on_progress;
  // Live view of the trial in progress, from the agents' interim reports (about every second):
  // one entry per stream and reporting agent. Never used for results.
  std::function<void(const std::vector<LiveSample>&)> on_live;
};

class Rfc2544Executor {
 public:
  static absl::StatusOr<std::unique_ptr<Rfc2544Executor>> Create(
      const spec::RunPlan& plan, std::vector<BoundPort> ports,
      agents::TrialCoordinator& coordinator, ExecutorCallbacks callbacks);

  // Runs every direction to the end (or until `cancel`: then Cancelled). Returns the results.
  absl::StatusOr<std::vector<v1::TestRunResult>> Run(const std::atomic<bool>& cancel);

  // The generator's self-calibration on the run's own ports, before the benchmark: per
  // direction, an unlimited-rate trial of minimum-size frames (the sender's maximum rate,
  // counted at its TX port) and a low-rate trial (`floor_fps`) whose latency is the floor of
  // the measurement path with the SUT idle. A direction that cannot be measured carries the
  // reason in `error`; only a cancellation or a coordinator failure is an error here.
  absl::StatusOr<std::vector<v1::Calibration>> Calibrate(absl::Duration duration, double floor_fps,
                                                         const std::atomic<bool>& cancel);

  struct Direction {
    std::string label;  // "west->east" or "west<->east"
    const BoundPort* from = nullptr;
    const BoundPort* to = nullptr;
    uint32_t flows = 1;
    bool bidirectional = false;
    std::unique_ptr<methodology::Rfc2544> engine;
  };
  const std::vector<Direction>& directions() const { return directions_; }

  // Builds the per-agent trials for a request (exposed for tests).
  std::vector<agents::AgentTrial> BuildTrial(const Direction& d,
                                             const methodology::TrialRequest& req) const;
  // Aggregates the agents' final counters into the methodology's view (exposed for tests).
  static methodology::TrialResult Aggregate(const Direction& d, const agents::TrialOutcome& out);

 private:
  Rfc2544Executor() = default;
  // Turns the agents' interim batches of a trial in direction `d` into live samples.
  agents::TrialCoordinator::InterimListener InterimListener(const Direction& d) const;

  spec::RunPlan plan_;
  std::vector<BoundPort> ports_;
  agents::TrialCoordinator* coordinator_ = nullptr;
  ExecutorCallbacks callbacks_;
  std::vector<Direction> directions_;
};

// Results for one direction's reports, as TestRunResult figures.
std::vector<v1::TestRunResult> ResultsOf(const Rfc2544Executor::Direction& d);
// How each requested benchmark ended, per frame size (one JUnit case each).
std::vector<v1::TestOutcome> OutcomesOf(const Rfc2544Executor::Direction& d);
// The receivers' latency histograms of a trial, merged (bucket-wise sums).
v1::LatencyHistogram MergedHistogram(const Rfc2544Executor::Direction& d,
                                     const agents::TrialOutcome& outcome);

}  // namespace netrig::controller::run
