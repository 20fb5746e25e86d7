#include "controller/agents/trial_coordinator.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace netrig::controller::agents {

TrialCoordinator::TrialCoordinator(AgentRegistry& registry, Options options)
    : registry_(registry), options_(options) {
  registry_.AddLostListener([this](const std::string& id, const std::string& reason) {
    OnAgentLost(id, reason);
  });
}

void TrialCoordinator::InvalidateLocked(Pending& p, const std::string& reason) {
  if (!p.done) {
    p.outcome.valid = false;
    p.outcome.invalid_reason = reason;
    p.done = true;
  }
}

absl::StatusOr<TrialOutcome> TrialCoordinator::Run(std::vector<AgentTrial> trials,
                                                   InterimListener on_interim) {
  if (trials.empty()) {
    return absl::InvalidArgumentError("a trial needs at least one agent");
  }
  auto pending = std::make_shared<Pending>();
  pending->on_interim = std::move(on_interim);
  std::string trial_id;
  uint64_t longest_ns = 0;
  const uint64_t start_ns =
      static_cast<uint64_t>(absl::ToUnixNanos(absl::Now() + options_.start_lead));
  {
    absl::MutexLock lock(&mu_);
    trial_id = absl::StrCat("t", next_id_++);
    for (const AgentTrial& t : trials) {
      pending->acked[t.agent_id] = false;
    }
    pending_[trial_id] = pending;
  }
  // Every agent must be connected before any is sent anything: a trial that cannot run on all
  // of them is not started on some (and the reason names the missing agent, not the busy
  // partner of a retry).
  std::vector<std::shared_ptr<AgentConnection>> conns;
  bool all_connected = true;
  for (const AgentTrial& t : trials) {
    conns.push_back(registry_.Connection(t.agent_id));
    if (conns.back() == nullptr) {
      all_connected = false;
      std::string why;
      for (const AgentRecord& r : registry_.List()) {
        if (r.id == t.agent_id && !r.unavailable_reason.empty()) why = " (" + r.unavailable_reason + ")";
      }
      absl::MutexLock lock(&mu_);
      InvalidateLocked(*pending, absl::StrCat("agent ", t.agent_id, " is not connected", why));
      break;
    }
  }
  for (size_t i = 0; all_connected && i < trials.size(); ++i) {
    AgentTrial& t = trials[i];
    longest_ns = std::max(longest_ns, t.start.duration_ns() + t.start.drain_ns());
    v1::ControllerMessage msg;
    msg.set_command_id(absl::StrCat(trial_id, "/", t.agent_id));
    *msg.mutable_start() = std::move(t.start);
    msg.mutable_start()->set_trial_id(trial_id);
    msg.mutable_start()->set_start_unix_ns(start_ns);
    if (pending->on_interim) {
      msg.mutable_start()->set_progress_interval_ns(
          static_cast<uint64_t>(absl::ToInt64Nanoseconds(options_.progress_interval)));
    }
    {
      absl::MutexLock lock(&mu_);
      command_to_trial_[msg.command_id()] = trial_id;
    }
    if (!conns[i]->Send(msg)) {
      absl::MutexLock lock(&mu_);
      InvalidateLocked(*pending, absl::StrCat("agent ", t.agent_id, " is not connected (its session broke)"));
      break;
    }
  }
  const absl::Time deadline = absl::Now() + options_.start_lead + options_.ack_timeout +
                              absl::Nanoseconds(longest_ns) + options_.report_slack;
  absl::MutexLock lock(&mu_);
  const auto complete = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (pending->done) return true;
    for (const auto& [agent, acked] : pending->acked) {
      if (pending->outcome.batches.count(agent) == 0) return false;
    }
    pending->outcome.valid = true;
    pending->done = true;
    return true;
  };
  while (!complete()) {
    if (mu_.AwaitWithDeadline(absl::Condition(&complete), deadline)) break;
    InvalidateLocked(*pending, "timed out waiting for the agents' final counters");
  }
  TrialOutcome out = std::move(pending->outcome);
  pending_.erase(trial_id);
  for (auto it = command_to_trial_.begin(); it != command_to_trial_.end();) {
    it = it->second == trial_id ? command_to_trial_.erase(it) : std::next(it);
  }
  if (!out.valid) {
    // Make sure nobody keeps transmitting for a trial nobody is watching any more.
    v1::ControllerMessage stop;
    stop.mutable_stop()->set_trial_id(trial_id);
    stop.mutable_stop()->set_reason(out.invalid_reason);
    for (const AgentTrial& t : trials) {
      if (auto conn = registry_.Connection(t.agent_id)) conn->Send(stop);
    }
  }
  return out;
}

void TrialCoordinator::Cancel(const std::string& trial_id) {
  absl::MutexLock lock(&mu_);
  auto it = pending_.find(trial_id);
  if (it != pending_.end()) {
    InvalidateLocked(*it->second, "cancelled");
  }
}

void TrialCoordinator::CancelAgents(const std::vector<std::string>& agent_ids,
                                    const std::string& reason) {
  absl::MutexLock lock(&mu_);
  for (auto& [id, p] : pending_) {
    for (const std::string& a : agent_ids) {
      if (p->acked.count(a) != 0) {
        InvalidateLocked(*p, reason);
        break;
      }
    }
  }
}

void TrialCoordinator::OnAck(const std::string& agent_id, const v1::CommandAck& ack) {
  absl::MutexLock lock(&mu_);
  auto c = command_to_trial_.find(ack.command_id());
  if (c == command_to_trial_.end()) return;
  auto it = pending_.find(c->second);
  if (it == pending_.end()) return;
  Pending& p = *it->second;
  p.acked[agent_id] = true;
  if (!ack.ok()) {
    InvalidateLocked(p, absl::StrCat("agent ", agent_id, " refused the trial: ", ack.error()));
  }
}

void TrialCoordinator::OnBatch(const v1::FlowStatsBatch& batch) {
  InterimListener listener;
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(batch.trial_id());
    if (it == pending_.end()) return;
    if (batch.final()) {
      it->second->outcome.batches[batch.agent_id()] = batch;
      return;
    }
    // Interim counters only feed live views: never results.
    if (it->second->done || batch.elapsed_ns() == 0) return;
    listener = it->second->on_interim;
  }
  if (listener) listener(batch);
}

void TrialCoordinator::OnAgentLost(const std::string& agent_id, const std::string& reason) {
  absl::MutexLock lock(&mu_);
  for (auto& [id, p] : pending_) {
    if (p->acked.count(agent_id) != 0 && p->outcome.batches.count(agent_id) == 0) {
      InvalidateLocked(*p, absl::StrCat("agent ", agent_id, " was lost during the trial: ", reason));
    }
  }
}

}  // namespace netrig::controller::agents
