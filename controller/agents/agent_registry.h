// Which agents exist, what their ports can do, and whether they are alive. Agents dial the
// controller; each live session registers an AgentConnection through which commands are sent.
// Liveness: an agent whose session ended, or that sent nothing for `heartbeat_timeout`, is
// unavailable, and every listener is told (a running trial on it becomes invalid).
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/netrig/v1/agent.pb.h"

namespace netrig::controller::agents {

// The controller's handle on one agent session. Send() may be called from any thread.
class AgentConnection {
 public:
  virtual ~AgentConnection() = default;
  // False when the session is gone.
  virtual bool Send(const v1::ControllerMessage& message) = 0;
};

enum class AgentState { kAvailable, kBusy, kUnavailable };
const char* AgentStateName(AgentState s);

struct AgentRecord {
  std::string id;
  v1::AgentCapabilities capabilities;
  AgentState state = AgentState::kUnavailable;
  absl::Time registered;
  absl::Time last_seen;
  std::string unavailable_reason;
  uint64_t sessions = 0;  // how many times it (re)registered
  std::string reported_state;  // from its last heartbeat: idle | running
};

class AgentRegistry {
 public:
  using LostListener = std::function<void(const std::string& agent_id, const std::string& reason)>;

  explicit AgentRegistry(absl::Duration heartbeat_timeout) : timeout_(heartbeat_timeout) {}

  // A session registered (or re-registered: the old connection is replaced).
  void Register(const v1::AgentCapabilities& caps, std::shared_ptr<AgentConnection> conn,
                absl::Time now);
  // Any message from the agent counts; `state` (if not empty) is what the agent reports.
  void Heartbeat(const std::string& id, absl::Time now, const std::string& state = "");
  // The session of `conn` ended (only if it is still the agent's current connection).
  void SessionEnded(const std::string& id, const AgentConnection* conn, const std::string& reason);
  // Marks agents silent for longer than the timeout unavailable. Call periodically.
  void Sweep(absl::Time now);

  // Busy/available bookkeeping for the scheduler. Acquire fails unless every agent is available.
  bool Acquire(const std::vector<std::string>& ids);
  void Release(const std::vector<std::string>& ids);

  std::vector<AgentRecord> List() const;
  // Forgets an agent whose end was expected (a local agent stopped after its run): it is
  // neither listed nor counted as unavailable afterwards. Its connection, if any, is dropped.
  void Remove(const std::string& id);
  std::shared_ptr<AgentConnection> Connection(const std::string& id) const;
  void AddLostListener(LostListener listener);

 private:
  void MarkLostLocked(const std::string& id, const std::string& reason,
                      std::vector<std::pair<std::string, std::string>>& lost)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Notify(const std::vector<std::pair<std::string, std::string>>& lost);

  const absl::Duration timeout_;
  mutable absl::Mutex mu_;
  std::map<std::string, AgentRecord> agents_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<AgentConnection>> connections_ ABSL_GUARDED_BY(mu_);
  std::vector<LostListener> listeners_ ABSL_GUARDED_BY(mu_);
};

}  // namespace netrig::controller::agents
