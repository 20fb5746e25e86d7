#include "lib/spec/testrun.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/util/message_differencer.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace netrig::spec {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::vector<std::string> Strings(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const FieldError& e : errors) out.push_back(e.ToString());
  return out;
}

std::string ReadExample(const std::string& name) {
  std::ifstream in(std::string(NETRIG_SOURCE_DIR) + "/examples/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Equal(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// A valid spec that follows every RFC recommendation: no errors, no warnings.
constexpr char kValid[] = R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata:
  name: nightly-2544
  namespace: default
  labels: {team: net}
spec:
  level: L2
  sut: {template: linux-router, version: "1.4.2"}
  ports:
    - {name: west, agent: {pool: default}, speed: 10G}
    - {name: east, agent: {pool: default, name: agent-7, labels: {rack: r1}}, speed: 10G, pmd: net_af_xdp}
  benchmark:
    rfc2544:
      tests: [throughput, latency, frameLoss, backToBack]
      frameSizes: [64, 128, 256, 512, 1024, 1280, 1518]
      trialDuration: 60s
      lossTolerance: 0
      resolution: 0.1
      minRate: 0
      maxRate: 100
      l3: ipv4
      traffic: [{from: west, to: east, flows: 1024, bidirectional: true}]
      latency: {trials: 20, duration: 120s}
      frameLoss: {step: 10}
      backToBack: {trials: 50, maxBurstDuration: 2s, trialDuration: 2s}
      waits: {drain: 2s, settle: 5s}
  verdict: {baseline: last-pass, maxRegression: 5%}
  budget: 20m
)";

v1::TestRun ValidRun() {
  ParseResult r = ParseTestRun(kValid);
  EXPECT_TRUE(r.ok()) << JoinErrors(r.errors);
  return r.object;
}

// ---------------------------------------------------------------- examples and round trips

TEST(TestRunParseTest, ValidSpecHasNoErrorsAndNoWarnings) {
  ParseResult r = ParseTestRun(kValid);
  EXPECT_THAT(Strings(r.errors), IsEmpty());
  EXPECT_THAT(Strings(r.warnings), IsEmpty());
}

TEST(TestRunParseTest, QuickstartExampleParsesAndCompiles) {
  const std::string text = ReadExample("rfc2544-quickstart.yaml");
  ASSERT_FALSE(text.empty());
  ParseResult r = ParseTestRun(text);
  EXPECT_THAT(Strings(r.errors), IsEmpty());
  // Short trials are deviations, not errors.
  EXPECT_THAT(Strings(r.warnings), ::testing::Contains(HasSubstr("trialDuration: 1s is shorter")));
  absl::StatusOr<RunPlan> plan = CompileTestRun(r.object);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->rfc2544.frame_sizes, ElementsAre(256u, 512u, 1518u));
  EXPECT_EQ(plan->rfc2544.tests.size(), 3u);
  EXPECT_EQ(plan->rfc2544.trial_duration, absl::Seconds(1));
  EXPECT_EQ(plan->sut.template_name, "linux-shaper");
  EXPECT_EQ(plan->ports.size(), 2u);
  EXPECT_FALSE(plan->deviations.empty());
}

TEST(TestRunParseTest, FullExampleIsRfcConformant) {
  const std::string text = ReadExample("rfc2544-full.yaml");
  ASSERT_FALSE(text.empty());
  ParseResult r = ParseTestRun(text);
  EXPECT_THAT(Strings(r.errors), IsEmpty());
  EXPECT_THAT(Strings(r.warnings), IsEmpty());
  absl::StatusOr<RunPlan> plan = CompileTestRun(r.object);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->rfc2544.frame_sizes, ElementsAre(64u, 128u, 256u, 512u, 1024u, 1280u, 1518u));
  EXPECT_EQ(plan->rfc2544.trial_duration, absl::Seconds(60));
  EXPECT_TRUE(plan->deviations.empty());
}

TEST(TestRunParseTest, CiGateExampleHasABaselineAndASuite) {
  const std::string text = ReadExample("ci-regression-gate.yaml");
  ASSERT_FALSE(text.empty());
  ParseResult r = ParseTestRun(text);
  EXPECT_THAT(Strings(r.errors), IsEmpty());
  absl::StatusOr<RunPlan> plan = CompileTestRun(r.object);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->verdict.baseline, VerdictPlan::Baseline::kLastPass);
  EXPECT_EQ(plan->verdict.max_regression_pct, 5);
  EXPECT_EQ(plan->level, Level::kL1);
  EXPECT_EQ(r.object.metadata().labels().at("netrig.io/suite"), "per-commit");
}

TEST(TestRunParseTest, JsonEquivalentGivesTheSameProto) {
  constexpr char kJson[] = R"({
  "apiVersion": "netrig.io/v1alpha1", "kind": "TestRun",
  "metadata": {"name": "nightly-2544", "namespace": "default", "labels": {"team": "net"}},
  "spec": {
    "level": "L2",
    "sut": {"template": "linux-router", "version": "1.4.2"},
    "ports": [
      {"name": "west", "agent": {"pool": "default"}, "speed": "10G"},
      {"name": "east", "agent": {"pool": "default", "name": "agent-7", "labels": {"rack": "r1"}},
       "speed": "10G", "pmd": "net_af_xdp"}],
    "benchmark": {"rfc2544": {
      "tests": ["throughput", "latency", "frameLoss", "backToBack"],
      "frameSizes": [64, 128, 256, 512, 1024, 1280, 1518],
      "trialDuration": "60s", "lossTolerance": 0, "resolution": 0.1, "minRate": 0, "maxRate": 100,
      "l3": "ipv4",
      "traffic": [{"from": "west", "to": "east", "flows": 1024, "bidirectional": true}],
      "latency": {"trials": 20, "duration": "120s"},
      "frameLoss": {"step": 10},
      "backToBack": {"trials": 50, "maxBurstDuration": "2s", "trialDuration": "2s"},
      "waits": {"drain": "2s", "settle": "5s"}}},
    "verdict": {"baseline": "last-pass", "maxRegression": "5%"},
    "budget": "20m"}})";
  ParseResult json = ParseTestRun(kJson);
  ASSERT_THAT(Strings(json.errors), IsEmpty());
  EXPECT_TRUE(Equal(json.object, ValidRun())) << json.object.DebugString();
}

TEST(TestRunParseTest, ProtoToJsonAndBackIsIdentical) {
  v1::TestRun run = ValidRun();
  run.mutable_status()->set_phase("Running");
  run.mutable_status()->set_report_url("https://reports/x");
  run.mutable_status()->set_observed_generation(4);
  auto* c = run.mutable_status()->add_conditions();
  c->set_type("Scheduled");
  c->set_status("True");
  c->set_last_transition_time("2024-05-01T12:00:00Z");
  const std::string json = ToJson(run);
  EXPECT_THAT(json, HasSubstr("\"frameSizes\":[64,128"));
  EXPECT_THAT(json, HasSubstr("\"reportURL\""));
  ParseResult back = ParseTestRun(json);
  EXPECT_THAT(Strings(back.errors), IsEmpty());
  EXPECT_THAT(Strings(back.warnings), ElementsAre("status: ignored on submission (the controller writes status)"));
  EXPECT_TRUE(Equal(back.object, run)) << json;
}

TEST(TestRunParseTest, ExplicitZeroIsKeptApartFromUnset) {
  ParseResult r = ParseTestRun(R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata: {name: a}
spec:
  sut: {template: t}
  ports: [{name: a}, {name: b}]
  benchmark: {rfc2544: {tests: [throughput], maxRate: 0, traffic: [{from: a, to: b}]}}
)");
  EXPECT_THAT(Strings(r.errors),
              ElementsAre("spec.benchmark.rfc2544.maxRate: must be greater than 0 and at most 100 "
                          "(percent of line rate), got 0"));
}

// ---------------------------------------------------------------- error collection

TEST(TestRunParseTest, ReportsTheArchitectureExampleError) {
  v1::TestRun run = ValidRun();
  run.mutable_spec()->mutable_benchmark()->mutable_rfc2544()->set_frame_sizes(2, 20);
  EXPECT_THAT(Strings(ValidateTestRun(run)),
              ElementsAre("spec.benchmark.rfc2544.frameSizes[2]: 20 is below the 64-byte minimum"));
}

TEST(TestRunParseTest, ReturnsExactlyEveryDeliberateError) {
  // Seven mistakes of different kinds (syntax-level, schema-level and semantic) in one file.
  ParseResult r = ParseTestRun(R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata: {name: Nightly}
spec:
  sut: {template: linux-router}
  ports:
    - {name: west, speed: fast}
    - {name: east}
  benchmark:
    rfc2544:
      tests: [latency, frameLoss]
      frameSize: [64]
      frameSizes: [64, 20, 1518]
      trialDuration: 30
      traffic: [{from: west, to: esat}]
)");
  EXPECT_THAT(
      Strings(r.errors),
      UnorderedElementsAre(
          "metadata.name: \"Nightly\" is not a valid name: use lowercase letters, digits, '-' and "
          "'.', starting and ending with a letter or digit, at most 253 characters",
          HasSubstr("spec.ports[0].speed: "),
          "spec.benchmark.rfc2544.tests[0]: latency needs throughput in the same run: RFC 2544 "
          "§26.2 measures latency at the throughput rate",
          "spec.benchmark.rfc2544.frameSize: unknown field (did you mean frameSizes?)",
          "spec.benchmark.rfc2544.frameSizes[1]: 20 is below the 64-byte minimum",
          "spec.benchmark.rfc2544.trialDuration: \"30\" has no unit (write 30s, 30ms, 30m or 30h)",
          "spec.benchmark.rfc2544.traffic[0].to: unknown port \"esat\" (did you mean east?); "
          "ports: west, east"));
  // Positions point at the offending values.
  for (const FieldError& e : r.errors) {
    if (e.path == "spec.benchmark.rfc2544.frameSizes[1]") {
      EXPECT_EQ(e.line, 13);
      EXPECT_EQ(e.column, 24);
    }
  }
  absl::StatusOr<RunPlan> plan = CompileTestRun(r.object);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  // One line per semantic error (the schema-level ones never reached the proto).
  EXPECT_THAT(std::string(plan.status().message()),
              HasSubstr("spec.benchmark.rfc2544.frameSizes[1]: 20 is below the 64-byte minimum\n"));
}

TEST(TestRunParseTest, ValueThatFailedToDecodeIsNotAlsoReportedMissing) {
  std::string text = kValid;
  text.replace(text.find("  budget: 20m"), 13, "  budget: [20m]");
  ParseResult r = ParseTestRun(text);
  EXPECT_THAT(Strings(r.errors), ElementsAre("spec.budget: expected a string, got a list"));
}

TEST(TestRunParseTest, SyntaxErrorsCarryLineAndColumn) {
  ParseResult r = ParseTestRun("apiVersion: netrig.io/v1alpha1\nkind: TestRun\nspec: {ports: [a, b}\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, "");
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_GT(r.errors[0].column, 0);
  EXPECT_THAT(r.errors[0].message, HasSubstr("line 3, column "));
  EXPECT_THAT(r.errors[0].message, HasSubstr("invalid YAML/JSON"));
}

TEST(TestRunParseTest, DocumentLevelErrors) {
  EXPECT_THAT(Strings(ParseTestRun("").errors), ElementsAre("empty input: expected a TestRun"));
  EXPECT_THAT(Strings(ParseTestRun("[1, 2]").errors),
              ElementsAre("expected a mapping with apiVersion, kind, metadata and spec, got a list"));
  EXPECT_THAT(Strings(ParseTestRun("a: 1\n---\nb: 2\n").errors),
              ElementsAre("expected one TestRun document, got 2 (--- separated)"));
  EXPECT_THAT(Strings(ParseTestRun(std::string(kMaxInputBytes + 1, ' ')).errors),
              ElementsAre(HasSubstr("the limit is 1048576")));
  EXPECT_THAT(Strings(ParseTestRun("apiVersion: netrig.io/v1alpha1\nkind: TestSuite\n").errors),
              ElementsAre("kind: expected TestRun, got \"TestSuite\""));
}

TEST(TestRunParseTest, ApiVersionAndKindAreRequiredInText) {
  std::string text = kValid;
  text.erase(0, text.find("metadata:"));
  EXPECT_THAT(Strings(ParseTestRun(text).errors),
              ElementsAre("apiVersion: required (netrig.io/v1alpha1)", "kind: required (TestRun)"));
  // ...but optional on a proto that came over an RPC.
  v1::TestRun run = ValidRun();
  run.clear_api_version();
  run.clear_kind();
  EXPECT_THAT(Strings(ValidateTestRun(run)), IsEmpty());
  run.set_api_version("v1");
  run.set_kind("Pod");
  EXPECT_THAT(Strings(ValidateTestRun(run)),
              ElementsAre("apiVersion: expected netrig.io/v1alpha1, got \"v1\"",
                          "kind: expected TestRun, got \"Pod\""));
}

// ---------------------------------------------------------------- one test per rule

struct RuleCase {
  const char* name;
  std::function<void(v1::TestRun&)> mutate;
  const char* error;  // exact "path: message"
};

v1::Rfc2544& R(v1::TestRun& run) { return *run.mutable_spec()->mutable_benchmark()->mutable_rfc2544(); }

class TestRunRuleTest : public ::testing::TestWithParam<RuleCase> {};

TEST_P(TestRunRuleTest, ReportsExactlyThisError) {
  v1::TestRun run = ValidRun();
  GetParam().mutate(run);
  EXPECT_THAT(Strings(ValidateTestRun(run)), ElementsAre(GetParam().error));
}

const RuleCase kRules[] = {
    {"NameRequired", [](v1::TestRun& r) { r.mutable_metadata()->clear_name(); },
     "metadata.name: required"},
    {"NamespaceFormat", [](v1::TestRun& r) { r.mutable_metadata()->set_namespace_("Prod"); },
     "metadata.namespace: \"Prod\" is not a valid namespace: lowercase letters, digits and '-', at most 63 characters"},
    {"LabelValue", [](v1::TestRun& r) { (*r.mutable_metadata()->mutable_labels())["team"] = "a b"; },
     "metadata.labels.team: invalid value \"a b\": may contain only letters, digits, '-', '_' and '.'"},
    {"LabelKey", [](v1::TestRun& r) { (*r.mutable_metadata()->mutable_labels())["-x"] = "a"; },
     "metadata.labels[\"-x\"]: invalid key: must start and end with a letter or digit"},
    {"SpecRequired", [](v1::TestRun& r) { r.clear_spec(); }, "spec: required"},
    {"Level", [](v1::TestRun& r) { r.mutable_spec()->set_level("L4"); },
     "spec.level: unknown level \"L4\" (did you mean L1?); expected one of L1, L2, L3"},
    {"SutRequired", [](v1::TestRun& r) { r.mutable_spec()->clear_sut(); },
     "spec.sut: required (template or static)"},
    {"SutSourceRequired", [](v1::TestRun& r) { r.mutable_spec()->mutable_sut()->clear_source(); },
     "spec.sut: one of template or static is required"},
    {"SutTemplateEmpty", [](v1::TestRun& r) { r.mutable_spec()->mutable_sut()->set_template_(""); },
     "spec.sut.template: must not be empty"},
    {"SutTemplateName", [](v1::TestRun& r) { r.mutable_spec()->mutable_sut()->set_template_("Linux Router"); },
     "spec.sut.template: \"Linux Router\" is not a valid SutTemplate name"},
    {"StaticSutName", [](v1::TestRun& r) { r.mutable_spec()->mutable_sut()->mutable_static_(); },
     "spec.sut.static.name: required"},
    {"StaticSutAddress",
     [](v1::TestRun& r) {
       auto* s = r.mutable_spec()->mutable_sut()->mutable_static_();
       s->set_name("dut");
       s->set_mgmt_address("10.0.0.1/24");
     },
     "spec.sut.static.mgmtAddress: \"10.0.0.1/24\" is not a host or host:port"},
    {"StaticSutEventName",
     [](v1::TestRun& r) {
       auto* s = r.mutable_spec()->mutable_sut()->mutable_static_();
       s->set_name("dut");
       (*s->mutable_events())["Link_Down"] = "ip link set x down";
     },
     "spec.sut.static.events.Link_Down: event names use lowercase letters, digits and '-'"},
    {"StaticSutNoParameters",
     [](v1::TestRun& r) {
       auto* sut = r.mutable_spec()->mutable_sut();
       sut->mutable_static_()->set_name("dut");
       (*sut->mutable_parameters())["rate"] = "1g";
     },
     "spec.sut.parameters: only a template takes parameters"},
    {"SutParameterName",
     [](v1::TestRun& r) { (*r.mutable_spec()->mutable_sut()->mutable_parameters())["1rate"] = "x"; },
     "spec.sut.parameters.1rate: parameter names start with a letter and use letters, digits, '_', '-'"},
    {"PortNameRequired", [](v1::TestRun& r) { r.mutable_spec()->add_ports(); },
     "spec.ports[2].name: required"},
    {"PortNameFormat",
     [](v1::TestRun& r) {
       r.mutable_spec()->add_ports()->set_name("North_1");
     },
     "spec.ports[2].name: \"North_1\" is not a valid port name: lowercase letters, digits and '-', at most 63 characters"},
    {"PortNameUnique", [](v1::TestRun& r) { r.mutable_spec()->add_ports()->set_name("west"); },
     "spec.ports[2].name: duplicate port name \"west\" (also spec.ports[0])"},
    {"PortPmd", [](v1::TestRun& r) { r.mutable_spec()->mutable_ports(0)->set_pmd("AF XDP"); },
     "spec.ports[0].pmd: \"AF XDP\" is not a DPDK driver name (net_af_xdp, net_af_packet, net_ice...)"},
    {"AgentPool",
     [](v1::TestRun& r) { r.mutable_spec()->mutable_ports(0)->mutable_agent()->set_pool("Lab Pool"); },
     "spec.ports[0].agent.pool: \"Lab Pool\" is not a valid AgentPool name"},
    {"BenchmarkRequired", [](v1::TestRun& r) { r.mutable_spec()->clear_benchmark(); },
     "spec.benchmark: required: one of rfc2544, rfc3918, rfc7640, convergence"},
    {"Rfc3918NotSupported", [](v1::TestRun& r) { r.mutable_spec()->mutable_benchmark()->mutable_rfc3918(); },
     "spec.benchmark.rfc3918: RFC 3918 multicast benchmarks are not supported yet (use rfc2544)"},
    {"Rfc7640NotSupported", [](v1::TestRun& r) { r.mutable_spec()->mutable_benchmark()->mutable_rfc7640(); },
     "spec.benchmark.rfc7640: RFC 7640 traffic management benchmarks are not supported yet (use rfc2544)"},
    {"ConvergenceNotSupported",
     [](v1::TestRun& r) { r.mutable_spec()->mutable_benchmark()->mutable_convergence(); },
     "spec.benchmark.convergence: convergence benchmarks are not supported yet (use rfc2544)"},
    {"TestsRequired", [](v1::TestRun& r) { R(r).clear_tests(); },
     "spec.benchmark.rfc2544.tests: at least one test is required (throughput, latency, frameLoss, backToBack)"},
    {"TestUnknown", [](v1::TestRun& r) { R(r).set_tests(1, "latncy"); },
     "spec.benchmark.rfc2544.tests[1]: unknown test \"latncy\" (did you mean latency?); expected throughput, latency, frameLoss or backToBack"},
    {"TestDuplicate", [](v1::TestRun& r) { R(r).add_tests("frameLoss"); },
     "spec.benchmark.rfc2544.tests[4]: duplicate test \"frameLoss\" (also spec.benchmark.rfc2544.tests[2])"},
    {"TestNotSupported", [](v1::TestRun& r) { R(r).add_tests("systemRecovery"); },
     "spec.benchmark.rfc2544.tests[4]: RFC 2544 §26.5 system recovery is not supported yet"},
    {"LatencyNeedsThroughput",
     [](v1::TestRun& r) {
       R(r).clear_tests();
       R(r).add_tests("latency");
       R(r).add_tests("frameLoss");
       R(r).clear_back_to_back();
     },
     "spec.benchmark.rfc2544.tests[0]: latency needs throughput in the same run: RFC 2544 §26.2 measures latency at the throughput rate"},
    {"BackToBackNeedsThroughput",
     [](v1::TestRun& r) {
       R(r).clear_tests();
       R(r).add_tests("backToBack");
       R(r).clear_latency();
       R(r).clear_frame_loss();
     },
     "spec.benchmark.rfc2544.tests[0]: backToBack needs throughput in the same run: RFC 9004 §5 requires throughput results first (and corrects buffer time with them)"},
    {"FrameSizeBelowMinimum", [](v1::TestRun& r) { R(r).set_frame_sizes(0, 63); },
     "spec.benchmark.rfc2544.frameSizes[0]: 63 is below the 64-byte minimum"},
    {"FrameSizeAboveMaximum", [](v1::TestRun& r) { R(r).set_frame_sizes(6, 9217); },
     "spec.benchmark.rfc2544.frameSizes[6]: 9217 is above the 9216-byte maximum"},
    {"FrameSizeDuplicate", [](v1::TestRun& r) { R(r).set_frame_sizes(3, 128); },
     "spec.benchmark.rfc2544.frameSizes[3]: duplicate frame size 128 (also spec.benchmark.rfc2544.frameSizes[1])"},
    {"FrameSizeIpv6Minimum", [](v1::TestRun& r) { R(r).set_l3("ipv6"); },
     "spec.benchmark.rfc2544.frameSizes[0]: 64 is below the 84-byte minimum for IPv6 (l3: ipv6)"},
    {"FrameSizesAtMost32",
     [](v1::TestRun& r) {
       R(r).clear_frame_sizes();
       for (uint32_t i = 0; i < 33; ++i) R(r).add_frame_sizes(64 + i);
     },
     "spec.benchmark.rfc2544.frameSizes: 33 frame sizes; at most 32"},
    {"L3", [](v1::TestRun& r) { R(r).set_l3("ip6"); },
     "spec.benchmark.rfc2544.l3: unknown l3 protocol \"ip6\" (did you mean ipv6?); expected one of ipv4, ipv6"},
    {"TrialDurationZero", [](v1::TestRun& r) { R(r).set_trial_duration("0s"); },
     "spec.benchmark.rfc2544.trialDuration: must be greater than 0"},
    {"TrialDurationMax", [](v1::TestRun& r) { R(r).set_trial_duration("61m"); },
     "spec.benchmark.rfc2544.trialDuration: 61m is above the 1h maximum"},
    {"TrialDurationSyntax", [](v1::TestRun& r) { R(r).set_trial_duration("1 minute"); },
     "spec.benchmark.rfc2544.trialDuration: expected a duration such as 30s, 500ms, 2m or 1h, got \"1 minute\""},
    {"LossToleranceRange", [](v1::TestRun& r) { R(r).set_loss_tolerance(101); },
     "spec.benchmark.rfc2544.lossTolerance: must be between 0 and 100 (percent of offered frames), got 101"},
    {"ResolutionZero", [](v1::TestRun& r) { R(r).set_resolution(0); },
     "spec.benchmark.rfc2544.resolution: must be greater than 0 and at most 100 (percent of line rate), got 0"},
    {"MinRateNegative", [](v1::TestRun& r) { R(r).set_min_rate(-1); },
     "spec.benchmark.rfc2544.minRate: must be between 0 and 100 (percent of line rate), got -1"},
    {"MaxRateAbove100", [](v1::TestRun& r) { R(r).set_max_rate(120); },
     "spec.benchmark.rfc2544.maxRate: must be greater than 0 and at most 100 (percent of line rate), got 120"},
    {"MinBelowMax",
     [](v1::TestRun& r) {
       R(r).set_min_rate(50);
       R(r).set_max_rate(40);
     },
     "spec.benchmark.rfc2544.maxRate: must be greater than minRate (50), got 40"},
    {"TrafficRequired", [](v1::TestRun& r) { R(r).clear_traffic(); },
     "spec.benchmark.rfc2544.traffic: at least one traffic entry is required ({from: <port>, to: <port>})"},
    {"TrafficFromRequired", [](v1::TestRun& r) { R(r).mutable_traffic(0)->clear_from(); },
     "spec.benchmark.rfc2544.traffic[0].from: required (a port name)"},
    {"TrafficUnknownPort", [](v1::TestRun& r) { R(r).mutable_traffic(0)->set_to("north"); },
     "spec.benchmark.rfc2544.traffic[0].to: unknown port \"north\"; ports: west, east"},
    {"TrafficFlowsZero", [](v1::TestRun& r) { R(r).mutable_traffic(0)->set_flows(0); },
     "spec.benchmark.rfc2544.traffic[0].flows: must be between 1 and 16777216, got 0"},
    {"TrafficFlowsMax", [](v1::TestRun& r) { R(r).mutable_traffic(0)->set_flows(16777217); },
     "spec.benchmark.rfc2544.traffic[0].flows: must be between 1 and 16777216, got 16777217"},
    {"TrafficDuplicateDirection",
     [](v1::TestRun& r) {
       auto* t = R(r).add_traffic();
       t->set_from("east");
       t->set_to("west");
     },
     "spec.benchmark.rfc2544.traffic[1]: direction east -> west is already covered by spec.benchmark.rfc2544.traffic[0]"},
    {"LatencyTrials", [](v1::TestRun& r) { R(r).mutable_latency()->set_trials(0); },
     "spec.benchmark.rfc2544.latency.trials: must be between 1 and 1000, got 0"},
    {"LatencyDuration", [](v1::TestRun& r) { R(r).mutable_latency()->set_duration("2h"); },
     "spec.benchmark.rfc2544.latency.duration: 2h is above the 1h maximum"},
    {"FrameLossStepAbove10", [](v1::TestRun& r) { R(r).mutable_frame_loss()->set_step(20); },
     "spec.benchmark.rfc2544.frameLoss.step: must be greater than 0 and at most 10 (percent of line rate; RFC 2544 §26.3: granularity MUST be 10% or finer), got 20"},
    {"FrameLossStepZero", [](v1::TestRun& r) { R(r).mutable_frame_loss()->set_step(0); },
     "spec.benchmark.rfc2544.frameLoss.step: must be greater than 0 and at most 10 (percent of line rate; RFC 2544 §26.3: granularity MUST be 10% or finer), got 0"},
    {"BackToBackTrials", [](v1::TestRun& r) { R(r).mutable_back_to_back()->set_trials(1001); },
     "spec.benchmark.rfc2544.backToBack.trials: must be between 1 and 1000, got 1001"},
    {"BackToBackMaxBurstAbove30s",
     [](v1::TestRun& r) { R(r).mutable_back_to_back()->set_max_burst_duration("31s"); },
     "spec.benchmark.rfc2544.backToBack.maxBurstDuration: 31s is above the 30s maximum"},
    {"BackToBackTrialDuration",
     [](v1::TestRun& r) { R(r).mutable_back_to_back()->set_trial_duration("-1s"); },
     "spec.benchmark.rfc2544.backToBack.trialDuration: -1s is negative"},
    {"WaitsDrainMax", [](v1::TestRun& r) { R(r).mutable_waits()->set_drain("2m"); },
     "spec.benchmark.rfc2544.waits.drain: 2m is above the 1m maximum"},
    {"WaitsSettleSyntax", [](v1::TestRun& r) { R(r).mutable_waits()->set_settle("5"); },
     "spec.benchmark.rfc2544.waits.settle: \"5\" has no unit (write 5s, 5ms, 5m or 5h)"},
    {"VerdictBaseline", [](v1::TestRun& r) { r.mutable_spec()->mutable_verdict()->set_baseline("Last Pass"); },
     "spec.verdict.baseline: expected none, last-pass or a run id, got \"Last Pass\""},
    {"VerdictMaxRegressionSyntax",
     [](v1::TestRun& r) { r.mutable_spec()->mutable_verdict()->set_max_regression("five"); },
     "spec.verdict.maxRegression: expected a percentage such as 5% or 0.5%, got \"five\""},
    {"VerdictMaxRegressionRange",
     [](v1::TestRun& r) { r.mutable_spec()->mutable_verdict()->set_max_regression("150%"); },
     "spec.verdict.maxRegression: must be between 0% and 100%, got 150%"},
    {"BudgetZero", [](v1::TestRun& r) { r.mutable_spec()->set_budget("0s"); },
     "spec.budget: must be greater than 0"},
    {"BudgetMax", [](v1::TestRun& r) { r.mutable_spec()->set_budget("200h"); },
     "spec.budget: 200h is above the 168h maximum"},
    {"StatusPhase", [](v1::TestRun& r) { r.mutable_status()->set_phase("Done"); },
     "status.phase: unknown phase \"Done\"; expected one of Pending, Scheduled, Running, Succeeded, Failed, Cancelled, Interrupted"},
    {"StatusConditionStatus",
     [](v1::TestRun& r) {
       auto* c = r.mutable_status()->add_conditions();
       c->set_type("Ready");
       c->set_status("true");
     },
     "status.conditions[0].status: unknown condition status \"true\" (did you mean True?); expected one of True, False, Unknown"},
    {"StatusTime", [](v1::TestRun& r) { r.mutable_status()->set_start_time("yesterday"); },
     "status.startTime: expected an RFC 3339 time such as 2024-05-01T12:00:00Z, got \"yesterday\""},
};

std::vector<RuleCase> Rules() {
  std::vector<RuleCase> out;
  for (const RuleCase& c : kRules) {
    if (c.error != nullptr) out.push_back(c);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllRules, TestRunRuleTest, ::testing::ValuesIn(Rules()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(TestRunRuleTest, PortsRequiredAndTrafficThenUnresolvable) {
  v1::TestRun run = ValidRun();
  run.mutable_spec()->clear_ports();
  EXPECT_THAT(Strings(ValidateTestRun(run)),
              ElementsAre("spec.ports: at least one port is required",
                          "spec.benchmark.rfc2544.traffic[0].from: unknown port \"west\"",
                          "spec.benchmark.rfc2544.traffic[0].to: unknown port \"east\""));
}

TEST(TestRunRuleTest, PortSpeedUsesTheRateParser) {
  v1::TestRun run = ValidRun();
  run.mutable_spec()->mutable_ports(0)->set_speed("fast");
  const std::vector<FieldError> errors = ValidateTestRun(run);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "spec.ports[0].speed");
  EXPECT_THAT(errors[0].message, HasSubstr("fast"));
}

TEST(TestRunRuleTest, SingleHairpinPortIsAllowed) {
  v1::TestRun run = ValidRun();
  run.mutable_spec()->mutable_ports()->RemoveLast();
  R(run).mutable_traffic(0)->set_to("west");
  EXPECT_THAT(Strings(ValidateTestRun(run)), IsEmpty());
}

// ---------------------------------------------------------------- warnings (RFC deviations)

TEST(TestRunWarningTest, RfcDeviationsAreWarningsAndBecomePlanDeviations) {
  v1::TestRun run = ValidRun();
  v1::Rfc2544& r = R(run);
  r.set_trial_duration("10s");
  r.set_loss_tolerance(0.01);
  r.mutable_latency()->set_trials(5);
  r.mutable_latency()->set_duration("30s");
  r.mutable_back_to_back()->set_trial_duration("1s");
  r.mutable_waits()->set_drain("1s");
  r.mutable_waits()->set_settle("0s");
  r.clear_frame_sizes();
  r.add_frame_sizes(64);
  r.add_frame_sizes(1518);
  std::vector<FieldError> warnings;
  EXPECT_THAT(Strings(ValidateTestRun(run, &warnings)), IsEmpty());
  EXPECT_THAT(
      Strings(warnings),
      ElementsAre(
          "spec.benchmark.rfc2544.frameSizes: 2 frame sizes; RFC 2544 §9 recommends at least five, including the smallest and largest",
          "spec.benchmark.rfc2544.trialDuration: 10s is shorter than the 60 s RFC 2544 §24 recommends for the final trial; results are labelled short-trial",
          "spec.benchmark.rfc2544.lossTolerance: a 0.01% loss tolerance is a tester extension: RFC 2544 throughput is the zero-loss rate (RFC 1242 §3.17)",
          "spec.benchmark.rfc2544.latency.trials: 5 trials; RFC 2544 §26.2 requires at least 20",
          "spec.benchmark.rfc2544.latency.duration: 30s is shorter than the 120 s stream RFC 2544 §26.2 asks for",
          "spec.benchmark.rfc2544.backToBack.trialDuration: 1s is shorter than the 2 s RFC 2544 §26.4 requires",
          "spec.benchmark.rfc2544.waits.drain: 1s is shorter than the 2 s RFC 2544 §23 d) asks for",
          "spec.benchmark.rfc2544.waits.settle: 0 is shorter than the 5 s RFC 2544 §23 e) asks for"));
  absl::StatusOr<RunPlan> plan = CompileTestRun(run);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->deviations.size(), warnings.size());
}

TEST(TestRunWarningTest, SettingsOfTestsNotRunAreIgnoredWithAWarning) {
  v1::TestRun run = ValidRun();
  R(run).clear_tests();
  R(run).add_tests("throughput");
  std::vector<FieldError> warnings;
  EXPECT_THAT(Strings(ValidateTestRun(run, &warnings)), IsEmpty());
  EXPECT_THAT(Strings(warnings),
              ElementsAre("spec.benchmark.rfc2544.latency: ignored: latency is not in tests",
                          "spec.benchmark.rfc2544.frameLoss: ignored: frameLoss is not in tests",
                          "spec.benchmark.rfc2544.backToBack: ignored: backToBack is not in tests"));
}

TEST(TestRunWarningTest, UnusedPortAndIgnoredRegression) {
  v1::TestRun run = ValidRun();
  run.mutable_spec()->add_ports()->set_name("spare");
  run.mutable_spec()->mutable_verdict()->set_baseline("none");
  std::vector<FieldError> warnings;
  EXPECT_THAT(Strings(ValidateTestRun(run, &warnings)), IsEmpty());
  EXPECT_THAT(Strings(warnings),
              ElementsAre("spec.ports[2]: port \"spare\" carries no traffic",
                          "spec.verdict.maxRegression: ignored: no baseline to compare with (set baseline)"));
}

// ---------------------------------------------------------------- compile

TEST(CompileTestRunTest, AppliesRfcDefaults) {
  ParseResult r = ParseTestRun(R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata: {name: minimal}
spec:
  sut: {static: {name: dut-1, mgmtAddress: "10.0.0.1:22", events: {link-down: "ip link set eth1 down"}}}
  ports: [{name: a}, {name: b}]
  benchmark: {rfc2544: {tests: [throughput, backToBack], traffic: [{from: a, to: b}]}}
)");
  ASSERT_THAT(Strings(r.errors), IsEmpty());
  absl::StatusOr<RunPlan> plan = CompileTestRun(r.object);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->name, "minimal");
  EXPECT_EQ(plan->namespace_name, "default");
  EXPECT_EQ(plan->level, Level::kL1);
  EXPECT_TRUE(plan->sut.is_static);
  EXPECT_EQ(plan->sut.events.at("link-down"), "ip link set eth1 down");
  EXPECT_EQ(plan->ports[0].agent_pool, "default");
  EXPECT_EQ(plan->ports[0].speed_bps, 0u);
  const Rfc2544Plan& p = plan->rfc2544;
  EXPECT_THAT(p.tests, ElementsAre(Rfc2544Test::kThroughput, Rfc2544Test::kBackToBack));
  EXPECT_TRUE(p.Has(Rfc2544Test::kBackToBack));
  EXPECT_FALSE(p.Has(Rfc2544Test::kLatency));
  EXPECT_THAT(p.frame_sizes, ElementsAre(64u, 128u, 256u, 512u, 1024u, 1280u, 1518u));
  EXPECT_EQ(p.trial_duration, absl::Seconds(60));
  EXPECT_EQ(p.loss_tolerance_pct, 0);
  EXPECT_DOUBLE_EQ(p.resolution_pct, 0.1);
  EXPECT_EQ(p.min_rate_pct, 0);
  EXPECT_EQ(p.max_rate_pct, 100);
  EXPECT_EQ(p.l3, L3::kIpv4);
  ASSERT_EQ(p.traffic.size(), 1u);
  EXPECT_EQ(p.traffic[0].flows, 1u);
  EXPECT_FALSE(p.traffic[0].bidirectional);
  EXPECT_EQ(p.latency.trials, 20u);
  EXPECT_EQ(p.latency.duration, absl::Seconds(120));
  EXPECT_EQ(p.frame_loss.step_pct, 10);
  EXPECT_EQ(p.back_to_back.trials, 50u);
  EXPECT_EQ(p.back_to_back.max_burst_duration, absl::Seconds(2));
  EXPECT_EQ(p.back_to_back.trial_duration, absl::Seconds(2));
  EXPECT_EQ(p.waits.drain, absl::Seconds(2));
  EXPECT_EQ(p.waits.settle, absl::Seconds(5));
  EXPECT_EQ(plan->verdict.baseline, VerdictPlan::Baseline::kNone);
  EXPECT_EQ(plan->budget, absl::InfiniteDuration());
  EXPECT_TRUE(plan->deviations.empty());
}

TEST(CompileTestRunTest, CarriesTheValuesOfTheSpec) {
  absl::StatusOr<RunPlan> plan = CompileTestRun(ValidRun());
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->level, Level::kL2);
  EXPECT_EQ(plan->labels.at("team"), "net");
  EXPECT_EQ(plan->sut.template_name, "linux-router");
  EXPECT_EQ(plan->sut.version, "1.4.2");
  EXPECT_EQ(plan->ports[1].agent_name, "agent-7");
  EXPECT_EQ(plan->ports[1].agent_labels.at("rack"), "r1");
  EXPECT_EQ(plan->ports[1].speed_bps, 10'000'000'000u);
  EXPECT_EQ(plan->ports[1].pmd, "net_af_xdp");
  EXPECT_EQ(plan->rfc2544.traffic[0].flows, 1024u);
  EXPECT_TRUE(plan->rfc2544.traffic[0].bidirectional);
  EXPECT_EQ(plan->verdict.baseline, VerdictPlan::Baseline::kLastPass);
  EXPECT_DOUBLE_EQ(plan->verdict.max_regression_pct, 5);
  EXPECT_EQ(plan->budget, absl::Minutes(20));
}

TEST(CompileTestRunTest, Ipv6DefaultsToTheSmallestIpv6Probe) {
  v1::TestRun run = ValidRun();
  R(run).set_l3("ipv6");
  R(run).clear_frame_sizes();
  absl::StatusOr<RunPlan> plan = CompileTestRun(run);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->rfc2544.l3, L3::kIpv6);
  EXPECT_THAT(plan->rfc2544.frame_sizes, ElementsAre(84u, 128u, 256u, 512u, 1024u, 1280u, 1518u));
}

TEST(CompileTestRunTest, BaselineRunId) {
  v1::TestRun run = ValidRun();
  run.mutable_spec()->mutable_verdict()->set_baseline("run-20240501-0001");
  absl::StatusOr<RunPlan> plan = CompileTestRun(run);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->verdict.baseline, VerdictPlan::Baseline::kRun);
  EXPECT_EQ(plan->verdict.baseline_run_id, "run-20240501-0001");
}

TEST(CompileTestRunTest, InvalidArgumentListsEveryErrorOnItsOwnLine) {
  v1::TestRun run = ValidRun();
  R(run).set_frame_sizes(2, 20);
  R(run).set_resolution(0);
  absl::StatusOr<RunPlan> plan = CompileTestRun(run);
  ASSERT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plan.status().message(),
            "spec.benchmark.rfc2544.frameSizes[2]: 20 is below the 64-byte minimum\n"
            "spec.benchmark.rfc2544.resolution: must be greater than 0 and at most 100 (percent of "
            "line rate), got 0");
}

TEST(TestRunNamesTest, EnumNames) {
  EXPECT_STREQ(LevelName(Level::kL3), "L3");
  EXPECT_STREQ(TestName(Rfc2544Test::kFrameLoss), "frameLoss");
  EXPECT_STREQ(L3Name(L3::kIpv6), "ipv6");
}

}  // namespace
}  // namespace netrig::spec

namespace netrig::spec {
namespace {

TEST(TestRunParseTest, BadListItemsKeepTheIndexesOfTheItemsAfterThem) {
  std::string text = kValid;
  text.replace(text.find("frameSizes: [64, 128,"), 21, "frameSizes: [64, abc, 20,");
  text.replace(text.find("tests: [throughput,"), 19, "tests: [[x], throughput,");
  EXPECT_THAT(Strings(ParseTestRun(text).errors),
              ElementsAre("spec.benchmark.rfc2544.tests[0]: expected a string, got a list",
                          "spec.benchmark.rfc2544.frameSizes[1]: expected a non-negative integer, got \"abc\"",
                          "spec.benchmark.rfc2544.frameSizes[2]: 20 is below the 64-byte minimum"));
}

TEST(TestRunParseTest, ErrorsComeInSourceOrder) {
  std::string text = kValid;
  text.replace(text.find("resolution: 0.1"), 15, "resolution: 0");
  text.replace(text.find("name: nightly-2544"), 18, "name: Nightly");
  text.replace(text.find("budget: 20m"), 11, "budgte: 20m");
  const std::vector<FieldError> errors = ParseTestRun(text).errors;
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].path, "metadata.name");
  EXPECT_EQ(errors[1].path, "spec.benchmark.rfc2544.resolution");
  EXPECT_EQ(errors[2].ToString(), "spec.budgte: unknown field (did you mean budget?)");
  // 1-based line of the misspelt key in the text we built.
  const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + text.find("budgte"), '\n'));
  EXPECT_EQ(errors[2].line, line);
}

}  // namespace
}  // namespace netrig::spec
