#include "controller/report/report_model.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "controller/report/statements.h"
#include "lib/rate/line_rate.h"
#include "lib/stats/latency_histogram.h"

namespace netrig::controller::report {
namespace {

// Adds a sparse proto histogram's counts into `buckets` (index -> count, ordered); indices
// outside the layout are ignored.
void AccumulateBuckets(const v1::LatencyHistogram& h, std::map<uint32_t, uint64_t>& buckets) {
  for (int i = 0; i < h.bucket_index_size() && i < h.bucket_count_size(); ++i) {
    if (h.bucket_index(i) < stats::LatencyHistogram::kBucketCount) {
      buckets[h.bucket_index(i)] += h.bucket_count(i);
    }
  }
}

std::vector<HistogramBucket> ToBuckets(const std::map<uint32_t, uint64_t>& buckets) {
  std::vector<HistogramBucket> out;
  for (const auto& [index, count] : buckets) {
    out.push_back({stats::LatencyHistogram::BucketLow(index), stats::LatencyHistogram::BucketHigh(index), count});
  }
  return out;
}

using stats::LatencyHistogram;

// ---------------------------------------------------------------- run summary

// The Completed condition says why the run ended; before that, the latest condition does.
std::string ConditionReason(const v1::TestRunStatus& status) {
  std::string latest;
  for (const v1::StatusCondition& c : status.conditions()) {
    if (c.type() == "Completed") {
      return c.reason();
    }
    if (!c.reason().empty()) {
      latest = c.reason();
    }
  }
  return latest;
}

std::optional<double> SecondsBetween(const std::string& start, const std::string& end) {
  absl::Time a;
  absl::Time b;
  std::string err;
  if (start.empty() || end.empty() || !absl::ParseTime(absl::RFC3339_full, start, &a, &err) ||
      !absl::ParseTime(absl::RFC3339_full, end, &b, &err) || b < a) {
    return std::nullopt;
  }
  return absl::ToDoubleSeconds(b - a);
}

RunSummary Summarise(const v1::RunResults& results) {
  const v1::Run& run = results.run();
  const v1::TestRun& test_run = run.test_run();
  const v1::TestRunStatus& status = test_run.status();
  RunSummary s;
  s.id = run.id().empty() ? results.id() : run.id();
  s.name = test_run.metadata().name();
  s.namespace_name = test_run.metadata().namespace_();
  s.level = test_run.spec().level().empty() ? "L1" : test_run.spec().level();
  s.phase = status.phase();
  s.verdict = status.verdict();
  s.summary = status.summary();
  s.reason = ConditionReason(status);
  s.start_time = status.start_time();
  s.completion_time = status.completion_time();
  s.duration_s = SecondsBetween(s.start_time, s.completion_time);
  s.spec_hash = run.spec_hash().empty() ? results.fingerprint().spec_hash() : run.spec_hash();
  s.created_time = run.created_time();
  return s;
}

// ---------------------------------------------------------------- metric rows

// Throughput metrics; false when the name is not one of them.
bool ApplyThroughput(ThroughputFigures& t, const std::string& metric, double v) {
  if (metric == "throughput_fps") {
    t.fps = v;
  } else if (metric == "throughput_percent") {
    t.percent_line_rate = v;
  } else if (metric == "throughput_l2_mbps") {
    t.l2_mbps = v;
  } else if (metric == "max_theoretical_fps") {
    t.max_theoretical_fps = v;
  } else if (metric == "trials") {
    t.trials = static_cast<uint32_t>(std::max(v, 0.0));
  } else {
    return false;
  }
  return true;
}

bool ApplyLatency(LatencyFigures& l, const std::string& metric, double v) {
  if (metric == "latency_min_ns") {
    l.min_ns = v;
  } else if (metric == "latency_avg_ns") {
    l.avg_ns = v;
  } else if (metric == "latency_max_ns") {
    l.max_ns = v;
  } else if (metric == "latency_p99_ns") {
    l.p99_ns = v;
  } else if (metric == "pdv_p99_ns") {
    l.pdv_p99_ns = v;
  } else {
    return false;
  }
  return true;
}

bool ApplyBackToBack(BackToBackFigures& b, const std::string& metric, double v) {
  if (metric == "b2b_avg_frames") {
    b.avg_frames = v;
  } else if (metric == "b2b_min_frames") {
    b.min_frames = v;
  } else if (metric == "b2b_max_frames") {
    b.max_frames = v;
  } else if (metric == "b2b_stddev_frames") {
    b.stddev_frames = v;
  } else if (metric == "corrected_buffer_time_s") {
    b.corrected_buffer_time_s = v;
  } else {
    return false;
  }
  return true;
}

// Applies one metric row; a figure group appears only once one of its metrics does, so a test
// that did not complete stays absent (and renders as "no result") instead of showing zeros.
void ApplyMetric(FrameSizeResult& f, const v1::TestRunResult& m) {
  const std::string& metric = m.metric();
  const double v = m.value();
  if (m.test() == "throughput") {
    ThroughputFigures t = f.throughput.value_or(ThroughputFigures{});
    if (ApplyThroughput(t, metric, v)) {
      f.throughput = t;
    }
  } else if (m.test() == "latency") {
    LatencyFigures l = f.latency.value_or(LatencyFigures{});
    if (ApplyLatency(l, metric, v)) {
      f.latency = l;
    }
  } else if (m.test() == "backToBack") {
    BackToBackFigures b = f.back_to_back.value_or(BackToBackFigures{});
    if (ApplyBackToBack(b, metric, v)) {
      f.back_to_back = b;
    }
  } else if (m.test() == "frameLoss") {
    if (const std::optional<double> offered = LossMetricOfferedPercent(metric)) {
      f.frame_loss.push_back({*offered, v});
    }
  }
}

// ---------------------------------------------------------------- grouping

// Directions in order of first appearance, frame sizes looked up by value.
class Grouping {
 public:
  FrameSizeResult& At(const std::string& direction, uint32_t frame_size) {
    DirectionResult& d = Direction(direction);
    for (FrameSizeResult& f : d.frame_sizes) {
      if (f.frame_size == frame_size) {
        return f;
      }
    }
    d.frame_sizes.push_back({});
    d.frame_sizes.back().frame_size = frame_size;
    return d.frame_sizes.back();
  }
  std::vector<DirectionResult> Take() {
    for (DirectionResult& d : directions_) {
      std::sort(d.frame_sizes.begin(), d.frame_sizes.end(),
                [](const auto& a, const auto& b) { return a.frame_size < b.frame_size; });
    }
    return std::move(directions_);
  }

 private:
  DirectionResult& Direction(const std::string& name) {
    for (DirectionResult& d : directions_) {
      if (d.direction == name) {
        return d;
      }
    }
    directions_.push_back({name, {}});
    return directions_.back();
  }
  std::vector<DirectionResult> directions_;
};

// ---------------------------------------------------------------- trials

// Adds what only the trials know: the latency trials' rate and merged histogram, and the
// frame-loss curve as measured (preferred over the metric rows, which round the offered load
// into the metric name).
void ApplyTrials(Grouping& groups, const v1::RunResults& results) {
  std::map<std::pair<std::string, uint32_t>, std::map<uint32_t, uint64_t>> histograms;
  std::map<std::pair<std::string, uint32_t>, std::map<double, double>> loss_curves;
  for (const v1::TrialRecord& t : results.trials()) {
    if (!t.valid()) {
      continue;  // invalid trials were not used by the methodology; they are listed, not drawn
    }
    const auto key = std::make_pair(t.direction(), t.frame_size());
    FrameSizeResult& f = groups.At(t.direction(), t.frame_size());
    if (t.test() == "latency") {
      if (f.latency && f.latency->rate_fps == 0) {
        f.latency->rate_fps = t.offered_fps();
        f.latency->rate_percent = t.offered_rate_percent();
      }
      if (KnownHistogramLayout(t.latency_histogram())) {
        AccumulateBuckets(t.latency_histogram(), histograms[key]);
      }
    } else if (t.test() == "frameLoss") {
      loss_curves[key][t.offered_rate_percent()] = t.loss_percent();  // a retry replaces
    }
  }
  for (const auto& [key, buckets] : histograms) {
    groups.At(key.first, key.second).latency_histogram = ToBuckets(buckets);
  }
  for (const auto& [key, curve] : loss_curves) {
    FrameSizeResult& f = groups.At(key.first, key.second);
    f.frame_loss.clear();
    for (const auto& [offered, loss] : curve) {
      f.frame_loss.push_back({offered, loss});
    }
  }
}

// ---------------------------------------------------------------- theoretical maximum

// Link speed of a direction: the slower of its ports ("west->east", "west<->east"), else the
// slowest port of the run. 0 when no port reported a speed.
uint64_t DirectionLinkBps(const v1::RunFingerprint& fp, const std::string& direction) {
  std::vector<std::string> roles =
      absl::StrSplit(direction, absl::ByAnyChar("<->"), absl::SkipEmpty());
  uint64_t direction_bps = 0;
  uint64_t any_bps = 0;
  for (const v1::PortFingerprint& p : fp.ports()) {
    if (p.speed_bps() == 0) {
      continue;
    }
    any_bps = any_bps == 0 ? p.speed_bps() : std::min(any_bps, p.speed_bps());
    if (std::find(roles.begin(), roles.end(), p.role()) != roles.end()) {
      direction_bps = direction_bps == 0 ? p.speed_bps() : std::min(direction_bps, p.speed_bps());
    }
  }
  return direction_bps != 0 ? direction_bps : any_bps;
}

void FillTheoreticalMax(std::vector<DirectionResult>& directions, const v1::RunFingerprint& fp) {
  for (DirectionResult& d : directions) {
    const uint64_t link_bps = DirectionLinkBps(fp, d.direction);
    for (FrameSizeResult& f : d.frame_sizes) {
      if (f.throughput && f.throughput->max_theoretical_fps > 0) {
        f.max_theoretical_fps = f.throughput->max_theoretical_fps;
      } else if (link_bps > 0) {
        f.max_theoretical_fps = rate::MaxFrameRate(link_bps, f.frame_size);
      }
      if (f.throughput && f.throughput->max_theoretical_fps == 0) {
        f.throughput->max_theoretical_fps = f.max_theoretical_fps;
      }
      std::sort(f.frame_loss.begin(), f.frame_loss.end(),
                [](const auto& a, const auto& b) { return a.offered_percent < b.offered_percent; });
    }
  }
}

}  // namespace

bool KnownHistogramLayout(const v1::LatencyHistogram& histogram) {
  return histogram.sub_bucket_bits() == 0 ||
         histogram.sub_bucket_bits() == LatencyHistogram::kSubBucketBits;
}

std::vector<HistogramBucket> HistogramBuckets(const v1::LatencyHistogram& histogram) {
  std::vector<HistogramBucket> out;
  if (!KnownHistogramLayout(histogram)) {
    return out;
  }
  std::map<uint32_t, uint64_t> sorted;
  AccumulateBuckets(histogram, sorted);
  return ToBuckets(sorted);
}

std::optional<double> LossMetricOfferedPercent(const std::string& metric) {
  constexpr absl::string_view kPrefix = "loss_percent_at_";
  constexpr absl::string_view kSuffix = "pct";
  if (!absl::StartsWith(metric, kPrefix) || !absl::EndsWith(metric, kSuffix) ||
      metric.size() <= kPrefix.size() + kSuffix.size()) {
    return std::nullopt;
  }
  const absl::string_view number = absl::string_view(metric).substr(
      kPrefix.size(), metric.size() - kPrefix.size() - kSuffix.size());
  double value = 0;
  if (!absl::SimpleAtod(number, &value)) {
    return std::nullopt;
  }
  return value;
}

std::string SpecJson(const v1::TestRun& test_run, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(test_run.spec(), &out, options).ok()) {
    return "{}";
  }
  return out;
}

ReportModel BuildModel(const v1::RunResults& results) {
  ReportModel model;
  model.run = Summarise(results);
  Grouping groups;
  // Rows first so directions keep the order the controller measured them in.
  for (const v1::TestRunResult& m : results.results()) {
    ApplyMetric(groups.At(m.direction(), m.frame_size()), m);
  }
  ApplyTrials(groups, results);
  for (const v1::TestOutcome& o : results.outcomes()) {
    (void)groups.At(o.direction(), o.frame_size());  // a size that never finished still shows
  }
  model.directions = groups.Take();
  FillTheoreticalMax(model.directions, results.fingerprint());
  model.statements = BuildStatements(results);
  return model;
}

}  // namespace netrig::controller::report
