// A standalone run: ports and streams from a StandaloneRun message, one trial, final per-flow
// results. What tests, benchmarks and a lab engineer checking a port use; the controller's
// trials (next issue) drive the same engines.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/control/agent_runtime.h"
#include "proto/netrig/v1/agent.pb.h"

namespace netrig::agent::control {

struct RunOptions {
  RuntimeOptions runtime;
  const std::atomic<bool>* interrupt = nullptr;  // set (e.g. by SIGINT) to end the trial early
};

// Everything checkable before DPDK starts: ports (PMD names, interfaces), streams, durations.
absl::Status ValidateRun(const v1::StandaloneRun& run);

absl::StatusOr<v1::StandaloneResult> RunStandalone(const v1::StandaloneRun& run,
                                                   const RunOptions& options);

// Human-readable per-stream and per-flow tables (at most max_flow_rows flow rows).
std::string FormatTable(const v1::StandaloneResult& result, int max_flow_rows);
std::string FormatJson(const v1::StandaloneResult& result);

}  // namespace netrig::agent::control
