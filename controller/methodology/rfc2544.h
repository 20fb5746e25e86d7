// RFC 2544 (throughput §26.1, latency §26.2, frame loss rate §26.3, back-to-back §26.4 as
// updated by RFC 9004) as a pure state machine. See docs/methodology-rfc2544.md for what is
// implemented, the parameters and the choices made where the RFCs leave things open.
//
// Order of work: frame-size major. For each frame size (in the configured order) the engine
// runs throughput, then latency, then frame loss, then back-to-back (whichever are requested,
// always in this order, whatever the order of `tests`), so that latency and back-to-back use the
// throughput measured for the same frame size moments before, and a run interrupted half way
// has complete results for the frame sizes it finished.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/methodology/binary_search.h"
#include "controller/methodology/methodology.h"

namespace netrig::controller::methodology {

struct Rfc2544Config {
  std::vector<std::string> tests;  // throughput, latency, frameLoss, backToBack
  std::vector<uint32_t> frame_sizes;
  uint64_t link_bps = 0;
  absl::Duration trial_duration = absl::Seconds(60);  // throughput and frame-loss trials
  double loss_tolerance_pct = 0;                      // throughput pass iff loss% <= this
  double resolution_pct = 0.1;                        // throughput search stop: hi - lo <= this
  double min_rate_pct = 0;
  double max_rate_pct = 100;  // also the first frame-loss rate (RFC: 100)
  uint32_t latency_trials = 20;
  absl::Duration latency_duration = absl::Seconds(120);
  double frame_loss_step_pct = 10;  // RFC 2544 §26.3: at most 10
  uint32_t b2b_trials = 50;         // N independent searches per frame size (RFC 9004 §6.3)
  absl::Duration b2b_max_burst_duration = absl::Seconds(2);  // search upper limit (RFC 9004 §6.2)
  absl::Duration b2b_trial_duration = absl::Seconds(2);      // idle time after each burst
  uint64_t b2b_min_step_frames = 1;                          // search resolution in frames
  uint32_t retries = 2;  // re-issues of a trial whose result is invalid
};

// Lifecycle of one test for one frame size.
enum class TestState {
  kNotRequested,  // not in config.tests
  kPending,       // not finished yet
  kCompleted,
  kSkipped,  // not applicable (reason says why), e.g. latency without a passing throughput
  kFailed,   // a trial stayed invalid after all retries (reason says why)
};
const char* TestStateName(TestState state);

struct TestOutcome {
  TestState state = TestState::kNotRequested;
  std::string reason;           // for kSkipped and kFailed; notes otherwise
  uint32_t trials = 0;          // valid trials used
  uint32_t invalid_trials = 0;  // invalid results received (not used)
};

struct ThroughputTrial {
  double rate_pct = 0;
  double rate_fps = 0;
  bool pass = false;
  double loss_pct = 0;
  uint64_t tx_frames = 0;
  uint64_t rx_frames = 0;
};

struct ThroughputReport {
  TestOutcome outcome;
  bool no_passing_rate = false;  // every trial failed: throughput < the lowest failing rate
  bool passed_at_max = false;    // the first trial (max_rate_pct) passed
  double rate_pct = 0;           // highest passing rate; 0 when no_passing_rate
  double fps = 0;
  double l2_mbps = 0;  // frames incl. FCS
  double l1_mbps = 0;  // plus preamble, SFD and minimum IFG (20 bytes per frame)
  double max_theoretical_fps = 0;
  double upper_bound_pct = 0;  // lowest failing rate (hi); max_rate_pct when none failed
  uint32_t max_trials = 0;     // the stated bound 1 + ceil(log2((max - min) / resolution))
  std::vector<ThroughputTrial> trace;
};

struct LatencyTrial {
  uint64_t tx_frames = 0;
  uint64_t rx_frames = 0;
  double min_ns = 0;
  double avg_ns = 0;
  double max_ns = 0;
  double p99_ns = 0;
  double pdv_p99_ns = 0;
  double jitter_ns = 0;
};

struct LatencyReport {
  TestOutcome outcome;
  double rate_pct = 0;  // the throughput rate the trials ran at
  double rate_fps = 0;
  std::vector<LatencyTrial> trials;
  // Averages over trials. avg_ns is the RFC 2544 §26.2 value (the RFC averages one tagged
  // frame per trial; we timestamp every frame, so each trial contributes its mean latency).
  double avg_ns = 0;
  double avg_min_ns = 0;
  double avg_max_ns = 0;
  double avg_p99_ns = 0;
  double avg_pdv_p99_ns = 0;
  double avg_jitter_ns = 0;
  double min_ns = 0;  // lowest over all trials
  double max_ns = 0;  // highest over all trials
  uint32_t trials_with_loss = 0;
};

struct FrameLossPoint {
  double offered_pct = 0;  // input rate as % of the theoretical maximum for the frame size
  double offered_fps = 0;
  uint64_t tx_frames = 0;
  uint64_t rx_frames = 0;
  double loss_pct = 0;  // (in - out) * 100 / in
};

struct FrameLossReport {
  TestOutcome outcome;
  std::vector<FrameLossPoint> curve;  // in trial order: highest rate first
};

struct BackToBackSearch {
  uint64_t result_frames = 0;  // longest burst forwarded without loss
  uint32_t trials = 0;
  bool at_limit = false;                         // the burst at the search upper limit passed
  std::vector<std::pair<uint64_t, bool>> trace;  // (burst frames, pass)
};

struct BackToBackReport {
  TestOutcome outcome;
  // Search parameters (RFC 9004 §6.2/§7: N and the minimum step MUST be reported).
  uint32_t searches_planned = 0;  // N
  uint64_t min_step_frames = 0;
  uint64_t max_burst_frames = 0;  // upper search limit: frames in b2b_max_burst_duration
  double max_theoretical_fps = 0;
  double throughput_fps = 0;  // measured throughput used for the corrected buffer time
  std::vector<BackToBackSearch> searches;
  // Statistics over the completed searches (RFC 9004 §6.4); stddev is the sample stddev.
  double avg_frames = 0;
  uint64_t min_frames = 0;
  uint64_t max_frames = 0;
  double stddev_frames = 0;
  double implied_buffer_time_s = 0;    // avg / Rmax
  double corrected_buffer_time_s = 0;  // implied * (1 - T / Rmax)
  bool at_search_limit = false;  // some search passed at the limit: raise b2b_max_burst_duration
};

struct FrameSizeReport {
  uint32_t frame_bytes = 0;
  double max_theoretical_fps = 0;
  ThroughputReport throughput;
  LatencyReport latency;
  FrameLossReport frame_loss;
  BackToBackReport back_to_back;
};

// RFC 9004 §6.4 / §7 formulas.
double ImpliedBufferTimeSeconds(double avg_b2b_frames, double max_theoretical_fps);
double CorrectedBufferTimeSeconds(double implied_s, double throughput_fps,
                                  double max_theoretical_fps);
// Buffer time at a rate of interest below throughput (RFC 9004 §6.4 "Actual Buffer Time").
double ActualBufferTimeSeconds(double corrected_s, double max_theoretical_fps, double actual_fps);

class Rfc2544 : public Methodology {
 public:
  // Validates the config; errors are InvalidArgument and name the field
  // ("frame_sizes[2]: 20 is below the 64-byte minimum").
  static absl::StatusOr<std::unique_ptr<Rfc2544>> Create(Rfc2544Config config);

  std::optional<TrialRequest> Next() override;
  absl::Status Record(const TrialRequest& request, const TrialResult& result) override;
  double Progress() const override { return progress_; }
  bool Done() const override;

  const Rfc2544Config& config() const { return config_; }
  // One report per configured frame size, in configured order; filled in as the run goes.
  const std::vector<FrameSizeReport>& reports() const { return reports_; }
  const FrameSizeReport* report(uint32_t frame_bytes) const;
  // Where the configuration departs from an RFC recommendation (trial shorter than 60 s, loss
  // tolerance above zero, ...): one sentence each, for the report.
  const std::vector<std::string>& deviations() const { return deviations_; }

 private:
  enum class Phase { kThroughput, kLatency, kFrameLoss, kBackToBack, kEnd };

  explicit Rfc2544(Rfc2544Config config);

  bool Requested(Phase phase) const;
  // Moves the cursor to the next phase that has work, marking skipped phases on the way.
  void Advance();
  // Initialises the phase under the cursor, or marks it skipped when it does not apply.
  void StartPhase();
  TestOutcome& CurrentOutcome();
  TrialRequest BuildRequest();
  void RecordValid(const TrialRequest& request, const TrialResult& result);
  void FinishThroughput();
  void FinishLatency();
  void FinishBackToBack();
  void FailPhase(const std::string& reason);
  double FrameLossRate(uint32_t step) const;
  uint32_t FrameLossStepsTotal() const;
  uint32_t FrameLossStepsEstimate(size_t size_index) const;
  double B2bSearchEstimateSeconds(size_t size_index) const;
  double PhaseEstimateSeconds(size_t size_index, Phase phase) const;
  double RemainingWorkSeconds() const;
  void UpdateProgress();

  Rfc2544Config config_;
  std::vector<FrameSizeReport> reports_;
  std::vector<std::string> deviations_;

  // Cursor.
  size_t size_index_ = 0;
  Phase phase_ = Phase::kThroughput;
  bool started_ = false;

  // Per-phase state.
  std::optional<RateBinarySearch> rate_search_;
  uint32_t latency_done_ = 0;
  uint32_t frame_loss_step_ = 0;  // trials issued so far: rate = max - step * size
  uint32_t frame_loss_zero_in_a_row_ = 0;
  std::optional<CountBinarySearch> count_search_;
  BackToBackSearch b2b_current_;

  // Outstanding trial and retries.
  std::optional<TrialRequest> pending_;
  uint32_t attempts_failed_ = 0;  // invalid results for the pending trial
  uint32_t next_index_ = 0;

  double done_work_s_ = 0;
  double progress_ = 0;
};

}  // namespace netrig::controller::methodology
