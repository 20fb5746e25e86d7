// report.html: one self-contained page in the layout of a commercial tester's report: header
// with verdict, per-frame-size summary tables, the RFC 2544 charts as inline SVG, outcomes,
// trials, parameters, fingerprint and the reporting statements. No scripts, no external
// assets, no URLs: it renders the same offline, in a CI artifact viewer or attached to a mail.
// Every string from the run (names, parameters, reasons, notes) goes through EscapeMarkup().
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controller/report/format.h"
#include "controller/report/html_sections.h"
#include "controller/report/html_style.h"
#include "controller/report/html_util.h"
#include "controller/report/report.h"
#include "controller/report/report_charts.h"
#include "controller/report/report_model.h"

namespace netrig::controller::report {
namespace {

using html::Badge;
using html::Dl;
using html::GroupedTable;
using html::kDash;
using html::OrDash;
using html::Row;
using html::Section;
using html::Table;

std::string E(absl::string_view s) { return EscapeMarkup(s); }

std::string Header(const ReportModel& m, const v1::RunFingerprint& fp) {
  const RunSummary& r = m.run;
  const std::string sut = fp.sut_template().empty()
                              ? OrDash(fp.sut_instance())
                              : absl::StrCat(E(fp.sut_template()), " ", E(fp.sut_version()));
  return absl::StrCat(
      "<header class=\"top\"><div><div class=\"brand\">netrig \xC2\xB7 RFC 2544 benchmark "
      "report</div><h1>",
      OrDash(r.name.empty() ? r.id : r.name), "</h1><div class=\"sub\">run ", OrDash(r.id),
      " \xC2\xB7 namespace ", OrDash(r.namespace_name), " \xC2\xB7 level ", OrDash(r.level),
      "</div></div><div class=\"verdict\">", Badge(r.verdict.empty() ? r.phase : r.verdict),
      "</div></header>\n<section class=\"meta\">",
      Dl({{"Phase", OrDash(r.phase)},
          {"Started", OrDash(r.start_time)},
          {"Completed", OrDash(r.completion_time)},
          {"Duration", r.duration_s ? E(HumanSeconds(*r.duration_s)) : kDash},
          {"System under test", sut},
          {"Spec hash", absl::StrCat("<code>", OrDash(r.spec_hash), "</code>")}}),
      "</section>\n");
}

// RFC 2544 §26.1: the single advertised value is the throughput at the smallest frame size,
// stated with the frame size, the theoretical limit of the media and the protocol.
std::string Headline(const DirectionResult& d, absl::string_view protocol) {
  for (const FrameSizeResult& f : d.frame_sizes) {
    if (!f.throughput) {
      continue;
    }
    return absl::StrCat("<p class=\"headline\">", E(d.direction), ": <strong>",
                        Thousands(f.throughput->fps), " frames/s</strong> at ", f.frame_size,
                        "-byte frames (", Fixed(f.throughput->percent_line_rate, 2),
                        " % of the theoretical maximum of ", Thousands(f.max_theoretical_fps),
                        " frames/s), ", protocol, ".</p>\n");
  }
  return "";
}

std::string Summary(const ReportModel& m) {
  const bool v6 = m.statements.frame_format.find("IPv6") != std::string::npos;
  std::string body = absl::StrCat("<p>", OrDash(m.run.summary), "</p>\n");
  if (!m.run.reason.empty()) {
    absl::StrAppend(&body, "<p class=\"muted\">Reason: ", E(m.run.reason), "</p>\n");
  }
  for (const DirectionResult& d : m.directions) {
    body += Headline(d, v6 ? "UDP over IPv6" : "UDP over IPv4");
  }
  return Section("Summary", body);
}

std::string ResultRow(const FrameSizeResult& f) {
  std::vector<std::string> c = {absl::StrCat(f.frame_size), f.max_theoretical_fps > 0
                                                                ? Thousands(f.max_theoretical_fps)
                                                                : kDash};
  if (const auto& t = f.throughput) {
    c.insert(c.end(),
             {Thousands(t->fps), Thousands(t->l2_mbps, 2), Fixed(t->percent_line_rate, 2)});
  } else {
    c.insert(c.end(), {kDash, kDash, kDash});
  }
  if (const auto& l = f.latency) {
    c.insert(c.end(), {Thousands(l->min_ns), Thousands(l->avg_ns), Thousands(l->max_ns),
                       Thousands(l->p99_ns), l->rate_fps > 0 ? Thousands(l->rate_fps) : kDash});
  } else {
    c.insert(c.end(), {kDash, kDash, kDash, kDash, kDash});
  }
  c.push_back(f.back_to_back ? Thousands(f.back_to_back->avg_frames, 1) : kDash);
  return Row(c);
}

std::string ResultTables(const ReportModel& m) {
  std::string body;
  for (const DirectionResult& d : m.directions) {
    std::string rows;
    for (const FrameSizeResult& f : d.frame_sizes) {
      rows += ResultRow(f);
    }
    absl::StrAppend(&body, "<h3>", E(d.direction), "</h3>",
                    GroupedTable({{"", 2},
                                  {"Throughput (RFC 2544 §26.1)", 3},
                                  {"Latency at the throughput rate (§26.2)", 5},
                                  {"B2B (§26.4)", 1}},
                                 {"Frame size (B)", "Theoretical max (fps)", "fps", "Mbit/s (L2)",
                                  "% of line rate", "min (ns)", "avg (ns)", "max (ns)", "p99 (ns)",
                                  "rate (fps)", "avg frames"},
                                 rows));
  }
  return Section("Results per frame size", body);
}

std::string Outcomes(const v1::RunResults& results) {
  std::string rows;
  for (const v1::TestOutcome& o : results.outcomes()) {
    rows += Row({E(o.test()), absl::StrCat(o.frame_size()), E(o.direction()), Badge(o.state()),
                 absl::StrCat(o.trials()), E(HumanSeconds(o.duration_s())), OrDash(o.reason())});
  }
  return Section("Test outcomes", rows.empty() ? ""
                                               : Table({"Test", "Frame size (B)", "Direction",
                                                        "State", "Trials", "Duration", "Reason"},
                                                       rows));
}

std::string Figure(const std::string& svg, absl::string_view caption) {
  return absl::StrCat("<figure>", svg, "<figcaption>", E(caption), "</figcaption></figure>\n");
}

std::string Charts(const ReportModel& m) {
  return Section(
      "Charts",
      absl::StrCat(
          Figure(ThroughputChart(m),
                 "RFC 2544 §26.1: frame rate against frame size, with the theoretical maximum "
                 "frame rate of the media (dashed) and the measured throughput."),
          Figure(LatencyChart(m),
                 "RFC 2544 §26.2: latency at the throughput rate of each frame size (averages "
                 "over the latency trials)."),
          Figure(FrameLossChart(m),
                 "RFC 2544 §26.3: frame loss in % against the offered load in % of the "
                 "theoretical rate for the frame size; both axes run from 0 to 100 %, one line "
                 "per frame size."),
          Figure(LatencyHistogramChart(m),
                 "Latency of every frame of the latency trials, per frame size: share of frames "
                 "per log-linear bucket (bucket width under 3.2 % of its value).")));
}

}  // namespace

std::string RenderHtml(const v1::RunResults& results) {
  const ReportModel m = BuildModel(results);
  const std::string title = m.run.name.empty() ? m.run.id : m.run.name;
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"generator\" content=\"netrig report ",
      kSchemaVersion, "\"><title>netrig report \xE2\x80\x94 ", E(title), "</title>\n<style>",
      kReportCss, "</style></head>\n<body><main>\n", Header(m, results.fingerprint()), Summary(m),
      ResultTables(m), Outcomes(results), Charts(m), FrameLossSection(m), BackToBackSection(m),
      TrialsSection(results), ParametersSection(results), FingerprintSection(results.fingerprint()),
      StatementsSection(m.statements), "<footer>Generated by netrig \xC2\xB7 report schema ",
      kSchemaVersion,
      " \xC2\xB7 the machine-readable data is in report.json</footer>\n</main></body></html>\n");
}

}  // namespace netrig::controller::report
