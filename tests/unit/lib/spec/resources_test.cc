#include <algorithm>
#include <fstream>
#include <iterator>
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

TEST(TestSuiteTest, ExampleSuiteIsValid) {
  std::ifstream in(std::string(NETRIG_SOURCE_DIR) + "/examples/testsuite.yaml");
  ASSERT_TRUE(in) << "examples/testsuite.yaml";
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Parsed<v1::TestSuite> s = ParseTestSuite(text);
  EXPECT_THAT(Strings(s.errors), IsEmpty());
  ASSERT_EQ(s.object.spec().runs_size(), 2);
  EXPECT_EQ(s.object.spec().runs(0).name(), "throughput");
  EXPECT_EQ(s.object.spec().runs(1).spec().benchmark().rfc2544().tests(0), "frameLoss");
  EXPECT_EQ(s.object.spec().history_limit(), 2u);
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

TEST(AgentPoolTest, KubernetesPoolParsesWithoutWarnings) {
  Parsed<v1::AgentPool> p = ParseAgentPool(R"(apiVersion: netrig.io/v1alpha1
kind: AgentPool
metadata: {name: west, namespace: lab}
spec:
  nodeSelector: {netrig.io/agent: "true"}
  sriovResource: intel.com/sriov_netdevice
  hugepages: 512Mi
  hugepageSize: 2Mi
  mode: Deployment
  scaling: {minReplicas: 0, maxReplicas: 4, queuedRunsPerAgent: 2}
  image: registry.example/netrig-agent:0.1.0
  cpu: 4
  memory: 2Gi
  sriovCount: 2
  portNames: [west, east]
  networks: [sriov-west, lab/sriov-east@net2]
  labels: {rack: r1}
  serviceAccount: netrig-agent
  priorityClass: netrig-agents
  extraArgs: ["--poll", "busy"]
)");
  EXPECT_THAT(Strings(p.errors), IsEmpty());
  EXPECT_THAT(Strings(p.warnings), IsEmpty());
  EXPECT_EQ(p.object.spec().scaling().queued_runs_per_agent(), 2u);
  EXPECT_EQ(p.object.spec().networks(1), "lab/sriov-east@net2");
}

TEST(AgentPoolTest, KubernetesFieldRules) {
  Parsed<v1::AgentPool> p = ParseAgentPool(R"(apiVersion: netrig.io/v1alpha1
kind: AgentPool
metadata: {name: west}
spec:
  sriovResource: intel.com/sriov_netdevice
  hugepages: 3Mi
  hugepageSize: 2Mi
  mode: DaemonSet
  agentsPerNode: 2
  replicas: 3
  scaling: {minReplicas: 5, maxReplicas: 2, queuedRunsPerAgent: 0}
  image: "bad image"
  cpu: 1
  memory: 100Mi
  sriovCount: 1
  portNames: [west, West, west]
  networks: [sriov-west, "bad/ns/x"]
  labels: {pool: x}
  serviceAccount: Bad_SA
  priorityClass: "-x"
  extraArgs: ["--lcores=0,1", "", "--controller", "h:1"]
)");
  EXPECT_THAT(
      Strings(p.errors),
      ::testing::UnorderedElementsAre(
          "spec.hugepages: 3Mi is not a whole number of 2 MiB hugepages",
          "spec.agentsPerNode: a DaemonSet runs one agent per node; use mode Deployment for more",
          "spec.replicas: only for mode Deployment (a DaemonSet runs one agent per selected node)",
          // Nothing more under spec.scaling: it is refused as a whole.
          "spec.scaling: only for mode Deployment (a DaemonSet is not scaled)",
          "spec.image: \"bad image\" is not an image reference such as "
          "registry.example/netrig-agent:0.1.0",
          "spec.cpu: must be between 2 and 256 whole CPUs (a main lcore plus at least one "
          "worker), got 1",
          "spec.memory: 100Mi is below the 256Mi an agent needs",
          "spec.portNames[1]: \"West\" is not a valid port name: lowercase letters, digits and "
          "'-', at most 63 characters",
          "spec.portNames[2]: duplicate port name \"west\" (also spec.portNames[0])",
          "spec.sriovCount: 1 VFs for 3 ports (spec.portNames): each port needs its own VF",
          "spec.networks[1]: \"bad/ns/x\" is not a NetworkAttachmentDefinition reference: "
          "[namespace/]name[@interface]",
          "spec.networks: 2 networks for 3 ports (spec.portNames): one network per port, in port "
          "order",
          "spec.labels.pool: reserved: every agent gets pool=<the AgentPool's name>",
          "spec.serviceAccount: \"Bad_SA\" is not a valid ServiceAccount name",
          "spec.priorityClass: \"-x\" is not a valid PriorityClass name",
          "spec.extraArgs[0]: --lcores is set by the operator from the pod's cpuset (spec.cpu)",
          "spec.extraArgs[1]: empty argument",
          "spec.extraArgs[2]: --controller is set by the operator from its --controller-address"));
  Parsed<v1::AgentPool> q = ParseAgentPool(
      "apiVersion: netrig.io/v1alpha1\nkind: AgentPool\nmetadata: {name: a}\n"
      "spec: {mode: daemonset, hugepageSize: 4Ki, scaling: {minReplicas: 1}}\n");
  EXPECT_THAT(Strings(q.errors),
              ::testing::UnorderedElementsAre(
                  "spec.mode: unknown mode \"daemonset\" (did you mean DaemonSet?); expected "
                  "one of Deployment, DaemonSet",
                  "spec.hugepageSize: unknown hugepage size \"4Ki\"; expected one of 1Gi, 2Mi",
                  "spec.scaling.maxReplicas: required (at least 1)"));
  Parsed<v1::AgentPool> r = ParseAgentPool(
      "apiVersion: netrig.io/v1alpha1\nkind: AgentPool\nmetadata: {name: a}\n"
      "spec: {sriovResource: a.io/vf, scaling: {minReplicas: 5, maxReplicas: 2, "
      "queuedRunsPerAgent: 0}}\n");
  EXPECT_THAT(Strings(r.errors),
              ElementsAre("spec.scaling.minReplicas: 5 is above maxReplicas 2",
                          "spec.scaling.queuedRunsPerAgent: must be at least 1"));
}

TEST(AgentPoolTest, KubernetesFieldWarnings) {
  Parsed<v1::AgentPool> p = ParseAgentPool(
      "apiVersion: netrig.io/v1alpha1\nkind: AgentPool\nmetadata: {name: a}\n"
      "spec: {replicas: 2, scaling: {maxReplicas: 3}}\n");
  EXPECT_THAT(Strings(p.errors), IsEmpty());
  EXPECT_THAT(Strings(p.warnings),
              ::testing::UnorderedElementsAre(
                  "spec.sriovResource: not set: the agents get no ports unless spec.extraArgs "
                  "give --port",
                  "spec.replicas: ignored: spec.scaling sets the number of agents"));
  Parsed<v1::AgentPool> q = ParseAgentPool(
      "apiVersion: netrig.io/v1alpha1\nkind: AgentPool\nmetadata: {name: a}\n"
      "spec: {extraArgs: [--port, \"name=p0,pmd=net_af_packet,iface=eth0\"]}\n");
  EXPECT_THAT(Strings(q.errors), IsEmpty());
  EXPECT_THAT(Strings(q.warnings), IsEmpty());
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
              ElementsAre("spec.kind: unknown SUT kind \"vm\"; expected one of netns, pod, kubevirt",
                          "spec.events[1]: \"Link-Down\" is not a valid event name: lowercase "
                          "letters, digits and '-'",
                          "spec.events[2]: duplicate event \"reboot\" (also spec.events[0])",
                          "spec.parameters.9lives: parameter names start with a letter"));
}

TEST(SutTemplateTest, NetnsNeedsARecipe) {
  Parsed<v1::SutTemplate> t = ParseSutTemplate(
      "apiVersion: netrig.io/v1alpha1\nkind: SutTemplate\nmetadata: {name: x}\n"
      "spec: {kind: netns}\n");
  EXPECT_THAT(Strings(t.errors),
              ElementsAre("spec.recipe: required for kind netns (the built-in recipe to run)"));
}

constexpr char kPodSutTemplate[] = R"(apiVersion: netrig.io/v1alpha1
kind: SutTemplate
metadata: {name: k8s-router}
spec:
  kind: pod
  parameters: {mtu: "1500"}
  readyTimeout: 90s
  pod:
    image: debian:bookworm-slim
    command: [sh, -c]
    args: [exec sleep infinity]
    networks: [sut-west, lab/sut-east, sut.net-3]
    resources: {cpu: 500m, memory: 256Mi, hugepages-1Gi: 2Gi, intel.com/sriov_netdevice: "2",
                ephemeral-storage: 1e9}
    nodeSelector: {netrig.io/sut: "true"}
    env: {MODE: router, my.var-1: x}
    privileged: true
)";

TEST(SutTemplateTest, PodTemplateNeedsOnlyAnImage) {
  Parsed<v1::SutTemplate> t = ParseSutTemplate(kPodSutTemplate);
  EXPECT_THAT(Strings(t.errors), IsEmpty());
  EXPECT_THAT(Strings(t.warnings), IsEmpty());
  EXPECT_EQ(t.object.spec().pod().networks(1), "lab/sut-east");
  EXPECT_EQ(t.object.spec().pod().resources().at("cpu"), "500m");
  Parsed<v1::SutTemplate> minimal = ParseSutTemplate(
      "apiVersion: netrig.io/v1alpha1\nkind: SutTemplate\nmetadata: {name: x}\n"
      "spec: {kind: pod, pod: {image: busybox}}\n");
  EXPECT_THAT(Strings(minimal.errors), IsEmpty()) << "no recipe needed for kind pod";
}

TEST(SutTemplateTest, PodTemplateRules) {
  Parsed<v1::SutTemplate> t = ParseSutTemplate(R"(apiVersion: netrig.io/v1alpha1
kind: SutTemplate
metadata: {name: x}
spec:
  kind: pod
  readyTimeout: soon
  pod:
    networks: [Sut_West, a/b/c, "/x", ok]
    resources: {cpu: two, memory: -1Gi, "bad key!": "1", gpu: 1Zi}
    nodeSelector: {zone: "not valid!"}
    env: {1ABC: x, NETRIG_PARAM_MTU: "9000", "A B": y}
)");
  EXPECT_THAT(Strings(t.errors),
              ::testing::UnorderedElementsAre(
                  "spec.pod.image: required for kind pod (the SUT's container image)",
                  "spec.pod.networks[0]: \"Sut_West\" is not a network attachment name: <name> "
                  "or <namespace>/<name>, lowercase letters, digits, '-' and '.'",
                  "spec.pod.networks[1]: \"a/b/c\" is not a network attachment name: <name> or "
                  "<namespace>/<name>, lowercase letters, digits, '-' and '.'",
                  "spec.pod.networks[2]: \"/x\" is not a network attachment name: <name> or "
                  "<namespace>/<name>, lowercase letters, digits, '-' and '.'",
                  "spec.pod.resources.cpu: expected a quantity such as 2, 500m, 512Mi or 1Gi, "
                  "got \"two\"",
                  "spec.pod.resources.memory: expected a quantity such as 2, 500m, 512Mi or 1Gi, "
                  "got \"-1Gi\"",
                  "spec.pod.resources.gpu: expected a quantity such as 2, 500m, 512Mi or 1Gi, "
                  "got \"1Zi\"",
                  ::testing::StartsWith("spec.pod.resources[\"bad key!\"]: invalid resource name: "),
                  ::testing::StartsWith("spec.pod.nodeSelector.zone: invalid value \"not valid!\""),
                  "spec.pod.env.1ABC: \"1ABC\" is not a valid environment variable name: "
                  "letters, digits, '_', '-' and '.', not starting with a digit",
                  ::testing::StartsWith("spec.pod.env[\"A B\"]: \"A B\" is not a valid environment"),
                  "spec.pod.env.NETRIG_PARAM_MTU: the NETRIG_PARAM_ prefix is reserved for the "
                  "template parameters",
                  ::testing::StartsWith("spec.readyTimeout: ")));
}

TEST(SutTemplateTest, KubevirtTemplateRules) {
  Parsed<v1::SutTemplate> ok = ParseSutTemplate(R"(apiVersion: netrig.io/v1alpha1
kind: SutTemplate
metadata: {name: vm}
spec:
  kind: kubevirt
  vm: {containerDisk: "quay.io/containerdisks/debian:12", cpus: 4, memory: 4Gi,
       networks: [sriov-west, lab/sriov-east], cloudInit: "#cloud-config\n"}
)");
  EXPECT_THAT(Strings(ok.errors), IsEmpty());
  Parsed<v1::SutTemplate> bad = ParseSutTemplate(R"(apiVersion: netrig.io/v1alpha1
kind: SutTemplate
metadata: {name: vm}
spec:
  kind: kubevirt
  vm: {cpus: 0, memory: lots, networks: [UPPER]}
  pod: {image: busybox}
)");
  EXPECT_THAT(Strings(bad.errors),
              ::testing::UnorderedElementsAre(
                  "spec.vm.containerDisk: required for kind kubevirt (the root disk image)",
                  "spec.vm.cpus: must be between 1 and 256, got 0",
                  ::testing::StartsWith("spec.vm.memory: "),
                  ::testing::StartsWith("spec.vm.networks[0]: \"UPPER\" is not a network")));
  EXPECT_THAT(Strings(bad.warnings),
              ElementsAre("spec.pod: ignored: only used with kind pod, not \"kubevirt\""));
  Parsed<v1::SutTemplate> spaced = ParseSutTemplate(R"(apiVersion: netrig.io/v1alpha1
kind: SutTemplate
metadata: {name: vm}
spec: {kind: kubevirt, vm: {containerDisk: "my image"}}
)");
  EXPECT_THAT(Strings(spaced.errors),
              ElementsAre("spec.vm.containerDisk: \"my image\" is not an image reference (no "
                          "whitespace allowed)"));
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
