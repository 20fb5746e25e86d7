// Methodology framework: a benchmark methodology is a pure state machine. It decides the next
// trial from the results of the previous ones and never touches sockets, agents, threads or
// clocks, so every methodology is unit-tested against simulated DUT models
// (tests/unit/controller/methodology/simulated_dut.h).
//
// Driving protocol (one caller, no concurrency):
//   while (auto req = m.Next()) {           // the same request until it is recorded
//     TrialResult r = RunTrialSomewhere(*req);
//     absl::Status s = m.Record(*req, r);   // not OK: see Record() below; keep looping
//   }
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace netrig::controller::methodology {

// Test names as they appear in the TestRun schema (spec.benchmark.rfc2544.tests).
inline constexpr char kTestThroughput[] = "throughput";
inline constexpr char kTestLatency[] = "latency";
inline constexpr char kTestFrameLoss[] = "frameLoss";
inline constexpr char kTestBackToBack[] = "backToBack";

// One trial the runner must execute: offer `rate_fps` of `frame_bytes` frames for `duration`
// (or, for back-to-back, one burst of `burst_frames` frames at line rate inside `duration`).
struct TrialRequest {
  std::string test;          // throughput | latency | frameLoss | backToBack
  uint32_t frame_bytes = 0;  // RFC 1242 §3.5 size, FCS included
  double rate_percent = 0;   // of the theoretical maximum frame rate for that frame size
  double rate_fps = 0;       // the same rate in frames per second
  absl::Duration duration = absl::ZeroDuration();
  uint64_t burst_frames = 0;  // backToBack: frames in the burst at line rate; otherwise 0
  uint32_t index = 0;         // unique per issued trial (a re-issued trial gets a new index)
  std::string note;  // human-readable reason, e.g. "binary search step 3: 62.5% (lo 50, hi 75)"
};

// What the runner measured. Counters are final (read after TX stopped and the drain timeout).
struct TrialResult {
  bool valid = true;           // false: the trial cannot be used (an agent died, counters lost)
  std::string invalid_reason;  // why, when !valid
  uint64_t tx_frames = 0;
  uint64_t rx_frames = 0;  // unique test frames received (duplicates excluded)
  uint64_t duplicates = 0;
  uint64_t reordered = 0;
  // Per-frame latency over the trial, nanoseconds.
  double latency_min_ns = 0;
  double latency_avg_ns = 0;
  double latency_max_ns = 0;
  double latency_p99_ns = 0;
  double pdv_p99_ns = 0;  // RFC 5481 PDV: 99th percentile of D - Dmin
  double jitter_ns = 0;
  double rx_fps = 0;      // received frames per second over the arrival span (report only)
};

// Frame loss in percent, RFC 2544 §26.3: (input - output) * 100 / input. 0 when input is 0;
// output above input (impossible with unique counts) is clamped to 0 % loss.
double FrameLossPercent(uint64_t input_frames, uint64_t output_frames);

// Checks a result that claims to be valid for internal consistency (frames were sent, unique
// received does not exceed sent). Returns the reason it cannot be used, or OK.
absl::Status CheckTrialResult(const TrialResult& result);

class Methodology {
 public:
  virtual ~Methodology();

  // The next trial to run, or nullopt when Done(). Calling Next() again before Record() returns
  // the same request.
  virtual std::optional<TrialRequest> Next() = 0;

  // Records the result of the request last returned by Next().
  //  - OK: the result was used.
  //  - FailedPrecondition: `request` is not the outstanding trial (nothing changed).
  //  - Unavailable: the result was invalid and is not used; Next() re-issues the same trial
  //    (with a new index) while the retry limit allows.
  //  - Aborted: the result was invalid and the retry limit is exhausted; the test failed for
  //    that frame size (the reason is kept in the report) and the methodology moves on.
  virtual absl::Status Record(const TrialRequest& request, const TrialResult& result) = 0;

  // Fraction of the planned work done, 0..1, never decreasing. Work is estimated in trial time.
  virtual double Progress() const = 0;

  virtual bool Done() const = 0;
};

}  // namespace netrig::controller::methodology
