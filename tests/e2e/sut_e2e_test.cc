// Local mode end to end: netrig-controller builds each run's virtual SUT (a namespace with the
// linux-shaper template), starts a netrig-agent on its links, runs RFC 2544, writes the reports
// and tears everything down. Also: cancellation (netrigctl cancel, Ctrl-C on --wait), a
// controller killed mid-run (the next start removes the orphaned SUT), and bad SUT input.
// Everything traffic touches is made by the controller under test and removed by it.
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "tests/support/cpu_watch.h"
#include "tests/support/process.h"

namespace netrig {
namespace {

using nlohmann::json;
using testing::FreePort;
using testing::ReadFile;
using testing::Reap;
using testing::Spawn;

const std::string kAgent = NETRIG_AGENT_BIN;
const std::string kController = NETRIG_CONTROLLER_BIN;
const std::string kNetrigctl = NETRIG_CTL_BIN;
const std::string kSourceDir = NETRIG_SOURCE_DIR;

// A shaper run: tbf at 50 Mbit/s on both SUT links (a 2 ms queue: its zero-loss overestimate
// is 28.5 kB * 8 / 2 s = 0.2 %), RFC 2544 throughput (and what `tests` adds) on three frame
// sizes, 100 Mbit/s ports so the search resolution (0.02 % of 100M = 20 kbit/s) is well inside
// the 3 % the test allows. Frames of 256 bytes and up: smaller ones are paced by the kernel to
// the shaper's rate in local mode (see examples/rfc2544-quickstart.yaml), which the executor
// reports as invalid trials.
std::string ShaperSpec(const std::string& name, const std::string& tests, const std::string& sizes,
                       const std::string& trial, const std::string& extra_sut = "") {
  return R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata: {name: )" + name + R"(}
spec:
  sut:
    template: linux-shaper
    version: "e2e"
    parameters: {rate: 50mbit, burst: 16kb, latency: 2ms)" + extra_sut + R"(}
  ports:
    - {name: west, agent: {pool: default}, speed: 100M}
    - {name: east, agent: {pool: default}, speed: 100M}
  benchmark:
    rfc2544:
      tests: )" + tests + R"(
      frameSizes: )" + sizes + R"(
      trialDuration: )" + trial + R"(
      resolution: 0.02
      traffic: [{from: west, to: east, flows: 8}]
      latency: {trials: 2, duration: 1s}
      frameLoss: {step: 10}
      waits: {drain: 300ms, settle: 0s}
)";
}

std::string SutSpec(const std::string& name, const std::string& sut_block) {
  return R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata: {name: )" + name + R"(}
spec:
  sut:
)" + sut_block + R"(
  ports:
    - {name: west, agent: {pool: default}, speed: 1G}
    - {name: east, agent: {pool: default}, speed: 1G}
  benchmark:
    rfc2544:
      tests: [throughput]
      frameSizes: [512]
      trialDuration: 1s
      traffic: [{from: west, to: east}]
      waits: {drain: 300ms, settle: 0s}
)";
}

class SutE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root: the controller creates SUT namespaces and veths (CI runs as root)";
    }
    grpc_port_ = FreePort();
    rest_port_ = FreePort();
    const std::string tag = std::to_string(getpid());
    db_ = ::testing::TempDir() + "/sut_e2e_state_" + tag + ".db";
    results_dir_ = ::testing::TempDir() + "/sut_e2e_results_" + tag;
    log_ = ::testing::TempDir() + "/sut_e2e_controller_" + tag + ".log";
    unlink(db_.c_str());
    StartController();
  }

  void TearDown() override {
    Reap(controller_, SIGTERM);
    // Whatever a failed test left: SUT namespaces of this test's runs.
    for (const std::string& id : runs_) {
      testing::RunCommand("ip netns del nrsut-" + id + " 2>/dev/null");
    }
    unlink(db_.c_str());
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(results_dir_, ec);
  }

  void StartController() {
    controller_ = Spawn({kController, "--listen", "127.0.0.1:" + std::to_string(grpc_port_),
                         "--rest", "127.0.0.1:" + std::to_string(rest_port_), "--store",
                         "sqlite:" + db_, "--results-dir", results_dir_, "--sut-provider", "netns",
                         "--local-agents", kAgent},
                        log_);
    for (int i = 0; i < 200; ++i) {
      if (!Get("/v1/agents").contains("error")) return;
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "controller did not start: " << ReadFile(log_);
  }

  json Get(const std::string& path) {
    httplib::Client c("127.0.0.1", rest_port_);
    auto r = c.Get(path.c_str());
    if (!r) return json{{"error", "unreachable"}};
    return json::parse(r->body, nullptr, false);
  }

  std::string Submit(const std::string& spec) {
    httplib::Client c("127.0.0.1", rest_port_);
    auto r = c.Post("/v1/runs", json{{"document", spec}}.dump(), "application/json");
    if (!r) return "";
    const json j = json::parse(r->body, nullptr, false);
    const std::string id = j.value("id", "");
    EXPECT_FALSE(id.empty()) << r->body;
    if (!id.empty()) runs_.push_back(id);
    return id;
  }

  std::string Ctl(const std::string& args) {
    return kNetrigctl + " --server 127.0.0.1:" + std::to_string(grpc_port_) + " " + args;
  }

  json WaitFor(const std::string& id, const std::function<bool(const json&)>& done,
               absl::Duration timeout) {
    const absl::Time until = absl::Now() + timeout;
    json run;
    while (absl::Now() < until) {
      run = Get("/v1/runs/" + id);
      if (done(run)) return run;
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << "run " << id << ": condition not reached; last: " << run.dump();
    return run;
  }
  static std::string Phase(const json& run) {
    return run.value("/test_run/status/phase"_json_pointer, std::string());
  }
  static bool Finished(const json& run) {
    const std::string p = Phase(run);
    return p == "Succeeded" || p == "Failed" || p == "Cancelled" || p == "Interrupted";
  }
  static std::string Condition(const json& run, const std::string& type) {
    for (const json& c : run.value("/test_run/status/conditions"_json_pointer, json::array())) {
      if (c.value("type", "") == type) return c.value("status", "") + "/" + c.value("reason", "");
    }
    return "";
  }
  size_t Trials(const std::string& id) { return Get("/v1/runs/" + id + "/results")["trials"].size(); }

  // Nothing of the run is left: no SUT namespace, no veth of its links, no agent process.
  void ExpectNothingLeft(const std::string& id) {
    const auto ns = testing::RunCommand("ip netns list");
    EXPECT_EQ(ns.out.find("nrsut-" + id), std::string::npos) << ns.out;
    const auto agents = testing::RunCommand("pgrep -f -a 'netrig-agen[t].*local-" + id + "'");
    EXPECT_NE(agents.exit_code, 0) << "agent still running: " << agents.out;
  }
  std::vector<std::string> RootVeths() {
    const auto links = testing::RunCommand("ip -o link show type veth");
    std::vector<std::string> out;
    std::istringstream in(links.out);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  int grpc_port_ = 0, rest_port_ = 0;
  std::string db_, results_dir_, log_;
  pid_t controller_ = -1;
  std::vector<std::string> runs_;
};

TEST_F(SutE2eTest, ShaperRunIsWithinThreePercentWritesReportsAndLeavesNothing) {
  // A generator short of CPU invalidates the line-rate trials: on failure, say what else ran.
  const testing::CpuReportOnFailure cpu;
  const size_t veths_before = RootVeths().size();
  const std::string spec_file = ::testing::TempDir() + "/sut_e2e_spec_" + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream f(spec_file);
    f << ShaperSpec("shaper-e2e", "[throughput, latency, frameLoss]", "[256, 512, 1518]", "2s");
  }
  const auto r = testing::RunCommand(Ctl("run -f " + spec_file + " --wait -o json 2>/dev/null"));
  unlink(spec_file.c_str());
  ASSERT_EQ(r.exit_code, 0) << r.out << ReadFile(log_);
  json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << r.out;
  const std::string id = out["run"]["id"];
  runs_.push_back(id);
  json status = out["run"]["testRun"]["status"];  // copies: a missing key is null, not UB
  EXPECT_EQ(status["phase"], "Succeeded") << r.out;

  // Throughput within 3 % of the shaped rate in frames per second (tbf counts frames without
  // the FCS).
  std::map<uint32_t, double> fps;
  for (const auto& res : out["results"]["results"]) {
    if (res["metric"] == "throughput_fps") fps[res["frameSize"].get<uint32_t>()] = res["value"].get<double>();
  }
  ASSERT_EQ(fps.size(), 3u) << r.out;
  for (const auto& [size, measured] : fps) {
    const double shaped = 50e6 / (8.0 * (size - 4));
    printf("sut e2e frame %u: throughput %.1f fps, shaped %.1f fps (%+.2f%%)\n", size, measured,
           shaped, 100.0 * (measured - shaped) / shaped);
    EXPECT_NEAR(measured, shaped, 0.03 * shaped) << "frame size " << size;
  }

  // The fingerprint: SUT, agent, PMD, speed, calibration.
  json fp = out["results"]["fingerprint"];
  EXPECT_EQ(fp["sutTemplate"], "linux-shaper") << fp.dump();
  EXPECT_EQ(fp["sutProvider"], "netns");
  EXPECT_EQ(fp["sutInstance"], "nrsut-" + id);
  ASSERT_EQ(fp["ports"].size(), 2u) << fp.dump();
  EXPECT_TRUE(fp["ports"][0]["pmd"] == "net_af_xdp" || fp["ports"][0]["pmd"] == "net_af_packet");
  ASSERT_EQ(fp["calibration"].size(), 1u) << fp.dump();
  EXPECT_GT(fp["calibration"][0].value("maxTxFps", 0.0), fps[256]) << fp.dump();
  EXPECT_NE(fp["calibration"][0].value("latencyFloorMinNs", std::string("0")), "0") << fp.dump();

  // Reports: JUnit (one case per benchmark x frame size), JSON valid against its schema.
  const std::string dir = results_dir_ + "/" + id;
  EXPECT_EQ(status["reportURL"], "file://" + std::filesystem::absolute(dir).string() + "/report.html");
  const auto junit = testing::RunCommand(
      "python3 -c \"import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.argv[1]).getroot(); "
      "print(sorted(c.get('name') for c in r.iter('testcase')))\" " + dir + "/junit.xml");
  ASSERT_EQ(junit.exit_code, 0) << junit.out;
  for (const std::string test : {"throughput", "latency", "frameLoss"}) {
    for (const std::string size : {"256", "512", "1518"}) {
      EXPECT_NE(junit.out.find("'" + test + " " + size + "B"), std::string::npos)
          << test << " " << size << ": " << junit.out;
    }
  }
  EXPECT_EQ(std::count(junit.out.begin(), junit.out.end(), ','), 8) << junit.out;  // 9 cases
  const auto schema = testing::RunCommand(
      "python3 -c \"import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), "
      "json.load(open(sys.argv[2]))); print('valid')\" " + dir + "/report.json " + kSourceDir +
      "/docs/schemas/report-v1.schema.json 2>&1");
  EXPECT_EQ(schema.exit_code, 0) << schema.out;

  // The HTML report in headless Chromium: no console message at all (the report has no
  // scripts and no external assets), and the four charts are in the rendered DOM with content.
  const std::string html = dir + "/report.html";
  const std::string png = dir + "/report.png";
  const auto shot = testing::RunCommand(
      "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --enable-logging=stderr "
      "--v=0 --window-size=1280,3000 --screenshot=" + png + " file://" + html + " 2>&1");
  EXPECT_EQ(shot.exit_code, 0) << shot.out;
  EXPECT_EQ(shot.out.find("CONSOLE"), std::string::npos) << shot.out;
  EXPECT_GT(std::filesystem::exists(png) ? std::filesystem::file_size(png) : 0, 20000u);
  const auto dom = testing::RunCommand("chromium --headless --no-sandbox --disable-gpu --dump-dom file://" +
                                       html + " 2>/dev/null");
  for (const std::string chart : {"chart-throughput", "chart-latency", "chart-frameloss", "chart-histogram"}) {
    // (std::regex recurses per character and overflows the stack on a page this size.)
    const size_t id_at = dom.out.find("id=\"" + chart + "\"");
    ASSERT_NE(id_at, std::string::npos) << chart;
    const size_t open = dom.out.rfind("<svg", id_at);
    const size_t close = dom.out.find("</svg>", id_at);
    ASSERT_TRUE(open != std::string::npos && close != std::string::npos) << chart;
    const std::string body = dom.out.substr(open, close - open);
    EXPECT_TRUE(absl::StrContains(body, "<polyline") || absl::StrContains(body, "<rect"))
        << chart << ": " << body.substr(0, 300);
    EXPECT_FALSE(absl::StrContains(body, "no data")) << chart;
  }

  // Torn down before the run was reported finished.
  ExpectNothingLeft(id);
  EXPECT_EQ(RootVeths().size(), veths_before);
}

TEST_F(SutE2eTest, CancelAndCtrlCLeaveNoSutBehind) {
  // netrigctl cancel while trials run.
  const std::string id = Submit(ShaperSpec("cancel-e2e", "[throughput]", "[256, 512, 1518]", "1s"));
  ASSERT_FALSE(id.empty());
  WaitFor(id, [&](const json&) { return Trials(id) >= 2; }, absl::Minutes(1));
  EXPECT_TRUE(absl::StrContains(testing::RunCommand("ip netns list").out, "nrsut-" + id));
  const auto cancel = testing::RunCommand(Ctl("cancel " + id + " 2>&1"));
  EXPECT_EQ(cancel.exit_code, 0) << cancel.out;
  const json done = WaitFor(id, Finished, absl::Seconds(60));
  EXPECT_EQ(Phase(done), "Cancelled") << done.dump();
  ExpectNothingLeft(id);

  // Ctrl-C on `netrigctl run --wait` cancels the run.
  const std::string spec_file = ::testing::TempDir() + "/sut_e2e_ctrlc_" + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream f(spec_file);
    f << ShaperSpec("ctrlc-e2e", "[throughput]", "[256, 512, 1518]", "1s");
  }
  const std::string wait_log = ::testing::TempDir() + "/sut_e2e_wait.log";
  pid_t ctl = Spawn({kNetrigctl, "--server", "127.0.0.1:" + std::to_string(grpc_port_), "run", "-f",
                     spec_file, "--wait"},
                    wait_log);
  std::string id2;
  WaitFor("", [&](const json&) {
    const json runs = Get("/v1/runs?phase=Running");
    for (const json& r : runs.value("runs", json::array())) {
      if (r.value("/test_run/metadata/name"_json_pointer, std::string()) == "ctrlc-e2e") id2 = r["id"];
    }
    return !id2.empty() && Trials(id2) >= 1;
  }, absl::Minutes(1));
  ASSERT_FALSE(id2.empty());
  runs_.push_back(id2);
  const int st = Reap(ctl, SIGINT);
  unlink(spec_file.c_str());
  // netrigctl asked the controller to cancel and waited for the run to stop: exit 3.
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 3) << st << ": " << ReadFile(wait_log);
  const json done2 = WaitFor(id2, Finished, absl::Seconds(60));
  EXPECT_EQ(Phase(done2), "Cancelled") << done2.dump();
  ExpectNothingLeft(id2);
}

TEST_F(SutE2eTest, KilledControllerLeavesNoSutAfterTheNextStart) {
  const std::string id = Submit(ShaperSpec("crash-e2e", "[throughput]", "[256, 512, 1518]", "1s"));
  ASSERT_FALSE(id.empty());
  WaitFor(id, [&](const json&) { return Trials(id) >= 1; }, absl::Minutes(1));
  Reap(controller_, SIGKILL);
  // The agent follows its controller (parent-death signal); the SUT namespace is an orphan.
  bool agent_gone = false;
  for (int i = 0; i < 100 && !agent_gone; ++i) {
    agent_gone = testing::RunCommand("pgrep -f 'netrig-agen[t].*local-" + id + "'").exit_code != 0;
    if (!agent_gone) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(agent_gone);
  EXPECT_TRUE(absl::StrContains(testing::RunCommand("ip netns list").out, "nrsut-" + id));
  StartController();
  const json after = Get("/v1/runs/" + id);
  EXPECT_EQ(Phase(after), "Interrupted") << after.dump();
  EXPECT_EQ(Condition(after, "SutReady"), "False/Destroyed") << after.dump();
  ExpectNothingLeft(id);
}

TEST_F(SutE2eTest, BadSutInputFailsTheRunWithTheReasonAndRemovesTheSut) {
  struct Case {
    std::string name, sut, reason, message;
  };
  const std::vector<Case> cases = {
      {"unknown-template", "    template: no-such-router", "InvalidSut", "unknown template"},
      {"bad-parameter", "    template: linux-shaper\n    parameters: {rate: fast}", "InvalidSut",
       "sut.parameters.rate"},
      {"bad-timeout", "    template: linux-router\n    parameters: {readyTimeout: soon}", "InvalidSut",
       "spec.sut.parameters.readyTimeout"},
      {"config-rejected",
       "    template: frr-router\n    parameters:\n      daemons: zebra,bgpd\n"
       "      config: \"router bgp 65001\\n neighbor 198.18.1.2 remote-az 65002\\n\"",
       "InvalidSut", "bgpd: line 2"},
      {"daemon-rejects",
       "    template: frr-router\n    parameters:\n      daemons: zebra,bgpd\n"
       "      config: \"router bgp 65001\\n neighbor 198.18.1.3 peer-group NOPE\\n\"",
       "SutCreateFailed", "bgpd"},
      {"never-ready",
       "    template: frr-router\n    parameters:\n      daemons: zebra,bgpd\n"
       "      config: \"router bgp 65001\\n neighbor 198.18.1.2 remote-as 65002\\n\"\n"
       "      waitFor: bgp-established\n      readyTimeout: 3s",
       "SutReadyTimeout", "not ready after 3s"},
  };
  const bool have_frr = std::filesystem::exists("/usr/lib/frr/zebra");
  for (const Case& c : cases) {
    if (c.sut.find("frr-router") != std::string::npos && !have_frr) {
      ADD_FAILURE() << c.name << ": FRR is not installed (scripts/setup.sh installs frr)";
      continue;
    }
    const std::string id = Submit(SutSpec(c.name, c.sut));
    ASSERT_FALSE(id.empty()) << c.name;
    const json done = WaitFor(id, Finished, absl::Seconds(60));
    EXPECT_EQ(Phase(done), "Failed") << c.name << ": " << done.dump();
    EXPECT_EQ(Condition(done, "Completed"), "True/" + c.reason) << c.name << ": " << done.dump();
    const std::string summary = done.value("/test_run/status/summary"_json_pointer, std::string());
    EXPECT_NE(summary.find(c.message), std::string::npos) << c.name << ": " << summary;
    printf("%s: %s\n", c.name.c_str(), summary.c_str());
    ExpectNothingLeft(id);
    EXPECT_EQ(testing::RunCommand("pgrep -f 'nrsu[t]-" + id + "'").exit_code, 1)
        << c.name << ": a SUT daemon is still running";
  }
  // The controller keeps serving.
  EXPECT_FALSE(Get("/v1/runs").contains("error"));
}

}  // namespace
}  // namespace netrig
