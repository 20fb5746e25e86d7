#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include <google/protobuf/util/message_differencer.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/spec/testrun.h"

namespace netrig::spec {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> Strings(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const FieldError& e : errors) out.push_back(e.ToString());
  return out;
}

constexpr char kSuite[] = R"(apiVersion: netrig.io/v1alpha1
kind: TestSuite
metadata: {name: nightly}
spec:
  level: L2
  schedule: "0 2 * * *"
  budget: 6h
  runs:
    - name: throughput-64
      labels: {size: small}
      spec:
        sut: {template: linux-router}
        ports: [{name: west}, {name: east}]
        benchmark: {rfc2544: {tests: [throughput], frameSizes: [64, 128, 256, 512, 1518],
                              traffic: [{from: west, to: east}]}}
    - name: latency
      spec:
        sut: {template: linux-router}
        ports: [{name: west}, {name: east}]
        benchmark: {rfc2544: {tests: [throughput, latency], frameSizes: [64, 128, 256, 512, 1518],
                              traffic: [{from: west, to: east}]}}
)";

constexpr char kPool[] = R"(apiVersion: netrig.io/v1alpha1
kind: AgentPool
metadata: {name: default, namespace: netrig}
spec:
  nodeSelector: {netrig.io/agent: "true", kubernetes.io/arch: amd64}
  sriovResource: intel.com/sriov_netdevice
  hugepages: 2Gi
  cpus: [2, 3, 4, 5]
  agentsPerNode: 1
)";

constexpr char kSutTemplate[] = R"(apiVersion: netrig.io/v1alpha1
kind: SutTemplate
metadata: {name: linux-shaper}
spec:
  kind: netns
  recipe: |
    ip link add ...
    tc qdisc add dev east root tbf rate ${rate} burst 32kbit latency 400ms
  events: [link-down, reboot]
  parameters: {rate: 500mbit}
)";

TEST(TestSuiteTest, ValidSuiteParses) {
  Parsed<v1::TestSuite> s = ParseTestSuite(kSuite);
  EXPECT_THAT(Strings(s.errors), IsEmpty());
  ASSERT_EQ(s.object.spec().runs_size(), 2);
  EXPECT_EQ(s.object.spec().runs(1).spec().benchmark().rfc2544().tests(1), "latency");
}

TEST(TestSuiteTest, RunSpecsAreValidatedWithTheirPaths) {
  std::string text = kSuite;
  text.replace(text.find("tests: [throughput, latency]"), 28, "tests: [latency]");
  text.replace(text.find("schedule: \"0 2 * * *\""), 21, "schedule: \"0 25 * * *\"");
  text.replace(text.find("name: latency"), 13, "name: throughput-64");
  Parsed<v1::TestSuite> s = ParseTestSuite(text);
  EXPECT_THAT(Strings(s.errors),
              ElementsAre("spec.schedule: hour field \"25\": 25 is out of range 0-23",
                          "spec.runs[1].name: duplicate run name \"throughput-64\" (also spec.runs[0])",
                          "spec.runs[1].spec.benchmark.rfc2544.tests[0]: latency needs throughput "
                          "in the same run: RFC 2544 §26.2 measures latency at the throughput rate"));
}

TEST(TestSuiteTest, SuiteRules) {
  Parsed<v1::TestSuite> s = ParseTestSuite(R"(apiVersion: netrig.io/v1alpha1
kind: TestSuite
metadata: {name: s}
spec: {level: L0, schedule: "@often", budget: 0s, runs: []}
)");
  EXPECT_THAT(Strings(s.errors),
              ElementsAre("spec.level: unknown level \"L0\" (did you mean L1?); expected one of L1, L2, L3",
                          HasSubstr("spec.schedule: unknown macro \"@often\""),
                          "spec.budget: must be greater than 0",
                          "spec.runs: at least one run is required"));
  Parsed<v1::TestSuite> t = ParseTestSuite(R"(apiVersion: netrig.io/v1alpha1
kind: TestSuite
metadata: {name: s}
spec: {runs: [{name: Bad_Name}, {spec: {}}]}
)");
  EXPECT_THAT(Strings(t.errors),
              ElementsAre("spec.runs[0].spec: required",  // positioned at runs[0], sorts first
                          "spec.runs[0].name: \"Bad_Name\" is not a valid run name: lowercase "
                          "letters, digits and '-', at most 63 characters",
                          "spec.runs[1].name: required",
                          "spec.runs[1].spec.sut: required (template or static)",
                          "spec.runs[1].spec.ports: at least one port is required",
                          "spec.runs[1].spec.benchmark: required: one of rfc2544, rfc3918, rfc7640, convergence"));
}

TEST(AgentPoolTest, ValidPoolParses) {
  Parsed<v1::AgentPool> p = ParseAgentPool(kPool);
  EXPECT_THAT(Strings(p.errors), IsEmpty());
  EXPECT_EQ(p.object.spec().node_selector().at("kubernetes.io/arch"), "amd64");
  EXPECT_EQ(p.object.spec().cpus_size(), 4);
  EXPECT_EQ(p.object.spec().agents_per_node(), 1u);
}

TEST(AgentPoolTest, PoolRules) {
  Parsed<v1::AgentPool> p = ParseAgentPool(R"(apiVersion: netrig.io/v1alpha1
kind: AgentPool
metadata: {name: default}
spec:
  nodeSelector: {"bad key!": x}
  sriovResource: sriov
  hugepages: 1.5Gi
  cpus: [2, 3, 2, 5000]
  agentsPerNode: 0
)");
  EXPECT_THAT(Strings(p.errors),
              ElementsAre(HasSubstr("spec.nodeSelector[\"bad key!\"]: invalid key"),
                          "spec.sriovResource: \"sriov\" is not an extended resource name such as "
                          "intel.com/sriov_netdevice",
                          "spec.hugepages: 1.5Gi is not a whole number of 1 GiB hugepages",
                          "spec.cpus[2]: duplicate CPU 2 (also spec.cpus[0])",
                          "spec.cpus[3]: 5000 is above the highest CPU id 4095",
                          "spec.agentsPerNode: must be between 1 and 64, got 0"));
  Parsed<v1::AgentPool> q = ParseAgentPool(
      "apiVersion: netrig.io/v1alpha1\nkind: AgentPool\nmetadata: {name: a}\nspec: {hugepages: lots}\n");
  EXPECT_THAT(Strings(q.errors),
              ElementsAre("spec.hugepages: expected a quantity such as 1Gi, 512Mi or 2G, got \"lots\""));
}

TEST(SutTemplateTest, ValidTemplateParses) {
  Parsed<v1::SutTemplate> t = ParseSutTemplate(kSutTemplate);
  EXPECT_THAT(Strings(t.errors), IsEmpty());
  EXPECT_EQ(t.object.spec().kind(), "netns");
  EXPECT_THAT(t.object.spec().recipe(), HasSubstr("tbf rate ${rate}"));
}

TEST(SutTemplateTest, TemplateRules) {
  Parsed<v1::SutTemplate> t = ParseSutTemplate(R"(apiVersion: netrig.io/v1alpha1
kind: SutTemplate
metadata: {name: x}
spec: {kind: vm, events: [reboot, Link-Down, reboot], parameters: {"9lives": x}}
)");
  EXPECT_THAT(Strings(t.errors),
              ElementsAre("spec.recipe: required",  // missing: positioned at `spec`
                          "spec.kind: unknown SUT kind \"vm\"; expected one of netns, pod, kubevirt",
                          "spec.events[1]: \"Link-Down\" is not a valid event name: lowercase "
                          "letters, digits and '-'",
                          "spec.events[2]: duplicate event \"reboot\" (also spec.events[0])",
                          "spec.parameters.9lives: parameter names start with a letter"));
}

TEST(DocumentTest, DispatchesOnKind) {
  const std::string stream = std::string(kSuite) + "---\n" + kPool + "---\n" + kSutTemplate +
                             "---\n" + "apiVersion: netrig.io/v1alpha1\nkind: TestRun\n" +
                             "metadata: {name: r}\nspec: {}\n";
  std::vector<Document> docs = ParseDocuments(stream);
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_TRUE(docs[0].ok());
  EXPECT_EQ(docs[0].kind, "TestSuite");
  EXPECT_TRUE(std::holds_alternative<v1::TestSuite>(docs[0].object));
  EXPECT_TRUE(std::holds_alternative<v1::AgentPool>(docs[1].object));
  EXPECT_TRUE(docs[1].ok());
  EXPECT_TRUE(std::holds_alternative<v1::SutTemplate>(docs[2].object));
  EXPECT_TRUE(docs[2].ok());
  EXPECT_EQ(docs[3].index, 3u);
  EXPECT_TRUE(std::holds_alternative<v1::TestRun>(docs[3].object));
  EXPECT_THAT(Strings(docs[3].errors),
              ElementsAre("spec.sut: required (template or static)",
                          "spec.ports: at least one port is required",
                          "spec.benchmark: required: one of rfc2544, rfc3918, rfc7640, convergence"));
  // Positioned at `spec: {}` of the 4th document, counted in the whole stream.
  const std::string before = stream.substr(0, stream.rfind("spec: {}"));
  EXPECT_EQ(docs[3].errors[0].line, std::count(before.begin(), before.end(), '\n') + 1);
}

TEST(DocumentTest, UnknownKindAndWrongApiVersion) {
  Document d = ParseDocument("apiVersion: netrig.io/v1\nkind: TestRn\nspec: {}\n");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(d.object));
  EXPECT_THAT(Strings(d.errors),
              ElementsAre("apiVersion: expected netrig.io/v1alpha1, got \"netrig.io/v1\"",
                          "kind: unknown kind \"TestRn\" (did you mean TestRun?); known: TestRun, "
                          "TestSuite, AgentPool, SutTemplate"));
  EXPECT_THAT(Strings(ParseDocument("metadata: {name: a}\n").errors),
              ElementsAre("apiVersion: required (netrig.io/v1alpha1)",
                          "kind: required (one of TestRun, TestSuite, AgentPool, SutTemplate)"));
  // A known kind with a wrong apiVersion is still parsed, so every other error shows too.
  Document p = ParseDocument("apiVersion: v1\nkind: AgentPool\nmetadata: {name: a}\nspec: {cpus: [1, 1]}\n");
  EXPECT_TRUE(std::holds_alternative<v1::AgentPool>(p.object));
  EXPECT_THAT(Strings(p.errors), ElementsAre("apiVersion: expected netrig.io/v1alpha1, got \"v1\"",
                                             "spec.cpus[1]: duplicate CPU 1 (also spec.cpus[0])"));
}

TEST(DocumentTest, StreamsSkipEmptyDocumentsAndReportSyntaxErrors) {
  EXPECT_EQ(ParseDocuments(std::string("---\n") + kPool + "---\n---\n").size(), 1u);
  EXPECT_TRUE(ParseDocuments("").empty());
  std::vector<Document> bad = ParseDocuments(std::string(kPool) + "---\nkind: [\n");
  ASSERT_EQ(bad.size(), 1u);
  ASSERT_EQ(bad[0].errors.size(), 1u);
  EXPECT_GT(bad[0].errors[0].line, 10);
  EXPECT_THAT(Strings(ParseDocument("").errors), ElementsAre("empty input: expected a document"));
  EXPECT_THAT(Strings(ParseDocument(std::string(kPool) + "---\n" + kPool).errors),
              ElementsAre("expected one document, got 2 (--- separated)"));
}

TEST(DocumentTest, EachKindRoundTripsThroughJson) {
  for (const char* text : {kSuite, kPool, kSutTemplate}) {
    Document d = ParseDocument(text);
    ASSERT_TRUE(d.ok()) << JoinErrors(d.errors);
    const google::protobuf::Message& m = std::visit(
        [](const auto& o) -> const google::protobuf::Message& {
          if constexpr (std::is_same_v<std::decay_t<decltype(o)>, std::monostate>) {
            std::abort();
          } else {
            return o;
          }
        },
        d.object);
    Document back = ParseDocument(ToJson(m));
    ASSERT_TRUE(back.ok()) << JoinErrors(back.errors) << ToJson(m);
    EXPECT_EQ(back.object.index(), d.object.index());
    std::visit(
        [&](const auto& o) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(o)>, std::monostate>) {
            EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(o, m)) << ToJson(o);
          }
        },
        back.object);
  }
}

}  // namespace
}  // namespace netrig::spec

namespace netrig::spec {
namespace {

// yaml-cpp 0.7 never consumes a ',' after a top-level value and LoadAll then allocates empty
// documents until memory runs out; the loader must catch that as a syntax error.
TEST(DocumentTest, TextAfterATopLevelValueIsASyntaxErrorNotAnEndlessLoop) {
  for (const char* text : {"[1],2", "{\"a\":1},\"b\":2}", "\"a\",b", "'a',b", "{a: 1}\n,b"}) {
    std::vector<Document> docs = ParseDocuments(text);
    ASSERT_EQ(docs.size(), 1u) << text;
    ASSERT_EQ(docs[0].errors.size(), 1u) << text;
    EXPECT_THAT(docs[0].errors[0].message, HasSubstr("unexpected text after the end of a value"));
    EXPECT_GT(docs[0].errors[0].line, 0);
    EXPECT_THAT(Strings(ParseTestRun(text).errors),
                ElementsAre(HasSubstr("unexpected text after the end of a value")));
  }
}

}  // namespace
}  // namespace netrig::spec
