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

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "controller/agents/agent_registry.h"
#include "controller/agents/trial_coordinator.h"
#include "controller/local/local_agents.h"
#include "controller/metrics/controller_metrics.h"
#include "controller/run/rfc2544_executor.h"
#include "controller/sut/sut_provider.h"
#include "controller/store/state_store.h"
#include "proto/netrig/v1/controller.pb.h"

namespace netrig::controller::api {

// Run labels the metrics read (docs/metrics.md).
inline constexpr char kTriggerLabel[] = "netrig.io/trigger";
inline constexpr char kSuiteLabel[] = "netrig.io/suite";

// Phase names.
inline constexpr char kPending[] = "Pending";
inline constexpr char kRunning[] = "Running";
inline constexpr char kSucceeded[] = "Succeeded";
inline constexpr char kFailed[] = "Failed";
inline constexpr char kCancelled[] = "Cancelled";
inline constexpr char kInterrupted[] = "Interrupted";

struct RunServiceOptions {
  absl::Duration schedule_interval = absl::Milliseconds(200);
  // Per-flow counters of every trial go to <results_dir>/<run-id>/trial-<n>.json (large series
  // stay out of the store). Empty: not written.
  std::string results_dir;
  // Builds the SUT of runs whose spec names a template (spec.sut.template). Null: templates
  // are external (the SUT exists already, the template name is only reported).
  sut::SutProvider* sut_provider = nullptr;
  std::string sut_provider_name = "none";  // for the fingerprint: netns | none
  // Local mode: with a SUT provider, the run's ports are served by an agent the controller
  // starts for the run on the SUT's links. Null or disabled: runs with a SUT fail with a
  // clear error (a provider's veths are only reachable from this machine).
  const local::LocalAgents* local_agents = nullptr;
  // Cluster mode (the kubernetes provider): the SUT sits on networks that pool agents are
  // attached to, so a run with a SUT is placed on registered agents like any other run (it stays
  // queued until they are available), and each port's gateway is the SUT's next hop on the link
  // of the same name. local_agents is not used.
  bool sut_on_pool_agents = false;
  absl::Duration sut_ready_timeout = absl::Seconds(60);  // spec.sut.parameters.readyTimeout
  absl::Duration agent_register_timeout = absl::Seconds(30);
  // Self-calibration before the benchmark (maximum rate and latency floor); zero: skipped.
  absl::Duration calibration_duration = absl::Seconds(1);
  double calibration_floor_fps = 1000;
  std::string controller_version;
  // Prometheus metrics (docs/metrics.md); null: none.
  metrics::ControllerMetrics* metrics = nullptr;
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
  // `labels` are added to metadata.labels where the document has none of that key.
  // A non-empty `request_id` is an idempotency key: when a run was already submitted with it,
  // that run is returned and nothing new is queued (the document is not even parsed).
  absl::StatusOr<v1::Run> Submit(const std::string& document,
                                 const std::map<std::string, std::string>& labels = {},
                                 const std::string& request_id = "");
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
  // The run a Submit with this idempotency key created; NotFound if none.
  absl::StatusOr<v1::Run> RunForRequest(const std::string& request_id) const;
  struct Active {
    std::atomic<bool> cancel{false};
    std::string cancel_reason;
    std::vector<std::string> agents;
    bool uses_sut = false;
    std::string level;  // for netrig_runs_running
    std::atomic<bool> done{false};  // the thread finished: reapable
    std::thread thread;
  };
  // How an execution ended, recorded by Finish after the cleanup.
  struct Ending {
    std::string phase = kFailed, verdict, summary, reason = "Error";
  };

  void SchedulerLoop();
  // Places and starts one queued run if its agents are free. True if it started.
  bool TryStart(const std::string& id);
  // Starts a run whose SUT this controller builds (and whose agents it starts).
  // Ports placed on registered agents, and the agents to acquire.
  struct Placement {
    std::vector<run::BoundPort> bound;
    std::vector<std::string> agent_ids;
  };
  // Places every spec port on an available agent port (pool, name, labels, speed, driver);
  // nullopt (and a WaitingForAgents condition on the run) when one cannot be placed.
  std::optional<Placement> Place(const std::string& id, const spec::RunPlan& plan);
  bool TryStartWithSut(const std::string& id, const v1::Run& run,
                       std::optional<Placement> placement = std::nullopt);
  void Execute(std::string id, std::shared_ptr<Active> active, std::vector<run::BoundPort> ports);
  // `pool_ports`: cluster mode (ports already placed on pool agents); nullopt: local agents.
  void ExecuteWithSut(std::string id, std::shared_ptr<Active> active,
                      std::optional<std::vector<run::BoundPort>> pool_ports);
  // Runs the benchmark on bound ports: calibration, the executor, the verdict.
  Ending Benchmark(const std::string& id, Active& active, const std::vector<run::BoundPort>& ports,
                   v1::RunFingerprint& fingerprint);
  // Create + WaitReady, sliced so a cancellation is seen within a second.
  absl::StatusOr<sut::SutInstance> ProvisionSut(const std::string& id, const v1::Run& run,
                                                Active& active, std::string* reason);
  // Starts the local agent for the SUT's links and waits for it to register; binds the ports.
  absl::StatusOr<std::vector<run::BoundPort>> StartLocalAgent(const std::string& id,
                                                              const v1::Run& run,
                                                              const sut::SutInstance& sut,
                                                              Active& active,
                                                              local::LocalAgent* agent,
                                                              std::string* reason);
  static Ending Verdict(const std::vector<v1::TestOutcome>& outcomes,
                        const std::vector<v1::TestRunResult>& results);
  // spec.verdict: a passing run whose throughput or back-to-back figures fall more than
  // maxRegression below its baseline's becomes Regressed.
  void CompareWithBaseline(const v1::Run& run, const std::vector<v1::TestRunResult>& results,
                           Ending& e) const;
  // Queue (the entries the scheduler listed) and running counts by level, agents by pool and
  // state.
  void UpdateGauges(const std::vector<store::KeyValue>& queue);
  void FillFingerprint(const v1::Run& run, const std::vector<run::BoundPort>& ports,
                       v1::RunFingerprint& fingerprint) const;
  absl::StatusOr<std::vector<run::BoundPort>> BindLocalPorts(
      const std::string& id, const local::LocalAgent& agent,
      const std::vector<spec::PortPlan>& wanted);
  void RemoveOrphanSuts();
  void SetStatusCondition(const std::string& id, const std::string& type,
                          const std::string& status, const std::string& reason,
                          const std::string& message);
  void RecordFingerprint(const std::string& id, const v1::RunFingerprint& fingerprint,
                         const std::vector<v1::TestOutcome>& outcomes);
  // Read-modify-write of a run record with optimistic concurrency (retries on conflict).
  absl::StatusOr<v1::Run> Update(const std::string& id,
                                 const std::function<void(v1::Run&)>& mutate);
  void DeleteQueueEntry(const std::string& id);
  void WriteFlowFile(const std::string& id, int64_t n, const v1::TrialRecord& t,
                     const agents::TrialOutcome& outcome) const;
  // Records the end of a run. With `report`, the report files are written first (into
  // results_dir/<id>/) from the final record, and status.reportURL names them.
  void Finish(const std::string& id, const std::string& phase, const std::string& verdict,
              const std::string& summary, const std::string& reason, bool report = false);
  void Finish(const std::string& id, const Ending& e, bool report) {
    Finish(id, e.phase, e.verdict, e.summary, e.reason, report);
  }

  store::StateStore& store_;
  agents::AgentRegistry& registry_;
  agents::TrialCoordinator& coordinator_;
  const RunServiceOptions options_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Active>> active_ ABSL_GUARDED_BY(mu_);
  uint64_t id_counter_ ABSL_GUARDED_BY(mu_) = 0;  // 0: not seeded yet
  absl::BitGen id_bits_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> stop_{false};
  std::thread scheduler_;
};

}  // namespace netrig::controller::api
