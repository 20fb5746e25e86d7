// Key schema of the controller's state (version 1). Every key the controller writes is built
// here, so the layout is documented in one place:
//
//   /netrig/v1/runs/<run-id>                   run record (spec, status); written with its queue
//                                              entry in one Txn
//   /netrig/v1/runs/<run-id>/trials/<n>        one trial result; <n> zero-padded to 8 digits so
//                                              trials list in order
//   /netrig/v1/runs/<run-id>/report            fingerprint (SUT, agents, PMDs, speeds, self-
//                                              calibration) and test outcomes, as RunResults
//   /netrig/v1/agents/<agent-id>               agent registration, attached to the agent's lease
//                                              (vanishes when the agent stops heart-beating)
//   /netrig/v1/requests/<request-id>           the run id a SubmitRun with that idempotency key
//                                              created; written in the run's Txn
//   /netrig/v1/queue/<priority>/<run-id>       pending run; <priority> is a 2-digit number, lower
//                                              runs first (L1 = 01, L2 = 02, L3 = 03), so a prefix
//                                              listing of /netrig/v1/queue/ is the run order
//   /netrig/leader                             the controller leader's record (identity,
//                                              advertised address), attached to its lease;
//                                              outside /netrig/v1/ on purpose, so controllers of
//                                              two schema versions never both lead
//
// Ids are restricted to [A-Za-z0-9._-] (ValidateId) so a '/' in an id can never alias another
// key. Prefix helpers end with '/', so RunPrefix("a") does not match run "ab".
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace netrig::controller::store::keys {

inline constexpr absl::string_view kRoot = "/netrig/v1/";
inline constexpr absl::string_view kLeader = "/netrig/leader";

// InvalidArgument naming `what` unless id is 1..128 characters of [A-Za-z0-9._-].
absl::Status ValidateId(absl::string_view what, absl::string_view id);

std::string Run(absl::string_view run_id);
// "/netrig/v1/runs/": a listing also returns the trial keys nested under each run.
std::string RunsPrefix();
std::string Trial(absl::string_view run_id, int64_t n);
std::string TrialsPrefix(absl::string_view run_id);    // "/netrig/v1/runs/<id>/trials/"
std::string RunReport(absl::string_view run_id);
std::string Agent(absl::string_view agent_id);
std::string AgentsPrefix();                            // "/netrig/v1/agents/"
std::string QueueEntry(int priority, absl::string_view run_id);
std::string QueuePrefix();                             // "/netrig/v1/queue/"
std::string Request(absl::string_view request_id);

}  // namespace netrig::controller::store::keys
