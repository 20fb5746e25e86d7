// The agent's long-lived data-plane runtime: EAL and ports are opened once; trials (a set of
// streams, a start time, a duration and a drain time) run on demand and return final per-flow
// counters. The standalone mode runs one trial; the controller session runs many.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "agent/dataplane/worker.h"
#include "agent/io/eal_session.h"
#include "agent/io/port.h"
#include "proto/netrig/v1/agent.pb.h"

namespace netrig::agent::control {

struct RuntimeOptions {
  std::vector<unsigned> lcores = {0, 1};  // main lcore first, then worker lcores
  unsigned workers = 1;
  dataplane::PollMode mode = dataplane::PollMode::kAdaptive;
  int no_huge = -1;  // -1: auto (no hugepages free -> --no-huge)
  unsigned memory_mb = 1024;
  std::string eal_log_level = "notice";
};

// Port configuration -> PortSpec; errors name the field under `path` ("ports[1]").
absl::StatusOr<io::PortSpec> ToPortSpec(const v1::PortConfig& p, const std::string& path);

// Checks a port list before anything starts: each port, unique names and interfaces.
absl::Status ValidatePorts(const google::protobuf::RepeatedPtrField<v1::PortConfig>& ports);

struct TrialOutcome {
  v1::FlowStatsBatch stats;
  v1::AgentCounters counters;  // this trial's share of the lcore counters
  bool interrupted = false;
};

// Receives interim batches (final = false, elapsed_ns set, stream aggregates only) on the
// thread running RunTrial. It must not block: the same thread watches the trial's end.
using ProgressCallback = std::function<void(v1::FlowStatsBatch)>;

// Lcore anomaly counters summed over worker lcores.
struct AnomalyCounters {
  uint64_t tx_alloc_fail = 0;
  uint64_t tx_ring_full = 0;
  uint64_t rx_not_probe = 0;
  uint64_t rx_unknown_flow = 0;
};

// A point-in-time view of the runtime's cumulative counters (for /metrics).
struct RuntimeSample {
  struct Lcore {
    unsigned lcore = 0;
    uint64_t busy_tsc = 0;  // over every trial so far, including the running one
  };
  struct Port {
    std::string name;
    std::string pmd;
    std::string device;  // interface or PCI address; the ethdev name for ring/null ports
    uint64_t speed_bps = 0;
    std::optional<io::PortStats> stats;  // nullopt when the port could not be read
  };
  std::vector<Port> ports;    // in port order; empty once the ports are closed
  std::vector<Lcore> lcores;  // every worker lcore of the EAL
  AnomalyCounters anomalies;  // over every trial so far, including the running one
  uint32_t active_streams = 0;
  uint64_t tsc_hz = 1;
};

class AgentRuntime {
 public:
  static absl::StatusOr<std::unique_ptr<AgentRuntime>> Create(
      const google::protobuf::RepeatedPtrField<v1::PortConfig>& ports, const RuntimeOptions& options);
  ~AgentRuntime();
  AgentRuntime(const AgentRuntime&) = delete;
  AgentRuntime& operator=(const AgentRuntime&) = delete;

  std::vector<v1::PortCapability> PortCapabilities() const;
  const std::vector<std::string>& port_names() const { return names_; }
  const char* poll_mode() const;

  // Validates the streams against this agent's ports (names, sizes, rates vs link speed).
  absl::Status ValidateStreams(const google::protobuf::RepeatedPtrField<v1::StreamConfig>& streams) const;

  // Runs one trial and returns final counters: read after every worker lcore stopped, i.e.
  // after TX ended and the drain time passed. `interrupt` (may be null) ends it early; the
  // outcome is then marked interrupted and its batch is not final. Not thread-safe: one trial
  // at a time.
  // When trial.progress_interval_ns() > 0 and `on_progress` is set, it receives an interim
  // batch every interval from the TX start until the drain ends (5 ms resolution).
  absl::StatusOr<TrialOutcome> RunTrial(const v1::TrialStart& trial,
                                        const std::atomic<bool>* interrupt,
                                        const ProgressCallback& on_progress = nullptr);

  // Thread-safe; reads the ports' ethdev counters and the lcores' counters, live during a
  // trial. Never runs concurrently with port configuration.
  RuntimeSample Sample() const;

 private:
  AgentRuntime() = default;
  // Publishes the running trial's workers to Sample(), and folds their counters into the
  // totals when it ends (workers == nullptr).
  void SetLiveTrial(const std::vector<std::unique_ptr<dataplane::Worker>>* workers,
                    uint32_t streams);

  RuntimeOptions options_;
  std::unique_ptr<io::EalSession> session_;
  std::vector<io::PortInfo> ports_;
  std::vector<std::string> names_;
  std::vector<uint32_t> max_frame_;
  std::vector<std::string> gateway_mac_;
  uint64_t tsc_hz_ = 0;

  // Port configuration (Create, the destructor) against stats reads from the metrics thread.
  mutable absl::Mutex ports_mu_;
  bool ports_closed_ ABSL_GUARDED_BY(ports_mu_) = false;

  mutable absl::Mutex stats_mu_;
  const std::vector<std::unique_ptr<dataplane::Worker>>* live_workers_
      ABSL_GUARDED_BY(stats_mu_) = nullptr;
  uint32_t active_streams_ ABSL_GUARDED_BY(stats_mu_) = 0;
  std::vector<uint64_t> busy_tsc_totals_ ABSL_GUARDED_BY(stats_mu_);  // per worker lcore
  AnomalyCounters anomaly_totals_ ABSL_GUARDED_BY(stats_mu_);
};

}  // namespace netrig::agent::control
