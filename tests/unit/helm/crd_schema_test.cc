// The CRDs in helm/netrig/crds/ against the protobuf messages they mirror
// (proto/netrig/v1/testrun.proto): every field of spec and status, recursively through nested
// messages, maps, repeated fields and oneofs, is in the schema under its proto3 JSON name with a
// compatible type, and the schema has no property the proto lacks. Plus the CRD shape the chart
// and kubectl rely on: names, scope, version, status subresource, printer columns.
#include <functional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <yaml-cpp/yaml.h>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/netrig/v1/testrun.pb.h"

namespace netrig {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

struct Crd {
  std::string file;        // helm/netrig/crds/<file>
  std::string kind;
  std::string plural;
  std::string short_name;
  const Descriptor* message;
  std::vector<std::string> columns;  // additionalPrinterColumns names, in order
};

void PrintTo(const Crd& crd, std::ostream* os) { *os << crd.kind; }

std::vector<Crd> AllCrds() {
  return {
      {"testruns.yaml", "TestRun", "testruns", "tr", v1::TestRun::descriptor(),
       {"Phase", "Verdict", "Progress", "SUT", "Level", "Age"}},
      {"testsuites.yaml", "TestSuite", "testsuites", "ts", v1::TestSuite::descriptor(),
       {"Level", "Schedule", "Last Verdict", "Age"}},
      {"agentpools.yaml", "AgentPool", "agentpools", "ap", v1::AgentPool::descriptor(),
       {"Mode", "Desired", "Ready", "Age"}},
      {"suttemplates.yaml", "SutTemplate", "suttemplates", "st", v1::SutTemplate::descriptor(),
       {"Kind", "Age"}},
  };
}

YAML::Node LoadCrd(const std::string& file) {
  return YAML::LoadFile(std::string(NETRIG_SOURCE_DIR) + "/helm/netrig/crds/" + file);
}

std::string TypeOf(const YAML::Node& schema) {
  return schema["type"] ? schema["type"].as<std::string>() : "";
}

// Walks a proto message and its schema side by side, collecting every difference as
// "<path>: <what>" so that one run lists all of them.
class SchemaComparer {
 public:
  std::vector<std::string> Compare(const Descriptor& message, const YAML::Node& schema,
                                   const std::string& path) {
    Message(message, schema, path);
    return problems_;
  }

 private:
  void Message(const Descriptor& message, const YAML::Node& schema, const std::string& path) {
    if (TypeOf(schema) != "object") {
      Problem(path, "type is \"" + TypeOf(schema) + "\", want object for " + message.full_name());
      return;
    }
    const YAML::Node props = schema["properties"];
    std::set<std::string> expected;
    for (int i = 0; i < message.field_count(); ++i) {
      const FieldDescriptor& field = *message.field(i);
      expected.insert(field.json_name());
      const std::string field_path = path + "." + field.json_name();
      if (!props || !props[field.json_name()]) {
        Problem(field_path, "missing from the schema (proto field " + field.full_name() + ")");
        continue;
      }
      Field(field, props[field.json_name()], field_path);
    }
    if (props) {
      for (const auto& entry : props) {
        const std::string name = entry.first.as<std::string>();
        if (expected.count(name) == 0) {
          Problem(path + "." + name, "in the schema but not in " + message.full_name());
        }
      }
    }
  }

  void Field(const FieldDescriptor& field, const YAML::Node& schema, const std::string& path) {
    if (field.is_map()) {
      if (TypeOf(schema) != "object" || !schema["additionalProperties"]) {
        Problem(path, "a map must be an object with additionalProperties");
        return;
      }
      Value(*field.message_type()->map_value(), schema["additionalProperties"], path + "[*]");
      return;
    }
    if (field.is_repeated()) {
      if (TypeOf(schema) != "array" || !schema["items"]) {
        Problem(path, "a repeated field must be an array with items");
        return;
      }
      Value(field, schema["items"], path + "[*]");
      return;
    }
    Value(field, schema, path);
  }

  // One value of `field` (an element, for repeated fields and maps).
  void Value(const FieldDescriptor& field, const YAML::Node& schema, const std::string& path) {
    std::string want;
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
      case FieldDescriptor::CPPTYPE_ENUM:
        want = "string";
        break;
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64:
        want = "integer";
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT:
        want = "number";
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        want = "boolean";
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        Message(*field.message_type(), schema, path);
        return;
    }
    if (TypeOf(schema) != want) {
      Problem(path, "type is \"" + TypeOf(schema) + "\", want " + want + " for " +
                        field.type_name());
      return;
    }
    const bool is_unsigned = field.cpp_type() == FieldDescriptor::CPPTYPE_UINT32 ||
                             field.cpp_type() == FieldDescriptor::CPPTYPE_UINT64;
    if (is_unsigned && (!schema["minimum"] || schema["minimum"].as<double>() < 0)) {
      Problem(path, "an unsigned proto field needs minimum >= 0");
    }
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_UINT32 && schema["maximum"] &&
        schema["maximum"].as<double>() > 4294967295.0) {
      Problem(path, "maximum is above the uint32 range");
    }
  }

  void Problem(const std::string& path, const std::string& what) {
    problems_.push_back(path + ": " + what);
  }

  std::vector<std::string> problems_;
};

// Every schema node under `node` (properties, items, additionalProperties), with its path.
void Walk(const YAML::Node& node, const std::string& path,
          const std::function<void(const YAML::Node&, const std::string&)>& visit) {
  visit(node, path);
  if (node["properties"]) {
    for (const auto& entry : node["properties"]) {
      Walk(entry.second, path + "." + entry.first.as<std::string>(), visit);
    }
  }
  if (node["items"]) Walk(node["items"], path + "[*]", visit);
  if (node["additionalProperties"] && node["additionalProperties"].IsMap()) {
    Walk(node["additionalProperties"], path + "[*]", visit);
  }
}

// The schema node a printer column's jsonPath (".spec.sut.template") points to; Null when the
// path leaves the schema.
YAML::Node Resolve(const YAML::Node& root, const std::string& json_path) {
  YAML::Node node = YAML::Clone(root);
  std::stringstream parts(json_path.substr(1));
  std::string part;
  while (std::getline(parts, part, '.')) {
    if (!node["properties"] || !node["properties"][part]) return YAML::Node(YAML::NodeType::Null);
    node = YAML::Clone(node["properties"][part]);
  }
  return node;
}

class CrdSchemaTest : public ::testing::TestWithParam<Crd> {
 protected:
  void SetUp() override {
    crd_ = LoadCrd(GetParam().file);
    ASSERT_TRUE(crd_["spec"]["versions"]) << GetParam().file;
    version_ = crd_["spec"]["versions"][0];
    schema_ = version_["schema"]["openAPIV3Schema"];
    ASSERT_TRUE(schema_) << GetParam().file;
  }

  YAML::Node crd_, version_, schema_;
};

TEST_P(CrdSchemaTest, NamesScopeAndVersion) {
  const Crd& c = GetParam();
  EXPECT_EQ(crd_["apiVersion"].as<std::string>(), "apiextensions.k8s.io/v1");
  EXPECT_EQ(crd_["kind"].as<std::string>(), "CustomResourceDefinition");
  EXPECT_EQ(crd_["metadata"]["name"].as<std::string>(), c.plural + ".netrig.io");
  EXPECT_EQ(crd_["spec"]["group"].as<std::string>(), "netrig.io");
  EXPECT_EQ(crd_["spec"]["scope"].as<std::string>(), "Namespaced");
  const YAML::Node names = crd_["spec"]["names"];
  EXPECT_EQ(names["kind"].as<std::string>(), c.kind);
  EXPECT_EQ(names["plural"].as<std::string>(), c.plural);
  EXPECT_THAT(names["shortNames"].as<std::vector<std::string>>(), ElementsAre(c.short_name));
  EXPECT_THAT(names["categories"].as<std::vector<std::string>>(), ElementsAre("netrig"));
  ASSERT_EQ(crd_["spec"]["versions"].size(), 1u);
  EXPECT_EQ(version_["name"].as<std::string>(), "v1alpha1");
  EXPECT_TRUE(version_["served"].as<bool>());
  EXPECT_TRUE(version_["storage"].as<bool>());
}

TEST_P(CrdSchemaTest, HasTheStatusSubresource) {
  ASSERT_TRUE(version_["subresources"]) << GetParam().file;
  EXPECT_TRUE(version_["subresources"]["status"].IsMap()) << GetParam().file;
}

TEST_P(CrdSchemaTest, TopLevelIsTheKubernetesObjectShape) {
  EXPECT_EQ(TypeOf(schema_), "object");
  const YAML::Node props = schema_["properties"];
  EXPECT_EQ(TypeOf(props["apiVersion"]), "string");
  EXPECT_EQ(TypeOf(props["kind"]), "string");
  EXPECT_EQ(TypeOf(props["metadata"]), "object");
  EXPECT_THAT(schema_["required"].as<std::vector<std::string>>(), ElementsAre("spec"));
  // The proto's top-level fields are exactly apiVersion, kind, metadata, spec (and status).
  std::set<std::string> proto_fields, schema_fields;
  for (int i = 0; i < GetParam().message->field_count(); ++i) {
    proto_fields.insert(GetParam().message->field(i)->json_name());
  }
  for (const auto& entry : props) schema_fields.insert(entry.first.as<std::string>());
  EXPECT_EQ(schema_fields, proto_fields);
}

TEST_P(CrdSchemaTest, SpecMatchesTheProto) {
  const FieldDescriptor* spec = GetParam().message->FindFieldByName("spec");
  ASSERT_NE(spec, nullptr);
  EXPECT_THAT(SchemaComparer().Compare(*spec->message_type(), schema_["properties"]["spec"], "spec"),
              IsEmpty());
}

TEST_P(CrdSchemaTest, StatusMatchesTheProto) {
  const FieldDescriptor* status = GetParam().message->FindFieldByName("status");
  if (status == nullptr) {
    EXPECT_FALSE(schema_["properties"]["status"])
        << GetParam().kind << " has no status message in the proto, so no status schema";
    return;
  }
  ASSERT_TRUE(schema_["properties"]["status"]);
  EXPECT_THAT(
      SchemaComparer().Compare(*status->message_type(), schema_["properties"]["status"], "status"),
      IsEmpty());
}

// Structural schema rules the API server enforces, checked here so that a mistake shows up
// without a cluster: every node has a type, nothing keeps unknown fields, every CEL rule
// explains itself.
TEST_P(CrdSchemaTest, SchemaIsStructuralAndPrunesUnknownFields) {
  std::vector<std::string> problems;
  Walk(schema_, "", [&](const YAML::Node& node, const std::string& path) {
    if (TypeOf(node).empty()) problems.push_back(path + ": no type");
    if (node["x-kubernetes-preserve-unknown-fields"]) {
      problems.push_back(path + ": x-kubernetes-preserve-unknown-fields");
    }
    if (node["x-kubernetes-validations"]) {
      for (const auto& rule : node["x-kubernetes-validations"]) {
        if (!rule["rule"] || !rule["message"]) {
          problems.push_back(path + ": a validation rule without rule or message");
        }
      }
    }
    // Empty objects are the proto's placeholder messages (Rfc3918 {}...) and metadata.
    const bool placeholder = absl::EndsWith(path, ".rfc3918") || absl::EndsWith(path, ".rfc7640") ||
                             absl::EndsWith(path, ".convergence") || path == ".metadata";
    if (TypeOf(node) == "object" && !node["properties"] && !node["additionalProperties"] &&
        !placeholder) {
      problems.push_back(path + ": an object without properties accepts nothing");
    }
  });
  EXPECT_THAT(problems, IsEmpty());
}

TEST_P(CrdSchemaTest, PrinterColumnsPointIntoTheSchema) {
  const YAML::Node columns = version_["additionalPrinterColumns"];
  ASSERT_TRUE(columns) << GetParam().file;
  std::vector<std::string> names;
  for (const auto& column : columns) {
    const std::string name = column["name"].as<std::string>();
    const std::string path = column["jsonPath"].as<std::string>();
    names.push_back(name);
    if (path == ".metadata.creationTimestamp") {
      EXPECT_EQ(column["type"].as<std::string>(), "date") << name;
      continue;
    }
    const YAML::Node target = Resolve(schema_, path);
    ASSERT_TRUE(target.IsMap()) << name << ": " << path << " is not in the schema";
    EXPECT_EQ(column["type"].as<std::string>(), TypeOf(target)) << name << ": " << path;
  }
  EXPECT_THAT(names, ElementsAreArray(GetParam().columns));
}

INSTANTIATE_TEST_SUITE_P(AllKinds, CrdSchemaTest, ::testing::ValuesIn(AllCrds()),
                         [](const ::testing::TestParamInfo<Crd>& info) { return info.param.kind; });

// A TestSuite's runs[].spec is a TestRun spec: the same schema, node for node.
TEST(TestSuiteCrdTest, RunSpecIsTheTestRunSpecSchema) {
  const YAML::Node run_spec = LoadCrd("testruns.yaml")["spec"]["versions"][0]["schema"]
                                     ["openAPIV3Schema"]["properties"]["spec"];
  const YAML::Node suite_spec = LoadCrd("testsuites.yaml")["spec"]["versions"][0]["schema"]
                                       ["openAPIV3Schema"]["properties"]["spec"]["properties"]
                                       ["runs"]["items"]["properties"]["spec"];
  ASSERT_TRUE(run_spec.IsMap());
  ASSERT_TRUE(suite_spec.IsMap());
  YAML::Emitter a, b;
  a << run_spec;
  b << suite_spec;
  EXPECT_EQ(std::string(a.c_str()), std::string(b.c_str()));
}

YAML::Node Status(const std::string& file) {
  return LoadCrd(file)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"];
}

// metav1.Condition semantics: one condition per type (a list-type map), status True/False/Unknown.
TEST(TestRunCrdTest, ConditionsAreAListMapKeyedByType) {
  for (const std::string file : {"testruns.yaml", "testsuites.yaml", "agentpools.yaml"}) {
    const YAML::Node conditions = Status(file)["properties"]["conditions"];
    ASSERT_TRUE(conditions.IsMap()) << file;
    EXPECT_EQ(conditions["x-kubernetes-list-type"].as<std::string>(), "map") << file;
    EXPECT_THAT(conditions["x-kubernetes-list-map-keys"].as<std::vector<std::string>>(),
                ElementsAre("type"))
        << file;
    const YAML::Node item = conditions["items"];
    EXPECT_THAT(item["required"].as<std::vector<std::string>>(),
                UnorderedElementsAre("type", "status"))
        << file;
    EXPECT_THAT(item["properties"]["status"]["enum"].as<std::vector<std::string>>(),
                ElementsAre("True", "False", "Unknown"))
        << file;
    EXPECT_EQ(item["properties"]["lastTransitionTime"]["format"].as<std::string>(), "date-time");
  }
}

TEST(TestRunCrdTest, VerdictAndPhaseAreTypedEnums) {
  const YAML::Node status = Status("testruns.yaml")["properties"];
  EXPECT_THAT(status["verdict"]["enum"].as<std::vector<std::string>>(),
              ElementsAre("Pass", "Fail", "Regressed", "Inconclusive"));
  EXPECT_THAT(status["phase"]["enum"].as<std::vector<std::string>>(),
              ElementsAre("Pending", "Scheduled", "Running", "Succeeded", "Failed", "Cancelled",
                          "Interrupted"));
}

}  // namespace
}  // namespace netrig
