// The SutTemplate resources in sut/templates/ parse and validate with no errors or warnings,
// and the parameter defaults they document are the ones the netns provider applies.
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_replace.h"
#include "controller/sut/netns_plan.h"
#include "lib/spec/testrun.h"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SutTemplateFileTest : public ::testing::TestWithParam<const char*> {};

TEST_P(SutTemplateFileTest, ParsesWithoutErrors) {
  const std::string name = GetParam();
  const std::string text = ReadFile(std::string(NETRIG_SOURCE_DIR) + "/sut/templates/" + name + ".yaml");
  ASSERT_FALSE(text.empty()) << "missing sut/templates/" << name << ".yaml";
  auto parsed = netrig::spec::ParseSutTemplate(text);
  for (const auto& e : parsed.errors) ADD_FAILURE() << e.ToString();
  for (const auto& w : parsed.warnings) ADD_FAILURE() << "warning: " << w.ToString();
  EXPECT_EQ(parsed.object.metadata().name(), name);
  EXPECT_EQ(parsed.object.spec().kind(), "netns");
  bool down = false, up = false;
  for (const auto& e : parsed.object.spec().events()) {
    down |= e == "link-down";
    up |= e == "link-up";
  }
  EXPECT_TRUE(down && up);
}

INSTANTIATE_TEST_SUITE_P(Templates, SutTemplateFileTest,
                         ::testing::Values("linux-router", "linux-shaper", "frr-router"));

// PlanInstance with no parameters and two links (the usual west/east topology) resolves exactly
// the defaults the file documents; the run-dependent hostname is written "nrsut-<run id>".
TEST_P(SutTemplateFileTest, DefaultsMatchTheProvider) {
  const std::string name = GetParam();
  auto parsed = netrig::spec::ParseSutTemplate(
      ReadFile(std::string(NETRIG_SOURCE_DIR) + "/sut/templates/" + name + ".yaml"));
  ASSERT_TRUE(parsed.ok());
  netrig::controller::sut::SutRequest r;
  r.run_id = "RUNID";
  r.template_name = name;
  r.links = {{.name = "west"}, {.name = "east"}};
  auto inst = netrig::controller::sut::PlanInstance(r);
  ASSERT_TRUE(inst.ok()) << inst.status();
  std::map<std::string, std::string> documented(parsed.object.spec().parameters().begin(),
                                                parsed.object.spec().parameters().end());
  std::map<std::string, std::string> applied;
  for (const auto& [k, v] : inst->parameters) {
    applied[k] = absl::StrReplaceAll(v, {{"nrsut-RUNID", "nrsut-<run id>"}});
  }
  EXPECT_EQ(documented, applied);
}

TEST(SutTemplateFile, ShaperDefaults) {
  auto parsed = netrig::spec::ParseSutTemplate(
      ReadFile(std::string(NETRIG_SOURCE_DIR) + "/sut/templates/linux-shaper.yaml"));
  ASSERT_TRUE(parsed.ok());
  const auto& p = parsed.object.spec().parameters();
  EXPECT_EQ(p.at("qdisc"), "tbf");
  EXPECT_EQ(p.at("rate"), "100mbit");
  EXPECT_EQ(p.at("burst"), "16kb");
  EXPECT_EQ(p.at("latency"), "10ms");
}

TEST(SutTemplateFile, FrrRouterDefaults) {
  auto parsed = netrig::spec::ParseSutTemplate(
      ReadFile(std::string(NETRIG_SOURCE_DIR) + "/sut/templates/frr-router.yaml"));
  ASSERT_TRUE(parsed.ok());
  const auto& p = parsed.object.spec().parameters();
  EXPECT_EQ(p.at("daemons"), "zebra,ospfd");
  EXPECT_EQ(p.at("waitFor"), "daemons");
  EXPECT_NE(p.at("config").find("router ospf\n"), std::string::npos);
}

}  // namespace
