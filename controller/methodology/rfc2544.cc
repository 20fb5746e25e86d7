#include "controller/methodology/rfc2544.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "controller/methodology/binary_search.h"
#include "controller/methodology/methodology.h"
#include "lib/rate/line_rate.h"

namespace netrig::controller::methodology {
namespace {

constexpr double kRateEpsilonPct = 1e-9;

// Shortest faithful text for a percentage or rate: 62.5, 73.33984375, 100.
std::string Num(double v) { return absl::StrFormat("%.10g", v); }

bool Contains(const std::vector<std::string>& v, const char* name) {
  return std::find(v.begin(), v.end(), name) != v.end();
}

bool InRange(double v, double lo, double hi) { return v >= lo && v <= hi; }  // false for NaN

// Frames that fit in `d` at line rate: floor(link_bps * d / (8 * (frame + 20))), exact.
uint64_t FramesAtLineRate(uint64_t link_bps, uint32_t frame_bytes, absl::Duration d) {
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  if (ns <= 0) return 0;
  const unsigned __int128 bits =
      static_cast<unsigned __int128>(link_bps) * static_cast<uint64_t>(ns);
  const unsigned __int128 per_frame =
      static_cast<unsigned __int128>(8) * (frame_bytes + rate::kWireOverheadBytes) * 1000000000ULL;
  return static_cast<uint64_t>(bits / per_frame);
}

absl::Status Validate(const Rfc2544Config& c) {
  const auto bad = [](auto&&... args) {
    return absl::InvalidArgumentError(absl::StrFormat(args...));
  };
  if (c.tests.empty()) {
    return bad("tests: at least one of throughput, latency, frameLoss, backToBack is required");
  }
  for (size_t i = 0; i < c.tests.size(); ++i) {
    const std::string& t = c.tests[i];
    if (t != kTestThroughput && t != kTestLatency && t != kTestFrameLoss && t != kTestBackToBack) {
      return bad(
          "tests[%d]: unknown test \"%s\" (known: throughput, latency, frameLoss, backToBack)", i,
          t);
    }
    if (std::find(c.tests.begin(), c.tests.begin() + i, t) != c.tests.begin() + i) {
      return bad("tests[%d]: \"%s\" is listed twice", i, t);
    }
  }
  const bool throughput = Contains(c.tests, kTestThroughput);
  const bool latency = Contains(c.tests, kTestLatency);
  const bool frame_loss = Contains(c.tests, kTestFrameLoss);
  const bool b2b = Contains(c.tests, kTestBackToBack);
  if (latency && !throughput) {
    return bad(
        "tests: latency needs throughput (RFC 2544 §26.2 runs at the throughput rate of "
        "each frame size)");
  }
  if (b2b && !throughput) {
    return bad(
        "tests: backToBack needs throughput (RFC 9004 §5: throughput results must be "
        "available first)");
  }
  if (c.frame_sizes.empty()) return bad("frame_sizes: at least one frame size is required");
  for (size_t i = 0; i < c.frame_sizes.size(); ++i) {
    const uint32_t f = c.frame_sizes[i];
    if (f < rate::kMinEthernetFrameBytes) {
      return bad("frame_sizes[%d]: %u is below the %u-byte minimum", i, f,
                 rate::kMinEthernetFrameBytes);
    }
    if (f > rate::kMaxEthernetFrameBytes) {
      return bad("frame_sizes[%d]: %u is above the %u-byte maximum", i, f,
                 rate::kMaxEthernetFrameBytes);
    }
    if (std::find(c.frame_sizes.begin(), c.frame_sizes.begin() + i, f) !=
        c.frame_sizes.begin() + i) {
      return bad("frame_sizes[%d]: %u is listed twice", i, f);
    }
  }
  if (c.link_bps == 0) return bad("link_bps: must be positive");
  if ((throughput || frame_loss) && c.trial_duration <= absl::ZeroDuration()) {
    return bad("trial_duration: must be positive, got %s", absl::FormatDuration(c.trial_duration));
  }
  if (!(c.loss_tolerance_pct >= 0 && c.loss_tolerance_pct < 100)) {
    return bad("loss_tolerance_pct: must be in [0, 100), got %g", c.loss_tolerance_pct);
  }
  if (!(c.resolution_pct > 0 && c.resolution_pct <= 100)) {
    return bad("resolution_pct: must be in (0, 100], got %g", c.resolution_pct);
  }
  if (!InRange(c.min_rate_pct, 0, 100)) {
    return bad("min_rate_pct: must be in [0, 100], got %g", c.min_rate_pct);
  }
  if (!(c.max_rate_pct > 0 && c.max_rate_pct <= 100)) {
    return bad("max_rate_pct: must be in (0, 100], got %g", c.max_rate_pct);
  }
  if (c.min_rate_pct > c.max_rate_pct) {
    return bad("min_rate_pct: %g is above max_rate_pct %g", c.min_rate_pct, c.max_rate_pct);
  }
  if (latency) {
    if (c.latency_trials == 0) return bad("latency_trials: must be at least 1");
    if (c.latency_duration <= absl::ZeroDuration()) {
      return bad("latency_duration: must be positive, got %s",
                 absl::FormatDuration(c.latency_duration));
    }
  }
  if (frame_loss && !(c.frame_loss_step_pct > 0 && c.frame_loss_step_pct <= 10)) {
    return bad(
        "frame_loss_step_pct: must be in (0, 10] (RFC 2544 §26.3: steps of at most 10%% "
        "of the maximum rate), got %g",
        c.frame_loss_step_pct);
  }
  if (b2b) {
    if (c.b2b_trials == 0) return bad("b2b_trials: must be at least 1");
    if (c.b2b_trial_duration <= absl::ZeroDuration()) {
      return bad("b2b_trial_duration: must be positive, got %s",
                 absl::FormatDuration(c.b2b_trial_duration));
    }
    if (c.b2b_min_step_frames == 0) return bad("b2b_min_step_frames: must be at least 1");
    if (c.b2b_max_burst_duration <= absl::ZeroDuration()) {
      return bad("b2b_max_burst_duration: must be positive, got %s",
                 absl::FormatDuration(c.b2b_max_burst_duration));
    }
    for (uint32_t f : c.frame_sizes) {
      if (FramesAtLineRate(c.link_bps, f, c.b2b_max_burst_duration) < 1) {
        return bad("b2b_max_burst_duration: %s holds no %u-byte frame at line rate",
                   absl::FormatDuration(c.b2b_max_burst_duration), f);
      }
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> Deviations(const Rfc2544Config& c) {
  std::vector<std::string> out;
  const bool throughput = Contains(c.tests, kTestThroughput);
  const bool latency = Contains(c.tests, kTestLatency);
  const bool frame_loss = Contains(c.tests, kTestFrameLoss);
  const bool b2b = Contains(c.tests, kTestBackToBack);
  if (c.frame_sizes.size() < 5) {
    out.push_back(absl::StrFormat(
        "frame_sizes: %d sizes; RFC 2544 §9 recommends at least five, including the minimum and "
        "maximum legal sizes",
        c.frame_sizes.size()));
  }
  if ((throughput || frame_loss) && c.trial_duration < absl::Seconds(60)) {
    out.push_back(
        absl::StrFormat("trial_duration: %s is shorter than the 60 s RFC 2544 §24 recommends",
                        absl::FormatDuration(c.trial_duration)));
  }
  if (throughput && c.loss_tolerance_pct > 0) {
    out.push_back(absl::StrFormat(
        "loss_tolerance_pct: %g%% loss is accepted; RFC 1242 §3.17 throughput is zero loss, so "
        "this is a tester extension%s",
        c.loss_tolerance_pct, b2b ? " (RFC 9004 §5 also asks for zero-loss throughput)" : ""));
  }
  if (c.max_rate_pct < 100 && (throughput || frame_loss)) {
    out.push_back(absl::StrFormat(
        "max_rate_pct: %g%%; the throughput search and the frame-loss curve start below the "
        "100%% RFC 2544 §26.1/§26.3 use",
        c.max_rate_pct));
  }
  if (latency && c.latency_trials < 20) {
    out.push_back(absl::StrFormat("latency_trials: %u; RFC 2544 §26.2 requires at least 20",
                                  c.latency_trials));
  }
  if (latency && c.latency_duration < absl::Seconds(120)) {
    out.push_back(
        absl::StrFormat("latency_duration: %s is shorter than the 120 s of RFC 2544 §26.2",
                        absl::FormatDuration(c.latency_duration)));
  }
  if (b2b && c.b2b_trials < 50) {
    out.push_back(absl::StrFormat(
        "b2b_trials: N = %u searches; RFC 2544 §26.4 asks for at least 50 (RFC 9004 §6.3 lets N "
        "be chosen if reported)",
        c.b2b_trials));
  }
  if (b2b && c.b2b_trial_duration < absl::Seconds(2)) {
    out.push_back(absl::StrFormat(
        "b2b_trial_duration: %s idle after each burst; RFC 9004 §6.2 requires at least 2 s",
        absl::FormatDuration(c.b2b_trial_duration)));
  }
  return out;
}

double SampleStddev(const std::vector<BackToBackSearch>& s, double mean) {
  if (s.size() < 2) return 0;
  double sum = 0;
  for (const auto& x : s) {
    const double d = static_cast<double>(x.result_frames) - mean;
    sum += d * d;
  }
  return std::sqrt(sum / static_cast<double>(s.size() - 1));
}

}  // namespace

const char* TestStateName(TestState state) {
  switch (state) {
    case TestState::kNotRequested:
      return "not requested";
    case TestState::kPending:
      return "pending";
    case TestState::kCompleted:
      return "completed";
    case TestState::kSkipped:
      return "skipped";
    case TestState::kFailed:
      return "failed";
  }
  return "unknown";
}

double ImpliedBufferTimeSeconds(double avg_b2b_frames, double max_theoretical_fps) {
  return max_theoretical_fps > 0 ? avg_b2b_frames / max_theoretical_fps : 0;
}

double CorrectedBufferTimeSeconds(double implied_s, double throughput_fps,
                                  double max_theoretical_fps) {
  if (max_theoretical_fps <= 0) return 0;
  return implied_s * (1.0 - throughput_fps / max_theoretical_fps);
}

double ActualBufferTimeSeconds(double corrected_s, double max_theoretical_fps, double actual_fps) {
  return actual_fps > 0 ? corrected_s * max_theoretical_fps / actual_fps : 0;
}

absl::StatusOr<std::unique_ptr<Rfc2544>> Rfc2544::Create(Rfc2544Config config) {
  if (absl::Status s = Validate(config); !s.ok()) return s;
  return std::unique_ptr<Rfc2544>(new Rfc2544(std::move(config)));
}

Rfc2544::Rfc2544(Rfc2544Config config) : config_(std::move(config)) {
  deviations_ = Deviations(config_);
  const auto initial = [this](const char* test) {
    return Contains(config_.tests, test) ? TestState::kPending : TestState::kNotRequested;
  };
  for (uint32_t f : config_.frame_sizes) {
    FrameSizeReport r;
    r.frame_bytes = f;
    r.max_theoretical_fps = rate::MaxFrameRate(config_.link_bps, f);
    r.throughput.outcome.state = initial(kTestThroughput);
    r.throughput.max_theoretical_fps = r.max_theoretical_fps;
    r.throughput.max_trials = RateBinarySearch::MaxTrials(
        config_.min_rate_pct, config_.max_rate_pct, config_.resolution_pct);
    r.latency.outcome.state = initial(kTestLatency);
    r.frame_loss.outcome.state = initial(kTestFrameLoss);
    r.back_to_back.outcome.state = initial(kTestBackToBack);
    r.back_to_back.searches_planned = config_.b2b_trials;
    r.back_to_back.min_step_frames = config_.b2b_min_step_frames;
    r.back_to_back.max_burst_frames =
        FramesAtLineRate(config_.link_bps, f, config_.b2b_max_burst_duration);
    r.back_to_back.max_theoretical_fps = r.max_theoretical_fps;
    reports_.push_back(std::move(r));
  }
  Advance();
}

const FrameSizeReport* Rfc2544::report(uint32_t frame_bytes) const {
  for (const auto& r : reports_) {
    if (r.frame_bytes == frame_bytes) return &r;
  }
  return nullptr;
}

bool Rfc2544::Done() const { return size_index_ >= reports_.size(); }

bool Rfc2544::Requested(Phase phase) const {
  switch (phase) {
    case Phase::kThroughput:
      return Contains(config_.tests, kTestThroughput);
    case Phase::kLatency:
      return Contains(config_.tests, kTestLatency);
    case Phase::kFrameLoss:
      return Contains(config_.tests, kTestFrameLoss);
    case Phase::kBackToBack:
      return Contains(config_.tests, kTestBackToBack);
    case Phase::kEnd:
      return false;
  }
  return false;
}

TestOutcome& Rfc2544::CurrentOutcome() {
  FrameSizeReport& r = reports_[size_index_];
  switch (phase_) {
    case Phase::kThroughput:
      return r.throughput.outcome;
    case Phase::kLatency:
      return r.latency.outcome;
    case Phase::kFrameLoss:
      return r.frame_loss.outcome;
    case Phase::kBackToBack:
    case Phase::kEnd:
      break;
  }
  return r.back_to_back.outcome;
}

// Positions the cursor on the next phase with work to do. On entry the cursor is either fresh
// (constructor) or on a phase that just finished.
void Rfc2544::Advance() {
  if (started_) {
    phase_ = static_cast<Phase>(static_cast<int>(phase_) + 1);
  }
  started_ = true;
  while (size_index_ < reports_.size()) {
    if (phase_ == Phase::kEnd) {
      ++size_index_;
      phase_ = Phase::kThroughput;
      continue;
    }
    if (Requested(phase_)) {
      StartPhase();
      if (CurrentOutcome().state == TestState::kPending) return;
    }
    phase_ = static_cast<Phase>(static_cast<int>(phase_) + 1);
  }
}

// Initialises the current phase, or marks it skipped when it does not apply.
void Rfc2544::StartPhase() {
  FrameSizeReport& r = reports_[size_index_];
  const ThroughputReport& tp = r.throughput;
  const auto skip = [this](std::string reason) {
    TestOutcome& o = CurrentOutcome();
    o.state = TestState::kSkipped;
    o.reason = std::move(reason);
  };
  switch (phase_) {
    case Phase::kThroughput:
      rate_search_.emplace(config_.min_rate_pct, config_.max_rate_pct, config_.resolution_pct);
      return;
    case Phase::kLatency:
      if (tp.outcome.state == TestState::kFailed) {
        return skip("throughput failed: " + tp.outcome.reason);
      }
      if (tp.no_passing_rate) {
        return skip(absl::StrFormat(
            "throughput found no passing rate (every trial lost frames, down to %s%%); RFC 2544 "
            "§26.2 measures latency at the throughput rate",
            Num(tp.upper_bound_pct)));
      }
      r.latency.rate_pct = tp.rate_pct;
      r.latency.rate_fps = tp.fps;
      latency_done_ = 0;
      return;
    case Phase::kFrameLoss:
      frame_loss_step_ = 0;
      frame_loss_zero_in_a_row_ = 0;
      return;
    case Phase::kBackToBack:
      if (tp.outcome.state == TestState::kFailed) {
        return skip("throughput failed: " + tp.outcome.reason);
      }
      if (tp.no_passing_rate) {
        return skip(absl::StrFormat(
            "throughput found no passing rate (every trial lost frames, down to %s%%); RFC 9004 "
            "§5 needs a zero-loss throughput first",
            Num(tp.upper_bound_pct)));
      }
      if (tp.passed_at_max && config_.max_rate_pct >= 100) {
        return skip(
            "burst length effectively infinite: throughput = line rate (RFC 9004 §6.1 tests only "
            "frame sizes whose throughput is below the maximum theoretical frame rate)");
      }
      r.back_to_back.throughput_fps = tp.fps;
      count_search_.emplace(r.back_to_back.max_burst_frames, config_.b2b_min_step_frames);
      b2b_current_ = BackToBackSearch{};
      return;
    case Phase::kEnd:
      return;
  }
}

TrialRequest Rfc2544::BuildRequest() {
  const FrameSizeReport& r = reports_[size_index_];
  TrialRequest req;
  req.frame_bytes = r.frame_bytes;
  req.index = next_index_++;
  switch (phase_) {
    case Phase::kThroughput: {
      req.test = kTestThroughput;
      req.rate_percent = rate_search_->NextRate();
      req.duration = config_.trial_duration;
      req.note =
          absl::StrFormat("binary search step %u: %s%% (lo %s, hi %s)", rate_search_->trials() + 1,
                          Num(req.rate_percent), Num(rate_search_->lo()), Num(rate_search_->hi()));
      break;
    }
    case Phase::kLatency:
      req.test = kTestLatency;
      req.rate_percent = r.latency.rate_pct;
      req.duration = config_.latency_duration;
      req.note = absl::StrFormat("latency trial %u of %u at the throughput rate %s%%",
                                 latency_done_ + 1, config_.latency_trials, Num(req.rate_percent));
      break;
    case Phase::kFrameLoss:
      req.test = kTestFrameLoss;
      req.rate_percent = FrameLossRate(frame_loss_step_);
      req.duration = config_.trial_duration;
      req.note =
          absl::StrFormat("frame loss step %u: %s%% (zero-loss trials in a row: %u)",
                          frame_loss_step_ + 1, Num(req.rate_percent), frame_loss_zero_in_a_row_);
      break;
    case Phase::kBackToBack: {
      req.test = kTestBackToBack;
      req.rate_percent = 100;
      req.burst_frames = count_search_->Next();
      const double send_ns = static_cast<double>(req.burst_frames) *
                             rate::FrameWireTimeNs(config_.link_bps, r.frame_bytes);
      req.duration = absl::Nanoseconds(std::ceil(send_ns)) + config_.b2b_trial_duration;
      req.note = absl::StrFormat(
          "back-to-back search %u of %u, step %u: burst of %u frames (lo %u, hi %u)",
          r.back_to_back.searches.size() + 1, config_.b2b_trials, count_search_->trials() + 1,
          req.burst_frames, count_search_->lo(), count_search_->hi());
      break;
    }
    case Phase::kEnd:
      break;
  }
  req.rate_fps = req.rate_percent / 100.0 * r.max_theoretical_fps;
  return req;
}

double Rfc2544::FrameLossRate(uint32_t step) const {
  return config_.max_rate_pct - static_cast<double>(step) * config_.frame_loss_step_pct;
}

std::optional<TrialRequest> Rfc2544::Next() {
  if (Done()) return std::nullopt;
  if (!pending_) pending_ = BuildRequest();
  return pending_;
}

absl::Status Rfc2544::Record(const TrialRequest& request, const TrialResult& result) {
  if (Done() || !pending_) {
    return absl::FailedPreconditionError(
        absl::StrFormat("record trial %u: no trial is outstanding%s", request.index,
                        Done() ? " (the methodology is done)" : " (call Next() first)"));
  }
  if (request.index != pending_->index || request.test != pending_->test ||
      request.frame_bytes != pending_->frame_bytes) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "record trial %u (%s, %u B): the outstanding trial is %u (%s, %u B)", request.index,
        request.test, request.frame_bytes, pending_->index, pending_->test, pending_->frame_bytes));
  }
  absl::Status usable = CheckTrialResult(result);
  if (usable.ok() && pending_->test == kTestBackToBack &&
      result.tx_frames != pending_->burst_frames) {
    usable = absl::UnavailableError(
        absl::StrFormat("burst of %u frames requested but %u were transmitted",
                        pending_->burst_frames, result.tx_frames));
  }
  TestOutcome& outcome = CurrentOutcome();
  const std::string what =
      absl::StrFormat("%s %u B trial %u", pending_->test, pending_->frame_bytes, pending_->index);
  if (!usable.ok()) {
    ++outcome.invalid_trials;
    ++attempts_failed_;
    const std::string reason(usable.message());
    if (attempts_failed_ <= config_.retries) {
      const std::string base_note = pending_->note;
      const size_t cut = base_note.find(" (retry ");
      pending_ = BuildRequest();  // same state, same parameters, new index
      pending_->note = absl::StrFormat("%s (retry %u of %u: %s)", base_note.substr(0, cut),
                                       attempts_failed_, config_.retries, reason);
      return absl::UnavailableError(
          absl::StrFormat("%s invalid (%s); not used, re-issued as trial %u (retry %u of %u)", what,
                          reason, pending_->index, attempts_failed_, config_.retries));
    }
    const std::string failure =
        absl::StrFormat("trial invalid %u time(s) in a row (retry limit %u); last: %s",
                        attempts_failed_, config_.retries, reason);
    FailPhase(failure);
    return absl::AbortedError(absl::StrFormat("%s invalid (%s); %s %u B failed: %s", what, reason,
                                              request.test, request.frame_bytes, failure));
  }
  attempts_failed_ = 0;
  ++outcome.trials;
  done_work_s_ += absl::ToDoubleSeconds(pending_->duration);
  const TrialRequest req = *pending_;
  pending_.reset();
  RecordValid(req, result);
  UpdateProgress();
  return absl::OkStatus();
}

void Rfc2544::RecordValid(const TrialRequest& req, const TrialResult& res) {
  FrameSizeReport& r = reports_[size_index_];
  switch (phase_) {
    case Phase::kThroughput: {
      ThroughputReport& tp = r.throughput;
      const double loss = FrameLossPercent(res.tx_frames, res.rx_frames);
      const bool pass = config_.loss_tolerance_pct == 0 ? res.rx_frames == res.tx_frames
                                                        : loss <= config_.loss_tolerance_pct;
      tp.trace.push_back(
          {req.rate_percent, req.rate_fps, pass, loss, res.tx_frames, res.rx_frames});
      rate_search_->Record(pass);
      if (!rate_search_->Done()) return;
      FinishThroughput();
      break;
    }
    case Phase::kLatency: {
      LatencyReport& lat = r.latency;
      lat.trials.push_back({res.tx_frames, res.rx_frames, res.latency_min_ns, res.latency_avg_ns,
                            res.latency_max_ns, res.latency_p99_ns, res.pdv_p99_ns, res.jitter_ns});
      if (res.rx_frames != res.tx_frames) ++lat.trials_with_loss;
      if (++latency_done_ < config_.latency_trials) return;
      FinishLatency();
      break;
    }
    case Phase::kFrameLoss: {
      FrameLossReport& fl = r.frame_loss;
      const double loss = FrameLossPercent(res.tx_frames, res.rx_frames);
      fl.curve.push_back({req.rate_percent, req.rate_fps, res.tx_frames, res.rx_frames, loss});
      frame_loss_zero_in_a_row_ =
          res.rx_frames == res.tx_frames ? frame_loss_zero_in_a_row_ + 1 : 0;
      ++frame_loss_step_;
      if (frame_loss_zero_in_a_row_ < 2 && FrameLossRate(frame_loss_step_) > kRateEpsilonPct) {
        return;
      }
      fl.outcome.state = TestState::kCompleted;
      fl.outcome.reason = frame_loss_zero_in_a_row_ >= 2
                              ? "stopped after two successive zero-loss trials"
                              : "stopped: the next step would be 0%";
      break;
    }
    case Phase::kBackToBack: {
      const bool pass = res.rx_frames == res.tx_frames;
      b2b_current_.trace.emplace_back(req.burst_frames, pass);
      count_search_->Record(pass);
      if (!count_search_->Done()) return;
      b2b_current_.result_frames = count_search_->lo();
      b2b_current_.trials = count_search_->trials();
      b2b_current_.at_limit = count_search_->passed_at_max();
      r.back_to_back.searches.push_back(std::move(b2b_current_));
      b2b_current_ = BackToBackSearch{};
      if (r.back_to_back.searches.size() < config_.b2b_trials) {
        count_search_.emplace(r.back_to_back.max_burst_frames, config_.b2b_min_step_frames);
        return;
      }
      FinishBackToBack();
      r.back_to_back.outcome.state = TestState::kCompleted;
      break;
    }
    case Phase::kEnd:
      return;
  }
  Advance();
}

void Rfc2544::FinishThroughput() {
  FrameSizeReport& r = reports_[size_index_];
  ThroughputReport& tp = r.throughput;
  tp.passed_at_max = rate_search_->passed_at_max();
  tp.no_passing_rate = !rate_search_->any_pass();
  tp.rate_pct = tp.no_passing_rate ? 0 : rate_search_->lo();
  tp.upper_bound_pct = rate_search_->hi();
  tp.fps = tp.rate_pct / 100.0 * r.max_theoretical_fps;
  tp.l2_mbps = tp.fps * r.frame_bytes * 8 / 1e6;
  tp.l1_mbps = tp.fps * (r.frame_bytes + rate::kWireOverheadBytes) * 8 / 1e6;
  tp.outcome.state = TestState::kCompleted;
  if (tp.no_passing_rate) {
    tp.outcome.reason = absl::StrFormat("no passing rate: every trial lost frames, down to %s%%",
                                        Num(tp.upper_bound_pct));
  }
}

void Rfc2544::FinishLatency() {
  LatencyReport& lat = reports_[size_index_].latency;
  const double n = static_cast<double>(lat.trials.size());
  if (n > 0) {
    lat.min_ns = lat.trials.front().min_ns;
    lat.max_ns = lat.trials.front().max_ns;
    double avg = 0, mn = 0, mx = 0, p99 = 0, pdv = 0, jit = 0;
    for (const auto& t : lat.trials) {
      avg += t.avg_ns;
      mn += t.min_ns;
      mx += t.max_ns;
      p99 += t.p99_ns;
      pdv += t.pdv_p99_ns;
      jit += t.jitter_ns;
      lat.min_ns = std::min(lat.min_ns, t.min_ns);
      lat.max_ns = std::max(lat.max_ns, t.max_ns);
    }
    lat.avg_ns = avg / n;
    lat.avg_min_ns = mn / n;
    lat.avg_max_ns = mx / n;
    lat.avg_p99_ns = p99 / n;
    lat.avg_pdv_p99_ns = pdv / n;
    lat.avg_jitter_ns = jit / n;
  }
  if (lat.outcome.state == TestState::kPending) lat.outcome.state = TestState::kCompleted;
  if (lat.trials_with_loss > 0) {
    lat.outcome.reason = absl::StrFormat("%u of %u trials lost frames at the throughput rate",
                                         lat.trials_with_loss, lat.trials.size());
  }
}

void Rfc2544::FinishBackToBack() {
  BackToBackReport& b = reports_[size_index_].back_to_back;
  if (b.searches.empty()) return;
  double sum = 0;
  b.min_frames = b.searches.front().result_frames;
  b.max_frames = b.min_frames;
  b.at_search_limit = false;
  for (const auto& s : b.searches) {
    sum += static_cast<double>(s.result_frames);
    b.min_frames = std::min(b.min_frames, s.result_frames);
    b.max_frames = std::max(b.max_frames, s.result_frames);
    b.at_search_limit = b.at_search_limit || s.at_limit;
  }
  b.avg_frames = sum / static_cast<double>(b.searches.size());
  b.stddev_frames = SampleStddev(b.searches, b.avg_frames);
  b.implied_buffer_time_s = ImpliedBufferTimeSeconds(b.avg_frames, b.max_theoretical_fps);
  b.corrected_buffer_time_s =
      CorrectedBufferTimeSeconds(b.implied_buffer_time_s, b.throughput_fps, b.max_theoretical_fps);
  if (b.at_search_limit) {
    b.outcome.reason = absl::StrFormat(
        "a burst of %u frames (the search limit, %s at line rate) passed: the value is a lower "
        "bound and likely invalid; repeat with a higher b2b_max_burst_duration (RFC 9004 §6.2)",
        b.max_burst_frames, absl::FormatDuration(config_.b2b_max_burst_duration));
  }
}

void Rfc2544::FailPhase(const std::string& reason) {
  TestOutcome& o = CurrentOutcome();
  o.state = TestState::kFailed;
  o.reason = reason;
  pending_.reset();
  attempts_failed_ = 0;
  switch (phase_) {
    case Phase::kThroughput:
      reports_[size_index_].throughput.upper_bound_pct = rate_search_->hi();
      break;
    case Phase::kLatency:
      FinishLatency();  // averages over the trials that completed, state stays kFailed
      break;
    case Phase::kBackToBack:
      FinishBackToBack();  // statistics over the searches that completed
      o.reason +=
          absl::StrFormat(" (%u of %u searches completed)",
                          reports_[size_index_].back_to_back.searches.size(), config_.b2b_trials);
      break;
    case Phase::kFrameLoss:
    case Phase::kEnd:
      break;
  }
  Advance();
  UpdateProgress();
}

// ---- Progress ---------------------------------------------------------------------------------
// Work is trial time in seconds. Progress = done / (done + estimated remaining), kept monotonic.

uint32_t Rfc2544::FrameLossStepsTotal() const {
  // Trials until the rate would reach 0: max / step, rounded up.
  return static_cast<uint32_t>(
      std::ceil(config_.max_rate_pct / config_.frame_loss_step_pct - kRateEpsilonPct));
}

uint32_t Rfc2544::FrameLossStepsEstimate(size_t size_index) const {
  const uint32_t total = FrameLossStepsTotal();
  const ThroughputReport& tp = reports_[size_index].throughput;
  if (tp.outcome.state == TestState::kCompleted) {
    // Lossy steps above the throughput rate, then two zero-loss steps.
    uint32_t lossy = 0;
    while (lossy < total && FrameLossRate(lossy) > tp.rate_pct + kRateEpsilonPct) ++lossy;
    return std::min(total, lossy + 2);
  }
  return std::min(total, std::max<uint32_t>(2, (total + 1) / 2));
}

double Rfc2544::B2bSearchEstimateSeconds(size_t size_index) const {
  const BackToBackReport& b = reports_[size_index].back_to_back;
  const double trials = CountBinarySearch::MaxTrials(b.max_burst_frames, b.min_step_frames);
  // Bursts shrink geometrically from the limit: their total send time is below 2x the limit.
  return trials * absl::ToDoubleSeconds(config_.b2b_trial_duration) +
         2 * absl::ToDoubleSeconds(config_.b2b_max_burst_duration);
}

double Rfc2544::PhaseEstimateSeconds(size_t size_index, Phase phase) const {
  if (!Requested(phase)) return 0;
  const ThroughputReport& tp = reports_[size_index].throughput;
  const bool tp_known = tp.outcome.state != TestState::kPending;
  const bool tp_unusable = tp.outcome.state == TestState::kFailed || tp.no_passing_rate;
  switch (phase) {
    case Phase::kThroughput:
      return tp.max_trials * absl::ToDoubleSeconds(config_.trial_duration);
    case Phase::kLatency:
      if (tp_known && tp_unusable) return 0;
      return config_.latency_trials * absl::ToDoubleSeconds(config_.latency_duration);
    case Phase::kFrameLoss:
      return FrameLossStepsEstimate(size_index) * absl::ToDoubleSeconds(config_.trial_duration);
    case Phase::kBackToBack:
      if (tp_known && (tp_unusable || (tp.passed_at_max && config_.max_rate_pct >= 100))) return 0;
      return config_.b2b_trials * B2bSearchEstimateSeconds(size_index);
    case Phase::kEnd:
      break;
  }
  return 0;
}

double Rfc2544::RemainingWorkSeconds() const {
  if (Done()) return 0;
  double remaining = 0;
  // The current phase.
  const FrameSizeReport& r = reports_[size_index_];
  switch (phase_) {
    case Phase::kThroughput:
      remaining += rate_search_->RemainingTrials() * absl::ToDoubleSeconds(config_.trial_duration);
      break;
    case Phase::kLatency:
      remaining += (config_.latency_trials - latency_done_) *
                   absl::ToDoubleSeconds(config_.latency_duration);
      break;
    case Phase::kFrameLoss: {
      const uint32_t left_total =
          FrameLossStepsTotal() - std::min(FrameLossStepsTotal(), frame_loss_step_);
      const uint32_t est = FrameLossStepsEstimate(size_index_);
      uint32_t left = est > frame_loss_step_ ? est - frame_loss_step_ : 0;
      left = std::max(left, 2 - std::min<uint32_t>(2, frame_loss_zero_in_a_row_));
      remaining += std::min(left, left_total) * absl::ToDoubleSeconds(config_.trial_duration);
      break;
    }
    case Phase::kBackToBack: {
      const double per_trial = absl::ToDoubleSeconds(config_.b2b_trial_duration);
      remaining += count_search_->RemainingTrials() * per_trial;
      const size_t left = config_.b2b_trials - r.back_to_back.searches.size() - 1;
      remaining += static_cast<double>(left) * B2bSearchEstimateSeconds(size_index_);
      break;
    }
    case Phase::kEnd:
      break;
  }
  // Later phases of this frame size, then the other frame sizes.
  for (int p = static_cast<int>(phase_) + 1; p < static_cast<int>(Phase::kEnd); ++p) {
    remaining += PhaseEstimateSeconds(size_index_, static_cast<Phase>(p));
  }
  for (size_t i = size_index_ + 1; i < reports_.size(); ++i) {
    for (int p = 0; p < static_cast<int>(Phase::kEnd); ++p) {
      remaining += PhaseEstimateSeconds(i, static_cast<Phase>(p));
    }
  }
  return remaining;
}

void Rfc2544::UpdateProgress() {
  if (Done()) {
    progress_ = 1;
    return;
  }
  const double remaining = RemainingWorkSeconds();
  const double total = done_work_s_ + remaining;
  const double p = total > 0 ? done_work_s_ / total : 0;
  progress_ = std::clamp(std::max(progress_, p), 0.0, 1.0);
}

}  // namespace netrig::controller::methodology
