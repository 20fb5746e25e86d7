// netrig on real Kubernetes components, end to end: a kube-apiserver (built by tests/tools) on
// Debian's etcd, the netrig CRDs from the helm chart, netrig-operator with leader election, and a
// netrig-controller that builds namespace SUTs and runs local agents. Everything a user does goes
// through the real kubectl:
//  - `kubectl apply -f examples/testrun.yaml`, the operator submits it, the controller runs it,
//    `kubectl wait --for=condition=Succeeded` returns and `kubectl get testruns` shows the
//    printer columns;
//  - the operator is killed (-9) mid-run and restarted: the run is submitted exactly once;
//  - `kubectl delete` of a running TestRun runs the finalizer: the run is cancelled and its SUT
//    namespace is gone when kubectl returns;
//  - a TestRun the schema accepts but lib/spec rejects is marked Invalid with the field path and
//    the operator keeps running;
//  - `kubectl apply -f examples/testsuite.yaml`, then a CI job's `kubectl patch` of spec.trigger
//    three times: each trigger runs both templates once, the suite keeps historyLimit finished
//    runs per template and its status sums up the latest verdicts.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tests/support/kube_apiserver.h"
#include "tests/support/process.h"

namespace netrig {
namespace {

using nlohmann::json;
using testing::CommandOutput;
using testing::FreePort;
using testing::KubeApiServer;
using testing::Reap;
using testing::Spawn;

const std::string kAgent = NETRIG_AGENT_BIN;
const std::string kController = NETRIG_CONTROLLER_BIN;
const std::string kOperator = NETRIG_OPERATOR_BIN;
const std::string kSourceDir = NETRIG_SOURCE_DIR;

// A run long enough to kill the operator in the middle of it: throughput at three frame sizes
// with 2 s trials through a 20 Mbit/s shaper.
constexpr char kLongRun[] = R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata:
  name: long-run
  namespace: default
spec:
  level: L2
  sut:
    template: linux-shaper
    version: "2.0"
    parameters: {rate: 20mbit, burst: 16kb, latency: 2ms}
  ports:
    - {name: west, agent: {pool: default}, speed: 100M}
    - {name: east, agent: {pool: default}, speed: 100M}
  benchmark:
    rfc2544:
      tests: [throughput]
      frameSizes: [256, 512, 1024, 1518]
      trialDuration: 2s
      resolution: 0.5
      traffic: [{from: west, to: east, flows: 4}]
      waits: {drain: 300ms, settle: 0s}
  verdict: {baseline: none}
)";

std::set<std::string> Namespaces() {
  std::set<std::string> out;
  const testing::CommandResult r = testing::RunCommand("ip netns list");
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.insert(line.substr(0, line.find(' ')));
  }
  return out;
}

class KubeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root for the namespace SUTs and local agents (CI runs as root)";
    }
    auto api = KubeApiServer::Start();
    if (absl::IsFailedPrecondition(api.status())) GTEST_SKIP() << api.status();
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = std::move(*api);
    dir_ = api_->dir();

    Must({"apply", "-f", kSourceDir + "/helm/netrig/crds/"});
    Must({"wait", "--for=condition=Established", "--timeout=60s", "crd/testruns.netrig.io",
          "crd/testsuites.netrig.io", "crd/agentpools.netrig.io", "crd/suttemplates.netrig.io"});

    grpc_port_ = FreePort();
    rest_port_ = FreePort();
    controller_ = Spawn({kController, "--listen", absl::StrCat("127.0.0.1:", grpc_port_), "--rest",
                         absl::StrCat("127.0.0.1:", rest_port_), "--store",
                         "sqlite:" + dir_ + "/state.db", "--results-dir", dir_ + "/results",
                         "--sut-provider", "netns", "--local-agents", kAgent, "--calibration",
                         "0s"},
                        dir_ + "/controller.log");
    for (int i = 0; i < 200 && !RestGet("/v1/agents").is_object(); ++i) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_TRUE(RestGet("/v1/agents").is_object()) << testing::ReadFile(dir_ + "/controller.log");
    StartOperator();
  }

  void TearDown() override {
    Reap(operator_, SIGTERM);
    Reap(controller_, SIGTERM);
    if (HasFailure() && api_ != nullptr) {
      std::cerr << "--- operator log\n" << testing::ReadFile(dir_ + "/operator.log")
                << "--- controller log (tail)\n" << Tail(testing::ReadFile(dir_ + "/controller.log"))
                << "--- apiserver\n" << api_->LogTail() << "\n";
    }
  }

  static std::string Tail(const std::string& s) {
    return s.size() > 6000 ? s.substr(s.size() - 6000) : s;
  }

  void StartOperator() {
    operator_log_n_++;
    operator_ = Spawn({kOperator, "--kubeconfig", api_->kubeconfig(), "--namespace", "default",
                       "--controller", absl::StrCat("127.0.0.1:", grpc_port_), "--controller-rest",
                       absl::StrCat("http://127.0.0.1:", rest_port_), "--metrics-address",
                       "127.0.0.1:0", "--leader-elect", "--leader-election-namespace",
                       "default"},
                      dir_ + "/operator.log");
  }

  CommandOutput Kubectl(const std::vector<std::string>& args, const std::string& in = "") {
    return api_->Kubectl(args, in);
  }
  std::string Must(const std::vector<std::string>& args, const std::string& in = "") {
    CommandOutput r = Kubectl(args, in);
    EXPECT_EQ(r.exit_code, 0) << "kubectl " << absl::StrJoin(args, " ") << ": " << r.err << r.out;
    return r.out;
  }
  json Object(const std::string& kind_name) {
    CommandOutput r = Kubectl({"get", kind_name, "-n", "default", "-o", "json"});
    if (r.exit_code != 0) return json();
    return json::parse(r.out, nullptr, false);
  }
  // Polls the object until `pred` holds; returns the last object read.
  json WaitFor(const std::string& kind_name, const std::function<bool(const json&)>& pred,
               absl::Duration timeout) {
    const absl::Time until = absl::Now() + timeout;
    json obj;
    while (absl::Now() < until) {
      obj = Object(kind_name);
      if (obj.is_object() && pred(obj)) return obj;
      absl::SleepFor(absl::Milliseconds(200));
    }
    ADD_FAILURE() << kind_name << " did not reach the expected state: " << obj.dump(2);
    return obj;
  }

  json RestGet(const std::string& path) {
    httplib::Client c("127.0.0.1", rest_port_);
    auto r = c.Get(path.c_str());
    if (!r) return json();
    return json::parse(r->body, nullptr, false);
  }
  // Controller runs whose metadata.name is `name`.
  std::vector<json> RunsNamed(const std::string& name) {
    std::vector<json> out;
    const json runs = RestGet("/v1/runs");
    if (!runs.contains("runs")) return out;
    for (const json& r : runs["runs"]) {
      if (r["test_run"]["metadata"].value("name", "") == name) out.push_back(r);
    }
    return out;
  }

  std::unique_ptr<KubeApiServer> api_;
  std::string dir_;
  int grpc_port_ = 0, rest_port_ = 0;
  pid_t controller_ = -1, operator_ = -1;
  int operator_log_n_ = 0;
};

static std::string Str(const json& j, const json::json_pointer& p) {
  return j.contains(p) && j[p].is_string() ? j[p].get<std::string>() : "";
}

static json Condition(const json& obj, const std::string& type) {
  if (!obj.contains("status") || !obj["status"].contains("conditions")) return json();
  for (const json& c : obj["status"]["conditions"]) {
    if (c.value("type", "") == type) return c;
  }
  return json();
}

TEST_F(KubeE2eTest, ApplyWaitGetAndAnOperatorRestartSubmitsOnce) {
  // The example as a user applies it.
  const std::string name =
      Must({"apply", "-f", kSourceDir + "/examples/testrun.yaml", "-o", "name"});
  ASSERT_TRUE(absl::StartsWith(name, "testrun.netrig.io/")) << name;
  const std::string obj_name = std::string(absl::StripAsciiWhitespace(name));

  // The long run: the operator is killed while it runs, then started again.
  Must({"apply", "-f", "-"}, kLongRun);
  json running = WaitFor("testrun/long-run", [](const json& o) {
    return Str(o, "/status/phase"_json_pointer) == "Running" &&
           !Str(o, "/status/runID"_json_pointer).empty();
  }, absl::Seconds(120));
  const std::string long_id = Str(running, "/status/runID"_json_pointer);
  ASSERT_FALSE(long_id.empty());
  Reap(operator_, SIGKILL);
  // While the operator is down, change nothing; then restart it: it must adopt the run.
  absl::SleepFor(absl::Seconds(1));
  StartOperator();

  // kubectl wait returns for the example...
  CommandOutput w = Kubectl({"wait", "--for=condition=Succeeded", "--timeout=240s", obj_name});
  EXPECT_EQ(w.exit_code, 0) << w.err << w.out;
  // ...and for the long run, finished under the restarted operator.
  CommandOutput w2 =
      Kubectl({"wait", "--for=condition=Succeeded", "--timeout=300s", "testrun/long-run"});
  EXPECT_EQ(w2.exit_code, 0) << w2.err << w2.out;

  // Exactly one controller run per TestRun, and the status names it.
  const json example = Object(obj_name);
  const std::string example_name = example["metadata"].value("name", "");
  EXPECT_EQ(RunsNamed(example_name).size(), 1u);
  EXPECT_EQ(RunsNamed("long-run").size(), 1u);
  const json done = Object("testrun/long-run");
  EXPECT_EQ(Str(done, "/status/runID"_json_pointer), long_id);
  EXPECT_EQ(Str(done, "/status/phase"_json_pointer), "Succeeded");
  EXPECT_EQ(Str(done, "/status/verdict"_json_pointer), "Pass");
  EXPECT_FALSE(Str(done, "/status/completionTime"_json_pointer).empty());
  EXPECT_FALSE(Str(done, "/status/reportURL"_json_pointer).empty());
  const json succeeded = Condition(done, "Succeeded");
  EXPECT_EQ(succeeded.value("status", ""), "True") << done.dump(2);
  EXPECT_EQ(succeeded.value("observedGeneration", int64_t{0}),
            done["metadata"].value("generation", int64_t{-1}));
  EXPECT_FALSE(succeeded.value("lastTransitionTime", "").empty());
  // The controller's own record agrees.
  const json run = RestGet("/v1/runs/" + long_id);
  EXPECT_EQ(Str(run, "/test_run/status/phase"_json_pointer), "Succeeded");
  EXPECT_EQ(Str(run, "/test_run/status/verdict"_json_pointer), "Pass");
  // Per-flow data never lands in status.
  EXPECT_FALSE(done["status"].contains("flows"));
  EXPECT_LT(done["status"].dump().size(), 16u * 1024) << done["status"].dump();

  // The printer columns.
  const std::string table = Must({"get", "testruns", "-n", "default"});
  for (const char* column : {"NAME", "PHASE", "VERDICT", "PROGRESS", "AGE"}) {
    EXPECT_NE(table.find(column), std::string::npos) << column << " missing in\n" << table;
  }
  EXPECT_NE(table.find("long-run"), std::string::npos) << table;
  EXPECT_NE(table.find("Succeeded"), std::string::npos) << table;
  EXPECT_NE(table.find("Pass"), std::string::npos) << table;
  std::cout << "kube e2e: kubectl get testruns\n" << table;
}

TEST_F(KubeE2eTest, DeleteRunsTheFinalizerCancelsTheRunAndTheSutIsGone) {
  Must({"apply", "-f", "-"}, kLongRun);
  json running = WaitFor("testrun/long-run", [](const json& o) {
    return Str(o, "/status/phase"_json_pointer) == "Running" &&
           !Str(o, "/status/runID"_json_pointer).empty();
  }, absl::Seconds(120));
  const std::string id = Str(running, "/status/runID"_json_pointer);
  ASSERT_FALSE(id.empty());
  const json& finalizers = running["metadata"]["finalizers"];
  ASSERT_TRUE(finalizers.is_array() && !finalizers.empty()) << running.dump(2);

  // The SUT namespace exists while the run does.
  auto sut_namespaces = [&]() {
    std::set<std::string> out;
    for (const std::string& ns : Namespaces()) {
      if (absl::StartsWith(ns, "nrsut-")) out.insert(ns);
    }
    return out;
  };
  ASSERT_FALSE(sut_namespaces().empty()) << "no SUT namespace while the run is Running";

  const absl::Time t0 = absl::Now();
  CommandOutput del = Kubectl({"delete", "testrun", "long-run", "-n", "default", "--timeout=120s"});
  EXPECT_EQ(del.exit_code, 0) << del.err << del.out;
  std::cout << "kube e2e: kubectl delete returned after " << absl::Now() - t0 << "\n";
  // When kubectl returns, the object is gone, the run is cancelled and the SUT removed.
  EXPECT_NE(Kubectl({"get", "testrun", "long-run", "-n", "default"}).exit_code, 0);
  const json run = RestGet("/v1/runs/" + id);
  EXPECT_EQ(Str(run, "/test_run/status/phase"_json_pointer), "Cancelled") << run.dump(2);
  EXPECT_TRUE(sut_namespaces().empty()) << *sut_namespaces().begin();
}

TEST_F(KubeE2eTest, InvalidRunsAreRejectedOrMarkedInvalidAndTheOperatorCarriesOn) {
  // The API server's schema rejects what it can, naming the field.
  std::string bad = kLongRun;
  bad.replace(bad.find("frameSizes: [256,"), 17, "frameSizes: [20,");
  CommandOutput r = Kubectl({"apply", "-f", "-"}, bad);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("spec.benchmark.rfc2544.frameSizes[0]"), std::string::npos) << r.err;

  // What only lib/spec knows (traffic from a port the run does not define) reaches the operator,
  // which marks it Invalid with the path and never submits it.
  std::string unknown_port = kLongRun;
  unknown_port.replace(unknown_port.find("from: west"), 10, "from: north");
  unknown_port.replace(unknown_port.find("name: long-run"), 14, "name: bad-port");
  Must({"apply", "-f", "-"}, unknown_port);
  const json invalid = WaitFor("testrun/bad-port", [](const json& o) {
    return Condition(o, "Succeeded").value("reason", "") == "Invalid";
  }, absl::Seconds(30));
  const json c = Condition(invalid, "Succeeded");
  EXPECT_EQ(c.value("status", ""), "False");
  EXPECT_NE(c.value("message", "").find("spec.benchmark.rfc2544.traffic[0].from"),
            std::string::npos)
      << c.dump();
  EXPECT_TRUE(RunsNamed("bad-port").empty());

  // The operator is still alive and still works: a valid run after the bad ones succeeds.
  EXPECT_EQ(kill(operator_, 0), 0) << "the operator exited";
  Must({"apply", "-f", kSourceDir + "/examples/testrun.yaml"});
  CommandOutput w = Kubectl({"wait", "--for=condition=Succeeded", "--timeout=240s", "-f",
                             kSourceDir + "/examples/testrun.yaml"});
  EXPECT_EQ(w.exit_code, 0) << w.err << w.out;
  // Deleting the invalid one needs no controller call and completes.
  EXPECT_EQ(Kubectl({"delete", "testrun", "bad-port", "-n", "default", "--timeout=60s"}).exit_code,
            0);
}


// The TestRuns of suite `suite`, by the trigger value that created them.
static std::map<std::string, std::vector<json>> SuiteRunsByTrigger(const json& list) {
  std::map<std::string, std::vector<json>> out;
  if (!list.contains("items")) return out;
  for (const json& run : list["items"]) {
    const std::string trigger =
        Str(run, "/metadata/annotations/netrig.io~1trigger-value"_json_pointer);
    out[trigger].push_back(run);
  }
  return out;
}

TEST_F(KubeE2eTest, ATriggeredSuiteRunsItsTemplatesKeepsItsHistoryAndSumsUpTheVerdicts) {
  const std::string suite = "testsuite/router-gate";
  Must({"apply", "-n", "default", "-f", kSourceDir + "/examples/testsuite.yaml"});
  // A nightly schedule and no trigger yet: Ready (Scheduled), nothing runs.
  json s = WaitFor(suite, [](const json& o) {
    return Condition(o, "Ready").value("reason", "") == "Scheduled";
  }, absl::Seconds(60));
  EXPECT_EQ(Condition(s, "Ready").value("status", ""), "True") << s.dump(2);
  const std::string selector = "netrig.io/suite=router-gate";
  auto list = [&] {
    return json::parse(Must({"get", "testruns", "-n", "default", "-l", selector, "-o", "json"}),
                       nullptr, false);
  };
  EXPECT_TRUE(SuiteRunsByTrigger(list()).empty());

  std::map<std::string, std::set<std::string>> names;  // trigger -> TestRun names
  for (const std::string trigger : {"build-1", "build-2", "build-3"}) {
    SCOPED_TRACE(trigger);
    // What a CI job does to gate a build on the suite.
    Must({"patch", suite, "-n", "default", "--type", "merge", "-p",
          R"({"spec":{"trigger":")" + trigger + R"("}})"});
    // The wait docs/kubernetes.md shows: the operator took the trigger (runs created).
    const CommandOutput took = Kubectl(
        {"wait", "-n", "default", suite, "--timeout=60s",
         "--for=jsonpath={.metadata.annotations.netrig\\.io/last-trigger}=" + trigger});
    EXPECT_EQ(took.exit_code, 0) << took.err << took.out;
    s = WaitFor(suite, [&](const json& o) {
      if (Str(o, "/metadata/annotations/netrig.io~1last-trigger"_json_pointer) != trigger) return false;
      if (o["status"].contains("activeRuns")) return false;
      for (const char* t : {"throughput", "frame-loss"}) {
        const std::string latest = Str(o, json::json_pointer("/status/latest/" + std::string(t) + "/testRun"));
        const json run = latest.empty() ? json() : Object("testrun/" + latest);
        if (!run.is_object() ||
            Str(run, "/metadata/annotations/netrig.io~1trigger-value"_json_pointer) != trigger) {
          return false;
        }
      }
      return true;
    }, absl::Seconds(300));
    EXPECT_EQ(Str(s, "/status/lastVerdict"_json_pointer), "Pass") << s.dump(2);
    EXPECT_EQ(Str(s, "/status/latest/throughput/phase"_json_pointer), "Succeeded") << s.dump(2);
    EXPECT_EQ(Str(s, "/status/latest/frame-loss/verdict"_json_pointer), "Pass") << s.dump(2);
    EXPECT_EQ(s["status"].value("observedGeneration", int64_t{0}),
              s["metadata"].value("generation", int64_t{-1}));

    // One TestRun per template for this trigger, owned by the suite, labelled, run once by the
    // controller.
    const auto by_trigger = SuiteRunsByTrigger(list());
    ASSERT_TRUE(by_trigger.contains(trigger));
    const std::vector<json>& runs = by_trigger.at(trigger);
    ASSERT_EQ(runs.size(), 2u) << list().dump(2);
    std::set<std::string> templates;
    for (const json& run : runs) {
      const std::string name = run["metadata"].value("name", "");
      names[trigger].insert(name);
      templates.insert(Str(run, "/metadata/labels/netrig.io~1template"_json_pointer));
      EXPECT_EQ(Str(run, "/metadata/labels/netrig.io~1trigger"_json_pointer), "operator");
      EXPECT_EQ(Str(run, "/status/phase"_json_pointer), "Succeeded") << run.dump(2);
      EXPECT_EQ(Str(run, "/spec/level"_json_pointer), "L2");  // the suite's level
      ASSERT_TRUE(run["metadata"].contains("ownerReferences")) << run.dump(2);
      EXPECT_EQ(run["metadata"]["ownerReferences"][0].value("kind", ""), "TestSuite");
      EXPECT_EQ(run["metadata"]["ownerReferences"][0].value("uid", ""),
                s["metadata"].value("uid", "?"));
      EXPECT_EQ(RunsNamed(name).size(), 1u) << name;
    }
    EXPECT_EQ(templates, (std::set<std::string>{"throughput", "frame-loss"}));
  }

  // historyLimit 2: build-1's runs are deleted (through their finalizers), build-2's and
  // build-3's stay.
  const absl::Time until = absl::Now() + absl::Seconds(60);
  auto by_trigger = SuiteRunsByTrigger(list());
  while (by_trigger.contains("build-1") && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(200));
    by_trigger = SuiteRunsByTrigger(list());
  }
  EXPECT_FALSE(by_trigger.contains("build-1")) << list().dump(2);
  EXPECT_EQ(by_trigger["build-2"].size(), 2u);
  EXPECT_EQ(by_trigger["build-3"].size(), 2u);
  // The same trigger value again runs nothing.
  Must({"annotate", suite, "-n", "default", "--overwrite", "netrig.io/poke=1"});
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(SuiteRunsByTrigger(list()).size(), 2u);
  EXPECT_EQ(Str(Object(suite), "/status/lastVerdict"_json_pointer), "Pass");
}

}  // namespace
}  // namespace netrig
