// The REST/JSON mapping of the user API on a real HTTP server (loopback, port picked by the
// kernel): bad input gets clear errors with the right HTTP status, and nothing crashes.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "controller/api/controller_service.h"
#include "controller/store/memory_store.h"

namespace netrig::controller::api {
namespace {

using nlohmann::json;

std::string Example() {
  std::ifstream in(std::string(NETRIG_SOURCE_DIR) + "/examples/rfc2544-quickstart.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class RestApiTest : public ::testing::Test {
 protected:
  RestApiTest() {
    store_ = std::move(*store::MemoryStore::Create());
    runs_ = std::make_unique<RunService>(*store_, registry_, coordinator_);
    rest_ = std::make_unique<RestServer>(*runs_);
    auto port = rest_->Start("127.0.0.1", 0);
    EXPECT_TRUE(port.ok()) << port.status();
    port_ = port.ok() ? *port : 0;
  }
  ~RestApiTest() override {
    rest_->Stop();
    runs_->Stop();
  }
  std::pair<int, json> Call(const std::string& method, const std::string& path,
                            const std::string& body = "") {
    httplib::Client c("127.0.0.1", port_);
    auto r = method == "GET" ? c.Get(path.c_str()) : c.Post(path.c_str(), body, "application/json");
    if (!r) return {0, json()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }

  std::unique_ptr<store::MemoryStore> store_;
  agents::AgentRegistry registry_{absl::Seconds(3)};
  agents::TrialCoordinator coordinator_{registry_, {}};
  std::unique_ptr<RunService> runs_;
  std::unique_ptr<RestServer> rest_;
  int port_ = 0;
};

TEST_F(RestApiTest, SubmitGetListCancel) {
  auto [st, run] = Call("POST", "/v1/runs", json{{"document", Example()}}.dump());
  ASSERT_EQ(st, 200) << run.dump();
  const std::string id = run["id"];
  EXPECT_EQ(run["test_run"]["status"]["phase"], "Pending");
  EXPECT_EQ(Call("GET", "/v1/runs/" + id).second["id"], id);
  EXPECT_EQ(Call("GET", "/v1/runs").second["runs"].size(), 1u);
  auto [cst, cancelled] = Call("POST", "/v1/runs/" + id + ":cancel", R"({"reason": "test"})");
  EXPECT_EQ(cst, 200);
  EXPECT_EQ(cancelled["test_run"]["status"]["phase"], "Cancelled");
  auto [again, err] = Call("POST", "/v1/runs/" + id + ":cancel", "{}");
  EXPECT_EQ(again, 412);
  EXPECT_EQ(err["code"], "FAILED_PRECONDITION");
  EXPECT_NE(err["message"].get<std::string>().find("already finished"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/runs/" + id + "/results").first, 200);
}

TEST_F(RestApiTest, InvalidSpecReturnsEveryFieldError) {
  std::string doc = Example();
  const std::string sizes = "frameSizes: [256, 512, 1518]";
  doc.replace(doc.find(sizes), sizes.size(), "frameSizes: [20, 512, 512]");
  auto [vst, v] = Call("POST", "/v1/runs:validate", json{{"document", doc}}.dump());
  EXPECT_EQ(vst, 200);
  EXPECT_EQ(v.value("valid", true), false);
  ASSERT_EQ(v["errors"].size(), 2u) << v.dump();
  EXPECT_EQ(v["errors"][0]["path"], "spec.benchmark.rfc2544.frameSizes[0]");
  auto [st, err] = Call("POST", "/v1/runs", json{{"document", doc}}.dump());
  EXPECT_EQ(st, 400);
  EXPECT_EQ(err["code"], "INVALID_ARGUMENT");
  const std::string msg = err["message"];
  EXPECT_NE(msg.find("frameSizes[0]: 20 is below the 64-byte minimum"), std::string::npos) << msg;
  EXPECT_NE(msg.find("frameSizes[2]: duplicate frame size 512"), std::string::npos) << msg;
  EXPECT_EQ(Call("GET", "/v1/runs").second["runs"].size(), 0u);  // nothing stored
}

TEST_F(RestApiTest, BadRequestsGetClearErrors) {
  auto [s1, e1] = Call("GET", "/v1/runs/no-such-run");
  EXPECT_EQ(s1, 404);
  EXPECT_EQ(e1["message"], "run no-such-run not found");
  auto [s2, e2] = Call("POST", "/v1/runs", "{not json");
  EXPECT_EQ(s2, 400);
  EXPECT_NE(e2["message"].get<std::string>().find("request body"), std::string::npos);
  auto [s3, e3] = Call("POST", "/v1/runs", R"({"documnet": "x"})");
  EXPECT_EQ(s3, 400) << e3.dump();
  auto [s4, e4] = Call("GET", "/v1/nothing-here");
  EXPECT_EQ(s4, 404);
  EXPECT_NE(e4["message"].get<std::string>().find("no such endpoint"), std::string::npos);
  auto [s5, e5] = Call("POST", "/v1/runs", json{{"document", "kind: [unclosed"}}.dump());
  EXPECT_EQ(s5, 400);
  // Still serving.
  EXPECT_EQ(Call("GET", "/v1/agents").first, 200);
}

}  // namespace
}  // namespace netrig::controller::api
