// Runs: submission (validated with lib/spec, every error with its field path), the queue
// (priority by level, then submission order), placement on available agents, execution
// through the RFC 2544 executor, cancellation, and recovery after a controller crash. Every
// state change is written to the StateStore before it is reported, so a restart loses nothing
// that was reported. Thread-safe; the same functions serve gRPC and REST.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "controller/agents/agent_registry.h"
#include "controller/agents/trial_coordinator.h"
#include "controller/run/rfc2544_executor.h"
#include "controller/store/state_store.h"
#include "proto/netrig/v1/controller.pb.h"

namespace netrig::controller::api {

struct RunServiceOptions {
  absl::Duration schedule_interval = absl::Milliseconds(200);
  // Per-flow counters of every trial go to <results_dir>/<run-id>/trial-<n>.json (large series
  // stay out of the store). Empty: not written.
  std::string results_dir;
};

class RunService {
 public:
  RunService(store::StateStore& store, agents::AgentRegistry& registry,
             agents::TrialCoordinator& coordinator, RunServiceOptions options = {});
  ~RunService();

  // Recovers runs a previous controller left running (marked Interrupted), then starts the
  // scheduler.
  absl::Status Start();
  void Stop();

  v1::ValidateRunResponse Validate(const std::string& document) const;
  // InvalidArgument with every field error, one per line.
  absl::StatusOr<v1::Run> Submit(const std::string& document);
  absl::StatusOr<v1::Run> Get(const std::string& id) const;
  // Also returns the store revision of the record (for watching).
  absl::StatusOr<v1::Run> Get(const std::string& id, int64_t* revision) const;
  absl::StatusOr<std::vector<v1::Run>> List(const std::string& phase, uint32_t limit) const;
  // FailedPrecondition when the run already finished; NotFound for an unknown id.
  absl::StatusOr<v1::Run> Cancel(const std::string& id, const std::string& reason);
  absl::StatusOr<v1::RunResults> Results(const std::string& id) const;
  std::vector<v1::AgentInfo> Agents() const;

  static bool IsTerminal(const std::string& phase);

 private:
  struct Active {
    std::atomic<bool> cancel{false};
    std::string cancel_reason;
    std::vector<std::string> agents;
    std::thread thread;
  };

  void SchedulerLoop();
  // Places and starts one queued run if its agents are free. True if it started.
  bool TryStart(const std::string& id);
  void Execute(std::string id, std::shared_ptr<Active> active, std::vector<run::BoundPort> ports);
  // Read-modify-write of a run record with optimistic concurrency (retries on conflict).
  absl::StatusOr<v1::Run> Update(const std::string& id,
                                 const std::function<void(v1::Run&)>& mutate);
  void DeleteQueueEntry(const std::string& id);
  void WriteFlowFile(const std::string& id, int64_t n, const v1::TrialRecord& t,
                     const agents::TrialOutcome& outcome) const;
  void Finish(const std::string& id, const std::string& phase, const std::string& verdict,
              const std::string& summary, const std::string& reason);

  store::StateStore& store_;
  agents::AgentRegistry& registry_;
  agents::TrialCoordinator& coordinator_;
  const RunServiceOptions options_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Active>> active_ ABSL_GUARDED_BY(mu_);
  uint64_t id_counter_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<bool> stop_{false};
  std::thread scheduler_;
};

// Phase names.
inline constexpr char kPending[] = "Pending";
inline constexpr char kRunning[] = "Running";
inline constexpr char kSucceeded[] = "Succeeded";
inline constexpr char kFailed[] = "Failed";
inline constexpr char kCancelled[] = "Cancelled";
inline constexpr char kInterrupted[] = "Interrupted";

}  // namespace netrig::controller::api
