// The CRDs of helm/netrig/crds/ in a real kube-apiserver (tests/support/kube_apiserver.h):
// they are accepted and become Established; every netrig resource in examples/ and
// sut/templates/ is accepted; invalid objects are rejected with the field path in kubectl's
// error; `kubectl get testruns` shows the printer columns; status is a typed subresource.
#include <dirent.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/kube_apiserver.h"
#include "tests/support/process.h"

namespace netrig {
namespace {

using ::testing::HasSubstr;
using testing::KubeApiServer;
using testing::ReadFile;

const std::string kSource = NETRIG_SOURCE_DIR;
constexpr const char* kCrds[] = {"testruns", "testsuites", "agentpools", "suttemplates"};

// *.yaml files of `dir` whose text declares a netrig.io resource, sorted.
std::vector<std::string> NetrigResourceFiles(const std::string& dir) {
  std::vector<std::string> files;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return files;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (!absl::EndsWith(name, ".yaml")) continue;
    if (absl::StrContains(ReadFile(dir + "/" + name), "apiVersion: netrig.io/")) {
      files.push_back(dir + "/" + name);
    }
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  return files;
}

class CrdValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto api = KubeApiServer::Start();
    if (absl::IsFailedPrecondition(api.status())) GTEST_SKIP() << api.status();
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = std::move(*api);
    const auto applied = api_->Kubectl({"apply", "-f", kSource + "/helm/netrig/crds/"});
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
    for (const char* crd : kCrds) {
      const auto established =
          api_->Kubectl({"wait", "--for=condition=Established", "--timeout=60s",
                         std::string("crd/") + crd + ".netrig.io"});
      ASSERT_EQ(established.exit_code, 0) << crd << ": " << established.err << api_->LogTail();
    }
  }

  // `kubectl apply -f -`; the combined output.
  testing::CommandOutput Apply(const std::string& yaml) const {
    return api_->Kubectl({"apply", "-f", "-"}, yaml);
  }

  std::unique_ptr<KubeApiServer> api_;
};

// A TestRun that every CRD rule accepts; the invalid cases below each break one thing.
constexpr char kValidRun[] = R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata:
  name: NAME
  namespace: default
spec:
  level: L1
  sut:
    template: linux-router
  ports:
    - {name: west, agent: {pool: default}, speed: 100M}
    - {name: east, agent: {pool: default}, speed: 100M}
  benchmark:
    rfc2544:
      tests: [throughput, latency]
      frameSizes: [64, 1518]
      trialDuration: 1s
      maxRate: 50
      traffic: [{from: west, to: east, flows: 4}]
      latency: {trials: 3, duration: 1s}
      waits: {drain: 300ms, settle: 0s}
  verdict: {baseline: last-pass, maxRegression: 5%}
  budget: 5m
)";

std::string TestRunYaml(const std::string& name,
                        const std::vector<std::pair<std::string, std::string>>& edits = {}) {
  std::string text = absl::StrReplaceAll(kValidRun, {{"NAME", name}});
  for (const auto& [from, to] : edits) {
    const size_t at = text.find(from);
    if (at == std::string::npos) {
      ADD_FAILURE() << "test bug: \"" << from << "\" is not in the TestRun";
      return text;
    }
    text.replace(at, from.size(), to);
  }
  return text;
}

constexpr char kValidSuite[] = R"(apiVersion: netrig.io/v1alpha1
kind: TestSuite
metadata: {name: NAME, namespace: default}
spec:
  level: L2
  schedule: "SCHEDULE"
  runs: RUNS
)";
constexpr char kSuiteRuns[] = R"(
    - name: smoke
      spec:
        sut: {template: linux-router}
        ports: [{name: west}, {name: east}]
        benchmark:
          rfc2544: {tests: [throughput], traffic: [{from: west, to: east}]})";

constexpr char kValidPool[] = R"(apiVersion: netrig.io/v1alpha1
kind: AgentPool
metadata: {name: NAME, namespace: default}
spec:
  SPEC
)";

constexpr char kValidTemplate[] = R"(apiVersion: netrig.io/v1alpha1
kind: SutTemplate
metadata: {name: NAME, namespace: default}
spec:
  SPEC
)";

struct InvalidCase {
  std::string what;
  std::string yaml;
  std::vector<std::string> expected;  // substrings of kubectl's error (the field path first)
};

TEST_F(CrdValidationTest, ExamplesAndSutTemplatesAreAccepted) {
  std::vector<std::string> files = NetrigResourceFiles(kSource + "/examples");
  ASSERT_GE(files.size(), 4u) << "examples/ should hold the TestRun examples";
  for (const std::string& f : NetrigResourceFiles(kSource + "/sut/templates")) files.push_back(f);
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const auto r = api_->Kubectl({"apply", "-f", file});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("created")) << r.out;
  }
  // One object of each kind with most of its fields set.
  const std::vector<std::string> valid = {
      TestRunYaml("valid-run"),
      absl::StrReplaceAll(kValidSuite,
                          {{"NAME", "nightly"}, {"SCHEDULE", "*/15 2-4 * jan-mar MON-FRI"},
                           {"RUNS", kSuiteRuns}}),
      absl::StrReplaceAll(kValidSuite, {{"NAME", "weekly"}, {"SCHEDULE", "@weekly"}, {"RUNS", kSuiteRuns}}),
      absl::StrReplaceAll(kValidPool, {{"NAME", "sriov"}, {"SPEC", R"(nodeSelector: {sriov: "true"}
  sriovResource: intel.com/sriov_netdevice
  sriovCount: 2
  portNames: [west, east]
  networks: [sriov-west, lab/sriov-east@net2]
  cpu: 4
  memory: 2Gi
  hugepages: 2Gi
  hugepageSize: 1Gi
  labels: {rack: r1}
  scaling: {minReplicas: 0, maxReplicas: 4, queuedRunsPerAgent: 2}
  extraArgs: [--poll=busy])"}}),
      absl::StrReplaceAll(kValidTemplate, {{"NAME", "k8s-router"}, {"SPEC", R"(kind: pod
  recipe: FRR in a pod
  events: [link-down]
  parameters: {asn: "65001"}
  pod:
    image: registry.example.com/frr:9
    networks: [sriov-west, lab/sriov-east]
    resources: {cpu: 500m, memory: 1Gi, intel.com/sriov_netdevice: "2"}
    env: {MODE: router}
  readyTimeout: 2m)"}}),
  };
  for (const std::string& yaml : valid) {
    const auto r = Apply(yaml);
    EXPECT_EQ(r.exit_code, 0) << yaml << r.err;
  }
  // They are stored, listed through the netrig category and the short names.
  const auto all = api_->Kubectl({"get", "netrig", "-A", "-o", "name"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_THAT(all.out, HasSubstr("testrun.netrig.io/testrun-example"));
  EXPECT_THAT(all.out, HasSubstr("suttemplate.netrig.io/linux-router"));
  const auto short_name = api_->Kubectl({"get", "tr", "testrun-example", "-o", "name"});
  EXPECT_EQ(short_name.exit_code, 0) << short_name.err;
}

TEST_F(CrdValidationTest, InvalidObjectsAreRejectedNamingTheField) {
  const std::vector<InvalidCase> cases = {
      {"frame size below 64",
       TestRunYaml("bad-frame", {{"frameSizes: [64, 1518]", "frameSizes: [20, 1518]"}}),
       {"spec.benchmark.rfc2544.frameSizes[0]", "greater than or equal to 64"}},
      {"frame size above 9216",
       TestRunYaml("big-frame", {{"frameSizes: [64, 1518]", "frameSizes: [64, 9217]"}}),
       {"spec.benchmark.rfc2544.frameSizes[1]", "less than or equal to 9216"}},
      {"duplicate frame size",
       TestRunYaml("dup-frame", {{"frameSizes: [64, 1518]", "frameSizes: [64, 64]"}}),
       {"spec.benchmark.rfc2544.frameSizes[1]", "Duplicate value"}},
      {"unknown level", TestRunYaml("bad-level", {{"level: L1", "level: L9"}}),
       {"spec.level", "Unsupported value: \"L9\""}},
      {"missing ports",
       TestRunYaml("no-ports", {{"  ports:\n    - {name: west, agent: {pool: default}, speed: 100M}\n"
                         "    - {name: east, agent: {pool: default}, speed: 100M}\n",
                         ""}}),
       {"spec.ports", "Required value"}},
      {"duplicate port name",
       TestRunYaml("dup-port", {{"{name: east, agent", "{name: west, agent"}}),
       {"spec.ports[1]", "Duplicate value"}},
      {"unknown field", TestRunYaml("unknown-field", {{"trialDuration: 1s", "trialDuration: 1s\n      frameSize: 64"}}),
       {"unknown field \"spec.benchmark.rfc2544.frameSize\""}},
      {"duration without unit", TestRunYaml("bad-duration", {{"trialDuration: 1s", "trialDuration: \"10\""}}),
       {"spec.benchmark.rfc2544.trialDuration", "should match"}},
      {"duration above the maximum", TestRunYaml("long-trial", {{"trialDuration: 1s", "trialDuration: 2h"}}),
       {"spec.benchmark.rfc2544.trialDuration", "at most 1h"}},
      {"sut with template and static",
       TestRunYaml("two-suts", {{"template: linux-router", "template: linux-router\n    static: {name: dut1}"}}),
       {"spec.sut", "exactly one of template or static"}},
      {"negative flows", TestRunYaml("neg-flows", {{"flows: 4", "flows: -1"}}),
       {"spec.benchmark.rfc2544.traffic[0].flows", "greater than or equal to 1"}},
      {"rate above 100 percent", TestRunYaml("fast", {{"maxRate: 50", "maxRate: 150"}}),
       {"spec.benchmark.rfc2544.maxRate", "less than or equal to 100"}},
      {"minRate not below maxRate", TestRunYaml("min-max", {{"maxRate: 50", "maxRate: 50\n      minRate: 60"}}),
       {"spec.benchmark.rfc2544.maxRate", "maxRate must be greater than minRate"}},
      {"latency without throughput", TestRunYaml("no-tput", {{"tests: [throughput, latency]", "tests: [latency]"}}),
       {"spec.benchmark.rfc2544.tests", "need throughput"}},
      {"unknown rfc2544 test", TestRunYaml("bad-test", {{"tests: [throughput, latency]", "tests: [throughput, reset]"}}),
       {"spec.benchmark.rfc2544.tests[1]", "Unsupported value: \"reset\""}},
      {"bad regression percentage", TestRunYaml("bad-pct", {{"maxRegression: 5%", "maxRegression: 500%"}}),
       {"spec.verdict.maxRegression", "should match"}},
      {"two methodologies", TestRunYaml("two-methods", {{"  verdict:", "    rfc3918: {}\n  verdict:"}}),
       {"spec.benchmark", "exactly one of rfc2544, rfc3918, rfc7640, convergence"}},
      {"bad cron in a TestSuite",
       absl::StrReplaceAll(kValidSuite,
                           {{"NAME", "bad-cron"}, {"SCHEDULE", "0 25 * * *"}, {"RUNS", kSuiteRuns}}),
       {"spec.schedule", "should match"}},
      {"TestSuite without runs",
       absl::StrReplaceAll(kValidSuite, {{"NAME", "no-runs"}, {"SCHEDULE", "@daily"}, {"RUNS", "[]"}}),
       {"spec.runs", "should have at least 1 items"}},
      {"AgentPool maxReplicas below minReplicas",
       absl::StrReplaceAll(kValidPool, {{"NAME", "bad-scale"},
                                        {"SPEC", "scaling: {minReplicas: 3, maxReplicas: 2}"}}),
       {"spec.scaling.maxReplicas", "maxReplicas must be greater than or equal to minReplicas"}},
      {"AgentPool DaemonSet with scaling",
       absl::StrReplaceAll(kValidPool, {{"NAME", "ds-scale"},
                                        {"SPEC", "mode: DaemonSet\n  scaling: {maxReplicas: 2}"}}),
       {"spec.scaling", "scaling is only for mode Deployment"}},
      {"AgentPool hugepages not whole pages",
       absl::StrReplaceAll(kValidPool, {{"NAME", "half-page"}, {"SPEC", "hugepages: 1536Mi"}}),
       {"spec.hugepages", "whole number of hugepages"}},
      {"AgentPool reserved label",
       absl::StrReplaceAll(kValidPool, {{"NAME", "pool-label"}, {"SPEC", "labels: {pool: x}"}}),
       {"spec.labels", "pool is reserved"}},
      {"SutTemplate kind pod without pod",
       absl::StrReplaceAll(kValidTemplate, {{"NAME", "no-pod"}, {"SPEC", "kind: pod"}}),
       {"spec.pod", "required for kind pod"}},
      {"SutTemplate unknown kind",
       absl::StrReplaceAll(kValidTemplate, {{"NAME", "bad-kind"}, {"SPEC", "kind: vm\n  recipe: x"}}),
       {"spec.kind", "Unsupported value: \"vm\""}},
  };
  ASSERT_GE(cases.size(), 8u);
  for (const InvalidCase& c : cases) {
    SCOPED_TRACE(c.what);
    const auto r = Apply(c.yaml);
    EXPECT_NE(r.exit_code, 0) << "accepted:\n" << c.yaml << r.out;
    for (const std::string& e : c.expected) EXPECT_THAT(r.err, HasSubstr(e));
  }
  // None of them was stored.
  const auto left = api_->Kubectl({"get", "netrig", "-A", "-o", "name"});
  EXPECT_EQ(left.exit_code, 0) << left.err;
  EXPECT_EQ(left.out, "") << left.out;
}

TEST_F(CrdValidationTest, GetShowsThePrinterColumnsAndStatusIsTyped) {
  ASSERT_EQ(Apply(TestRunYaml("columns")).exit_code, 0);
  // What the operator writes through the status subresource.
  const std::string status = R"({"status": {"phase": "Running", "verdict": "Pass",
      "progress": {"test": "throughput", "frameSize": 512, "message": "throughput-512B-trial-3/7"},
      "conditions": [{"type": "Submitted", "status": "True", "reason": "Accepted",
                      "lastTransitionTime": "2024-05-01T12:00:00Z"}],
      "runID": "r-0001"}})";
  const auto patched = api_->Kubectl(
      {"patch", "testrun", "columns", "--subresource=status", "--type=merge", "-p", status});
  ASSERT_EQ(patched.exit_code, 0) << patched.err;

  const auto get = api_->Kubectl({"get", "testruns"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  const std::string header = get.out.substr(0, get.out.find('\n'));
  EXPECT_THAT(header, ::testing::MatchesRegex(
                          "NAME +PHASE +VERDICT +PROGRESS +SUT +LEVEL +AGE *"));
  EXPECT_THAT(get.out, ::testing::ContainsRegex(
                           "columns +Running +Pass +throughput-512B-trial-3/7 +linux-router +L1 "));

  // Status is typed: an unknown verdict, a bad condition status and an unknown field are refused.
  const auto bad_verdict = api_->Kubectl({"patch", "testrun", "columns", "--subresource=status",
                                          "--type=merge", "-p", R"({"status":{"verdict":"Maybe"}})"});
  EXPECT_NE(bad_verdict.exit_code, 0);
  EXPECT_THAT(bad_verdict.err, HasSubstr("status.verdict"));
  EXPECT_THAT(bad_verdict.err, HasSubstr("Unsupported value: \"Maybe\""));
  const auto bad_condition = api_->Kubectl(
      {"patch", "testrun", "columns", "--subresource=status", "--type=merge", "-p",
       R"({"status":{"conditions":[{"type":"Running","status":"Yes"}]}})"});
  EXPECT_NE(bad_condition.exit_code, 0);
  EXPECT_THAT(bad_condition.err, HasSubstr("status.conditions[0].status"));
  // There is no place for per-flow data: a field the schema lacks is pruned, not stored.
  const auto flows = api_->Kubectl({"patch", "testrun", "columns", "--subresource=status",
                                    "--type=merge", "-p", R"({"status":{"flows":[{"id":1}]}})"});
  EXPECT_EQ(flows.exit_code, 0) << flows.err;
  const auto stored = api_->Kubectl({"get", "testrun", "columns", "-o", "jsonpath={.status}"});
  EXPECT_THAT(stored.out, HasSubstr("r-0001"));
  EXPECT_THAT(stored.out, ::testing::Not(HasSubstr("flows")));

  // The spec is not writable through status, and status is not writable through the object.
  const auto respec = api_->Kubectl({"patch", "testrun", "columns", "--type=merge", "-p",
                                     R"({"status":{"phase":"Failed"}})"});
  EXPECT_EQ(respec.exit_code, 0) << respec.err;
  const auto phase = api_->Kubectl({"get", "testrun", "columns", "-o", "jsonpath={.status.phase}"});
  EXPECT_EQ(phase.out, "Running");
}

}  // namespace
}  // namespace netrig
