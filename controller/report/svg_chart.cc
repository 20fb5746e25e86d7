#include "controller/report/svg_chart.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <span>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "controller/report/format.h"

namespace netrig::controller::report::svg {
namespace {

constexpr double kWidth = 760;
constexpr double kMarginLeft = 78;  // y tick labels and the rotated y axis label
constexpr double kMarginRight = 24;
constexpr double kMarginTop = 44;  // title
constexpr double kAxisBelow = 48;  // x tick labels and the x axis label
constexpr double kLegendRow = 18;
constexpr double kPlotHeight = 260;
constexpr double kPanelHeight = 96;
constexpr double kPanelGap = 30;  // room for each histogram panel's name

// Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
constexpr std::array<absl::string_view, 7> kPalette = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                       "#E69F00", "#56B4E9", "#000000"};
constexpr absl::string_view kGridColour = "#e5e7eb";
constexpr absl::string_view kAxisColour = "#374151";

absl::string_view Colour(size_t i) { return kPalette[i % kPalette.size()]; }

std::string SeriesColour(const LineSeries& s, size_t index) {
  if (!s.colour.empty()) {
    return s.colour;
  }
  return std::string(Colour(s.palette_index >= 0 ? static_cast<size_t>(s.palette_index) : index));
}

absl::string_view DashArray(Stroke stroke) {
  switch (stroke) {
    case Stroke::kSolid:
      return "";
    case Stroke::kDashed:
      return "6 4";
    case Stroke::kDotted:
      return "2 3";
  }
  return "";
}

std::string Px(double v) { return absl::StrFormat("%.1f", v); }

// The rectangle the data is drawn in, in SVG user units.
struct Frame {
  double left = 0;
  double top = 0;
  double width = 0;
  double height = 0;
  double right() const { return left + width; }
  double bottom() const { return top + height; }
};

// Accumulates SVG elements; every text goes through EscapeMarkup().
class SvgWriter {
 public:
  void Line(double x1, double y1, double x2, double y2, absl::string_view stroke,
            absl::string_view dash_array = "", int width = 1) {
    absl::StrAppend(&body_, "<line x1=\"", Px(x1), "\" y1=\"", Px(y1), "\" x2=\"", Px(x2),
                    "\" y2=\"", Px(y2), "\" stroke=\"", stroke, "\" stroke-width=\"", width, "\"",
                    DashAttr(dash_array), "/>\n");
  }
  void Rect(double x, double y, double w, double h, absl::string_view fill,
            absl::string_view css_class) {
    absl::StrAppend(&body_, "<rect class=\"", css_class, "\" x=\"", Px(x), "\" y=\"", Px(y),
                    "\" width=\"", Px(w), "\" height=\"", Px(h), "\" fill=\"", fill, "\"/>\n");
  }
  void Text(double x, double y, absl::string_view text, absl::string_view anchor = "start",
            int size = 11, absl::string_view weight = "normal") {
    absl::StrAppend(&body_, "<text x=\"", Px(x), "\" y=\"", Px(y), "\" text-anchor=\"", anchor,
                    "\" font-size=\"", size, "\" font-weight=\"", weight, "\">", EscapeMarkup(text),
                    "</text>\n");
  }
  void VerticalText(double x, double y, absl::string_view text) {
    absl::StrAppend(&body_, "<text x=\"", Px(x), "\" y=\"", Px(y),
                    "\" text-anchor=\"middle\" font-size=\"11\" transform=\"rotate(-90 ", Px(x),
                    " ", Px(y), ")\">", EscapeMarkup(text), "</text>\n");
  }
  void Polyline(const std::vector<Point>& pts, absl::string_view colour,
                absl::string_view dash_array) {
    absl::StrAppend(&body_, "<polyline class=\"series\" fill=\"none\" stroke=\"", colour,
                    "\" stroke-width=\"2\"", DashAttr(dash_array), " points=\"");
    for (const Point& p : pts) {
      absl::StrAppend(&body_, Px(p.x), ",", Px(p.y), " ");
    }
    absl::StrAppend(&body_, "\"/>\n");
  }
  void Marker(double x, double y, absl::string_view colour) {
    absl::StrAppend(&body_, "<circle cx=\"", Px(x), "\" cy=\"", Px(y), "\" r=\"3\" fill=\"", colour,
                    "\"/>\n");
  }
  // Wraps the body in the <svg> element; the title doubles as the accessible name. No xmlns:
  // inline SVG in HTML5 does not need one, and the report carries no URL at all.
  std::string Finish(absl::string_view id, absl::string_view title, double height) const {
    return absl::StrCat("<svg class=\"chart\" id=\"", EscapeMarkup(id), "\" viewBox=\"0 0 ",
                        Px(kWidth), " ", Px(height),
                        "\" role=\"img\" font-family=\"sans-serif\"><title>", EscapeMarkup(title),
                        "</title>\n", body_, "</svg>\n");
  }

 private:
  static std::string DashAttr(absl::string_view dash_array) {
    return dash_array.empty() ? "" : absl::StrCat(" stroke-dasharray=\"", dash_array, "\"");
  }
  std::string body_;
};

// Maps data values to SVG coordinates along one axis (r0 is the pixel of ticks.min).
class AxisMap {
 public:
  AxisMap(const Ticks& ticks, Scale scale, double r0, double r1) : scale_(scale), r0_(r0), r1_(r1) {
    d0_ = Transform(ticks.min);
    d1_ = Transform(ticks.max);
  }
  double operator()(double v) const {
    const double span = d1_ - d0_;
    const double t = span > 0 ? (Transform(v) - d0_) / span : 0;
    return r0_ + std::clamp(t, 0.0, 1.0) * (r1_ - r0_);
  }

 private:
  double Transform(double v) const {
    if (scale_ == Scale::kLinear) {
      return v;
    }
    return std::log10(std::max(v, std::numeric_limits<double>::min()));
  }
  Scale scale_;
  double r0_;
  double r1_;
  double d0_ = 0;
  double d1_ = 1;
};

// Ticks for an axis given the data range; fixed ends from the Axis win over the data.
Ticks AxisTicks(const Axis& axis, double data_lo, double data_hi, int max_ticks) {
  const double lo = axis.min.value_or(data_lo);
  const double hi = axis.max.value_or(data_hi);
  if (axis.scale == Scale::kLog) {
    const double pos_lo = lo > 0 ? lo : 1;
    return LogTicks(pos_lo, std::max(hi, pos_lo * 2), max_ticks);
  }
  Ticks t = NiceTicks(lo, hi, max_ticks);
  if (axis.min) {
    t.min = *axis.min;
  }
  if (axis.max) {
    t.max = *axis.max;
  }
  std::erase_if(t.values, [&](double v) { return v < t.min - 1e-9 || v > t.max + 1e-9; });
  return t;
}

std::string TickLabel(double v, const Axis& axis) { return ShortNumber(v) + axis.tick_suffix; }

// Vertical gridlines and tick labels below the frame (labels only when with_labels).
void DrawXAxis(SvgWriter& w, const Frame& f, const Ticks& ticks, const AxisMap& map,
               const Axis& axis, bool with_labels) {
  for (const double v : ticks.values) {
    const double x = map(v);
    w.Line(x, f.top, x, f.bottom(), kGridColour);
    if (with_labels) {
      w.Text(x, f.bottom() + 15, TickLabel(v, axis), "middle", 10);
    }
  }
  w.Line(f.left, f.bottom(), f.right(), f.bottom(), kAxisColour);
  if (with_labels) {
    w.Text(f.left + f.width / 2, f.bottom() + 34, axis.label, "middle");
  }
}

// Horizontal gridlines, tick labels left of the frame and the rotated axis label.
void DrawYAxis(SvgWriter& w, const Frame& f, const Ticks& ticks, const AxisMap& map,
               const Axis& axis) {
  for (const double v : ticks.values) {
    const double y = map(v);
    w.Line(f.left, y, f.right(), y, kGridColour);
    w.Text(f.left - 6, y + 4, TickLabel(v, axis), "end", 10);
  }
  w.Line(f.left, f.top, f.left, f.bottom(), kAxisColour);
  w.VerticalText(f.left - 56, f.top + f.height / 2, axis.label);
}

// Legend entries flow left to right and wrap; returns the number of rows used.
struct LegendEntry {
  std::string name;
  std::string colour;
  Stroke stroke = Stroke::kSolid;
};

int LegendRows(const std::vector<LegendEntry>& entries, double width) {
  int rows = entries.empty() ? 0 : 1;
  double x = 0;
  for (const LegendEntry& e : entries) {
    const double item = 30 + 6.2 * static_cast<double>(e.name.size()) + 16;
    if (x > 0 && x + item > width) {
      ++rows;
      x = 0;
    }
    x += item;
  }
  return rows;
}

void DrawLegend(SvgWriter& w, const std::vector<LegendEntry>& entries, double left, double top,
                double width) {
  double x = 0;
  double y = top;
  for (const LegendEntry& e : entries) {
    const double item = 30 + 6.2 * static_cast<double>(e.name.size()) + 16;
    if (x > 0 && x + item > width) {
      x = 0;
      y += kLegendRow;
    }
    w.Line(left + x, y - 4, left + x + 24, y - 4, e.colour, DashArray(e.stroke), 2);
    w.Text(left + x + 30, y, e.name);
    x += item;
  }
}

std::string NoDataChart(absl::string_view id, absl::string_view title) {
  SvgWriter w;
  w.Text(kWidth / 2, 24, title, "middle", 14, "bold");
  w.Text(kWidth / 2, 90, "no data", "middle", 14);
  return w.Finish(id, title, 140);
}

bool Finite(const Point& p) { return std::isfinite(p.x) && std::isfinite(p.y); }

// Data extent of all finite points; false when there is none.
bool Extent(const std::vector<LineSeries>& series, Point& lo, Point& hi) {
  bool any = false;
  for (const LineSeries& s : series) {
    for (const Point& p : s.points) {
      if (!Finite(p)) {
        continue;
      }
      lo = any ? Point{std::min(lo.x, p.x), std::min(lo.y, p.y)} : p;
      hi = any ? Point{std::max(hi.x, p.x), std::max(hi.y, p.y)} : p;
      any = true;
    }
  }
  return any;
}

void DrawSeries(SvgWriter& w, const LineSeries& s, absl::string_view colour, const AxisMap& xmap,
                const AxisMap& ymap) {
  std::vector<Point> pixels;
  for (const Point& p : s.points) {
    if (Finite(p)) {
      pixels.push_back({xmap(p.x), ymap(p.y)});
    }
  }
  if (pixels.empty()) {
    return;
  }
  w.Polyline(pixels, colour, DashArray(s.stroke));
  for (const Point& p : pixels) {
    w.Marker(p.x, p.y, colour);
  }
}

}  // namespace

Ticks NiceTicks(double lo, double hi, int max_ticks) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (lo > hi) {
    std::swap(lo, hi);
  }
  if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) {
    // One value: widen around it so the value sits on a labelled, non-degenerate axis.
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.5;
    lo = lo >= 0 && lo - pad < 0 ? 0 : lo - pad;
    hi += pad;
  }
  max_ticks = std::max(max_ticks, 1);
  // Candidate steps 1, 2, 2.5, 5 x 10^k from the smallest that could fit upwards: the first
  // whose aligned range [floor(lo/step), ceil(hi/step)] has at most max_ticks intervals.
  const double raw = (hi - lo) / max_ticks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  Ticks t;
  for (int decade = 0; decade < 3 && t.values.empty(); ++decade) {
    for (const double m : {1.0, 2.0, 2.5, 5.0}) {
      const double step = m * magnitude * std::pow(10.0, decade);
      const double first = std::floor(lo / step + 1e-9);
      const double last = std::ceil(hi / step - 1e-9);
      if (step < raw * (1 - 1e-9) || last - first > max_ticks) {
        continue;
      }
      t.step = step;
      t.min = first * step;
      t.max = last * step;
      for (double k = first; k <= last + 0.5; k += 1) {
        t.values.push_back(k == 0 ? 0 : k * step);  // exact zero, never "-0"
      }
      break;
    }
  }
  if (t.values.empty()) {  // only for max_ticks 1 around zero: label the two ends
    t = Ticks{.min = lo, .max = hi, .step = hi - lo, .values = {lo, hi}};
  }
  return t;
}

Ticks LogTicks(double lo, double hi, int max_ticks) {
  lo = std::max(lo, std::numeric_limits<double>::min());
  if (hi < lo) {
    std::swap(lo, hi);
  }
  // Finest first: 1..9 per decade, then 1-2-5, then decades only.
  static constexpr double kAll[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  static constexpr double kOneTwoFive[] = {1, 2, 5};
  static constexpr double kDecades[] = {1};
  const std::span<const double> mantissa_sets[] = {kAll, kOneTwoFive, kDecades};
  Ticks t;
  t.min = lo;
  t.max = hi;
  t.step = 0;
  for (const std::span<const double> set : mantissa_sets) {
    t.values.clear();
    for (int e = static_cast<int>(std::floor(std::log10(lo)));
         e <= static_cast<int>(std::ceil(std::log10(hi))); ++e) {
      for (const double m : set) {
        const double v = m * std::pow(10.0, e);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) {
          t.values.push_back(v);
        }
      }
    }
    if (static_cast<int>(t.values.size()) <= max_ticks) {
      break;
    }
  }
  if (t.values.empty()) {  // only for max_ticks 1 around zero: label the two ends
    t = Ticks{.min = lo, .max = hi, .step = hi - lo, .values = {lo, hi}};
  }
  return t;
}

std::string RenderLineChart(const LineChart& chart) {
  Point lo;
  Point hi;
  if (!Extent(chart.series, lo, hi)) {
    return NoDataChart(chart.id, chart.title);
  }
  std::vector<LegendEntry> legend;
  for (size_t i = 0; i < chart.series.size(); ++i) {
    legend.push_back(
        {chart.series[i].name, SeriesColour(chart.series[i], i), chart.series[i].stroke});
  }
  const Frame f{kMarginLeft, kMarginTop, kWidth - kMarginLeft - kMarginRight, kPlotHeight};
  const int rows = LegendRows(legend, f.width);
  const double height = f.bottom() + kAxisBelow + rows * kLegendRow + 8;

  const Ticks xt = AxisTicks(chart.x, lo.x, hi.x, 6);
  const Ticks yt = AxisTicks(chart.y, lo.y, hi.y, 5);
  const AxisMap xmap(xt, chart.x.scale, f.left, f.right());
  const AxisMap ymap(yt, chart.y.scale, f.bottom(), f.top);

  SvgWriter w;
  w.Text(kWidth / 2, 24, chart.title, "middle", 14, "bold");
  DrawYAxis(w, f, yt, ymap, chart.y);
  DrawXAxis(w, f, xt, xmap, chart.x, true);
  for (size_t i = 0; i < chart.series.size(); ++i) {
    DrawSeries(w, chart.series[i], SeriesColour(chart.series[i], i), xmap, ymap);
  }
  DrawLegend(w, legend, f.left, f.bottom() + kAxisBelow + 10, f.width);
  return w.Finish(chart.id, chart.title, height);
}

namespace {

// Shared x range of all bars of all panels; false when there is no bar.
bool BarExtent(const std::vector<HistogramPanel>& panels, double& lo, double& hi) {
  bool any = false;
  for (const HistogramPanel& p : panels) {
    for (const Bar& b : p.bars) {
      if (!std::isfinite(b.x0) || !std::isfinite(b.x1) || !std::isfinite(b.y)) {
        continue;
      }
      lo = any ? std::min(lo, b.x0) : b.x0;
      hi = any ? std::max(hi, b.x1) : b.x1;
      any = true;
    }
  }
  return any;
}

void DrawPanel(SvgWriter& w, const Frame& f, const HistogramPanel& panel, size_t index,
               const Ticks& xt, const AxisMap& xmap, const HistogramChart& chart, bool last) {
  w.Text(f.left, f.top - 8, panel.name, "start", 11, "bold");
  double ymax = 0;
  for (const Bar& b : panel.bars) {
    ymax = std::max(ymax, std::isfinite(b.y) ? b.y : 0);
  }
  const Ticks yt = AxisTicks(chart.y, 0, ymax, 3);
  const AxisMap ymap(yt, Scale::kLinear, f.bottom(), f.top);
  DrawYAxis(w, f, yt, ymap, chart.y);
  DrawXAxis(w, f, xt, xmap, chart.x, last);
  if (panel.bars.empty()) {
    w.Text(f.left + f.width / 2, f.top + f.height / 2, "no data", "middle", 12);
    return;
  }
  for (const Bar& b : panel.bars) {
    if (!std::isfinite(b.x0) || !std::isfinite(b.x1) || !std::isfinite(b.y) || b.y <= 0) {
      continue;
    }
    const double x0 = xmap(b.x0);
    const double width = std::max(xmap(b.x1) - x0, 1.0);  // a bucket is never invisible
    const double top = ymap(b.y);
    w.Rect(x0, top, width, f.bottom() - top, Colour(index), "bar");
  }
}

}  // namespace

std::string RenderHistogramChart(const HistogramChart& chart) {
  double lo = 0;
  double hi = 0;
  if (!BarExtent(chart.panels, lo, hi)) {
    return NoDataChart(chart.id, chart.title);
  }
  const Ticks xt = AxisTicks(chart.x, lo, hi, 8);
  const double plot_width = kWidth - kMarginLeft - kMarginRight;
  const AxisMap xmap(xt, chart.x.scale, kMarginLeft, kMarginLeft + plot_width);

  SvgWriter w;
  w.Text(kWidth / 2, 24, chart.title, "middle", 14, "bold");
  double top = kMarginTop + 12;
  for (size_t i = 0; i < chart.panels.size(); ++i) {
    const Frame f{kMarginLeft, top, plot_width, kPanelHeight};
    DrawPanel(w, f, chart.panels[i], i, xt, xmap, chart, i + 1 == chart.panels.size());
    top += kPanelHeight + kPanelGap;
  }
  return w.Finish(chart.id, chart.title, top - kPanelGap + kAxisBelow);
}

}  // namespace netrig::controller::report::svg
