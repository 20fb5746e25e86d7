#include "controller/report/report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "controller/report/format.h"
#include "controller/report/report_model.h"
#include "controller/report/svg_chart.h"
#include "lib/spec/testrun.h"
#include "lib/stats/latency_histogram.h"

namespace netrig::controller::report {
namespace {

using nlohmann::json;

constexpr char kDirection[] = "west->east";
constexpr double kLinkBps = 1e9;
constexpr char kFailReason[] =
    "trial stayed invalid after 3 attempts: agent east stopped reporting";

// ---------------------------------------------------------------- fixture

constexpr char kSpecYaml[] = R"(
apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata: {name: nightly-rfc2544, namespace: lab}
spec:
  level: L2
  sut: {template: linux-router, version: "6.1", parameters: {rate: 500mbit}}
  ports:
    - {name: west, agent: {pool: default}, speed: 1G}
    - {name: east, agent: {pool: default}, speed: 1G}
  benchmark:
    rfc2544:
      tests: [throughput, latency, frameLoss, backToBack]
      frameSizes: [64, 512, 1518]
      trialDuration: 10s
      resolution: 0.5
      traffic: [{from: west, to: east}]
      latency: {trials: 20, duration: 120s}
)";

double MaxFps(uint32_t size) { return kLinkBps / (8.0 * (size + 20)); }

void AddMetric(v1::RunResults& r, const std::string& test, uint32_t size, const std::string& metric,
               double value) {
  v1::TestRunResult* m = r.add_results();
  m->set_test(test);
  m->set_frame_size(size);
  m->set_direction(kDirection);
  m->set_metric(metric);
  m->set_value(value);
}

v1::TrialRecord* AddTrial(v1::RunResults& r, const std::string& test, uint32_t size, double percent,
                          double loss) {
  v1::TrialRecord* t = r.add_trials();
  t->set_index(static_cast<uint32_t>(r.trials_size()));
  t->set_test(test);
  t->set_frame_size(size);
  t->set_direction(kDirection);
  t->set_offered_rate_percent(percent);
  t->set_offered_fps(MaxFps(size) * percent / 100);
  t->set_tx_frames(static_cast<uint64_t>(t->offered_fps() * 10));
  t->set_rx_frames(static_cast<uint64_t>(static_cast<double>(t->tx_frames()) * (1 - loss / 100)));
  t->set_loss_percent(loss);
  t->set_passed(loss == 0);
  t->set_valid(true);
  t->set_started_time("2024-05-01T02:00:00Z");
  return t;
}

// A latency histogram of `frames` values spread around center_ns (deterministic).
void FillHistogram(v1::LatencyHistogram& out, double center_ns, int frames) {
  stats::LatencyHistogram h;
  std::mt19937 rng(42);
  std::lognormal_distribution<double> spread(0, 0.15);
  for (int i = 0; i < frames; ++i) {
    h.Record(static_cast<uint64_t>(center_ns * spread(rng)));
  }
  for (const auto& [index, count] : h.NonEmpty()) {
    out.add_bucket_index(index);
    out.add_bucket_count(count);
  }
  out.set_sub_bucket_bits(stats::LatencyHistogram::kSubBucketBits);
}

// Throughput: metrics and a short binary search; latency: metrics and two trials with
// histograms; frame loss: metrics and trials; back-to-back: metrics and one trial.
void AddFrameSize(v1::RunResults& r, uint32_t size, double throughput_pct) {
  const double fps = MaxFps(size) * throughput_pct / 100;
  AddMetric(r, "throughput", size, "throughput_fps", fps);
  AddMetric(r, "throughput", size, "throughput_percent", throughput_pct);
  AddMetric(r, "throughput", size, "throughput_l2_mbps", fps * size * 8 / 1e6);
  AddMetric(r, "throughput", size, "max_theoretical_fps", MaxFps(size));
  AddMetric(r, "throughput", size, "trials", 3);
  AddTrial(r, "throughput", size, 100, throughput_pct < 100 ? 12.5 : 0);
  AddTrial(r, "throughput", size, 50, 0);
  AddTrial(r, "throughput", size, throughput_pct, 0);

  AddMetric(r, "latency", size, "latency_min_ns", 3000 + size);
  AddMetric(r, "latency", size, "latency_avg_ns", 5000 + size);
  AddMetric(r, "latency", size, "latency_max_ns", 9000 + size);
  AddMetric(r, "latency", size, "latency_p99_ns", 7000 + size);
  AddMetric(r, "latency", size, "pdv_p99_ns", 4000);
  for (int i = 0; i < 2; ++i) {
    FillHistogram(*AddTrial(r, "latency", size, throughput_pct, 0)->mutable_latency_histogram(),
                  5000 + size, 2000);
  }

  const double curve[][2] = {{100, 100 - throughput_pct}, {90, 0}, {80, 0}};
  for (const auto& [offered, loss] : curve) {
    AddMetric(r, "frameLoss", size, absl::StrCat("loss_percent_at_", offered, "pct"), loss);
    AddTrial(r, "frameLoss", size, offered, loss);
  }

  AddMetric(r, "backToBack", size, "b2b_avg_frames", 26000);
  AddMetric(r, "backToBack", size, "b2b_min_frames", 25500);
  AddMetric(r, "backToBack", size, "b2b_max_frames", 27000);
  AddMetric(r, "backToBack", size, "b2b_stddev_frames", 20);
  AddMetric(r, "backToBack", size, "corrected_buffer_time_s", 0.000573);
  AddTrial(r, "backToBack", size, 100, 0)->set_burst_frames(26000);
}

void AddOutcome(v1::RunResults& r, const std::string& test, uint32_t size, const std::string& state,
                const std::string& reason = "") {
  v1::TestOutcome* o = r.add_outcomes();
  o->set_test(test);
  o->set_frame_size(size);
  o->set_direction(kDirection);
  o->set_state(state);
  o->set_reason(reason);
  o->set_trials(3);
  o->set_duration_s(31.5);
}

void AddFingerprint(v1::RunFingerprint& fp) {
  fp.set_spec_hash("sha256:0f1e2d3c");
  fp.set_sut_template("linux-router");
  fp.set_sut_version("6.1");
  (*fp.mutable_sut_parameters())["rate"] = "500mbit";
  fp.set_sut_provider("netns");
  fp.set_sut_instance("nrsut-run-42");
  fp.set_controller_version("0.4.0");
  fp.set_host("lab-1 (Linux 6.1)");
  for (const char* role : {"west", "east"}) {
    v1::AgentFingerprint* a = fp.add_agents();
    a->set_id(absl::StrCat("agent-", role));
    a->set_version("0.4.0");
    a->set_worker_cores(2);
    v1::PortFingerprint* p = fp.add_ports();
    p->set_role(role);
    p->set_agent_id(a->id());
    p->set_agent_port("p0");
    p->set_pmd("net_af_xdp");
    p->set_device(absl::StrCat("veth-", role));
    p->set_speed_bps(static_cast<uint64_t>(kLinkBps));
    p->set_mac("02:00:00:00:00:01");
  }
  v1::Calibration* c = fp.add_calibration();
  c->set_direction(kDirection);
  c->set_frame_size(64);
  c->set_duration_s(2);
  c->set_max_tx_fps(1450000);
  c->set_max_tx_percent_line_rate(97.44);
  c->set_floor_offered_fps(1000);
  c->set_floor_rx_frames(2000);
  c->set_latency_floor_min_ns(1800);
  c->set_latency_floor_avg_ns(2100);
  c->set_latency_floor_p99_ns(2900);
}

v1::RunResults RealisticRun() {
  v1::RunResults r;
  r.set_id("run-42");
  v1::Run* run = r.mutable_run();
  run->set_id("run-42");
  run->set_spec_hash("sha256:0f1e2d3c");
  run->set_created_time("2024-05-01T01:59:00Z");
  spec::ParseResult parsed = spec::ParseTestRun(kSpecYaml);
  EXPECT_TRUE(parsed.ok());
  *run->mutable_test_run() = parsed.object;
  v1::TestRunStatus* st = run->mutable_test_run()->mutable_status();
  st->set_phase("Failed");
  st->set_verdict("Fail");
  st->set_summary("west->east backToBack 1518 B: failed");
  st->set_start_time("2024-05-01T02:00:00Z");
  st->set_completion_time("2024-05-01T03:30:30Z");
  v1::StatusCondition* c = st->add_conditions();
  c->set_type("Completed");
  c->set_status("True");
  c->set_reason("TestsFailed");

  AddFrameSize(r, 64, 60);
  AddFrameSize(r, 512, 95);
  AddFrameSize(r, 1518, 100);
  r.mutable_trials(0)->set_valid(false);  // an invalid trial is listed, never drawn
  r.mutable_trials(0)->set_invalid_reason("stream fwd missing from the agents' reports");
  for (uint32_t size : {64u, 512u, 1518u}) {
    for (const char* test : {"throughput", "latency", "frameLoss", "backToBack"}) {
      const bool fail = size == 1518 && std::string(test) == "backToBack";
      AddOutcome(r, test, size, fail ? "failed" : "passed", fail ? kFailReason : "");
    }
  }
  AddFingerprint(*r.mutable_fingerprint());
  return r;
}

// ---------------------------------------------------------------- helpers

// A scratch directory of its own per test (ctest runs the cases in parallel processes),
// removed when the test ends.
class ScratchDir {
 public:
  ScratchDir()
      : path_(std::filesystem::path(testing::TempDir()) /
              absl::StrCat("report_test_", getpid(), "_",
                           testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool PythonHas(const std::string& module) {
  return std::system(("python3 -c 'import " + module + "' >/dev/null 2>&1").c_str()) == 0;
}

// Exit status of validating the document against docs/schemas/report-v1.schema.json.
int ValidateWithSchema(const ScratchDir& dir, const std::string& document) {
  const std::string doc = dir.File("report-under-test.json");
  WriteText(doc, document);
  const std::string schema = std::string(NETRIG_SOURCE_DIR) + "/docs/schemas/report-v1.schema.json";
  const std::string cmd = absl::StrCat(
      "python3 -c 'import json, sys, jsonschema; "
      "jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))"
      ".validate(json.load(open(sys.argv[2])))' '",
      schema, "' '", doc, "' >", dir.File("schema.log"), " 2>&1");
  return std::system(cmd.c_str());
}

// The <svg ...>...</svg> element with the given id, or "" when absent.
std::string SvgById(const std::string& html, const std::string& id) {
  const size_t start = html.find(absl::StrCat("<svg class=\"chart\" id=\"", id, "\""));
  if (start == std::string::npos) {
    return "";
  }
  const size_t end = html.find("</svg>", start);
  return end == std::string::npos ? "" : html.substr(start, end - start);
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

const json& FrameSize(const json& doc, uint32_t size) {
  for (const json& f : doc["results"][0]["frameSizes"]) {
    if (f["frameSize"] == size) {
      return f;
    }
  }
  ADD_FAILURE() << "frame size " << size << " missing";
  static const json kNull;
  return kNull;
}

// ---------------------------------------------------------------- report.json

TEST(ReportJsonTest, ParsesAndCarriesTheInputValues) {
  const v1::RunResults input = RealisticRun();
  const json doc = json::parse(RenderJson(input), nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_EQ(doc["schemaVersion"], "netrig.io/report/v1");
  EXPECT_EQ(doc["run"]["name"], "nightly-rfc2544");
  EXPECT_EQ(doc["run"]["namespace"], "lab");
  EXPECT_EQ(doc["run"]["verdict"], "Fail");
  EXPECT_EQ(doc["run"]["reason"], "TestsFailed");
  EXPECT_DOUBLE_EQ(doc["run"]["durationSeconds"].get<double>(), 5430);
  EXPECT_EQ(doc["spec"]["benchmark"]["rfc2544"]["frameSizes"], json({64, 512, 1518}));

  ASSERT_EQ(doc["results"].size(), 1u);
  EXPECT_EQ(doc["results"][0]["direction"], kDirection);
  ASSERT_EQ(doc["results"][0]["frameSizes"].size(), 3u);
  const json& f512 = FrameSize(doc, 512);
  EXPECT_DOUBLE_EQ(f512["throughput"]["fps"].get<double>(), MaxFps(512) * 95 / 100);
  EXPECT_DOUBLE_EQ(f512["throughput"]["percentLineRate"].get<double>(), 95);
  EXPECT_DOUBLE_EQ(f512["maxTheoreticalFps"].get<double>(), MaxFps(512));
  EXPECT_DOUBLE_EQ(f512["latency"]["avgNs"].get<double>(), 5512);
  EXPECT_DOUBLE_EQ(f512["latency"]["rateFps"].get<double>(), MaxFps(512) * 95 / 100);
  EXPECT_DOUBLE_EQ(f512["backToBack"]["avgFrames"].get<double>(), 26000);
  // Frame loss curve ascending by offered load, from the frameLoss trials.
  ASSERT_EQ(f512["frameLoss"].size(), 3u);
  EXPECT_DOUBLE_EQ(f512["frameLoss"][0]["offeredPercent"].get<double>(), 80);
  EXPECT_DOUBLE_EQ(f512["frameLoss"][2]["offeredPercent"].get<double>(), 100);
  EXPECT_DOUBLE_EQ(f512["frameLoss"][2]["lossPercent"].get<double>(), 5);

  // The merged histogram of the two latency trials holds all their frames, in ordered buckets.
  uint64_t frames = 0;
  uint64_t previous_upper = 0;
  for (const json& b : f512["latencyHistogram"]) {
    EXPECT_LT(b["lowerNs"].get<uint64_t>(), b["upperNs"].get<uint64_t>());
    EXPECT_GE(b["lowerNs"].get<uint64_t>(), previous_upper);
    previous_upper = b["upperNs"].get<uint64_t>();
    frames += b["count"].get<uint64_t>();
  }
  EXPECT_EQ(frames, 4000u);

  EXPECT_EQ(doc["outcomes"].size(), 12u);
  EXPECT_EQ(doc["trials"].size(), static_cast<size_t>(input.trials_size()));
  EXPECT_FALSE(doc["trials"][0]["valid"].get<bool>());
  EXPECT_EQ(doc["fingerprint"]["calibration"][0]["latencyFloorP99Ns"], 2900);
  EXPECT_EQ(doc["fingerprint"]["ports"][1]["pmd"], "net_af_xdp");
  EXPECT_EQ(doc["fingerprint"]["sutParameters"]["rate"], "500mbit");
}

TEST(ReportJsonTest, StatesTheRfc2544ReportingItems) {
  const json doc = json::parse(RenderJson(RealisticRun()), nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  const json& s = doc["statements"];
  EXPECT_TRUE(absl::StrContains(s["latencyDefinition"].get<std::string>(), "Store-and-forward"));
  EXPECT_TRUE(absl::StrContains(s["frameFormat"].get<std::string>(), "Appendix C UDP"));
  EXPECT_TRUE(absl::StrContains(s["frameFormat"].get<std::string>(), "IPv4"));
  EXPECT_TRUE(absl::StrContains(s["searchMethod"].get<std::string>(), "binary search"));
  EXPECT_TRUE(absl::StrContains(s["searchMethod"].get<std::string>(), "resolution 0.5%"));
  EXPECT_TRUE(absl::StrContains(s["searchMethod"].get<std::string>(), "loss tolerance 0%"));
  // The 10 s trial is a deviation from RFC 2544 §24, and the invalid trial is reported.
  const std::string deviations = s["deviations"].dump();
  EXPECT_TRUE(absl::StrContains(deviations, "trialDuration")) << deviations;
  EXPECT_TRUE(absl::StrContains(deviations, "1 trial was invalid")) << deviations;
  EXPECT_FALSE(absl::StrContains(deviations, "does not compile")) << deviations;
}

TEST(ReportJsonTest, ValidatesAgainstTheSchema) {
  if (!PythonHas("jsonschema")) {
    GTEST_SKIP() << "python3 module jsonschema is missing (apt-get install python3-jsonschema)";
  }
  const ScratchDir dir;
  const std::string log = dir.File("schema.log");
  EXPECT_EQ(ValidateWithSchema(dir, RenderJson(RealisticRun())), 0) << ReadText(log);
  EXPECT_EQ(ValidateWithSchema(dir, RenderJson(v1::RunResults())), 0) << ReadText(log);
  // The schema is strict: an unknown field or a missing required one is rejected.
  json doc = json::parse(RenderJson(RealisticRun()));
  doc["results"][0]["frameSizes"][0]["throughput"]["surprise"] = 1;
  EXPECT_NE(ValidateWithSchema(dir, doc.dump()), 0);
  doc = json::parse(RenderJson(RealisticRun()));
  doc["trials"][0].erase("latencyHistogram");
  EXPECT_NE(ValidateWithSchema(dir, doc.dump()), 0);
  doc = json::parse(RenderJson(RealisticRun()));
  doc["schemaVersion"] = "netrig.io/report/v0";
  EXPECT_NE(ValidateWithSchema(dir, doc.dump()), 0);
}

TEST(ReportJsonTest, TheoreticalMaximumFallsBackToTheLinkSpeed) {
  v1::RunResults r;
  AddMetric(r, "throughput", 64, "throughput_fps", 1000000);
  AddFingerprint(*r.mutable_fingerprint());
  const json doc = json::parse(RenderJson(r));
  EXPECT_NEAR(FrameSize(doc, 64)["maxTheoreticalFps"].get<double>(), 1488095.238, 0.001);
}

// ---------------------------------------------------------------- junit.xml

TEST(ReportJUnitTest, OneTestCasePerOutcomeAndTheFailureCarriesTheReason) {
  const v1::RunResults input = RealisticRun();
  const std::string xml = RenderJUnit(input);
  EXPECT_EQ(Count(xml, "<testcase "), static_cast<size_t>(input.outcomes_size()));
  EXPECT_EQ(Count(xml, "<failure "), 1u);
  EXPECT_TRUE(absl::StrContains(xml, absl::StrCat("<failure message=\"", kFailReason, "\"")));
  EXPECT_TRUE(absl::StrContains(
      xml, "classname=\"rfc2544.backToBack\" name=\"backToBack 1518B west-&gt;east\""));
  EXPECT_TRUE(absl::StrContains(xml, "tests=\"12\" failures=\"1\""));
  EXPECT_TRUE(absl::StrContains(xml, "<property name=\"spec.hash\" value=\"sha256:0f1e2d3c\"/>"));
  EXPECT_TRUE(absl::StrContains(xml, "<property name=\"sut.template\" value=\"linux-router\"/>"));
  EXPECT_TRUE(absl::StrContains(xml, "<property name=\"run.id\" value=\"run-42\"/>"));
  EXPECT_TRUE(absl::StrContains(xml, "throughput_fps: 223214.29")) << "512 B measured value";
}

TEST(ReportJUnitTest, SkippedAndPendingOutcomesAreSkipped) {
  v1::RunResults r;
  AddOutcome(r, "latency", 64, "skipped", "throughput found no passing rate");
  AddOutcome(r, "frameLoss", 64, "pending");
  const std::string xml = RenderJUnit(r);
  EXPECT_EQ(Count(xml, "<skipped "), 2u);
  EXPECT_TRUE(absl::StrContains(xml, "<skipped message=\"throughput found no passing rate\"/>"));
  EXPECT_TRUE(absl::StrContains(xml, "skipped=\"2\""));
}

TEST(ReportJUnitTest, EscapesXmlSpecialCharactersAndRoundTrips) {
  v1::RunResults r = RealisticRun();
  const std::string name = "a<b&\"c\"";
  r.mutable_run()->mutable_test_run()->mutable_metadata()->set_name(name);
  const std::string xml = RenderJUnit(r);
  EXPECT_FALSE(absl::StrContains(xml, name));
  EXPECT_TRUE(absl::StrContains(xml, "name=\"a&lt;b&amp;&quot;c&quot;\""));
  if (!PythonHas("xml.etree.ElementTree")) {
    GTEST_SKIP() << "python3 is missing: XML round trip not checked";
  }
  const ScratchDir dir;
  const std::string file = dir.File("junit.xml");
  const std::string out = dir.File("suite-name.txt");
  WriteText(file, xml);
  const std::string cmd = absl::StrCat(
      "python3 -c 'import sys, xml.etree.ElementTree as E; "
      "sys.stdout.write(E.parse(sys.argv[1]).getroot().find(\"testsuite\").get(\"name\"))' '",
      file, "' >", out);
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "junit.xml is not well-formed XML";
  EXPECT_EQ(ReadText(out), name);
}

// ---------------------------------------------------------------- report.html

TEST(ReportHtmlTest, HasTheFourChartsWithContent) {
  const std::string html = RenderHtml(RealisticRun());
  for (const char* id : {"chart-throughput", "chart-latency", "chart-frameloss"}) {
    const std::string svg = SvgById(html, id);
    ASSERT_FALSE(svg.empty()) << id;
    EXPECT_TRUE(absl::StrContains(svg, "<polyline class=\"series\"")) << id;
    EXPECT_FALSE(absl::StrContains(svg, "no data")) << id;
  }
  const std::string histogram = SvgById(html, "chart-histogram");
  ASSERT_FALSE(histogram.empty());
  EXPECT_GT(Count(histogram, "<rect class=\"bar\""), 10u);
  // §26.1: theoretical and measured lines; §26.3: one line per frame size.
  EXPECT_EQ(Count(SvgById(html, "chart-throughput"), "<polyline"), 2u);
  EXPECT_EQ(Count(SvgById(html, "chart-latency"), "<polyline"), 4u);
  EXPECT_EQ(Count(SvgById(html, "chart-frameloss"), "<polyline"), 3u);
  EXPECT_TRUE(absl::StrContains(SvgById(html, "chart-frameloss"), ">100%</text>"));
}

TEST(ReportHtmlTest, IsSelfContained) {
  const std::string html = RenderHtml(RealisticRun());
  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>"));
  for (const char* external :
       {"http://", "https://", "<script", "src=", "href=", "@import", "url(", "<link"}) {
    EXPECT_FALSE(absl::StrContains(html, external)) << external;
  }
}

TEST(ReportHtmlTest, ShowsTheRunFingerprintAndStatements) {
  const std::string html = RenderHtml(RealisticRun());
  for (const char* text :
       {"nightly-rfc2544", "sha256:0f1e2d3c", "linux-router", "net_af_xdp", "1Gbit/s", "agent-west",
        "Generator self-calibration", "2,900", "Store-and-forward", "223,214",
        "RFC 2544 reporting statements", kFailReason, "1,488,095"}) {
    EXPECT_TRUE(absl::StrContains(html, text)) << text;
  }
}

TEST(ReportHtmlTest, EscapesHostileStrings) {
  v1::RunResults r = RealisticRun();
  const std::string hostile = "<script>alert(1)</script>";
  r.mutable_run()->mutable_test_run()->mutable_metadata()->set_name(hostile);
  (*r.mutable_fingerprint()->mutable_sut_parameters())["x\"><img"] = hostile;
  r.mutable_outcomes(0)->set_reason(hostile);
  r.mutable_trials(1)->set_note(hostile);
  for (v1::TestRunResult& m : *r.mutable_results()) {
    m.set_direction(hostile);  // reaches the SVG legends and panel names
  }
  for (const std::string& out : {RenderHtml(r), RenderJUnit(r)}) {
    EXPECT_FALSE(absl::StrContains(out, "<script")) << out.substr(0, 200);
    EXPECT_FALSE(absl::StrContains(out, "<img"));
    EXPECT_TRUE(absl::StrContains(out, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  }
}

TEST(ReportHtmlTest, EmptyRunRendersNoData) {
  const v1::RunResults empty;
  const std::string html = RenderHtml(empty);
  for (const char* id :
       {"chart-throughput", "chart-latency", "chart-frameloss", "chart-histogram"}) {
    const std::string svg = SvgById(html, id);
    ASSERT_FALSE(svg.empty()) << id;
    EXPECT_TRUE(absl::StrContains(svg, "no data")) << id;
  }
  EXPECT_TRUE(json::accept(RenderJson(empty)));
  EXPECT_TRUE(absl::StrContains(RenderJUnit(empty), "tests=\"0\""));
}

TEST(ReportHtmlTest, FrameSizeWithoutHistogramShowsNoDataInItsPanel) {
  v1::RunResults r = RealisticRun();
  for (v1::TrialRecord& t : *r.mutable_trials()) {
    if (t.frame_size() == 1518) {
      t.clear_latency_histogram();
    }
  }
  const std::string svg = SvgById(RenderHtml(r), "chart-histogram");
  EXPECT_GT(Count(svg, "<rect class=\"bar\""), 10u);
  EXPECT_EQ(Count(svg, "no data"), 1u);
}

// ---------------------------------------------------------------- files

TEST(WriteReportsTest, WritesTheThreeFilesIntoANewDirectory) {
  const ScratchDir scratch;
  const std::string dir = scratch.File("reports/run-42");
  absl::StatusOr<std::vector<std::string>> paths = WriteReports(RealisticRun(), dir);
  ASSERT_TRUE(paths.ok()) << paths.status();
  ASSERT_EQ(paths->size(), 3u);
  EXPECT_EQ((*paths)[0], dir + "/report.json");
  EXPECT_EQ((*paths)[1], dir + "/junit.xml");
  EXPECT_EQ((*paths)[2], dir + "/report.html");
  EXPECT_TRUE(json::accept(ReadText((*paths)[0])));
  EXPECT_TRUE(absl::StartsWith(ReadText((*paths)[1]), "<?xml"));
  EXPECT_TRUE(absl::StrContains(ReadText((*paths)[2]), "chart-histogram"));
}

TEST(WriteReportsTest, FailsWhenTheDirectoryCannotBeCreated) {
  const ScratchDir scratch;
  const std::string file = scratch.File("not-a-directory");
  WriteText(file, "x");
  EXPECT_FALSE(WriteReports(v1::RunResults(), file + "/sub").ok());
}

// ---------------------------------------------------------------- helpers

TEST(SvgTicksTest, NiceTicksForAFrameRateAxis) {
  const svg::Ticks t = svg::NiceTicks(0, 1488095);
  EXPECT_DOUBLE_EQ(t.step, 500000);
  EXPECT_EQ(t.values, (std::vector<double>{0, 500000, 1000000, 1500000}));
  EXPECT_DOUBLE_EQ(t.min, 0);
  EXPECT_DOUBLE_EQ(t.max, 1500000);
}

TEST(SvgTicksTest, NiceTicksForAPercentAxis) {
  const svg::Ticks t = svg::NiceTicks(0, 100);
  EXPECT_EQ(t.values, (std::vector<double>{0, 20, 40, 60, 80, 100}));
}

TEST(SvgTicksTest, NiceTicksCoverTheRangeWithRoundSteps) {
  const std::pair<double, double> ranges[] = {
      {0, 1}, {0, 7.3}, {3012, 9876}, {-40, 250}, {0.001, 0.0042}, {81274, 1488095}, {5, 5}};
  for (const auto& [lo, hi] : ranges) {
    const svg::Ticks t = svg::NiceTicks(lo, hi, 5);
    ASSERT_GE(t.values.size(), 2u) << lo << ".." << hi;
    EXPECT_LE(t.values.size(), 6u) << lo << ".." << hi;
    EXPECT_LE(t.min, lo);
    EXPECT_GE(t.max, hi);
    const double mantissa = t.step / std::pow(10.0, std::floor(std::log10(t.step) + 1e-9));
    EXPECT_TRUE(std::fabs(mantissa - 1) < 1e-9 || std::fabs(mantissa - 2) < 1e-9 ||
                std::fabs(mantissa - 2.5) < 1e-9 || std::fabs(mantissa - 5) < 1e-9)
        << "step " << t.step;
    for (const double v : t.values) {
      EXPECT_NEAR(v / t.step, std::round(v / t.step), 1e-6) << v;
    }
  }
}

TEST(SvgTicksTest, LogTicksStayInRangeAndPreferDecades) {
  const svg::Ticks t = svg::LogTicks(50, 200000, 8);
  EXPECT_EQ(t.values, (std::vector<double>{100, 1000, 10000, 100000}));
  const svg::Ticks narrow = svg::LogTicks(800, 3000, 8);
  EXPECT_EQ(narrow.values, (std::vector<double>{800, 900, 1000, 2000, 3000}));
}

TEST(FormatTest, NumbersAndEscaping) {
  EXPECT_EQ(Thousands(1488095.238), "1,488,095");
  EXPECT_EQ(Thousands(812743.82, 2), "812,743.82");
  EXPECT_EQ(Thousands(-1234.5, 1), "-1,234.5");
  EXPECT_EQ(ShortNumber(1500000), "1.5M");
  EXPECT_EQ(ShortNumber(250000), "250k");
  EXPECT_EQ(ShortNumber(0.5), "0.5");
  EXPECT_EQ(HumanSeconds(3725.5), "1h 2m 5.5s");
  EXPECT_EQ(EscapeMarkup("a<b&\"c\"'"), "a&lt;b&amp;&quot;c&quot;&#39;");
  EXPECT_EQ(EscapeMarkup(std::string("x\x01y", 3)), "x\xEF\xBF\xBDy");
}

TEST(ReportModelTest, ParsesFrameLossMetricNames) {
  EXPECT_EQ(LossMetricOfferedPercent("loss_percent_at_90pct"), 90);
  EXPECT_EQ(LossMetricOfferedPercent("loss_percent_at_72.5pct"), 72.5);
  EXPECT_FALSE(LossMetricOfferedPercent("loss_percent_at_pct").has_value());
  EXPECT_FALSE(LossMetricOfferedPercent("throughput_fps").has_value());
}

TEST(ReportModelTest, MetricCurveIsUsedWhenThereAreNoFrameLossTrials) {
  v1::RunResults r;
  AddMetric(r, "frameLoss", 64, "loss_percent_at_100pct", 30);
  AddMetric(r, "frameLoss", 64, "loss_percent_at_90pct", 0);
  const ReportModel m = BuildModel(r);
  ASSERT_EQ(m.directions.size(), 1u);
  const std::vector<LossPoint>& curve = m.directions[0].frame_sizes[0].frame_loss;
  ASSERT_EQ(curve.size(), 2u);
  EXPECT_DOUBLE_EQ(curve[0].offered_percent, 90);
  EXPECT_DOUBLE_EQ(curve[1].loss_percent, 30);
}

TEST(ReportModelTest, HistogramBucketsUseTheStatsLayout) {
  v1::LatencyHistogram h;
  FillHistogram(h, 5000, 100);
  uint64_t total = 0;
  for (const HistogramBucket& b : HistogramBuckets(h)) {
    EXPECT_EQ(stats::LatencyHistogram::BucketIndex(b.lower_ns),
              stats::LatencyHistogram::BucketIndex(b.upper_ns - 1));
    total += b.count;
  }
  EXPECT_EQ(total, 100u);
  h.set_sub_bucket_bits(7);  // a layout the report cannot read: left out, not misdrawn
  EXPECT_TRUE(HistogramBuckets(h).empty());
}

}  // namespace
}  // namespace netrig::controller::report
