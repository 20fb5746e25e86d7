// StreamConfig (proto) -> StreamPlan (plain data for an lcore). Protobuf stops here.
// Validation errors name the field: "streams[1].size.fixed_bytes: 60 is below the 64-byte
// minimum", "streams[0].rate: 120% exceeds line rate ...".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/dataplane/traffic_plan.h"
#include "agent/io/port.h"
#include "proto/netrig/v1/agent.pb.h"

namespace netrig::agent::control {

// Frame sizes a stream sends, in cycle order. `path` prefixes errors ("streams[0]").
absl::StatusOr<std::vector<uint32_t>> StreamSizes(const v1::StreamConfig& s, const std::string& path);

// Checks what needs no port: flows, sizes against the signature, addresses, ports, TTL, DSCP,
// rate form, port names known. `port_names` are the configured port roles.
absl::Status ValidateStream(const v1::StreamConfig& s, const std::string& path,
                            const std::vector<std::string>& port_names);

struct CompiledStream {
  dataplane::StreamPlan plan;
  double frames_per_second = 0;  // 0 for unlimited
  double avg_frame_bytes = 0;
};

// Builds the plan for a stream transmitted on `tx` (and addressed to `rx`'s MAC by default).
absl::StatusOr<CompiledStream> CompileStream(const v1::StreamConfig& s, const std::string& path,
                                             const io::PortInfo& tx, const io::PortInfo* rx,
                                             uint32_t first_flow_id, uint64_t tsc_hz);

}  // namespace netrig::agent::control
