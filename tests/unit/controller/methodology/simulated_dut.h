// Simulated devices under test for the methodology unit tests. Each model turns a TrialRequest
// into the TrialResult a perfect tester would measure against that device. Deterministic.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "controller/methodology/methodology.h"

namespace netrig::controller::methodology::sim {

// Frames a rate trial offers: round(rate_fps * duration).
uint64_t OfferedFrames(const TrialRequest& request);

class SimulatedDut {
 public:
  virtual ~SimulatedDut() = default;
  virtual TrialResult Run(const TrialRequest& request) = 0;
  int runs() const { return runs_; }

 protected:
  int runs_ = 0;
};

// (a) Forwards at most `limit_fps`; anything offered above it is lost (loss = excess). With a
// buffer of `buffer_frames` it is also model (d): a burst of N frames at line rate R loses
// max(0, N - B - N * X / R) frames (the buffer fills at R - X while draining at X), so the
// longest loss-free burst is floor(B / (1 - X / R)) and the corrected buffer time of RFC 9004
// §6.4, (N / R) * (1 - X / R), equals B / R.
class RateLimitedDut : public SimulatedDut {
 public:
  explicit RateLimitedDut(double limit_fps, uint64_t buffer_frames = 0, double latency_ns = 10000)
      : limit_fps_(limit_fps), buffer_frames_(buffer_frames), latency_ns_(latency_ns) {}
  TrialResult Run(const TrialRequest& request) override;
  void set_buffer_frames(uint64_t b) { buffer_frames_ = b; }
  // Longest burst at line rate `line_fps` forwarded without loss.
  uint64_t LongestBurst(double line_fps) const;

 private:
  double limit_fps_;
  uint64_t buffer_frames_;
  double latency_ns_;
};

// (b) Piecewise loss: each segment loses `loss_fraction` of the frames offered at rates up to
// `up_to_fps` (and above the previous segment's bound). Rates above the last bound lose
// `above_fraction`. Used for lossy plateaus: zero loss below X, a small loss between X and Y,
// heavy loss above Y; or a small loss at low rates only.
class PiecewiseLossDut : public SimulatedDut {
 public:
  struct Segment {
    double up_to_fps;
    double loss_fraction;
  };
  PiecewiseLossDut(std::vector<Segment> segments, double above_fraction)
      : segments_(std::move(segments)), above_fraction_(above_fraction) {}
  TrialResult Run(const TrialRequest& request) override;

 private:
  std::vector<Segment> segments_;
  double above_fraction_;
};

// (c) Never loses a frame. Latency of trial k (k-th call) is base + step * (k % 5) so averages
// over trials are checkable.
class LosslessDut : public SimulatedDut {
 public:
  explicit LosslessDut(double base_latency_ns = 5000, double step_ns = 100)
      : base_ns_(base_latency_ns), step_ns_(step_ns) {}
  TrialResult Run(const TrialRequest& request) override;
  // The latency_avg_ns the k-th call (0-based) reports.
  double AvgLatencyOfCall(int k) const;

 private:
  double base_ns_;
  double step_ns_;
};

// Wraps a DUT and invalidates the trials the predicate selects (as if an agent died): the
// result is valid = false with `reason`, counters zero.
class InvalidatingDut : public SimulatedDut {
 public:
  using Predicate = std::function<bool(const TrialRequest&)>;
  InvalidatingDut(SimulatedDut& inner, Predicate invalidate, std::string reason = "agent died")
      : inner_(inner), invalidate_(std::move(invalidate)), reason_(std::move(reason)) {}
  TrialResult Run(const TrialRequest& request) override;
  int invalidated() const { return invalidated_; }

 private:
  SimulatedDut& inner_;
  Predicate invalidate_;
  std::string reason_;
  int invalidated_ = 0;
};

// Everything a drive loop saw.
struct DriveLog {
  std::vector<TrialRequest> requests;
  std::vector<absl::Status> statuses;  // Record() status per request
  std::vector<double> progress;        // Progress() after each Record()
  bool finished = false;               // Done() reached within the trial cap
};

// Runs `m` against `dut` until Done() or `max_trials`. `before_trial`, if set, sees each request
// before the DUT does (to change the DUT between back-to-back searches, for instance).
DriveLog Drive(Methodology& m, SimulatedDut& dut, int max_trials = 100000,
               const std::function<void(const TrialRequest&)>& before_trial = nullptr);

// Requests of one test only.
std::vector<TrialRequest> OfTest(const DriveLog& log, const std::string& test,
                                 uint32_t frame_bytes);

}  // namespace netrig::controller::methodology::sim
