#include "controller/report/report_charts.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <optional>

#include "absl/strings/str_cat.h"
#include "controller/report/format.h"
#include "controller/report/svg_chart.h"

namespace netrig::controller::report {
namespace {

// With one direction the series need no direction suffix; with several they do.
std::string SeriesName(const std::string& what, const ReportModel& model,
                       const DirectionResult& d) {
  return model.directions.size() > 1 ? absl::StrCat(what, " (", d.direction, ")") : what;
}

// One point per frame size for which value() has a number.
svg::LineSeries PerFrameSize(
    std::string name, const DirectionResult& d,
    const std::function<std::optional<double>(const FrameSizeResult&)>& value) {
  svg::LineSeries s;
  s.name = std::move(name);
  for (const FrameSizeResult& f : d.frame_sizes) {
    if (const std::optional<double> v = value(f)) {
      s.points.push_back({static_cast<double>(f.frame_size), *v});
    }
  }
  return s;
}

svg::Axis FrameSizeAxis() { return {.label = "frame size (bytes)"}; }

// Series of the n-th direction: solid, dashed, then dotted; the colour tells the rest apart.
svg::Stroke DirectionStroke(size_t direction_index) {
  constexpr svg::Stroke kStrokes[] = {svg::Stroke::kSolid, svg::Stroke::kDashed,
                                      svg::Stroke::kDotted};
  return kStrokes[std::min<size_t>(direction_index, 2)];
}

bool SamePoints(const svg::LineSeries& a, const svg::LineSeries& b) {
  return a.points.size() == b.points.size() &&
         std::equal(a.points.begin(), a.points.end(), b.points.begin(),
                    [](const svg::Point& p, const svg::Point& q) {
                      return p.x == q.x && std::fabs(p.y - q.y) <= 1e-9 * std::fabs(p.y);
                    });
}

constexpr char kReferenceGrey[] = "#6b7280";

}  // namespace

std::string ThroughputChart(const ReportModel& model) {
  svg::LineChart chart{.id = "chart-throughput",
                       .title = "Throughput vs frame size (RFC 2544 §26.1)",
                       .x = FrameSizeAxis(),
                       .y = {.label = "frames per second", .min = 0}};
  // The media's limit is one grey dashed line, or one per direction when their links differ.
  std::vector<svg::LineSeries> theoretical;
  std::vector<svg::LineSeries> measured;
  for (size_t i = 0; i < model.directions.size(); ++i) {
    const DirectionResult& d = model.directions[i];
    svg::LineSeries m =
        PerFrameSize(SeriesName("measured throughput", model, d), d,
                     [](const FrameSizeResult& f) -> std::optional<double> {
                       return f.throughput ? std::optional(f.throughput->fps) : std::nullopt;
                     });
    if (m.points.empty()) {
      continue;
    }
    m.palette_index = static_cast<int>(i);
    measured.push_back(std::move(m));
    svg::LineSeries t = PerFrameSize(
        SeriesName("theoretical maximum", model, d), d,
        [](const FrameSizeResult& f) -> std::optional<double> {
          return f.max_theoretical_fps > 0 ? std::optional(f.max_theoretical_fps) : std::nullopt;
        });
    t.colour = kReferenceGrey;
    t.stroke = DirectionStroke(theoretical.size() + 1);  // dashed first, then dotted
    if (std::none_of(theoretical.begin(), theoretical.end(),
                     [&](const svg::LineSeries& o) { return SamePoints(o, t); })) {
      theoretical.push_back(std::move(t));
    }
  }
  if (theoretical.size() == 1) {
    theoretical[0].name = "theoretical maximum";
  }
  for (auto* group : {&theoretical, &measured}) {
    std::move(group->begin(), group->end(), std::back_inserter(chart.series));
  }
  return svg::RenderLineChart(chart);
}

std::string LatencyChart(const ReportModel& model) {
  svg::LineChart chart{.id = "chart-latency",
                       .title = "Latency at the throughput rate vs frame size (RFC 2544 §26.2)",
                       .x = FrameSizeAxis(),
                       .y = {.label = "latency (ns)", .min = 0}};
  using Field = double LatencyFigures::*;
  const std::pair<const char*, Field> kFields[] = {{"min", &LatencyFigures::min_ns},
                                                   {"avg", &LatencyFigures::avg_ns},
                                                   {"p99", &LatencyFigures::p99_ns},
                                                   {"max", &LatencyFigures::max_ns}};
  // Colour = statistic, stroke = direction.
  for (size_t i = 0; i < model.directions.size(); ++i) {
    const DirectionResult& d = model.directions[i];
    for (size_t k = 0; k < std::size(kFields); ++k) {
      const Field field = kFields[k].second;
      svg::LineSeries s =
          PerFrameSize(SeriesName(kFields[k].first, model, d), d,
                       [field](const FrameSizeResult& f) -> std::optional<double> {
                         return f.latency ? std::optional((*f.latency).*field) : std::nullopt;
                       });
      s.palette_index = static_cast<int>(k);
      s.stroke = DirectionStroke(i);
      if (!s.points.empty()) {
        chart.series.push_back(std::move(s));
      }
    }
  }
  return svg::RenderLineChart(chart);
}

std::string FrameLossChart(const ReportModel& model) {
  // RFC 2544 §26.3: x is the offered rate in % of the theoretical rate for the frame size,
  // y the % loss, and both axes MUST run from 0 to 100 %.
  svg::LineChart chart{.id = "chart-frameloss",
                       .title = "Frame loss rate vs offered load (RFC 2544 §26.3)",
                       .x = {.label = "offered load (% of theoretical maximum)",
                             .min = 0,
                             .max = 100,
                             .tick_suffix = "%"},
                       .y = {.label = "frame loss (%)", .min = 0, .max = 100, .tick_suffix = "%"}};
  // Colour = frame size, stroke = direction.
  for (size_t i = 0; i < model.directions.size(); ++i) {
    const DirectionResult& d = model.directions[i];
    for (size_t k = 0; k < d.frame_sizes.size(); ++k) {
      const FrameSizeResult& f = d.frame_sizes[k];
      if (f.frame_loss.empty()) {
        continue;
      }
      svg::LineSeries s;
      s.name = SeriesName(absl::StrCat(f.frame_size, " B"), model, d);
      s.palette_index = static_cast<int>(k);
      s.stroke = DirectionStroke(i);
      for (const LossPoint& p : f.frame_loss) {
        s.points.push_back({p.offered_percent, p.loss_percent});
      }
      chart.series.push_back(std::move(s));
    }
  }
  return svg::RenderLineChart(chart);
}

std::string LatencyHistogramChart(const ReportModel& model) {
  svg::HistogramChart chart{.id = "chart-histogram",
                            .title = "Latency distribution of the latency trials",
                            .x = {.label = "latency (ns, log scale)", .scale = svg::Scale::kLog},
                            .y = {.label = "% of frames", .min = 0, .tick_suffix = "%"}};
  for (const DirectionResult& d : model.directions) {
    for (const FrameSizeResult& f : d.frame_sizes) {
      if (!f.latency && f.latency_histogram.empty()) {
        continue;  // latency was not measured for this size
      }
      uint64_t total = 0;
      for (const HistogramBucket& b : f.latency_histogram) {
        total += b.count;
      }
      svg::HistogramPanel panel;
      panel.name =
          absl::StrCat(f.frame_size, " B ", d.direction, ": ", Thousands(total), " frames");
      for (const HistogramBucket& b : f.latency_histogram) {
        // Heights as a share of the frames, so panels of different sizes compare.
        panel.bars.push_back({static_cast<double>(b.lower_ns), static_cast<double>(b.upper_ns),
                              100.0 * static_cast<double>(b.count) / static_cast<double>(total)});
      }
      chart.panels.push_back(std::move(panel));
    }
  }
  return svg::RenderHistogramChart(chart);
}

}  // namespace netrig::controller::report
