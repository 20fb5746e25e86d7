// A small chart helper that draws report charts as inline SVG: no scripts, no fonts to load,
// no external assets, so report.html stays one self-contained file that renders offline, in a
// CI artifact viewer or in a mail client.
//
// Two chart kinds cover what the RFC 2544 report needs:
//   - LineChart: x/y series drawn as polylines with markers (throughput vs frame size, latency
//     vs frame size, frame loss vs offered load);
//   - HistogramChart: one panel per series, bars spanning [x0, x1) on a shared (usually log)
//     x axis (latency histograms per frame size).
// Both draw a title, axes with nice round ticks, gridlines and a legend; with no data they draw
// a "no data" text. Every caller-provided string (title, labels, series names) is escaped.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace netrig::controller::report::svg {

// Axis ticks at nice round values. For a linear axis, values run from min to max in steps of
// step (1, 2, 2.5 or 5 times a power of ten) and [min, max] covers the data range.
struct Ticks {
  double min = 0;
  double max = 1;
  double step = 1;  // 0 for log ticks
  std::vector<double> values;
};

// At most max_ticks + 1 ticks covering [lo, hi] (the order of lo and hi does not matter;
// a degenerate range is widened around the value). NiceTicks(0, 1488095) -> 0, 500k, 1M, 1.5M.
Ticks NiceTicks(double lo, double hi, int max_ticks = 5);
// Ticks for a log10 axis over [lo, hi], lo > 0: 1-2-5 (or 1..9, or 1) times powers of ten,
// the finest set that has at most max_ticks values. min/max are lo/hi.
Ticks LogTicks(double lo, double hi, int max_ticks = 8);

enum class Scale { kLinear, kLog };

struct Axis {
  std::string label;
  Scale scale = Scale::kLinear;
  std::optional<double> min;  // fixed range ends (e.g. 0..100 % for RFC 2544 §26.3);
  std::optional<double> max;  // otherwise taken from the data and rounded by NiceTicks
  std::string tick_suffix;    // appended to tick labels ("%")
};

struct Point {
  double x = 0;
  double y = 0;
};

enum class Stroke { kSolid, kDashed, kDotted };

struct LineSeries {
  std::string name;
  std::vector<Point> points;  // drawn in the given order
  // Colour: a CSS colour, or empty for the palette colour of palette_index (the series' own
  // index when negative). Charts with two dimensions (metric x direction) give the first to
  // the colour and the second to the stroke, so no two series look alike.
  std::string colour;
  int palette_index = -1;
  Stroke stroke = Stroke::kSolid;
};

struct LineChart {
  std::string id;  // the <svg> id, e.g. "chart-throughput"
  std::string title;
  Axis x;
  Axis y;
  std::vector<LineSeries> series;
};

struct Bar {
  double x0 = 0;  // [x0, x1) on the x axis
  double x1 = 0;
  double y = 0;  // height
};

struct HistogramPanel {
  std::string name;
  std::vector<Bar> bars;
};

struct HistogramChart {
  std::string id;
  std::string title;
  Axis x;  // shared by all panels
  Axis y;  // per panel, each scaled to its own maximum
  std::vector<HistogramPanel> panels;
};

// Each returns one <svg class="chart" id="..."> element.
std::string RenderLineChart(const LineChart& chart);
std::string RenderHistogramChart(const HistogramChart& chart);

}  // namespace netrig::controller::report::svg
