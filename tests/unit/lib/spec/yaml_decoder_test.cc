#include "lib/spec/yaml_decoder.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/netrig/v1/testrun.pb.h"

namespace netrig::spec {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Strings(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const FieldError& e : errors) out.push_back(e.ToString());
  return out;
}

std::vector<std::string> Decode(const std::string& yaml, google::protobuf::Message* msg,
                                const DecodeOptions& options = {}) {
  return Strings(YamlToMessage(YAML::Load(yaml), msg, "", options));
}

TEST(YamlDecoderTest, FillsScalarsListsMapsAndNestedMessages) {
  v1::TestRun run;
  EXPECT_THAT(Decode(R"(
apiVersion: netrig.io/v1alpha1
metadata: {name: a, labels: {app: x, "app.kubernetes.io/name": y}}
spec:
  ports: [{name: west, agent: {pool: p}}]
  benchmark:
    rfc2544: {frameSizes: [64, "128"], resolution: 0.5, traffic: [{from: a, flows: 7, bidirectional: true}]}
status: {observedGeneration: "3", reportURL: http://x}
)", &run),
              IsEmpty());
  EXPECT_EQ(run.api_version(), "netrig.io/v1alpha1");
  EXPECT_EQ(run.metadata().labels().at("app.kubernetes.io/name"), "y");
  EXPECT_EQ(run.spec().ports(0).agent().pool(), "p");
  const v1::Rfc2544& r = run.spec().benchmark().rfc2544();
  EXPECT_THAT(r.frame_sizes(), ElementsAre(64u, 128u));
  EXPECT_TRUE(r.has_resolution());
  EXPECT_DOUBLE_EQ(r.resolution(), 0.5);
  EXPECT_FALSE(r.has_max_rate());
  EXPECT_EQ(r.traffic(0).flows(), 7u);
  EXPECT_TRUE(r.traffic(0).bidirectional());
  EXPECT_EQ(run.status().observed_generation(), 3);
  EXPECT_EQ(run.status().report_url(), "http://x");  // explicit json_name
}

TEST(YamlDecoderTest, UnknownFieldSuggestsTheClosestName) {
  v1::TestRun run;
  EXPECT_THAT(Decode("spec: {benchmark: {rfc2544: {frameSize: [64]}}}", &run),
              ElementsAre("spec.benchmark.rfc2544.frameSize: unknown field (did you mean frameSizes?)"));
}

TEST(YamlDecoderTest, UnknownFieldWithoutCloseMatchListsKnownFields) {
  v1::TestRun run;
  EXPECT_THAT(Decode("spec: {sut: {whatever: 1}}", &run),
              ElementsAre("spec.sut.whatever: unknown field (known fields: template, static, "
                          "version, parameters)"));
}

TEST(YamlDecoderTest, ProtoNamesOnlyWhenAllowed) {
  v1::TestRun run;
  EXPECT_THAT(Decode("spec: {benchmark: {rfc2544: {frame_sizes: [64]}}}", &run),
              ElementsAre("spec.benchmark.rfc2544.frame_sizes: unknown field (did you mean "
                          "frameSizes?)"));
  DecodeOptions options;
  options.accept_proto_names = true;
  v1::TestRun run2;
  EXPECT_THAT(Decode("spec: {benchmark: {rfc2544: {frame_sizes: [64]}}}", &run2, options), IsEmpty());
  EXPECT_EQ(run2.spec().benchmark().rfc2544().frame_sizes(0), 64u);
}

TEST(YamlDecoderTest, WrongTypesAreReportedWithWhatWasFound) {
  v1::TestRun run;
  EXPECT_THAT(Decode(R"(
spec:
  ports: west
  sut: [a]
  budget: {a: 1}
  benchmark:
    rfc2544:
      frameSizes: [64, abc, -1, 99999999999, 1.5]
      resolution: 5%
      maxRate: x
      traffic: [{bidirectional: yes, flows: {}}]
)", &run),
              ElementsAre(
                  "spec.ports: expected a list, got \"west\"",
                  "spec.sut: expected a mapping, got a list",
                  "spec.budget: expected a string, got a mapping",
                  "spec.benchmark.rfc2544.frameSizes[1]: expected a non-negative integer, got \"abc\"",
                  "spec.benchmark.rfc2544.frameSizes[2]: expected a non-negative integer, got -1",
                  "spec.benchmark.rfc2544.frameSizes[3]: 99999999999 is out of range (maximum 4294967295)",
                  "spec.benchmark.rfc2544.frameSizes[4]: expected a non-negative integer, got \"1.5\"",
                  "spec.benchmark.rfc2544.resolution: expected a number, got \"5%\" (write "
                  "percentages as plain numbers, without %)",
                  "spec.benchmark.rfc2544.maxRate: expected a number, got \"x\"",
                  "spec.benchmark.rfc2544.traffic[0].bidirectional: expected true or false, got \"yes\"",
                  "spec.benchmark.rfc2544.traffic[0].flows: expected a non-negative integer, got a mapping"));
}

TEST(YamlDecoderTest, DuplicateKeysAndOneofConflicts) {
  v1::TestRun run;
  EXPECT_THAT(Decode(R"(
metadata: {name: a, name: b}
spec:
  sut: {template: t, static: {name: s}}
  benchmark: {rfc2544: {}, rfc3918: {}}
)", &run),
              ElementsAre("metadata.name: duplicate key",
                          "spec.sut.static: cannot be set together with template (only one of them)",
                          "spec.benchmark.rfc3918: cannot be set together with rfc2544 (only one of them)"));
  EXPECT_EQ(run.metadata().name(), "a");
  EXPECT_EQ(run.spec().sut().template_(), "t");
}

TEST(YamlDecoderTest, NullLeavesFieldsUnsetButNullListItemsAreErrors) {
  v1::TestRun run;
  EXPECT_THAT(Decode("spec: {budget: ~, sut: , ports: [~], benchmark: {rfc2544: {frameSizes: [~]}}}", &run),
              ElementsAre("spec.ports[0]: expected a mapping, got null",
                          "spec.benchmark.rfc2544.frameSizes[0]: expected a non-negative integer, got null"));
  EXPECT_FALSE(run.spec().has_sut());
}

TEST(YamlDecoderTest, MapEntriesHaveKeyPaths) {
  v1::TestRun run;
  EXPECT_THAT(Decode("metadata: {labels: {a: [1], \"x.io/y\": {}, b: ~}}", &run),
              ElementsAre("metadata.labels.a: expected a string, got a list",
                          "metadata.labels[\"x.io/y\"]: expected a string, got a mapping",
                          "metadata.labels.b: expected a value, got null"));
  EXPECT_TRUE(run.metadata().labels().empty());
}

TEST(YamlDecoderTest, NonScalarKeysAreErrors) {
  v1::TestRun run;
  EXPECT_THAT(Decode("? [a]\n: 1\n", &run),
              ElementsAre("mapping keys must be field names, got a list"));
}

TEST(YamlDecoderTest, PathPrefixIsPrepended) {
  v1::Rfc2544 r;
  EXPECT_THAT(Strings(YamlToMessage(YAML::Load("{tests: 1}"), &r, "spec.benchmark.rfc2544")),
              ElementsAre("spec.benchmark.rfc2544.tests: expected a list, got \"1\""));
}

TEST(YamlDecoderTest, StopsAfterMaxErrors) {
  std::string yaml = "spec: {benchmark: {rfc2544: {frameSizes: [";
  for (int i = 0; i < 50; ++i) yaml += "x,";
  yaml += "x]}}}";
  DecodeOptions options;
  options.max_errors = 10;
  v1::TestRun run;
  const std::vector<std::string> errors = Decode(yaml, &run, options);
  ASSERT_EQ(errors.size(), 11u);
  EXPECT_EQ(errors.back(), "too many errors; stopped after 10");
}

TEST(YamlDecoderTest, AliasBombHitsTheWorkLimit) {
  // 10 x 10 x 10 x 10 labels through aliases: small text, large tree.
  std::string yaml = "a: &a {";
  for (int i = 0; i < 10; ++i) yaml += "k" + std::to_string(i) + ": v,";
  yaml += "}\nb: &b [";
  for (int i = 0; i < 10; ++i) yaml += "{agent: {labels: *a}},";
  yaml += "]\nc: &c [";
  for (int i = 0; i < 10; ++i) yaml += "{spec: {ports: *b}},";
  yaml += "]\nspec: {runs: [";
  for (int i = 0; i < 10; ++i) yaml += "{spec: {ports: *b}},";
  yaml += "]}\n";
  v1::TestSuite suite;
  DecodeOptions options;
  options.max_nodes = 500;
  const std::vector<FieldError> errors = YamlToMessage(YAML::Load(yaml), &suite, "", options);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.back().message, "document too large: more than 500 values (check YAML aliases)");
}

TEST(YamlDecoderTest, RecordsPositionsAndPutsThemOnErrors) {
  SourceMap positions;
  DecodeOptions options;
  options.positions = &positions;
  v1::TestRun run;
  const std::vector<FieldError> errors = YamlToMessage(
      YAML::Load("metadata:\n  name: a\nspec:\n  budget: 5m\n  bogus: 1\n"), &run, "", options);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 5);
  EXPECT_EQ(errors[0].column, 3);
  EXPECT_EQ(positions.at("spec.budget").line, 4);
  EXPECT_EQ(positions.at("spec.budget").column, 11);
}

TEST(YamlDecoderTest, ScalarShorthandHook) {
  DecodeOptions options;
  options.scalar_shorthand = [](const YAML::Node& node, google::protobuf::Message* msg,
                                const std::string& path, std::vector<FieldError>* errors) {
    if (msg->GetDescriptor()->name() != "AgentSelector") return false;
    if (node.Scalar() == "bad") {
      errors->push_back(FieldError{path, "bad pool"});
    } else {
      static_cast<v1::AgentSelector*>(msg)->set_pool(node.Scalar());
    }
    return true;
  };
  v1::TestRun run;
  EXPECT_THAT(Decode("spec: {ports: [{agent: lab}, {agent: bad}], sut: x}", &run, options),
              ElementsAre("spec.ports[1].agent: bad pool", "spec.sut: expected a mapping, got \"x\""));
  EXPECT_EQ(run.spec().ports(0).agent().pool(), "lab");
}

TEST(YamlDecoderTest, DidYouMean) {
  const std::vector<std::string> names = {"throughput", "latency", "frameLoss", "backToBack"};
  EXPECT_EQ(DidYouMean("latncy", names), "latency");
  EXPECT_EQ(DidYouMean("framloss", names), "frameLoss");
  EXPECT_EQ(DidYouMean("FRAMELOSS", names), "frameLoss");
  EXPECT_EQ(DidYouMean("jitter", names), "");
  EXPECT_EQ(DidYouMean("latency", names), "");  // exact match: nothing to suggest
}

TEST(YamlDecoderTest, MapKeyPaths) {
  EXPECT_EQ(MapKeyPath("metadata.labels", "app"), "metadata.labels.app");
  EXPECT_EQ(MapKeyPath("metadata.labels", "a.b/c"), "metadata.labels[\"a.b/c\"]");
  EXPECT_EQ(JoinPath("", "spec"), "spec");
  EXPECT_EQ(IndexPath("spec.ports", 2), "spec.ports[2]");
}

}  // namespace
}  // namespace netrig::spec

namespace netrig::spec {
namespace {

TEST(YamlDecoderUtf8Test, InvalidUtf8StringsAreErrors) {
  v1::TestRun run;
  const std::vector<FieldError> errors =
      YamlToMessage(YAML::Load("metadata: {name: \"ok-\xc3\xa9\", namespace: \"\xff\xfe\"}"), &run, "");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(), "metadata.namespace: is not valid UTF-8 text");
  EXPECT_EQ(run.metadata().name(), "ok-\xc3\xa9");
}

}  // namespace
}  // namespace netrig::spec
