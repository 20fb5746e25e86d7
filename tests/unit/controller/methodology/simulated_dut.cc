#include "tests/unit/controller/methodology/simulated_dut.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace netrig::controller::methodology::sim {
namespace {

TrialResult WithLatency(uint64_t tx, uint64_t rx, double avg_ns) {
  TrialResult r;
  r.tx_frames = tx;
  r.rx_frames = rx;
  r.latency_min_ns = avg_ns * 0.9;
  r.latency_avg_ns = avg_ns;
  r.latency_max_ns = avg_ns * 1.5;
  r.latency_p99_ns = avg_ns * 1.3;
  r.pdv_p99_ns = r.latency_p99_ns - r.latency_min_ns;
  r.jitter_ns = avg_ns * 0.01;
  return r;
}

uint64_t Lose(uint64_t tx, double fraction) {
  const double lost = std::ceil(static_cast<double>(tx) * fraction - 1e-9);
  return tx - std::min<uint64_t>(tx, static_cast<uint64_t>(std::max(0.0, lost)));
}

}  // namespace

uint64_t OfferedFrames(const TrialRequest& request) {
  if (request.burst_frames > 0) return request.burst_frames;
  return static_cast<uint64_t>(
      std::llround(request.rate_fps * absl::ToDoubleSeconds(request.duration)));
}

TrialResult RateLimitedDut::Run(const TrialRequest& request) {
  ++runs_;
  const uint64_t tx = OfferedFrames(request);
  uint64_t forwarded;
  if (request.burst_frames > 0) {
    // Burst at line rate R (request.rate_fps): during N / R seconds the DUT forwards N * X / R
    // frames and buffers B more.
    const double drained = std::floor(static_cast<double>(tx) * limit_fps_ / request.rate_fps);
    forwarded = static_cast<uint64_t>(drained) + buffer_frames_;
  } else {
    const double seconds = absl::ToDoubleSeconds(request.duration);
    forwarded = static_cast<uint64_t>(std::floor(limit_fps_ * seconds)) + buffer_frames_;
  }
  return WithLatency(tx, std::min(tx, forwarded), latency_ns_);
}

uint64_t RateLimitedDut::LongestBurst(double line_fps) const {
  // Largest N with N - B <= floor(N * X / R). Search near the closed form B / (1 - X / R).
  const double approx = static_cast<double>(buffer_frames_) / (1.0 - limit_fps_ / line_fps);
  uint64_t n = static_cast<uint64_t>(approx) + 3;
  while (n > 0) {
    const double drained = std::floor(static_cast<double>(n) * limit_fps_ / line_fps);
    if (static_cast<double>(n) <= drained + static_cast<double>(buffer_frames_)) return n;
    --n;
  }
  return 0;
}

TrialResult PiecewiseLossDut::Run(const TrialRequest& request) {
  ++runs_;
  const uint64_t tx = OfferedFrames(request);
  double fraction = above_fraction_;
  for (const Segment& s : segments_) {
    if (request.rate_fps <= s.up_to_fps) {
      fraction = s.loss_fraction;
      break;
    }
  }
  return WithLatency(tx, Lose(tx, fraction), 8000);
}

double LosslessDut::AvgLatencyOfCall(int k) const { return base_ns_ + step_ns_ * (k % 5); }

TrialResult LosslessDut::Run(const TrialRequest& request) {
  const double avg = AvgLatencyOfCall(runs_);
  ++runs_;
  const uint64_t tx = OfferedFrames(request);
  return WithLatency(tx, tx, avg);
}

TrialResult InvalidatingDut::Run(const TrialRequest& request) {
  ++runs_;
  if (invalidate_(request)) {
    ++invalidated_;
    TrialResult r;
    r.valid = false;
    r.invalid_reason = reason_;
    return r;
  }
  return inner_.Run(request);
}

DriveLog Drive(Methodology& m, SimulatedDut& dut, int max_trials,
               const std::function<void(const TrialRequest&)>& before_trial) {
  DriveLog log;
  for (int i = 0; i < max_trials; ++i) {
    std::optional<TrialRequest> req = m.Next();
    if (!req) break;
    if (before_trial) before_trial(*req);
    const TrialResult res = dut.Run(*req);
    log.statuses.push_back(m.Record(*req, res));
    log.requests.push_back(*req);
    log.progress.push_back(m.Progress());
  }
  log.finished = m.Done();
  return log;
}

std::vector<TrialRequest> OfTest(const DriveLog& log, const std::string& test,
                                 uint32_t frame_bytes) {
  std::vector<TrialRequest> out;
  for (const auto& r : log.requests) {
    if (r.test == test && r.frame_bytes == frame_bytes) out.push_back(r);
  }
  return out;
}

}  // namespace netrig::controller::methodology::sim
