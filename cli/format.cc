#include "cli/format.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace netrig::cli {
namespace {

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

bool IsFinishedPhase(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed" || phase == "Cancelled" ||
         phase == "Interrupted";
}

std::string SortedMap(const google::protobuf::Map<std::string, std::string>& m,
                      absl::string_view sep) {
  std::map<std::string, std::string> sorted(m.begin(), m.end());
  return absl::StrJoin(sorted, sep, absl::PairFormatter("="));
}

std::string Micros(double ns) { return absl::StrFormat("%.2f", ns / 1000.0); }

}  // namespace

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = false;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return "{}\n";
  return out;
}

void Table::Print(std::ostream& os, absl::string_view indent) const {
  std::vector<size_t> widths(header_.size(), 0);
  auto cell = [](const std::vector<std::string>& row, size_t i) -> std::string {
    return i < row.size() ? OrDash(row[i]) : "-";
  };
  for (size_t i = 0; i < header_.size(); ++i) widths[i] = header_[i].size();
  for (const auto& row : rows_) {
    for (size_t i = 0; i < header_.size(); ++i) widths[i] = std::max(widths[i], cell(row, i).size());
  }
  auto print_row = [&](const std::vector<std::string>& row, bool is_header) {
    std::string line(indent);
    for (size_t i = 0; i < header_.size(); ++i) {
      std::string text = is_header ? header_[i] : cell(row, i);
      if (i + 1 < header_.size()) {
        text.resize(widths[i] + 3, ' ');
      }
      line += text;
    }
    os << line << "\n";
  };
  print_row(header_, true);
  for (const auto& row : rows_) print_row(row, false);
}

std::optional<absl::Time> ParseTimestamp(absl::string_view rfc3339) {
  if (rfc3339.empty()) return std::nullopt;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) return std::nullopt;
  return t;
}

std::string FormatAge(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  const int64_t s = absl::ToInt64Seconds(d);
  if (s < 120) return absl::StrCat(s, "s");
  const int64_t m = s / 60;
  if (m < 60) return absl::StrCat(m, "m");
  const int64_t h = m / 60;
  if (h < 48) return m % 60 == 0 ? absl::StrCat(h, "h") : absl::StrCat(h, "h", m % 60, "m");
  const int64_t days = h / 24;
  return h % 24 == 0 ? absl::StrCat(days, "d") : absl::StrCat(days, "d", h % 24, "h");
}

std::string FormatAge(absl::string_view rfc3339, absl::Time now) {
  std::optional<absl::Time> t = ParseTimestamp(rfc3339);
  if (!t) return "-";
  return FormatAge(now - *t);
}

std::string FormatSpeed(uint64_t bps) {
  if (bps == 0) return "-";
  struct Unit {
    double scale;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "K"}};
  for (const Unit& u : kUnits) {
    if (bps >= u.scale) return absl::StrCat(FormatNumber(bps / u.scale, 2), u.suffix);
  }
  return absl::StrCat(bps);
}

std::string FormatNumber(double value, int decimals) {
  if (!std::isfinite(value)) return absl::StrCat(value);
  std::string s = absl::StrFormat("%.*f", decimals, value);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

std::string ProgressCell(const v1::TestRunStatus& status) {
  const v1::TestRunProgress& p = status.progress();
  std::string sizes;
  if (p.frame_sizes_total() > 0) {
    sizes = absl::StrCat(p.frame_sizes_done(), "/", p.frame_sizes_total());
  }
  if (IsFinishedPhase(status.phase()) || p.test().empty()) return OrDash(sizes);
  std::string current = absl::StrCat(p.test(), p.frame_size() > 0 ? " " : "",
                                     p.frame_size() > 0 ? absl::StrCat(p.frame_size(), "B") : "");
  return sizes.empty() ? current : absl::StrCat(sizes, " ", current);
}

void PrintRunsTable(const std::vector<v1::Run>& runs, absl::Time now, std::ostream& os) {
  Table table({"ID", "NAME", "LEVEL", "PHASE", "VERDICT", "PROGRESS", "AGE"});
  for (const v1::Run& run : runs) {
    const v1::TestRun& tr = run.test_run();
    table.AddRow({run.id(), tr.metadata().name(), tr.spec().level(), tr.status().phase(),
                  tr.status().verdict(), ProgressCell(tr.status()),
                  FormatAge(run.created_time(), now)});
  }
  table.Print(os);
}

void PrintAgentsTable(const std::vector<v1::AgentInfo>& agents, absl::Time now,
                      std::ostream& os) {
  Table table({"ID", "STATE", "PORTS", "LABELS", "LAST-SEEN"});
  for (const v1::AgentInfo& a : agents) {
    std::vector<std::string> ports;
    for (const v1::PortCapability& p : a.capabilities().ports()) {
      ports.push_back(absl::StrCat(OrDash(p.name()), "/", OrDash(p.pmd()), "/",
                                   FormatSpeed(p.speed_bps())));
    }
    std::string state = a.state();
    if (!a.unavailable_reason().empty()) absl::StrAppend(&state, " (", a.unavailable_reason(), ")");
    std::string seen = FormatAge(a.last_seen(), now);
    if (seen != "-") absl::StrAppend(&seen, " ago");
    table.AddRow({a.id().empty() ? a.capabilities().agent_id() : a.id(), state,
                  absl::StrJoin(ports, ","), SortedMap(a.capabilities().labels(), ","), seen});
  }
  table.Print(os);
}

std::string ProgressLine(const v1::Run& run) {
  const v1::TestRunStatus& st = run.test_run().status();
  const v1::TestRunProgress& p = st.progress();
  std::vector<std::string> parts;
  parts.push_back(st.phase().empty() ? "Pending" : st.phase());
  if (!p.test().empty() && !IsFinishedPhase(st.phase())) {
    parts.push_back(p.test());
    if (p.frame_size() > 0) parts.push_back(absl::StrCat(p.frame_size(), "B"));
    if (!p.direction().empty()) parts.push_back(p.direction());
    if (p.trial() > 0) parts.push_back(absl::StrCat("trial ", p.trial()));
    if (p.offered_rate_percent() > 0 || p.offered_rate_fps() > 0) {
      parts.push_back(absl::StrFormat("offered %.2f%% (%.0f fps)", p.offered_rate_percent(),
                                      p.offered_rate_fps()));
    }
    if (p.trial() > 1 || p.loss_percent() > 0) {
      parts.push_back(absl::StrCat("last loss ", FormatNumber(p.loss_percent(), 4), "%"));
    }
    if (p.frame_sizes_total() > 0) {
      parts.push_back(absl::StrCat("[sizes ", p.frame_sizes_done(), "/", p.frame_sizes_total(),
                                   " done]"));
    }
    if (!p.message().empty()) parts.push_back(p.message());
    return absl::StrJoin(parts, "  ");
  }
  std::string message = p.message();
  if (message.empty() && st.conditions_size() > 0) {
    // The most recent condition tells what the run is waiting for.
    const v1::StatusCondition* newest = &st.conditions(0);
    for (const v1::StatusCondition& c : st.conditions()) {
      if (c.last_transition_time() >= newest->last_transition_time()) newest = &c;
    }
    message = newest->message().empty()
                  ? absl::StrCat(newest->type(), "=", newest->status(),
                                 newest->reason().empty() ? "" : " ", newest->reason())
                  : newest->message();
  }
  if (!message.empty()) parts.push_back(message);
  return absl::StrJoin(parts, "  ");
}

std::string OutcomeLine(const v1::Run& run) {
  const v1::TestRunStatus& st = run.test_run().status();
  std::string line = absl::StrCat("run ", run.id(), " ", OrDash(st.phase()));
  if (!st.verdict().empty()) absl::StrAppend(&line, ", verdict ", st.verdict());
  if (!st.summary().empty()) absl::StrAppend(&line, ": ", st.summary());
  return line;
}

void PrintRunDescription(const v1::Run& run, absl::Time now, std::ostream& os) {
  const v1::TestRun& tr = run.test_run();
  const v1::TestRunSpec& spec = tr.spec();
  const v1::TestRunStatus& st = tr.status();
  auto field = [&](absl::string_view name, const std::string& value, absl::string_view indent = "") {
    os << indent << absl::StrFormat("%-13s", absl::StrCat(name, ":")) << OrDash(value) << "\n";
  };
  auto with_age = [&](const std::string& ts) {
    std::string age = FormatAge(ts, now);
    return ts.empty() ? std::string() : absl::StrCat(ts, age == "-" ? "" : " (" + age + " ago)");
  };

  field("ID", run.id());
  field("Name", tr.metadata().name());
  field("Namespace", tr.metadata().namespace_());
  if (!tr.metadata().labels().empty()) field("Labels", SortedMap(tr.metadata().labels(), ", "));
  field("Level", absl::StrCat(OrDash(spec.level()), " (priority ", run.priority(), ")"));
  field("Created", with_age(run.created_time()));
  if (!run.spec_hash().empty()) field("Spec hash", run.spec_hash());

  os << "Spec:\n";
  const v1::SutRef& sut = spec.sut();
  std::string sut_text;
  if (sut.has_static_()) {
    sut_text = absl::StrCat("static ", sut.static_().name(),
                            sut.static_().mgmt_address().empty() ? "" : " at ",
                            sut.static_().mgmt_address());
  } else if (!sut.template_().empty()) {
    sut_text = absl::StrCat("template ", sut.template_());
  }
  if (!sut.version().empty()) absl::StrAppend(&sut_text, ", version ", sut.version());
  if (!sut.parameters().empty()) {
    absl::StrAppend(&sut_text, ", parameters ", SortedMap(sut.parameters(), " "));
  }
  field("SUT", sut_text, "  ");
  std::vector<std::string> ports;
  for (const v1::PortBinding& p : spec.ports()) {
    std::vector<std::string> req;
    if (!p.agent().pool().empty()) req.push_back(absl::StrCat("pool ", p.agent().pool()));
    if (!p.agent().name().empty()) req.push_back(absl::StrCat("agent ", p.agent().name()));
    if (!p.agent().labels().empty()) req.push_back(SortedMap(p.agent().labels(), ","));
    if (!p.speed().empty()) req.push_back(p.speed());
    if (!p.pmd().empty()) req.push_back(p.pmd());
    ports.push_back(req.empty() ? p.name()
                                : absl::StrCat(p.name(), " (", absl::StrJoin(req, ", "), ")"));
  }
  field("Ports", absl::StrJoin(ports, "; "), "  ");
  if (spec.benchmark().has_rfc2544()) {
    const v1::Rfc2544& b = spec.benchmark().rfc2544();
    std::string text = absl::StrCat("RFC 2544: ", absl::StrJoin(b.tests(), ", "));
    if (b.frame_sizes_size() > 0) {
      absl::StrAppend(&text, "; frame sizes ", absl::StrJoin(b.frame_sizes(), ", "));
    }
    if (!b.trial_duration().empty()) absl::StrAppend(&text, "; trials ", b.trial_duration());
    if (b.has_loss_tolerance()) {
      absl::StrAppend(&text, "; loss tolerance ", FormatNumber(b.loss_tolerance(), 4), "%");
    }
    if (b.has_resolution()) {
      absl::StrAppend(&text, "; resolution ", FormatNumber(b.resolution(), 4), "%");
    }
    if (b.has_min_rate() || b.has_max_rate()) {
      absl::StrAppend(&text, "; rates ", FormatNumber(b.has_min_rate() ? b.min_rate() : 0, 4),
                      "..", FormatNumber(b.has_max_rate() ? b.max_rate() : 100, 4), "%");
    }
    field("Benchmark", text, "  ");
    std::vector<std::string> traffic;
    for (const v1::Rfc2544Traffic& t : b.traffic()) {
      traffic.push_back(absl::StrCat(t.from(), t.bidirectional() ? " <-> " : " -> ", t.to(),
                                     t.has_flows() ? absl::StrCat(", ", t.flows(), " flows") : ""));
    }
    field("Traffic", absl::StrJoin(traffic, "; "), "  ");
  } else if (spec.benchmark().has_rfc3918()) {
    field("Benchmark", "RFC 3918", "  ");
  } else if (spec.benchmark().has_rfc7640()) {
    field("Benchmark", "RFC 7640", "  ");
  } else if (spec.benchmark().has_convergence()) {
    field("Benchmark", "convergence", "  ");
  } else {
    field("Benchmark", "", "  ");
  }
  std::string verdict = spec.verdict().baseline().empty()
                            ? std::string()
                            : absl::StrCat("baseline ", spec.verdict().baseline());
  if (!spec.verdict().max_regression().empty()) {
    absl::StrAppend(&verdict, verdict.empty() ? "" : ", ", "max regression ",
                    spec.verdict().max_regression());
  }
  field("Verdict", verdict, "  ");
  field("Budget", spec.budget(), "  ");

  os << "Status:\n";
  field("Phase", st.phase(), "  ");
  field("Verdict", st.verdict(), "  ");
  field("Started", with_age(st.start_time()), "  ");
  field("Completed", with_age(st.completion_time()), "  ");
  std::optional<absl::Time> start = ParseTimestamp(st.start_time());
  if (start) {
    std::optional<absl::Time> end = ParseTimestamp(st.completion_time());
    field("Duration", FormatAge(end.value_or(now) - *start), "  ");
  }
  if (!IsFinishedPhase(st.phase())) {
    std::string line = ProgressLine(run);
    const std::string phase = OrDash(st.phase());
    if (absl::StartsWith(line, phase)) line = std::string(absl::StripLeadingAsciiWhitespace(
                                             absl::string_view(line).substr(phase.size())));
    field("Progress", line, "  ");
  } else if (st.progress().frame_sizes_total() > 0) {
    field("Progress", absl::StrCat(st.progress().frame_sizes_done(), "/",
                                   st.progress().frame_sizes_total(), " frame sizes"),
          "  ");
  }
  field("Summary", st.summary(), "  ");
  if (!st.report_url().empty()) field("Report", st.report_url(), "  ");
  os << "Conditions:\n";
  if (st.conditions().empty()) {
    os << "  (none)\n";
  } else {
    Table conditions({"TYPE", "STATUS", "REASON", "LAST-TRANSITION", "MESSAGE"});
    for (const v1::StatusCondition& c : st.conditions()) {
      conditions.AddRow({c.type(), c.status(), c.reason(), c.last_transition_time(), c.message()});
    }
    conditions.Print(os, "  ");
  }
}

namespace {

// Figures of one (direction, frame size).
struct SizeRow {
  std::optional<double> fps, percent, mbps;
  std::optional<double> lat_min, lat_avg, lat_max, lat_p99;
  std::map<double, double, std::greater<double>> loss_curve;  // offered % -> loss %, 100 first
  std::optional<double> b2b_avg;
  bool any = false;
};

std::string Opt(const std::optional<double>& v, int decimals) {
  return v ? absl::StrFormat("%.*f", decimals, *v) : std::string("-");
}

// "loss_percent_at_90pct" -> 90.
std::optional<double> LossCurvePoint(absl::string_view metric) {
  if (!absl::ConsumePrefix(&metric, "loss_percent_at_")) return std::nullopt;
  if (!absl::ConsumeSuffix(&metric, "pct")) return std::nullopt;
  double pct;
  if (!absl::SimpleAtod(metric, &pct)) return std::nullopt;
  return pct;
}

}  // namespace

void PrintFingerprint(const v1::RunFingerprint& fp, std::ostream& os) {
  if (fp.ports().empty() && fp.calibration().empty()) return;
  os << "Setup:\n";
  if (!fp.sut_template().empty()) {
    os << "  SUT " << fp.sut_template() << (fp.sut_version().empty() ? "" : " " + fp.sut_version())
       << " (" << OrDash(fp.sut_provider()) << ", " << OrDash(fp.sut_instance()) << ") "
       << SortedMap(fp.sut_parameters(), ", ") << "\n";
  }
  for (const v1::PortFingerprint& p : fp.ports()) {
    os << "  port " << p.role() << ": agent " << p.agent_id() << " " << p.agent_port() << " on "
       << OrDash(p.pmd()) << " " << OrDash(p.device()) << ", " << FormatSpeed(p.speed_bps()) << "\n";
  }
  for (const v1::Calibration& c : fp.calibration()) {
    if (!c.error().empty()) {
      os << "  self-calibration " << c.direction() << ": " << c.error() << "\n";
      continue;
    }
    os << "  self-calibration " << c.direction() << ": max "
       << FormatNumber(c.max_tx_fps(), 0) << " fps at " << c.frame_size() << " B ("
       << FormatNumber(c.max_tx_percent_line_rate(), 1) << "% of line rate), latency floor min "
       << Micros(static_cast<double>(c.latency_floor_min_ns())) << " us avg "
       << Micros(static_cast<double>(c.latency_floor_avg_ns())) << " us\n";
  }
  os << "\n";
}

void PrintResults(const v1::RunResults& results, std::ostream& os, int max_trial_rows) {
  std::vector<std::string> directions;  // in order of first appearance
  std::map<std::string, std::map<uint32_t, SizeRow>> rows;
  Table other({"TEST", "SIZE", "DIRECTION", "METRIC", "VALUE", "UNIT"});
  for (const v1::TestRunResult& r : results.results()) {
    if (std::find(directions.begin(), directions.end(), r.direction()) == directions.end()) {
      directions.push_back(r.direction());
    }
    SizeRow& row = rows[r.direction()][r.frame_size()];
    const std::string& m = r.metric();
    bool used = true;
    if (m == "throughput_fps") {
      row.fps = r.value();
    } else if (m == "throughput_percent") {
      row.percent = r.value();
    } else if (m == "throughput_l2_mbps") {
      row.mbps = r.value();
    } else if (m == "latency_min_ns") {
      row.lat_min = r.value();
    } else if (m == "latency_avg_ns") {
      row.lat_avg = r.value();
    } else if (m == "latency_max_ns") {
      row.lat_max = r.value();
    } else if (m == "latency_p99_ns") {
      row.lat_p99 = r.value();
    } else if (m == "b2b_avg_frames") {
      row.b2b_avg = r.value();
    } else if (std::optional<double> pct = LossCurvePoint(m)) {
      row.loss_curve[*pct] = r.value();
    } else if (m == "max_theoretical_fps" || m == "trials" || m == "pdv_p99_ns" ||
               absl::StartsWith(m, "b2b_") || m == "corrected_buffer_time_s") {
      used = true;  // known detail, kept for -o json
    } else {
      used = false;
      other.AddRow({r.test(), r.frame_size() ? absl::StrCat(r.frame_size()) : "", r.direction(),
                    m, FormatNumber(r.value(), 4), r.unit()});
    }
    if (used) row.any = true;
  }

  bool printed = false;
  for (const std::string& dir : directions) {
    Table table({"SIZE", "THROUGHPUT(fps)", "%LINE", "Mbit/s", "LAT-MIN(us)", "LAT-AVG(us)",
                 "LAT-MAX(us)", "LAT-P99(us)", "FRAME-LOSS(offered%:loss%)", "B2B-AVG(frames)"});
    for (const auto& [size, row] : rows[dir]) {
      if (!row.any) continue;
      std::optional<double> mbps = row.mbps;
      if (!mbps && row.fps && size > 0) mbps = *row.fps * size * 8 / 1e6;
      std::vector<std::string> curve;
      for (const auto& [pct, loss] : row.loss_curve) {
        curve.push_back(absl::StrCat(FormatNumber(pct, 2), "%:", FormatNumber(loss, 3)));
      }
      table.AddRow({absl::StrCat(size), Opt(row.fps, 0), Opt(row.percent, 2), Opt(mbps, 1),
                    row.lat_min ? Micros(*row.lat_min) : "", row.lat_avg ? Micros(*row.lat_avg) : "",
                    row.lat_max ? Micros(*row.lat_max) : "", row.lat_p99 ? Micros(*row.lat_p99) : "",
                    absl::StrJoin(curve, " "), Opt(row.b2b_avg, 1)});
    }
    if (table.empty()) continue;
    os << "Direction " << (dir.empty() ? "-" : dir) << ":\n";
    table.Print(os, "  ");
    os << "\n";
    printed = true;
  }
  if (!other.empty()) {
    os << "Other figures:\n";
    other.Print(os, "  ");
    os << "\n";
    printed = true;
  }
  if (!printed) os << "No results yet.\n\n";
  PrintFingerprint(results.fingerprint(), os);

  if (max_trial_rows == 0) return;
  if (results.trials().empty()) {
    os << "No trials yet.\n";
    return;
  }
  os << "Trials:\n";
  Table trials({"#", "TEST", "SIZE", "DIRECTION", "OFFERED%", "TX", "RX", "LOSS%", "RESULT",
                "NOTE"});
  int listed = 0;
  for (const v1::TrialRecord& t : results.trials()) {
    if (max_trial_rows > 0 && listed++ == max_trial_rows) {
      trials.AddRow({"...", absl::StrCat(results.trials_size() - max_trial_rows, " more"), "", "",
                     "", "", "", "", "", "netrigctl results <id> lists all"});
      break;
    }
    std::string result = !t.valid() ? "invalid" : (t.passed() ? "valid/pass" : "valid/fail");
    std::vector<std::string> notes;
    if (!t.valid() && !t.invalid_reason().empty()) notes.push_back(t.invalid_reason());
    if (t.burst_frames() > 0) notes.push_back(absl::StrCat("burst ", t.burst_frames(), " frames"));
    if (!t.note().empty()) notes.push_back(t.note());
    trials.AddRow({absl::StrCat(t.index()), t.test(), absl::StrCat(t.frame_size()), t.direction(),
                   absl::StrFormat("%.2f", t.offered_rate_percent()), absl::StrCat(t.tx_frames()),
                   absl::StrCat(t.rx_frames()), FormatNumber(t.loss_percent(), 4), result,
                   absl::StrJoin(notes, "; ")});
  }
  trials.Print(os, "  ");
}

}  // namespace netrig::cli
