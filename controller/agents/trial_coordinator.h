// Runs one trial across several agents in lock-step: sends each agent its streams with one
// common start time, then waits for every agent's FINAL counters (read by the agent after TX
// stopped and the drain elapsed; counters read mid-trial would report phantom loss). A trial
// is valid only if every agent acknowledged and reported; an agent lost mid-trial, a refused
// configuration or a timeout invalidates it, with the reason. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/agents/agent_registry.h"
#include "proto/netrig/v1/agent.pb.h"

namespace netrig::controller::agents {

struct AgentTrial {
  std::string agent_id;
  v1::TrialStart start;  // trial_id and start time are filled by the coordinator
};

struct TrialOutcome {
  bool valid = false;
  std::string invalid_reason;
  std::map<std::string, v1::FlowStatsBatch> batches;  // by agent id
};

class TrialCoordinator {
 public:
  struct Options {
    absl::Duration start_lead = absl::Milliseconds(300);  // common start = now + lead
    absl::Duration ack_timeout = absl::Seconds(5);
    absl::Duration report_slack = absl::Seconds(10);       // beyond duration + drain
    absl::Duration progress_interval = absl::Seconds(1);   // interim batches, when listened to
  };

  TrialCoordinator(AgentRegistry& registry, Options options);

  // Interim (non-final) batches of a running trial, for live views. Called on the session
  // thread that received the batch, without the coordinator's lock; keep it short.
  using InterimListener = std::function<void(const v1::FlowStatsBatch& batch)>;

  // Blocks until the trial is complete or invalid. Errors (not invalid trials) only for
  // programming mistakes such as an empty trial. With `on_interim`, agents are asked for
  // interim stream aggregates every `progress_interval` and each reaches the listener.
  absl::StatusOr<TrialOutcome> Run(std::vector<AgentTrial> trials,
                                   InterimListener on_interim = nullptr);

  // Cancels a running trial: TrialStop to every agent; the trial ends invalid ("cancelled").
  void Cancel(const std::string& trial_id);
  // Cancels every running trial that involves one of these agents, with `reason`.
  void CancelAgents(const std::vector<std::string>& agent_ids, const std::string& reason);

  // Inputs from the session service.
  void OnAck(const std::string& agent_id, const v1::CommandAck& ack);
  void OnBatch(const v1::FlowStatsBatch& batch);
  void OnAgentLost(const std::string& agent_id, const std::string& reason);

 private:
  struct Pending {
    std::map<std::string, bool> acked;  // agent -> acknowledged
    TrialOutcome outcome;
    bool done = false;
    InterimListener on_interim;
  };
  void InvalidateLocked(Pending& p, const std::string& reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  AgentRegistry& registry_;
  const Options options_;
  absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::string, std::shared_ptr<Pending>> pending_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> command_to_trial_ ABSL_GUARDED_BY(mu_);
};

}  // namespace netrig::controller::agents
