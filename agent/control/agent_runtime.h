// The agent's long-lived data-plane runtime: EAL and ports are opened once; trials (a set of
// streams, a start time, a duration and a drain time) run on demand and return final per-flow
// counters. The standalone mode runs one trial; the controller session runs many.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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
  absl::StatusOr<TrialOutcome> RunTrial(const v1::TrialStart& trial,
                                        const std::atomic<bool>* interrupt);

 private:
  AgentRuntime() = default;

  RuntimeOptions options_;
  std::unique_ptr<io::EalSession> session_;
  std::vector<io::PortInfo> ports_;
  std::vector<std::string> names_;
  std::vector<uint32_t> max_frame_;
  std::vector<std::string> gateway_mac_;
  uint64_t tsc_hz_ = 0;
};

}  // namespace netrig::agent::control
