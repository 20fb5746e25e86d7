// junit.xml: the run as JUnit XML, the dialect Jenkins (junit plugin) and GitLab (test reports)
// read: <testsuites> / <testsuite> / <testcase classname name time> with <failure>, <error>,
// <skipped>, <properties> and <system-out>. One test case per outcome (benchmark x frame size
// x direction), so a CI dashboard shows "throughput 64B west->east" failing on its own line.
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controller/report/format.h"
#include "controller/report/report.h"
#include "controller/report/report_model.h"

namespace netrig::controller::report {
namespace {

enum class CaseKind { kPassed, kFailed, kSkipped, kError };

// TestOutcome.state: passed | failed | skipped | pending. "completed" (the methodology's word
// for passed) is accepted too; anything else is an error so it is never silently green.
CaseKind KindOf(const std::string& state) {
  if (state == "passed" || state == "completed") {
    return CaseKind::kPassed;
  }
  if (state == "failed") {
    return CaseKind::kFailed;
  }
  if (state == "skipped" || state == "pending" || state == "not requested") {
    return CaseKind::kSkipped;
  }
  return CaseKind::kError;
}

std::string Seconds(double s) { return absl::StrFormat("%.3f", std::isfinite(s) ? s : 0.0); }

std::string Attr(const std::string& name, const std::string& value) {
  return absl::StrCat(" ", name, "=\"", EscapeMarkup(value), "\"");
}

const FrameSizeResult* Find(const ReportModel& model, const v1::TestOutcome& o) {
  for (const DirectionResult& d : model.directions) {
    if (d.direction != o.direction()) {
      continue;
    }
    for (const FrameSizeResult& f : d.frame_sizes) {
      if (f.frame_size == o.frame_size()) {
        return &f;
      }
    }
  }
  return nullptr;
}

// The measured values of one case, one "name: value" per line, for <system-out>.
std::string Measured(const FrameSizeResult* f, const std::string& test) {
  if (f == nullptr) {
    return "no result\n";
  }
  std::string out;
  if (test == "throughput" && f->throughput) {
    const ThroughputFigures& t = *f->throughput;
    absl::StrAppend(&out, "throughput_fps: ", Fixed(t.fps, 2),
                    "\nthroughput_percent: ", Fixed(t.percent_line_rate, 4),
                    "\nthroughput_l2_mbps: ", Fixed(t.l2_mbps, 3),
                    "\nmax_theoretical_fps: ", Fixed(t.max_theoretical_fps, 2),
                    "\ntrials: ", t.trials, "\n");
  } else if (test == "latency" && f->latency) {
    const LatencyFigures& l = *f->latency;
    absl::StrAppend(
        &out, "rate_fps: ", Fixed(l.rate_fps, 2), "\nrate_percent: ", Fixed(l.rate_percent, 4),
        "\nlatency_min_ns: ", Fixed(l.min_ns, 0), "\nlatency_avg_ns: ", Fixed(l.avg_ns, 0),
        "\nlatency_max_ns: ", Fixed(l.max_ns, 0), "\nlatency_p99_ns: ", Fixed(l.p99_ns, 0),
        "\npdv_p99_ns: ", Fixed(l.pdv_p99_ns, 0), "\n");
  } else if (test == "frameLoss" && !f->frame_loss.empty()) {
    for (const LossPoint& p : f->frame_loss) {
      absl::StrAppend(&out, "loss_percent_at_", ShortNumber(p.offered_percent),
                      "pct: ", Fixed(p.loss_percent, 6), "\n");
    }
  } else if (test == "backToBack" && f->back_to_back) {
    const BackToBackFigures& b = *f->back_to_back;
    absl::StrAppend(
        &out, "b2b_avg_frames: ", Fixed(b.avg_frames, 2),
        "\nb2b_min_frames: ", Fixed(b.min_frames, 0), "\nb2b_max_frames: ", Fixed(b.max_frames, 0),
        "\nb2b_stddev_frames: ", Fixed(b.stddev_frames, 2),
        "\ncorrected_buffer_time_s: ", absl::StrFormat("%.9f", b.corrected_buffer_time_s), "\n");
  }
  return out.empty() ? "no result\n" : out;
}

std::string TestCase(const v1::TestOutcome& o, const ReportModel& model) {
  const std::string name = absl::StrCat(o.test(), " ", o.frame_size(), "B ", o.direction());
  std::string out = absl::StrCat("    <testcase", Attr("classname", "rfc2544." + o.test()),
                                 Attr("name", name), Attr("time", Seconds(o.duration_s())), ">\n");
  const std::string reason = o.reason().empty() ? o.state() : o.reason();
  switch (KindOf(o.state())) {
    case CaseKind::kPassed:
      break;
    case CaseKind::kFailed:
      absl::StrAppend(&out, "      <failure", Attr("message", reason), Attr("type", "failed"), ">",
                      EscapeMarkup(reason), "</failure>\n");
      break;
    case CaseKind::kSkipped:
      absl::StrAppend(&out, "      <skipped", Attr("message", reason), "/>\n");
      break;
    case CaseKind::kError:
      absl::StrAppend(&out, "      <error", Attr("message", "unknown outcome state: " + o.state()),
                      Attr("type", "state"), "/>\n");
      break;
  }
  const std::string text = absl::StrCat("state: ", o.state(), "\ntrials: ", o.trials(), "\n",
                                        Measured(Find(model, o), o.test()));
  absl::StrAppend(&out, "      <system-out>", EscapeMarkup(text), "</system-out>\n",
                  "    </testcase>\n");
  return out;
}

std::string Property(const std::string& name, const std::string& value) {
  return absl::StrCat("      <property", Attr("name", name), Attr("value", value), "/>\n");
}

std::string Properties(const ReportModel& model, const v1::RunFingerprint& fp) {
  return absl::StrCat(
      "    <properties>\n", Property("run.id", model.run.id), Property("run.name", model.run.name),
      Property("run.namespace", model.run.namespace_name), Property("run.level", model.run.level),
      Property("run.verdict", model.run.verdict), Property("spec.hash", model.run.spec_hash),
      Property("sut.template", fp.sut_template()), Property("sut.version", fp.sut_version()),
      Property("sut.provider", fp.sut_provider()),
      Property("controller.version", fp.controller_version()),
      Property("report.schema", kSchemaVersion), "    </properties>\n");
}

}  // namespace

std::string RenderJUnit(const v1::RunResults& results) {
  const ReportModel model = BuildModel(results);
  int failures = 0;
  int errors = 0;
  int skipped = 0;
  double time = 0;
  std::string cases;
  for (const v1::TestOutcome& o : results.outcomes()) {
    const CaseKind kind = KindOf(o.state());
    failures += kind == CaseKind::kFailed ? 1 : 0;
    errors += kind == CaseKind::kError ? 1 : 0;
    skipped += kind == CaseKind::kSkipped ? 1 : 0;
    time += std::isfinite(o.duration_s()) ? o.duration_s() : 0;
    cases += TestCase(o, model);
  }
  const std::string suite = model.run.name.empty() ? model.run.id : model.run.name;
  const std::string counts =
      absl::StrCat(Attr("tests", absl::StrCat(results.outcomes_size())),
                   Attr("failures", absl::StrCat(failures)), Attr("errors", absl::StrCat(errors)),
                   Attr("skipped", absl::StrCat(skipped)), Attr("time", Seconds(time)));
  return absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", Attr("name", "netrig"), counts,
      ">\n  <testsuite", Attr("name", suite), Attr("id", model.run.id), counts,
      model.run.start_time.empty() ? "" : Attr("timestamp", model.run.start_time), ">\n",
      Properties(model, results.fingerprint()), cases, "  </testsuite>\n</testsuites>\n");
}

}  // namespace netrig::controller::report
