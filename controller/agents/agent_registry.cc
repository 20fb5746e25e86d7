#include "controller/agents/agent_registry.h"

namespace netrig::controller::agents {

const char* AgentStateName(AgentState s) {
  switch (s) {
    case AgentState::kAvailable:
      return "available";
    case AgentState::kBusy:
      return "busy";
    case AgentState::kUnavailable:
      return "unavailable";
  }
  return "?";
}

void AgentRegistry::Register(const v1::AgentCapabilities& caps,
                             std::shared_ptr<AgentConnection> conn, absl::Time now) {
  absl::MutexLock lock(&mu_);
  AgentRecord& r = agents_[caps.agent_id()];
  r.id = caps.agent_id();
  r.capabilities = caps;
  r.state = AgentState::kAvailable;
  r.registered = now;
  r.last_seen = now;
  r.unavailable_reason.clear();
  ++r.sessions;
  connections_[caps.agent_id()] = std::move(conn);
}

void AgentRegistry::Remove(const std::string& id) {
  absl::MutexLock lock(&mu_);
  agents_.erase(id);
  connections_.erase(id);
}

void AgentRegistry::Heartbeat(const std::string& id, absl::Time now, const std::string& state) {
  absl::MutexLock lock(&mu_);
  auto it = agents_.find(id);
  if (it != agents_.end() && it->second.state != AgentState::kUnavailable) {
    it->second.last_seen = now;
    if (!state.empty()) it->second.reported_state = state;
  }
}

void AgentRegistry::MarkLostLocked(const std::string& id, const std::string& reason,
                                   std::vector<std::pair<std::string, std::string>>& lost) {
  auto it = agents_.find(id);
  if (it == agents_.end() || it->second.state == AgentState::kUnavailable) {
    return;
  }
  it->second.state = AgentState::kUnavailable;
  it->second.unavailable_reason = reason;
  connections_.erase(id);
  lost.emplace_back(id, reason);
}

void AgentRegistry::Notify(const std::vector<std::pair<std::string, std::string>>& lost) {
  if (lost.empty()) {
    return;
  }
  std::vector<LostListener> listeners;
  {
    absl::MutexLock lock(&mu_);
    listeners = listeners_;
  }
  for (const auto& [id, reason] : lost) {
    for (const auto& l : listeners) {
      l(id, reason);
    }
  }
}

void AgentRegistry::SessionEnded(const std::string& id, const AgentConnection* conn,
                                 const std::string& reason) {
  std::vector<std::pair<std::string, std::string>> lost;
  {
    absl::MutexLock lock(&mu_);
    auto it = connections_.find(id);
    if (it == connections_.end() || it->second.get() != conn) {
      return;  // a newer session replaced this one
    }
    MarkLostLocked(id, reason, lost);
  }
  Notify(lost);
}

void AgentRegistry::Sweep(absl::Time now) {
  std::vector<std::pair<std::string, std::string>> lost;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, r] : agents_) {
      if (r.state != AgentState::kUnavailable && now - r.last_seen > timeout_) {
        MarkLostLocked(id,
                       "no heartbeat for " + absl::FormatDuration(now - r.last_seen) +
                           " (timeout " + absl::FormatDuration(timeout_) + ")",
                       lost);
      }
    }
  }
  Notify(lost);
}

bool AgentRegistry::Acquire(const std::vector<std::string>& ids) {
  absl::MutexLock lock(&mu_);
  for (const std::string& id : ids) {
    auto it = agents_.find(id);
    if (it == agents_.end() || it->second.state != AgentState::kAvailable) {
      return false;
    }
  }
  for (const std::string& id : ids) {
    agents_[id].state = AgentState::kBusy;
  }
  return true;
}

void AgentRegistry::Release(const std::vector<std::string>& ids) {
  absl::MutexLock lock(&mu_);
  for (const std::string& id : ids) {
    auto it = agents_.find(id);
    if (it != agents_.end() && it->second.state == AgentState::kBusy) {
      it->second.state = AgentState::kAvailable;
    }
  }
}

std::vector<AgentRecord> AgentRegistry::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<AgentRecord> out;
  for (const auto& [id, r] : agents_) {
    out.push_back(r);
  }
  return out;
}

std::shared_ptr<AgentConnection> AgentRegistry::Connection(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second;
}

void AgentRegistry::AddLostListener(LostListener listener) {
  absl::MutexLock lock(&mu_);
  listeners_.push_back(std::move(listener));
}

}  // namespace netrig::controller::agents
