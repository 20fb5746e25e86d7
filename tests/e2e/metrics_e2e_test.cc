// Metrics end to end: a real Prometheus (Debian `prometheus`), started by this test with the
// shipped rules, scrapes the controller and (through the controller's service discovery) the
// local agents while four real runs execute against namespace SUTs (linux-shaper) that the
// controller builds and removes. Afterwards:
//   - every PromQL expression of every panel of every dashboard evaluates without error and
//     with data;
//   - the KPIs in Prometheus equal what the controller's API reports for the same runs;
//   - both endpoints pass `promtool check metrics` without a warning;
//   - a run with 4096 flows adds as many series as a run with 16.
// The scenario: A passes (50 Mbit/s, version 1.0, the baseline); B and C run against 1.1 at
// 20 Mbit/s and regress (C confirms B's flag); D runs 1.1 at 50 Mbit/s at L3 and passes
// (dismissing C's flag and promoting 1.1).
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "tests/support/process.h"

namespace netrig {
namespace {

using nlohmann::json;
using testing::FreePort;
using testing::ReadFile;
using testing::Reap;
using testing::RunCommand;
using testing::Spawn;

const std::string kAgent = NETRIG_AGENT_BIN;
const std::string kController = NETRIG_CONTROLLER_BIN;
const std::string kSourceDir = NETRIG_SOURCE_DIR;

struct RunCase {
  std::string level, rate, version, trigger;
  int flows;
};

std::string Spec(const RunCase& c) {
  std::string labels = "{netrig.io/suite: kpi";
  if (!c.trigger.empty()) labels += ", netrig.io/trigger: " + c.trigger;
  labels += "}";
  return absl::StrCat(R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata:
  name: kpi-shaper
  labels: )", labels, R"(
spec:
  level: )", c.level, R"(
  sut:
    template: linux-shaper
    version: ")", c.version, R"("
    parameters: {rate: )", c.rate, R"(, burst: 16kb, latency: 2ms}
  ports:
    - {name: west, agent: {pool: default}, speed: 100M}
    - {name: east, agent: {pool: default}, speed: 100M}
  benchmark:
    rfc2544:
      tests: [throughput]
      frameSizes: [512]
      trialDuration: 2s
      resolution: 1
      minRate: 0
      maxRate: 70
      traffic: [{from: west, to: east, flows: )", c.flows, R"(}]
      waits: {drain: 300ms, settle: 0s}
  verdict: {baseline: last-pass, maxRegression: 10%}
)");
}

// Dashboard template variables and Grafana builtins -> values PromQL accepts.
std::string Substitute(std::string expr, const std::string& run) {
  const std::vector<std::pair<std::string, std::string>> vars = {
      {"$__rate_interval", "30s"}, {"${__rate_interval}", "30s"}, {"$__range", "1h"},
      {"${__range}", "1h"},        {"$__interval", "5s"},         {"${__interval}", "5s"},
      {"${run}", run},             {"$run", run},                 {"${level}", ".*"},
      {"$level", ".*"},            {"${suite}", ".*"},            {"$suite", ".*"},
      {"${sut}", ".*"},            {"$sut", ".*"},                {"${agent}", ".*"},
      {"$agent", ".*"},            {"${pool}", ".*"},             {"$pool", ".*"}};
  for (const auto& [from, to] : vars) expr = absl::StrReplaceAll(expr, {{from, to}});
  return expr;
}

void CollectExprs(const json& panels, const std::string& where,
                  std::vector<std::pair<std::string, std::string>>& out) {
  for (const json& p : panels) {
    const std::string title = where + " / " + p.value("title", std::string("(untitled)"));
    if (p.contains("panels")) CollectExprs(p["panels"], title, out);
    for (const json& t : p.value("targets", json::array())) {
      if (t.contains("expr")) out.emplace_back(title, t["expr"].get<std::string>());
    }
  }
}

class MetricsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root: the controller creates SUT namespaces and veths (CI runs as root)";
    }
    ASSERT_EQ(RunCommand("command -v prometheus promtool >/dev/null").exit_code, 0)
        << "prometheus and promtool are needed (Debian package prometheus; scripts/setup.sh "
           "installs it)";
    const std::string tag = std::to_string(getpid());
    dir_ = ::testing::TempDir() + "/metrics_e2e_" + tag;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    grpc_port_ = FreePort();
    rest_port_ = FreePort();
    prom_port_ = FreePort();
    controller_ = Spawn({kController, "--listen", "127.0.0.1:" + std::to_string(grpc_port_),
                         "--rest", "127.0.0.1:" + std::to_string(rest_port_), "--store",
                         "sqlite:" + dir_ + "/state.db", "--results-dir", dir_ + "/results",
                         "--sut-provider", "netns", "--local-agents", kAgent, "--calibration",
                         "0s"},
                        dir_ + "/controller.log");
    for (int i = 0; i < 200 && !Get(rest_port_, "/v1/agents").is_object(); ++i) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_TRUE(Get(rest_port_, "/v1/agents").is_object()) << ReadFile(dir_ + "/controller.log");
    StartPrometheus();
  }

  void TearDown() override {
    Reap(prometheus_, SIGTERM);
    Reap(controller_, SIGTERM);
    for (const std::string& id : runs_) RunCommand("ip netns del nrsut-" + id + " 2>/dev/null");
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
  }

  // The shipped rules, evaluated every second instead of their production interval.
  void StartPrometheus() {
    std::string rules = ReadFile(kSourceDir + "/dashboards/rules/netrig.rules.yaml");
    std::ostringstream fast;
    std::istringstream in(rules);
    for (std::string line; std::getline(in, line);) {
      const auto pos = line.find("interval:");
      if (pos != std::string::npos && line.find_first_not_of(' ') == pos) {
        line = line.substr(0, pos) + "interval: 1s";
      }
      fast << line << "\n";
    }
    std::ofstream(dir_ + "/rules.yaml") << fast.str();
    const std::string rest = "127.0.0.1:" + std::to_string(rest_port_);
    std::ofstream(dir_ + "/prometheus.yaml") << "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        << "rule_files: [" << dir_ << "/rules.yaml]\n"
        << "scrape_configs:\n"
        << "  - job_name: netrig-controller\n"
        << "    static_configs: [{targets: ['" << rest << "']}]\n"
        << "  - job_name: netrig-agents\n"
        << "    http_sd_configs: [{url: 'http://" << rest
        << "/v1/prometheus/targets', refresh_interval: 1s}]\n";
    const auto check = RunCommand("promtool check config " + dir_ + "/prometheus.yaml 2>&1");
    ASSERT_EQ(check.exit_code, 0) << check.out;
    const std::string binary = RunCommand("command -v prometheus").out;
    prometheus_ = Spawn({binary.substr(0, binary.find('\n')), "--config.file=" + dir_ + "/prometheus.yaml",
                         "--storage.tsdb.path=" + dir_ + "/tsdb",
                         "--web.listen-address=127.0.0.1:" + std::to_string(prom_port_)},
                        dir_ + "/prometheus.log");
    for (int i = 0; i < 300; ++i) {
      httplib::Client c("127.0.0.1", prom_port_);
      if (auto r = c.Get("/-/ready"); r && r->status == 200) return;
      absl::SleepFor(absl::Milliseconds(100));
    }
    FAIL() << "prometheus did not become ready: " << ReadFile(dir_ + "/prometheus.log");
  }

  static json Get(int port, const std::string& path) {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get(path.c_str());
    if (!r) return json();
    return json::parse(r->body, nullptr, false);
  }
  static std::string GetText(const std::string& host_port, const std::string& path) {
    httplib::Client c("http://" + host_port);
    auto r = c.Get(path.c_str());
    return r && r->status == 200 ? r->body : "";
  }

  json Prom(const std::string& endpoint, const httplib::Params& params) {
    httplib::Client c("127.0.0.1", prom_port_);
    auto r = c.Post(("/api/v1/" + endpoint).c_str(), params);
    if (!r) return json{{"status", "error"}, {"error", "prometheus unreachable"}};
    return json::parse(r->body, nullptr, false);
  }
  json Query(const std::string& expr) {
    return Prom("query", {{"query", expr}});
  }
  // The single value of an instant query, NaN when there is none.
  double Scalar(const std::string& expr) {
    const json r = Query(expr);
    const json result = r.value("/data/result"_json_pointer, json::array());
    if (r.value("status", "") != "success" || result.size() != 1) {
      ADD_FAILURE() << expr << ": " << r.dump();
      return std::nan("");
    }
    return std::stod(result[0]["value"][1].get<std::string>());
  }
  // label value -> value of an instant query aggregated by one label.
  std::map<std::string, double> ByLabel(const std::string& expr, const std::string& label) {
    std::map<std::string, double> out;
    const json r = Query(expr);
    EXPECT_EQ(r.value("status", ""), "success") << expr << ": " << r.dump();
    for (const json& s : r.value("/data/result"_json_pointer, json::array())) {
      out[s["metric"].value(label, "")] = std::stod(s["value"][1].get<std::string>());
    }
    return out;
  }

  // Submits and waits; while it runs, checks an agent's /metrics with promtool once.
  json Execute(const RunCase& c) {
    httplib::Client client("127.0.0.1", rest_port_);
    auto r = client.Post("/v1/runs", json{{"document", Spec(c)}}.dump(), "application/json");
    EXPECT_TRUE(r) << "submit failed";
    if (!r) return json();
    const std::string id = json::parse(r->body, nullptr, false).value("id", "");
    EXPECT_FALSE(id.empty()) << r->body;
    runs_.push_back(id);
    const absl::Time until = absl::Now() + absl::Minutes(4);
    json run;
    while (absl::Now() < until) {
      run = Get(rest_port_, "/v1/runs/" + id);
      const std::string phase = run.value("/test_run/status/phase"_json_pointer, std::string());
      if (phase == "Succeeded" || phase == "Failed" || phase == "Cancelled") return run;
      if (agent_metrics_.empty()) {
        const json targets = Get(rest_port_, "/v1/prometheus/targets");
        if (targets.is_array() && !targets.empty()) {
          const std::string address = targets[0]["targets"][0];
          const std::string text = GetText(address, "/metrics");
          if (text.find("netrig_agent_port_tx_packets_total") != std::string::npos) {
            agent_metrics_ = text;
          }
        }
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    ADD_FAILURE() << "run " << id << " did not finish: " << run.dump();
    return run;
  }

  std::string dir_;
  int grpc_port_ = 0, rest_port_ = 0, prom_port_ = 0;
  pid_t controller_ = -1, prometheus_ = -1;
  std::vector<std::string> runs_;
  std::string agent_metrics_;
};

// Applies the KPI definitions of docs/metrics.md to the runs as the API reports them.
struct ExpectedKpis {
  std::map<std::string, double> passes, judged, durations;  // by level
  double runs = 0, automated = 0, regressed = 0, confirmed = 0, dismissed = 0;
  std::set<std::string> versions, promoted;
};

ExpectedKpis FromApi(const json& list) {
  ExpectedKpis k;
  std::vector<json> runs(list["runs"].begin(), list["runs"].end());
  std::sort(runs.begin(), runs.end(), [](const json& a, const json& b) {
    return std::make_pair(a["test_run"]["status"].value("completion_time", ""), a.value("id", "")) <
           std::make_pair(b["test_run"]["status"].value("completion_time", ""), b.value("id", ""));
  });
  std::map<std::string, bool> open_flag;  // test/version -> a flag waits for its re-run
  for (const json& r : runs) {
    const json st = r["test_run"]["status"];
    const json meta = r["test_run"]["metadata"];
    const std::string level = r["test_run"]["spec"].value("level", "L1");
    const std::string verdict = st.value("verdict", "");
    const std::string version = r["test_run"]["spec"]["sut"].value("version", "");
    ++k.runs;
    const json labels = meta.value("labels", json::object());
    if (labels.value("netrig.io/trigger", "manual") != "manual") ++k.automated;
    if (verdict == "Pass" || verdict == "Fail" || verdict == "Regressed" ||
        verdict == "Inconclusive") {
      ++k.judged[level];
    }
    if (verdict == "Pass") ++k.passes[level];
    if (verdict == "Regressed") ++k.regressed;
    absl::Time start, end;
    std::string err;
    if (absl::ParseTime(absl::RFC3339_full, st.value("start_time", ""), &start, &err) &&
        absl::ParseTime(absl::RFC3339_full, st.value("completion_time", ""), &end, &err)) {
      k.durations[level] += absl::ToDoubleSeconds(end - start);
    }
    k.versions.insert(version);
    if (verdict == "Pass" && level == "L3") k.promoted.insert(version);
    const bool flagged = verdict == "Fail" || verdict == "Regressed";
    const std::string key = meta.value("name", "") + "/" + version;
    if (verdict == "Pass" || flagged) {
      if (open_flag[key]) (flagged ? k.confirmed : k.dismissed) += 1;
      open_flag[key] = flagged;
    }
  }
  return k;
}

TEST_F(MetricsE2eTest, DashboardsEvaluateAndKpisMatchTheApi) {
  const double started = static_cast<double>(absl::ToUnixSeconds(absl::Now()));
  const std::vector<RunCase> cases = {{"L1", "50mbit", "1.0", "ci", 16},
                                      {"L1", "20mbit", "1.1", "", 4096},
                                      {"L2", "20mbit", "1.1", "ci", 16},
                                      {"L3", "50mbit", "1.1", "schedule", 16}};
  std::vector<std::string> verdicts;
  for (const RunCase& c : cases) {
    const json run = Execute(c);
    verdicts.push_back(run.value("/test_run/status/verdict"_json_pointer, std::string()));
    ASSERT_FALSE(HasFailure()) << ReadFile(dir_ + "/controller.log");
  }
  ASSERT_EQ(verdicts, (std::vector<std::string>{"Pass", "Regressed", "Regressed", "Pass"}))
      << "the scenario needs this sequence; controller log:\n"
      << ReadFile(dir_ + "/controller.log");
  absl::SleepFor(absl::Seconds(4));  // a last scrape and rule evaluation after the last run

  // Every expression of every panel of every dashboard: valid after variable substitution,
  // and with data for this scenario.
  std::vector<std::pair<std::string, std::string>> exprs;
  for (const char* name : {"ccm-kpis", "run-detail", "agent-fleet"}) {
    const json d = json::parse(ReadFile(kSourceDir + "/dashboards/" + name + ".json"), nullptr, false);
    ASSERT_FALSE(d.is_discarded()) << name;
    CollectExprs(d.value("panels", json::array()), name, exprs);
  }
  ASSERT_GE(exprs.size(), 20u);
  const std::string end = std::to_string(absl::ToUnixSeconds(absl::Now()));
  for (const auto& [panel, expr] : exprs) {
    const std::string q = Substitute(expr, runs_[0]);
    const json r = Prom("query_range", {{"query", q},
                                        {"start", std::to_string(static_cast<int64_t>(started))},
                                        {"end", end},
                                        {"step", "2"}});
    EXPECT_EQ(r.value("status", ""), "success") << panel << ": " << q << "\n" << r.dump();
    EXPECT_FALSE(r.value("/data/result"_json_pointer, json::array()).empty())
        << panel << ": no data for " << q;
  }

  // KPIs: Prometheus against the controller's API.
  const json list = Get(rest_port_, "/v1/runs");
  ASSERT_EQ(list["runs"].size(), 4u);
  const ExpectedKpis k = FromApi(Get(rest_port_, "/v1/runs"));
  EXPECT_DOUBLE_EQ(Scalar("sum(netrig_runs_total)"), k.runs);
  EXPECT_DOUBLE_EQ(Scalar("netrig:tests_automated:ratio"), k.automated / k.runs);
  const auto pass = ByLabel("netrig:run_pass:ratio", "level");
  ASSERT_EQ(pass.size(), k.judged.size());
  for (const auto& [level, n] : k.judged) {
    const auto it = k.passes.find(level);
    EXPECT_DOUBLE_EQ(pass.at(level), (it == k.passes.end() ? 0 : it->second) / n) << level;
  }
  const auto durations = ByLabel("sum by (level) (netrig_run_duration_seconds_sum)", "level");
  for (const auto& [level, seconds] : k.durations) {
    EXPECT_NEAR(durations.at(level), seconds, 1e-6) << level;
  }
  EXPECT_DOUBLE_EQ(Scalar("sum(netrig_sut_versions_tested_total)"), k.versions.size());
  EXPECT_DOUBLE_EQ(Scalar("sum(netrig_sut_versions_passed_total{level=\"L3\"})"),
                   k.promoted.size());
  EXPECT_DOUBLE_EQ(Scalar("sum(netrig_regressions_detected_total)"), k.regressed);
  EXPECT_DOUBLE_EQ(Scalar("sum(netrig_failures_confirmed_total)"), k.confirmed);
  EXPECT_DOUBLE_EQ(Scalar("sum(netrig_failures_dismissed_total)"), k.dismissed);
  EXPECT_DOUBLE_EQ(Scalar("netrig:test_efficiency:ratio"), k.confirmed / (k.confirmed + k.dismissed));
  EXPECT_EQ(k.confirmed, 1);  // the scenario: C confirms B, D dismisses C
  EXPECT_EQ(k.dismissed, 1);

  // The agents were discovered and scraped while they lived; live run series were recorded.
  EXPECT_GT(Scalar("sum(max_over_time(netrig_agent_port_tx_packets_total[1h]))"), 0);
  EXPECT_GT(Scalar(absl::StrCat("max(max_over_time(netrig_run_stream_offered_frames_per_second{run=\"",
                                runs_[0], "\"}[1h]))")),
            0);

  // Cardinality: 4096 flows (run B) add exactly the series 16 flows (run A) add.
  const auto series_of = [&](const std::string& id) {
    return Scalar(absl::StrCat("count(last_over_time({run=\"", id, "\"}[1h]))"));
  };
  const double a_series = series_of(runs_[0]), b_series = series_of(runs_[1]);
  EXPECT_GT(a_series, 0);
  EXPECT_EQ(a_series, b_series) << "16 flows vs 4096 flows";
  std::cout << "metrics e2e: " << exprs.size() << " panel expressions evaluated; runs "
            << k.runs << ", automated " << k.automated / k.runs << ", regressions "
            << k.regressed << ", confirmed " << k.confirmed << ", dismissed " << k.dismissed
            << ", versions " << k.versions.size() << ", promoted " << k.promoted.size()
            << "; series per run: " << a_series << " (16 flows) and " << b_series
            << " (4096 flows)\n";

  // Naming: promtool reports nothing on either endpoint.
  const std::string controller_text = GetText("127.0.0.1:" + std::to_string(rest_port_), "/metrics");
  ASSERT_FALSE(controller_text.empty());
  ASSERT_FALSE(agent_metrics_.empty()) << "no agent /metrics was fetched during the runs";
  for (const auto& [what, text] : {std::pair{"controller", controller_text},
                                   std::pair{"agent", agent_metrics_}}) {
    const std::string file = dir_ + "/" + what + ".prom";
    std::ofstream(file) << text;
    const auto check = RunCommand("promtool check metrics < " + file + " 2>&1");
    EXPECT_EQ(check.exit_code, 0) << what << ": " << check.out;
    EXPECT_EQ(check.out, "") << what << ": " << check.out;
  }
}

}  // namespace
}  // namespace netrig
