#include "controller/run/rfc2544_executor.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "lib/common/status_macros.h"
#include "lib/rate/line_rate.h"

namespace netrig::controller::run {
namespace {

using methodology::TrialRequest;
using methodology::TrialResult;

// How far below the offered rate a sender may fall before its trial is invalid.
constexpr double kGeneratorShortfall = 0.01;

// Stream names carry the direction so the aggregation can find them in both agents' batches.
std::string StreamName(bool reverse) { return reverse ? "rev" : "fwd"; }

const v1::StreamStats* FindStream(const v1::FlowStatsBatch& b, const std::string& name) {
  for (const auto& s : b.streams()) {
    if (s.stream() == name) return &s;
  }
  return nullptr;
}

void AddSender(std::vector<agents::AgentTrial>& trials, const BoundPort& from,
               const BoundPort& to, const TrialRequest& req, uint32_t flows,
               uint32_t first_flow, bool reverse, spec::L3 l3, absl::Duration drain) {
  auto trial_for = [&](const std::string& agent) -> v1::TrialStart& {
    for (auto& t : trials) {
      if (t.agent_id == agent) return t.start;
    }
    trials.push_back({agent, {}});
    v1::TrialStart& t = trials.back().start;
    t.set_duration_ns(static_cast<uint64_t>(absl::ToInt64Nanoseconds(req.duration)));
    t.set_drain_ns(static_cast<uint64_t>(absl::ToInt64Nanoseconds(drain)));
    return t;
  };
  v1::StreamConfig* s = trial_for(from.agent_id).add_streams();
  s->set_name(StreamName(reverse));
  s->set_tx_port(from.agent_port);
  if (to.agent_id == from.agent_id) s->set_rx_port(to.agent_port);
  s->set_flows(flows);
  s->set_first_flow_id(first_flow);
  s->set_l3(l3 == spec::L3::kIpv6 ? v1::L3_PROTOCOL_IPV6 : v1::L3_PROTOCOL_IPV4);
  s->set_dst_mac(from.gateway_mac.empty() ? to.mac : from.gateway_mac);
  // RFC 2544 App. C addressing: input side 198.18.x, output side 198.19.x.
  const bool v6 = l3 == spec::L3::kIpv6;
  s->mutable_src_ip()->set_start(reverse ? (v6 ? "2001:2:0:1::2" : "198.19.1.2")
                                         : (v6 ? "2001:2::2" : "198.18.1.2"));
  s->mutable_dst_ip()->set_start(reverse ? (v6 ? "2001:2::2" : "198.18.1.2")
                                         : (v6 ? "2001:2:0:1::2" : "198.19.1.2"));
  s->mutable_dst_port()->set_start("5000");
  s->mutable_dst_port()->set_count(std::min<uint32_t>(flows, 60000));
  s->mutable_size()->set_fixed_bytes(req.frame_bytes);
  if (req.burst_frames != 0) {
    // Back-to-back: the burst at line rate (minimum gap), then idle until the trial ends.
    s->mutable_rate()->set_unit(v1::RATE_UNIT_PERCENT_LINE);
    s->mutable_rate()->set_value(100);
    s->set_max_packets(req.burst_frames);
  } else {
    s->mutable_rate()->set_unit(v1::RATE_UNIT_PPS);
    s->mutable_rate()->set_value(req.rate_fps);
  }
  if (to.agent_id != from.agent_id) {
    v1::StreamConfig* r = trial_for(to.agent_id).add_streams();
    r->set_name(StreamName(reverse));
    r->set_rx_port(to.agent_port);
    r->set_flows(flows);
    r->set_first_flow_id(first_flow);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Rfc2544Executor>> Rfc2544Executor::Create(
    const spec::RunPlan& plan, std::vector<BoundPort> ports, agents::TrialCoordinator& coordinator,
    ExecutorCallbacks callbacks) {
  auto ex = std::unique_ptr<Rfc2544Executor>(new Rfc2544Executor());
  ex->plan_ = plan;
  ex->ports_ = std::move(ports);
  ex->coordinator_ = &coordinator;
  ex->callbacks_ = std::move(callbacks);
  const auto port = [&](const std::string& role) -> const BoundPort* {
    for (const BoundPort& p : ex->ports_) {
      if (p.role == role) return &p;
    }
    return nullptr;
  };
  const spec::Rfc2544Plan& r = plan.rfc2544;
  for (size_t i = 0; i < r.traffic.size(); ++i) {
    const spec::TrafficPlan& t = r.traffic[i];
    Direction d;
    d.from = port(t.from);
    d.to = port(t.to);
    if (d.from == nullptr || d.to == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "spec.benchmark.rfc2544.traffic[", i, "]: port ", d.from ? t.to : t.from,
          " is not bound to an agent port"));
    }
    d.flows = t.flows;
    d.bidirectional = t.bidirectional;
    d.label = absl::StrCat(t.from, t.bidirectional ? "<->" : "->", t.to);
    methodology::Rfc2544Config cfg;
    for (spec::Rfc2544Test test : r.tests) cfg.tests.push_back(spec::TestName(test));
    cfg.frame_sizes = r.frame_sizes;
    cfg.link_bps = std::min(d.from->speed_bps, d.to->speed_bps);
    cfg.trial_duration = r.trial_duration;
    cfg.loss_tolerance_pct = r.loss_tolerance_pct;
    cfg.resolution_pct = r.resolution_pct;
    cfg.min_rate_pct = r.min_rate_pct;
    cfg.max_rate_pct = r.max_rate_pct;
    cfg.latency_trials = r.latency.trials;
    cfg.latency_duration = r.latency.duration;
    cfg.frame_loss_step_pct = r.frame_loss.step_pct;
    cfg.b2b_trials = r.back_to_back.trials;
    cfg.b2b_max_burst_duration = r.back_to_back.max_burst_duration;
    cfg.b2b_trial_duration = r.back_to_back.trial_duration;
    auto engine = methodology::Rfc2544::Create(cfg);
    if (!engine.ok()) {
      return absl::Status(engine.status().code(),
                          absl::StrCat(d.label, ": ", engine.status().message()));
    }
    d.engine = std::move(*engine);
    ex->directions_.push_back(std::move(d));
  }
  if (ex->directions_.empty()) {
    return absl::InvalidArgumentError("spec.benchmark.rfc2544.traffic: no traffic to run");
  }
  return ex;
}

std::vector<agents::AgentTrial> Rfc2544Executor::BuildTrial(const Direction& d,
                                                            const TrialRequest& req) const {
  std::vector<agents::AgentTrial> trials;
  const spec::Rfc2544Plan& r = plan_.rfc2544;
  AddSender(trials, *d.from, *d.to, req, d.flows, 0, false, r.l3, r.waits.drain);
  if (d.bidirectional) {
    AddSender(trials, *d.to, *d.from, req, d.flows, d.flows, true, r.l3, r.waits.drain);
  }
  return trials;
}

TrialResult Rfc2544Executor::Aggregate(const Direction& d, const agents::TrialOutcome& out) {
  TrialResult r;
  if (!out.valid) {
    r.valid = false;
    r.invalid_reason = out.invalid_reason;
    return r;
  }
  double lat_weighted = 0, p99 = 0, pdv = 0, jitter = 0;
  r.latency_min_ns = 0;
  bool have_latency = false;
  for (int dir = 0; dir < (d.bidirectional ? 2 : 1); ++dir) {
    const BoundPort& from = dir == 0 ? *d.from : *d.to;
    const BoundPort& to = dir == 0 ? *d.to : *d.from;
    const std::string name = StreamName(dir == 1);
    const auto tx_batch = out.batches.find(from.agent_id);
    const auto rx_batch = out.batches.find(to.agent_id);
    const v1::StreamStats* tx = tx_batch == out.batches.end() ? nullptr : FindStream(tx_batch->second, name);
    const v1::StreamStats* rx = rx_batch == out.batches.end() ? nullptr : FindStream(rx_batch->second, name);
    if (tx == nullptr || rx == nullptr) {
      r.valid = false;
      r.invalid_reason = absl::StrCat("stream ", name, " missing from the agents' reports");
      return r;
    }
    // A generator that could not keep to its schedule (flow-controlled by the path, as AF_XDP
    // copy mode is when the SUT queues more frames than the socket has descriptors, or short
    // of CPU) offered less than the methodology thinks: the trial says nothing about the SUT.
    if (tx->target_frames_per_second() > 0 && tx->tx_duration_s() > 0 && tx->tx_packets() > 1) {
      const double achieved = static_cast<double>(tx->tx_packets() - 1) / tx->tx_duration_s();
      if (achieved < (1.0 - kGeneratorShortfall) * tx->target_frames_per_second()) {
        r.valid = false;
        r.invalid_reason = absl::StrFormat(
            "the generator sent %.0f fps of the %.0f fps offered on %s (flow-controlled by the "
            "path or short of CPU); the trial does not measure the SUT",
            achieved, tx->target_frames_per_second(), from.agent_port);
        return r;
      }
    }
    r.tx_frames += tx->tx_packets();
    r.rx_frames += rx->unique_packets();
    r.duplicates += rx->duplicates();
    r.reordered += rx->reordered();
    r.rx_fps += rx->rx_frames_per_second();
    if (rx->unique_packets() > 0) {
      const double n = static_cast<double>(rx->unique_packets());
      lat_weighted += static_cast<double>(rx->latency_avg_ns()) * n;
      r.latency_min_ns = have_latency ? std::min<double>(r.latency_min_ns, rx->latency_min_ns())
                                      : static_cast<double>(rx->latency_min_ns());
      r.latency_max_ns = std::max<double>(r.latency_max_ns, rx->latency_max_ns());
      p99 = std::max<double>(p99, rx->latency_p99_ns());
      pdv = std::max<double>(pdv, rx->pdv_p99_ns());
      jitter = std::max<double>(jitter, rx->jitter_ns());
      have_latency = true;
    }
  }
  if (r.rx_frames > 0) r.latency_avg_ns = lat_weighted / static_cast<double>(r.rx_frames);
  r.latency_p99_ns = p99;
  r.pdv_p99_ns = pdv;
  r.jitter_ns = jitter;
  // More unique frames than were sent means foreign or stale frames: never a pass.
  if (r.rx_frames > r.tx_frames) {
    r.valid = false;
    r.invalid_reason = absl::StrCat("received ", r.rx_frames, " frames but only ", r.tx_frames,
                                    " were sent");
  }
  return r;
}

agents::TrialCoordinator::InterimListener Rfc2544Executor::InterimListener(
    const Direction& d) const {
  if (!callbacks_.on_live) return nullptr;
  return [this, &d](const v1::FlowStatsBatch& batch) {
    std::vector<LiveSample> samples;
    for (const v1::StreamStats& st : batch.streams()) {
      const bool reverse = st.stream() == StreamName(true);
      if (!reverse && st.stream() != StreamName(false)) continue;
      const BoundPort* from = reverse ? d.to : d.from;
      const BoundPort* to = reverse ? d.from : d.to;
      LiveSample s;
      s.stream = absl::StrCat(from->role, "-", to->role);
      s.port = from->role;
      s.sender = batch.agent_id() == from->agent_id && !st.tx_port().empty();
      s.receiver = batch.agent_id() == to->agent_id;
      s.elapsed_s = static_cast<double>(batch.elapsed_ns()) / 1e9;
      s.tx_packets = st.tx_packets();
      s.rx_packets = st.rx_packets();
      s.target_fps = st.target_frames_per_second();
      s.latency_p50_ns = st.latency_p50_ns();
      s.latency_p99_ns = st.latency_p99_ns();
      s.latency_p999_ns = st.latency_p999_ns();
      samples.push_back(std::move(s));
    }
    if (!samples.empty()) callbacks_.on_live(samples);
  };
}

absl::StatusOr<std::vector<v1::TestRunResult>> Rfc2544Executor::Run(
    const std::atomic<bool>& cancel) {
  std::vector<v1::TestRunResult> results;
  uint32_t trial_no = 0;
  double last_loss = 0;  // of the last finished trial, shown with the next one's progress
  for (size_t di = 0; di < directions_.size(); ++di) {
    Direction& d = directions_[di];
    while (std::optional<TrialRequest> req = d.engine->Next()) {
      if (cancel.load()) {
        return absl::CancelledError("cancelled");
      }
      if (callbacks_.on_progress) {
        v1::TestRunProgress p;
        p.set_test(req->test);
        p.set_frame_size(req->frame_bytes);
        p.set_direction(d.label);
        p.set_trial(++trial_no);
        p.set_offered_rate_percent(req->rate_percent);
        p.set_offered_rate_fps(req->rate_fps);
        p.set_loss_percent(last_loss);
        uint32_t done = 0, total = 0;
        for (const Direction& dd : directions_) {
          for (const methodology::FrameSizeReport& fr : dd.engine->reports()) {
            ++total;
            const methodology::TestState states[] = {
                fr.throughput.outcome.state, fr.latency.outcome.state,
                fr.frame_loss.outcome.state, fr.back_to_back.outcome.state};
            done += std::none_of(std::begin(states), std::end(states), [](methodology::TestState s) {
              return s == methodology::TestState::kPending;
            });
          }
        }
        p.set_frame_sizes_done(done);
        p.set_frame_sizes_total(total);
        p.set_message(req->note);
        callbacks_.on_progress(p);
      }
      const absl::Time started = absl::Now();
      ASSIGN_OR_RETURN(agents::TrialOutcome outcome,
                       coordinator_->Run(BuildTrial(d, *req), InterimListener(d)));
      const TrialResult result = Aggregate(d, outcome);
      last_loss = methodology::FrameLossPercent(result.tx_frames, result.rx_frames);
      const absl::Status recorded = d.engine->Record(*req, result);
      if (!recorded.ok() && recorded.code() != absl::StatusCode::kUnavailable &&
          recorded.code() != absl::StatusCode::kAborted) {
        return recorded;  // a programming error: the request was not the outstanding one
      }
      if (callbacks_.on_trial) {
        v1::TrialRecord t;
        t.set_index(req->index);
        t.set_test(req->test);
        t.set_frame_size(req->frame_bytes);
        t.set_direction(d.label);
        t.set_offered_rate_percent(req->rate_percent);
        t.set_offered_fps(req->rate_fps);
        t.set_burst_frames(req->burst_frames);
        t.set_tx_frames(result.tx_frames);
        t.set_rx_frames(result.rx_frames);
        t.set_loss_percent(methodology::FrameLossPercent(result.tx_frames, result.rx_frames));
        t.set_valid(result.valid);
        t.set_invalid_reason(result.invalid_reason);
        t.set_passed(result.valid && t.loss_percent() <= plan_.rfc2544.loss_tolerance_pct);
        t.set_latency_min_ns(static_cast<uint64_t>(result.latency_min_ns));
        t.set_latency_avg_ns(static_cast<uint64_t>(std::llround(result.latency_avg_ns)));
        t.set_latency_max_ns(static_cast<uint64_t>(result.latency_max_ns));
        t.set_latency_p99_ns(static_cast<uint64_t>(result.latency_p99_ns));
        t.set_pdv_p99_ns(static_cast<uint64_t>(result.pdv_p99_ns));
        t.set_started_time(absl::FormatTime(absl::RFC3339_full, started, absl::UTCTimeZone()));
        t.set_note(req->note);
        t.set_rx_fps(result.rx_fps);
        *t.mutable_latency_histogram() = MergedHistogram(d, outcome);
        callbacks_.on_trial(t, outcome);
      }
    }
    std::vector<v1::TestRunResult> r = ResultsOf(d);
    results.insert(results.end(), r.begin(), r.end());
  }
  return results;
}

std::vector<v1::TestRunResult> ResultsOf(const Rfc2544Executor::Direction& d) {
  std::vector<v1::TestRunResult> out;
  auto add = [&](const std::string& test, uint32_t size, const std::string& metric, double value,
                 const std::string& unit) {
    v1::TestRunResult r;
    r.set_test(test);
    r.set_frame_size(size);
    r.set_direction(d.label);
    r.set_metric(metric);
    r.set_value(value);
    r.set_unit(unit);
    out.push_back(r);
  };
  using methodology::TestState;
  for (const methodology::FrameSizeReport& fr : d.engine->reports()) {
    const uint32_t size = fr.frame_bytes;
    if (fr.throughput.outcome.state == TestState::kCompleted) {
      add("throughput", size, "throughput_fps", fr.throughput.fps, "frames/s");
      add("throughput", size, "throughput_percent", fr.throughput.rate_pct, "%");
      add("throughput", size, "throughput_l2_mbps", fr.throughput.l2_mbps, "Mbit/s");
      add("throughput", size, "max_theoretical_fps", fr.throughput.max_theoretical_fps, "frames/s");
      add("throughput", size, "trials", fr.throughput.outcome.trials, "trials");
    }
    if (fr.latency.outcome.state == TestState::kCompleted) {
      add("latency", size, "latency_avg_ns", fr.latency.avg_ns, "ns");
      add("latency", size, "latency_min_ns", fr.latency.min_ns, "ns");
      add("latency", size, "latency_max_ns", fr.latency.max_ns, "ns");
      add("latency", size, "latency_p99_ns", fr.latency.avg_p99_ns, "ns");
      add("latency", size, "pdv_p99_ns", fr.latency.avg_pdv_p99_ns, "ns");
    }
    if (fr.frame_loss.outcome.state == TestState::kCompleted) {
      for (const auto& pt : fr.frame_loss.curve) {
        add("frameLoss", size, absl::StrCat("loss_percent_at_", pt.offered_pct, "pct"), pt.loss_pct, "%");
      }
    }
    if (fr.back_to_back.outcome.state == TestState::kCompleted) {
      add("backToBack", size, "b2b_avg_frames", fr.back_to_back.avg_frames, "frames");
      add("backToBack", size, "b2b_min_frames", static_cast<double>(fr.back_to_back.min_frames), "frames");
      add("backToBack", size, "b2b_max_frames", static_cast<double>(fr.back_to_back.max_frames), "frames");
      add("backToBack", size, "b2b_stddev_frames", fr.back_to_back.stddev_frames, "frames");
      add("backToBack", size, "corrected_buffer_time_s", fr.back_to_back.corrected_buffer_time_s, "s");
    }
  }
  return out;
}


std::vector<v1::TestOutcome> OutcomesOf(const Rfc2544Executor::Direction& d) {
  using methodology::TestState;
  std::vector<v1::TestOutcome> out;
  for (const methodology::FrameSizeReport& fr : d.engine->reports()) {
    const std::pair<const char*, const methodology::TestOutcome*> tests[] = {
        {"throughput", &fr.throughput.outcome}, {"latency", &fr.latency.outcome},
        {"frameLoss", &fr.frame_loss.outcome}, {"backToBack", &fr.back_to_back.outcome}};
    for (const auto& [name, o] : tests) {
      if (o->state == TestState::kNotRequested) continue;
      v1::TestOutcome t;
      t.set_test(name);
      t.set_frame_size(fr.frame_bytes);
      t.set_direction(d.label);
      switch (o->state) {
        case TestState::kCompleted: t.set_state("passed"); break;
        case TestState::kSkipped: t.set_state("skipped"); break;
        case TestState::kFailed: t.set_state("failed"); break;
        default:
          t.set_state("pending");
          break;
      }
      t.set_reason(o->state == TestState::kPending && o->reason.empty()
                       ? "not reached: the run ended before this test"
                       : o->reason);
      t.set_trials(o->trials);
      out.push_back(std::move(t));
    }
  }
  return out;
}

v1::LatencyHistogram MergedHistogram(const Rfc2544Executor::Direction& d,
                                     const agents::TrialOutcome& outcome) {
  std::map<uint32_t, uint64_t> buckets;
  uint32_t sub_bucket_bits = 0;
  for (int dir = 0; dir < (d.bidirectional ? 2 : 1); ++dir) {
    const BoundPort& to = dir == 0 ? *d.to : *d.from;
    const auto batch = outcome.batches.find(to.agent_id);
    if (batch == outcome.batches.end()) continue;
    const v1::StreamStats* rx = FindStream(batch->second, StreamName(dir == 1));
    if (rx == nullptr) continue;
    const v1::LatencyHistogram& h = rx->latency();
    sub_bucket_bits = h.sub_bucket_bits();
    for (int i = 0; i < h.bucket_index_size() && i < h.bucket_count_size(); ++i) {
      buckets[h.bucket_index(i)] += h.bucket_count(i);
    }
  }
  v1::LatencyHistogram merged;
  merged.set_sub_bucket_bits(sub_bucket_bits);
  for (const auto& [index, count] : buckets) {
    merged.add_bucket_index(index);
    merged.add_bucket_count(count);
  }
  return merged;
}

absl::StatusOr<std::vector<v1::Calibration>> Rfc2544Executor::Calibrate(
    absl::Duration duration, double floor_fps, const std::atomic<bool>& cancel) {
  std::vector<v1::Calibration> out;
  const uint32_t frame = plan_.rfc2544.l3 == spec::L3::kIpv6 ? 84 : 64;  // signature minimum
  for (const Direction& d : directions_) {
    v1::Calibration c;
    c.set_direction(d.label);
    c.set_frame_size(frame);
    c.set_duration_s(absl::ToDoubleSeconds(duration));
    const uint64_t link_bps = std::min(d.from->speed_bps, d.to->speed_bps);
    TrialRequest req;
    req.test = "calibration";
    req.frame_bytes = frame;
    req.duration = duration;
    req.rate_fps = rate::MaxFrameRate(link_bps, frame);  // replaced by "unlimited" below
    std::vector<agents::AgentTrial> trials = BuildTrial(d, req);
    for (auto& t : trials) {
      for (auto& s : *t.start.mutable_streams()) {
        if (!s.tx_port().empty()) s.mutable_rate()->set_unlimited(true);
      }
    }
    if (cancel.load()) return absl::CancelledError("cancelled");
    ASSIGN_OR_RETURN(agents::TrialOutcome max_run, coordinator_->Run(std::move(trials)));
    const TrialResult max = Aggregate(d, max_run);
    if (!max.valid) {
      c.set_error(absl::StrCat("maximum-rate trial: ", max.invalid_reason));
      out.push_back(c);
      continue;
    }
    const double senders = d.bidirectional ? 2.0 : 1.0;
    c.set_max_tx_fps(static_cast<double>(max.tx_frames) / senders / absl::ToDoubleSeconds(duration));
    c.set_max_tx_percent_line_rate(100.0 * c.max_tx_fps() / rate::MaxFrameRate(link_bps, frame));
    req.rate_fps = std::min(floor_fps, 0.01 * rate::MaxFrameRate(link_bps, frame));
    if (cancel.load()) return absl::CancelledError("cancelled");
    ASSIGN_OR_RETURN(agents::TrialOutcome floor_run, coordinator_->Run(BuildTrial(d, req)));
    const TrialResult floor = Aggregate(d, floor_run);
    c.set_floor_offered_fps(req.rate_fps);
    c.set_floor_rx_frames(floor.rx_frames);
    if (!floor.valid || floor.rx_frames == 0) {
      c.set_error(floor.valid ? "latency-floor trial: nothing received"
                              : absl::StrCat("latency-floor trial: ", floor.invalid_reason));
    } else {
      c.set_latency_floor_min_ns(static_cast<uint64_t>(floor.latency_min_ns));
      c.set_latency_floor_avg_ns(static_cast<uint64_t>(std::llround(floor.latency_avg_ns)));
      c.set_latency_floor_p99_ns(static_cast<uint64_t>(floor.latency_p99_ns));
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace netrig::controller::run
