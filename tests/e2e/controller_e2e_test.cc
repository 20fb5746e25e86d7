// The platform end to end: netrig-controller (SQLite store) and two netrig-agent processes in
// a tester namespace, a namespace router with a tbf shaper as the SUT, runs submitted over the
// REST API. Crash cases: the controller killed with -9 mid-run and restarted; an agent killed
// mid-run.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "tests/support/cpu_watch.h"
#include "tests/support/netns_router.h"
#include "tests/support/process.h"

namespace netrig {
namespace {

using nlohmann::json;
using testing::FreePort;
using testing::Reap;
using testing::Spawn;

const std::string kAgent = NETRIG_AGENT_BIN;
const std::string kController = NETRIG_CONTROLLER_BIN;
const std::string kNetrigctl = NETRIG_CTL_BIN;
const std::string kSourceDir = NETRIG_SOURCE_DIR;

std::string Spec(const std::string& name, const std::string& sizes, const std::string& trial) {
  return R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata: {name: )" + name + R"(}
spec:
  sut: {template: linux-shaper}
  ports:
    - {name: west, agent: {pool: default}, speed: 1G}
    - {name: east, agent: {pool: default}, speed: 1G}
  benchmark:
    rfc2544:
      tests: [throughput]
      frameSizes: )" + sizes + R"(
      trialDuration: )" + trial + R"(
      resolution: 0.02
      traffic: [{from: west, to: east, flows: 8}]
      waits: {drain: 300ms, settle: 0s}
)";
}

class ControllerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root to create network namespaces and veths (CI runs as root)";
    }
    ASSERT_EQ(topo_.Create(), "");
    // Shaped at 30 Mbit/s with a queue that absorbs a few ms of sender jitter; 2 s trials bound
    // the zero-loss search's overestimate to queue / duration (23.5 kB * 8 / 2 s: 0.3 %).
    ASSERT_EQ(topo_.Shape("rate 30mbit burst 16kb latency 2ms"), "");
    // Everything below runs in the tester namespace: this thread enters it, and the processes
    // it forks inherit it.
    ASSERT_TRUE(topo_.EnterTester());
    grpc_port_ = FreePort();
    rest_port_ = FreePort();
    db_ = ::testing::TempDir() + "/e2e_state_" + std::to_string(getpid()) + ".db";
    results_dir_ = ::testing::TempDir() + "/e2e_results_" + std::to_string(getpid());
    unlink(db_.c_str());
    StartController();
    StartAgent("agent-west", "west", topo_.tester_a, topo_.RouterMacA(), "0,1");
    StartAgent("agent-east", "east", topo_.tester_b, "", "1,0");
    ASSERT_TRUE(WaitAgents(2)) << Get("/v1/agents").dump();
  }

  void TearDown() override {
    Reap(controller_, SIGTERM);
    for (auto& [id, pid] : agents_) Reap(pid, SIGTERM);
    topo_.Destroy();
    unlink(db_.c_str());
    std::error_code ec;
    std::filesystem::remove_all(results_dir_, ec);
  }

  void StartController() {
    controller_ = Spawn({kController, "--listen", "127.0.0.1:" + std::to_string(grpc_port_), "--rest",
                         "127.0.0.1:" + std::to_string(rest_port_), "--store", "sqlite:" + db_,
                         "--results-dir", results_dir_, "--sut-provider", "none", "--calibration", "0s"},
                        ::testing::TempDir() + "/e2e_controller.log");
    for (int i = 0; i < 100; ++i) {
      if (!Get("/v1/agents").contains("error")) return;
      absl::SleepFor(absl::Milliseconds(50));
    }
  }

  void StartAgent(const std::string& id, const std::string& role, const std::string& iface,
                  const std::string& gateway, const std::string& lcores) {
    std::string port = "name=" + role + ",pmd=net_af_xdp,iface=" + iface + ",speed=1G";
    if (!gateway.empty()) port += ",gateway_mac=" + gateway;
    agents_[id] = Spawn({kAgent, "serve", "--controller", "127.0.0.1:" + std::to_string(grpc_port_),
                         "--id", id, "--port", port, "--lcores", lcores},
                        ::testing::TempDir() + "/e2e_" + id + ".log");
  }

  json Get(const std::string& path) {
    httplib::Client c("127.0.0.1", rest_port_);
    auto r = c.Get(path.c_str());
    if (!r) return json{{"error", "unreachable"}};
    return json::parse(r->body, nullptr, false);
  }
  json Post(const std::string& path, const json& body, int* status = nullptr) {
    httplib::Client c("127.0.0.1", rest_port_);
    auto r = c.Post(path.c_str(), body.dump(), "application/json");
    if (!r) return json{{"error", "unreachable"}};
    if (status) *status = r->status;
    return json::parse(r->body, nullptr, false);
  }

  bool WaitAgents(size_t n) {
    for (int i = 0; i < 400; ++i) {
      const json a = Get("/v1/agents");
      size_t ok = 0;
      if (a.contains("agents")) {
        for (const auto& x : a["agents"]) ok += x["state"] == "available";
      }
      if (ok >= n) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  json WaitPhase(const std::string& id, const std::vector<std::string>& phases, absl::Duration timeout) {
    const absl::Time until = absl::Now() + timeout;
    json run;
    while (absl::Now() < until) {
      run = Get("/v1/runs/" + id);
      const std::string phase = run.value("/test_run/status/phase"_json_pointer, std::string());
      for (const auto& p : phases) {
        if (phase == p) return run;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    ADD_FAILURE() << "run " << id << " never reached the phase; last: " << run.dump();
    return run;
  }

  testing::NetnsRouter topo_{"e"};
  int grpc_port_ = 0, rest_port_ = 0;
  std::string db_, results_dir_;
  pid_t controller_ = -1;
  std::map<std::string, pid_t> agents_;
};

TEST_F(ControllerE2eTest, NetrigctlRunWaitThroughTheShaperIsWithinThreePercent) {
  // A generator short of CPU (stalls, then a catch-up burst) shows as loss below the shaped
  // rate: on failure, say what else ran.
  const testing::CpuReportOnFailure cpu;
  // What a CI pipeline does with the example as shipped: submit, wait with live progress,
  // read results and the exit code.
  const auto r = testing::RunCommand(kNetrigctl + " --server 127.0.0.1:" + std::to_string(grpc_port_) +
                                     " run -f " + kSourceDir + "/examples/rfc2544-throughput.yaml" +
                                     " --wait -o json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json out = json::parse(r.out);
  EXPECT_EQ(out["run"]["testRun"]["status"]["phase"], "Succeeded") << r.out;
  std::map<uint32_t, double> fps;
  for (const auto& res : out["results"]["results"]) {
    if (res["metric"] == "throughput_fps") fps[res["frameSize"].get<uint32_t>()] = res["value"].get<double>();
  }
  ASSERT_EQ(fps.size(), 3u) << r.out;
  for (const auto& [size, measured] : fps) {
    const double shaped = 30e6 / (8.0 * (size - 4));  // tbf counts frames without FCS
    printf("e2e frame %u: throughput %.1f fps, shaped %.1f fps (%+.2f%%)\n", size, measured, shaped,
           100.0 * (measured - shaped) / shaped);
    EXPECT_NEAR(measured, shaped, 0.03 * shaped) << "frame size " << size;
  }
  EXPECT_GT(out["results"]["trials"].size(), 10u);
  // Per-flow counters of each trial are in result files: all 8 flows of the first trial.
  std::ifstream flows_file(results_dir_ + "/" + out["run"]["id"].get<std::string>() + "/trial-00000001.json");
  ASSERT_TRUE(flows_file.good());
  const json trial = json::parse(flows_file);
  EXPECT_EQ(trial["agents"]["agent-east"]["flows"].size(), 8u) << trial.dump().substr(0, 500);
  // The same run through REST, and the CLI's view of it.
  EXPECT_EQ(Get("/v1/runs/" + out["run"]["id"].get<std::string>())["test_run"]["status"]["verdict"], "Pass");
  const auto listing = testing::RunCommand(kNetrigctl + " --server 127.0.0.1:" +
                                           std::to_string(grpc_port_) + " get runs");
  EXPECT_EQ(listing.exit_code, 0);
  EXPECT_NE(listing.out.find("Succeeded"), std::string::npos) << listing.out;
  // A spec with errors: every error with its path, exit code 2 (not the failed-verdict 1).
  const std::string file = ::testing::TempDir() + "/e2e_spec_" + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream bad(file);
    std::string spec = Spec("bad", "[20, 512, 512]", "2s");
    bad << spec;
  }
  const auto invalid = testing::RunCommand(kNetrigctl + " --server 127.0.0.1:" +
                                           std::to_string(grpc_port_) + " run -f " + file + " 2>&1");
  EXPECT_EQ(invalid.exit_code, 2) << invalid.out;
  EXPECT_NE(invalid.out.find("frameSizes[0]: 20 is below the 64-byte minimum"), std::string::npos) << invalid.out;
  EXPECT_NE(invalid.out.find("frameSizes[2]"), std::string::npos) << invalid.out;
  unlink(file.c_str());
}

TEST_F(ControllerE2eTest, KilledControllerLeavesTheRunInterruptedAndLosesNoTrial) {
  const json run = Post("/v1/runs", {{"document", Spec("crash", "[64, 128, 256, 512, 1024]", "1s")}});
  const std::string id = run["id"];
  WaitPhase(id, {"Running"}, absl::Seconds(30));
  // Let a few trials finish, then kill -9 the controller.
  size_t before = 0;
  for (int i = 0; i < 200 && before < 3; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    before = Get("/v1/runs/" + id + "/results")["trials"].size();
  }
  ASSERT_GE(before, 3u);
  Reap(controller_, SIGKILL);
  StartController();
  const json after = Get("/v1/runs/" + id);
  EXPECT_EQ(after["test_run"]["status"]["phase"], "Interrupted") << after.dump();
  EXPECT_NE(after["test_run"]["status"]["summary"].get<std::string>().find("controller restarted"),
            std::string::npos);
  EXPECT_GE(Get("/v1/runs/" + id + "/results")["trials"].size(), before);
  // The agents stopped the orphaned trial (safety stop), reconnect and take new work.
  EXPECT_TRUE(WaitAgents(2));
  int status = 0;
  Post("/v1/runs/" + id + ":cancel", json::object(), &status);
  EXPECT_EQ(status, 412);  // finished runs cannot be cancelled
}

TEST_F(ControllerE2eTest, KilledAgentFailsTheRunWithTheReason) {
  const json run = Post("/v1/runs", {{"document", Spec("agent-dies", "[64, 1518]", "3s")}});
  const std::string id = run["id"];
  WaitPhase(id, {"Running"}, absl::Seconds(30));
  absl::SleepFor(absl::Seconds(1));  // inside the first 3 s trial
  Reap(agents_["agent-east"], SIGKILL);
  const json done = WaitPhase(id, {"Succeeded", "Failed", "Cancelled", "Interrupted"}, absl::Minutes(1));
  EXPECT_EQ(done["test_run"]["status"]["phase"], "Failed") << done.dump();
  const std::string summary = done["test_run"]["status"]["summary"];
  EXPECT_NE(summary.find("agent-east"), std::string::npos) << summary;
  const json results = Get("/v1/runs/" + id + "/results");
  ASSERT_GT(results["trials"].size(), 0u);
  EXPECT_FALSE(results["trials"][0].value("valid", false)) << results["trials"][0].dump();
}

}  // namespace
}  // namespace netrig
