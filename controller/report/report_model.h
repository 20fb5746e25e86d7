// The report's view of a finished run: RunResults (flat metric rows, trials, outcomes)
// regrouped per direction x frame size, plus the RFC 2544 reporting statements. The three
// renderers (JSON, JUnit, HTML) read this model, so they never disagree about a number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/netrig/v1/controller.pb.h"

namespace netrig::controller::report {

struct ThroughputFigures {  // RFC 2544 §26.1
  double fps = 0;
  double percent_line_rate = 0;
  double l2_mbps = 0;
  double max_theoretical_fps = 0;
  uint32_t trials = 0;
};

struct LatencyFigures {  // RFC 2544 §26.2, averages over the latency trials
  double min_ns = 0;
  double avg_ns = 0;
  double max_ns = 0;
  double p99_ns = 0;
  double pdv_p99_ns = 0;
  double rate_fps = 0;      // the rate the latency trials ran at (the throughput rate)
  double rate_percent = 0;  // of the theoretical maximum
};

struct LossPoint {  // RFC 2544 §26.3
  double offered_percent = 0;
  double loss_percent = 0;
};

struct BackToBackFigures {  // RFC 2544 §26.4 as updated by RFC 9004
  double avg_frames = 0;
  double min_frames = 0;
  double max_frames = 0;
  double stddev_frames = 0;
  double corrected_buffer_time_s = 0;
};

struct HistogramBucket {
  uint64_t lower_ns = 0;  // inclusive
  uint64_t upper_ns = 0;  // exclusive
  uint64_t count = 0;
};

struct FrameSizeResult {
  uint32_t frame_size = 0;
  double max_theoretical_fps = 0;  // 0 when unknown (no metric and no link speed)
  std::optional<ThroughputFigures> throughput;
  std::optional<LatencyFigures> latency;
  std::vector<LossPoint> frame_loss;  // ascending offered load
  std::optional<BackToBackFigures> back_to_back;
  std::vector<HistogramBucket> latency_histogram;  // merged over the valid latency trials
};

struct DirectionResult {
  std::string direction;                     // "west->east"
  std::vector<FrameSizeResult> frame_sizes;  // ascending frame size
};

// What RFC 2544 requires a report to state (§7, §8, §26.1, §26.2, §24; RFC 9004 §7).
struct Statements {
  std::string latency_definition;
  std::string frame_format;
  std::string search_method;
  std::string latency_method;
  std::string frame_loss_method;
  std::string back_to_back_method;
  std::string line_rate;
  std::vector<std::string> deviations;  // departures from the RFCs' recommendations
};

struct RunSummary {
  std::string id;
  std::string name;
  std::string namespace_name;
  std::string level;
  std::string phase;
  std::string verdict;
  std::string summary;
  std::string reason;  // the Completed condition's reason (or the latest condition's)
  std::string start_time;
  std::string completion_time;
  std::optional<double> duration_s;
  std::string spec_hash;
  std::string created_time;
};

struct ReportModel {
  RunSummary run;
  std::vector<DirectionResult> directions;
  Statements statements;
};

ReportModel BuildModel(const v1::RunResults& results);

// A histogram's non-empty buckets with their [lower, upper) bounds in ns, ascending. Empty when
// the histogram uses a bucket layout other than lib/stats' (sub_bucket_bits mismatch).
std::vector<HistogramBucket> HistogramBuckets(const v1::LatencyHistogram& histogram);
// True when the histogram's layout is the one lib/stats defines (or unset, meaning it).
bool KnownHistogramLayout(const v1::LatencyHistogram& histogram);

// The TestRun spec as protobuf JSON (camelCase keys, the form users write); "{}" on failure.
std::string SpecJson(const v1::TestRun& test_run, bool pretty);

// "loss_percent_at_90pct" -> 90, "loss_percent_at_72.5pct" -> 72.5; nullopt for other names.
std::optional<double> LossMetricOfferedPercent(const std::string& metric);

}  // namespace netrig::controller::report
