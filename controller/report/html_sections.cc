#include "controller/report/html_sections.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "controller/report/format.h"
#include "controller/report/html_util.h"

namespace netrig::controller::report {
namespace {

using html::Dl;
using html::GroupedTable;
using html::kDash;
using html::OrDash;
using html::Row;
using html::Section;
using html::Table;

std::string E(absl::string_view s) { return EscapeMarkup(s); }
std::string Code(absl::string_view s) { return absl::StrCat("<code>", OrDash(s), "</code>"); }

// 10000000000 -> "10Gbit/s"; 0 -> dash (the port did not report a speed).
std::string LinkSpeed(uint64_t bps) {
  return bps == 0 ? kDash : ShortNumber(static_cast<double>(bps)) + "bit/s";
}

// Trials of one run share a date (it is in the header): show the time of day only.
std::string TimeOfDay(const std::string& rfc3339) {
  if (rfc3339.size() >= 19 && rfc3339[10] == 'T') {
    return rfc3339.substr(11, 8);
  }
  return rfc3339;
}

std::string LatencyCell(const v1::TrialRecord& t) {
  if (t.latency_min_ns() == 0 && t.latency_avg_ns() == 0 && t.latency_max_ns() == 0) {
    return kDash;  // nothing was timestamped (no frame received, or a burst-only trial)
  }
  return absl::StrCat(Thousands(static_cast<double>(t.latency_min_ns())), " / ",
                      Thousands(static_cast<double>(t.latency_avg_ns())), " / ",
                      Thousands(static_cast<double>(t.latency_max_ns())), " / ",
                      Thousands(static_cast<double>(t.latency_p99_ns())));
}

std::string TrialResult(const v1::TrialRecord& t) {
  if (!t.valid()) {
    return absl::StrCat("<span class=\"badge fail\">invalid</span><div class=\"why\">",
                        E(t.invalid_reason()), "</div>");
  }
  return t.passed() ? "<span class=\"badge pass\">pass</span>"
                    : "<span class=\"badge warn\">loss</span>";
}

std::string TrialRow(const v1::TrialRecord& t) {
  return Row({absl::StrCat(t.index()), E(t.test()), absl::StrCat(t.frame_size()), E(t.direction()),
              Fixed(t.offered_rate_percent(), 3), Thousands(t.offered_fps()),
              t.burst_frames() == 0 ? kDash : Thousands(static_cast<double>(t.burst_frames())),
              Thousands(static_cast<double>(t.tx_frames())),
              Thousands(static_cast<double>(t.rx_frames())), Fixed(t.loss_percent(), 4),
              TrialResult(t), LatencyCell(t), OrDash(TimeOfDay(t.started_time())),
              OrDash(t.note())});
}

std::string CalibrationRow(const v1::Calibration& c) {
  return Row({E(c.direction()), absl::StrCat(c.frame_size()), Fixed(c.duration_s(), 1),
              Thousands(c.max_tx_fps()), Fixed(c.max_tx_percent_line_rate(), 2),
              Thousands(c.floor_offered_fps()), Thousands(static_cast<double>(c.floor_rx_frames())),
              Thousands(static_cast<double>(c.latency_floor_min_ns())),
              Thousands(static_cast<double>(c.latency_floor_avg_ns())),
              Thousands(static_cast<double>(c.latency_floor_p99_ns())), OrDash(c.error())});
}

std::string PortsTable(const v1::RunFingerprint& fp) {
  std::string rows;
  for (const v1::PortFingerprint& p : fp.ports()) {
    rows += Row({E(p.role()), E(p.agent_id()), E(p.agent_port()), E(p.pmd()), E(p.device()),
                 LinkSpeed(p.speed_bps()), Code(p.mac()), Code(p.gateway_mac())});
  }
  return rows.empty()
             ? ""
             : absl::StrCat("<h3>Ports</h3>", Table({"Role", "Agent", "Port", "PMD", "Device",
                                                     "Link speed", "MAC", "Gateway MAC"},
                                                    rows));
}

std::string AgentsTable(const v1::RunFingerprint& fp) {
  std::string rows;
  for (const v1::AgentFingerprint& a : fp.agents()) {
    rows += Row({E(a.id()), E(a.version()), absl::StrCat(a.worker_cores())});
  }
  return rows.empty()
             ? ""
             : absl::StrCat("<h3>Agents</h3>", Table({"Agent", "Version", "Worker cores"}, rows));
}

std::string SutParametersTable(const v1::RunFingerprint& fp) {
  // Sorted by name: protobuf maps have no stable order.
  const std::map<std::string, std::string> sorted(fp.sut_parameters().begin(),
                                                  fp.sut_parameters().end());
  std::string rows;
  for (const auto& [name, value] : sorted) {
    rows += Row({Code(name), E(value)});
  }
  return rows.empty()
             ? ""
             : absl::StrCat("<h3>SUT parameters</h3>", Table({"Parameter", "Value"}, rows));
}

std::string CalibrationTable(const v1::RunFingerprint& fp) {
  std::string rows;
  for (const v1::Calibration& c : fp.calibration()) {
    rows += CalibrationRow(c);
  }
  return rows.empty()
             ? ""
             : absl::StrCat(
                   "<h3>Generator self-calibration</h3><p class=\"muted\">Maximum transmit rate "
                   "of the generator on these ports and the latency floor of the measurement "
                   "path, measured before the benchmark.</p>",
                   GroupedTable(
                       {{"", 3},
                        {"Maximum transmit rate", 2},
                        {"Latency floor (low-rate trial through the SUT)", 5},
                        {"", 1}},
                       {"Direction", "Frame size (B)", "Duration (s)", "fps", "% of line rate",
                        "rate (fps)", "RX frames", "min (ns)", "avg (ns)", "p99 (ns)", "Error"},
                       rows));
}

// protobuf's pretty printer indents by one space per level; two read better. Field order
// stays the proto's (spec, then its parts as declared). Strings never span lines in JSON.
std::string PrettySpec(const v1::TestRun& test_run) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(SpecJson(test_run, true), '\n')) {
    const size_t indent = std::min(line.find_first_not_of(' '), line.size());
    absl::StrAppend(&out, std::string(2 * indent, ' '), line.substr(indent), "\n");
  }
  return out;
}

}  // namespace

std::string BackToBackSection(const ReportModel& model) {
  std::string rows;
  for (const DirectionResult& d : model.directions) {
    for (const FrameSizeResult& f : d.frame_sizes) {
      if (const auto& b = f.back_to_back) {
        rows +=
            Row({absl::StrCat(f.frame_size), E(d.direction), Thousands(b->avg_frames, 1),
                 Thousands(b->min_frames), Thousands(b->max_frames), Thousands(b->stddev_frames, 2),
                 absl::StrFormat("%.3f", b->corrected_buffer_time_s * 1e6)});
      }
    }
  }
  if (rows.empty()) {
    return "";  // not requested or not reached: the outcomes table says which
  }
  return Section("Back-to-back frames (RFC 2544 §26.4, RFC 9004)",
                 Table({"Frame size (B)", "Direction", "Average (frames)", "Minimum", "Maximum",
                        "Std deviation", "Corrected buffer time (\xC2\xB5s)"},
                       rows));
}

std::string FrameLossSection(const ReportModel& model) {
  std::string rows;
  for (const DirectionResult& d : model.directions) {
    for (const FrameSizeResult& f : d.frame_sizes) {
      std::string points;
      for (auto it = f.frame_loss.rbegin(); it != f.frame_loss.rend(); ++it) {
        absl::StrAppend(&points, points.empty() ? "" : ", ", ShortNumber(it->offered_percent),
                        " % \xE2\x86\x92 ", Fixed(it->loss_percent, 4), " %");
      }
      if (!points.empty()) {
        rows += Row({absl::StrCat(f.frame_size), E(d.direction), points});
      }
    }
  }
  if (rows.empty()) {
    return "";
  }
  return Section(
      "Frame loss rate (RFC 2544 §26.3)",
      Table({"Frame size (B)", "Direction", "Offered load \xE2\x86\x92 frame loss"}, rows));
}

std::string TrialsSection(const v1::RunResults& results) {
  std::string rows;
  for (const v1::TrialRecord& t : results.trials()) {
    rows += TrialRow(t);
  }
  return Section("Trials",
                 rows.empty()
                     ? ""
                     : Table({"#", "Test", "Frame size (B)", "Direction", "Offered (%)",
                              "Offered (fps)", "Burst", "TX frames", "RX frames", "Loss (%)",
                              "Result", "Latency min/avg/max/p99 (ns)", "Started (UTC)", "Note"},
                             rows, "data compact"));
}

std::string ParametersSection(const v1::RunResults& results) {
  return Section("Test parameters",
                 absl::StrCat("<p class=\"muted\">The TestRun spec as submitted (defaults are "
                              "stated under Reporting statements).</p><pre class=\"json\">",
                              E(PrettySpec(results.run().test_run())), "</pre>\n"));
}

std::string FingerprintSection(const v1::RunFingerprint& fp) {
  const std::string facts = Dl({{"Spec hash", Code(fp.spec_hash())},
                                {"SUT template", OrDash(fp.sut_template())},
                                {"SUT version", OrDash(fp.sut_version())},
                                {"SUT provider", OrDash(fp.sut_provider())},
                                {"SUT instance", OrDash(fp.sut_instance())},
                                {"Controller version", OrDash(fp.controller_version())},
                                {"Controller host", OrDash(fp.host())}});
  return Section("Run fingerprint", absl::StrCat(facts, SutParametersTable(fp), AgentsTable(fp),
                                                 PortsTable(fp), CalibrationTable(fp)));
}

std::string StatementsSection(const Statements& s) {
  std::string deviations;
  for (const std::string& d : s.deviations) {
    absl::StrAppend(&deviations, "<li>", E(d), "</li>");
  }
  return Section("RFC 2544 reporting statements",
                 Dl({{"Latency definition", E(s.latency_definition)},
                     {"Frame format", E(s.frame_format)},
                     {"Throughput search", E(s.search_method)},
                     {"Latency method", E(s.latency_method)},
                     {"Frame loss method", E(s.frame_loss_method)},
                     {"Back-to-back method", E(s.back_to_back_method)},
                     {"Theoretical maximum", E(s.line_rate)},
                     {"Deviations",
                      deviations.empty() ? "none" : absl::StrCat("<ul>", deviations, "</ul>")}}));
}

}  // namespace netrig::controller::report
