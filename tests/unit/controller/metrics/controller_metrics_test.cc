#include "controller/metrics/controller_metrics.h"

#include <gtest/gtest.h>

#include "controller/metrics/grpc_metrics.h"
#include "controller/metrics/instrumented_store.h"
#include "controller/store/memory_store.h"
#include "lib/common/metrics_endpoint.h"

namespace netrig::controller::metrics {
namespace {

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

TEST(ControllerMetricsTest, LiveSeriesArePerRunStreamAndPortAndEndWithTheRun) {
  ControllerMetrics m("v", "memory");
  LiveStream s;
  s.stream = "west-east";
  s.port = "west";
  s.offered_fps = 1000;
  m.SetLive("r1", s);
  m.SetLive("r1", s);  // the same series again
  s.stream = "east-west";
  s.port = "east";
  m.SetLive("r1", s);
  m.SetProgress("r1", 0.5);
  std::string text = common::SerializeMetrics(*m.registry());
  EXPECT_EQ(Count(text, "netrig_run_stream_offered_frames_per_second{"), 2u);
  EXPECT_EQ(Count(text, "netrig_run_stream_latency_seconds{"), 6u);  // 3 quantiles x 2 streams
  EXPECT_EQ(Count(text, "netrig_run_progress_ratio{"), 1u);
  m.ClearRun("r1");
  text = common::SerializeMetrics(*m.registry());
  EXPECT_EQ(Count(text, "{run="), 0u) << text;
  EXPECT_EQ(text.find("run=\"r1\""), std::string::npos);
}

TEST(ControllerMetricsTest, AgentGaugesDropToZeroWhenAPoolEmpties) {
  ControllerMetrics m("v", "memory");
  v1::AgentInfo a;
  a.set_id("a1");
  a.set_state("available");
  (*a.mutable_capabilities()->mutable_labels())["pool"] = "lab";
  m.SetAgents({a});
  std::string text = common::SerializeMetrics(*m.registry());
  EXPECT_NE(text.find(R"(netrig_agents{pool="lab",state="available"} 1)"), std::string::npos) << text;
  m.SetAgents({});
  text = common::SerializeMetrics(*m.registry());
  EXPECT_NE(text.find(R"(netrig_agents{pool="lab",state="available"} 0)"), std::string::npos) << text;
}

TEST(ControllerMetricsTest, StoreCallsAreCountedAndConditionalFailuresAreNotErrors) {
  ControllerMetrics m("v", "memory");
  auto inner = store::MemoryStore::Create();
  ASSERT_TRUE(inner.ok());
  InstrumentedStore s(**inner, m);
  ASSERT_TRUE(s.Put("/k", "v").ok());
  EXPECT_TRUE(absl::IsAlreadyExists(s.Create("/k", "w").status()));
  EXPECT_TRUE(absl::IsNotFound(s.Get("/missing").status()));
  EXPECT_TRUE(s.Probe());
  const std::string text = common::SerializeMetrics(*m.registry());
  EXPECT_NE(text.find(R"(netrig_store_operations_total{operation="put",result="ok"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(netrig_store_operations_total{operation="create",result="ok"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(netrig_store_operations_total{operation="get",result="ok"} 2)"), std::string::npos) << text;
  // Error series exist from the first call, at 0 (rate() and increase() need them).
  EXPECT_NE(text.find(R"(netrig_store_operations_total{operation="create",result="error"} 0)"), std::string::npos);
  EXPECT_NE(text.find(R"(netrig_store_up{backend="memory"} 1)"), std::string::npos);
}

TEST(ControllerMetricsTest, AStartedRunCreatesItsOutcomeSeriesAtZero) {
  ControllerMetrics m("v", "memory");
  v1::Run run;
  run.set_id("r1");
  run.mutable_test_run()->mutable_metadata()->set_name("t");
  run.mutable_test_run()->mutable_spec()->set_level("L2");
  run.mutable_test_run()->mutable_spec()->mutable_sut()->set_template_("linux-router");
  run.mutable_test_run()->mutable_spec()->mutable_sut()->set_version("1.0");
  m.RunStarted(run);
  std::string text = common::SerializeMetrics(*m.registry());
  const std::string pass =
      R"(netrig_runs_total{level="L2",phase="Succeeded",suite="none",sut="linux-router",trigger="manual",verdict="Pass"})";
  EXPECT_NE(text.find(pass + " 0"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(netrig_regressions_detected_total{level="L2",suite="none",sut="linux-router"} 0)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(netrig_sut_versions_tested_total{sut="linux-router"} 0)"), std::string::npos);
  run.mutable_test_run()->mutable_status()->set_phase("Succeeded");
  run.mutable_test_run()->mutable_status()->set_verdict("Pass");
  m.RunFinished(run);
  m.RunFinished(run);  // counted once
  text = common::SerializeMetrics(*m.registry());
  EXPECT_NE(text.find(pass + " 1"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(netrig_sut_versions_tested_total{sut="linux-router"} 1)"), std::string::npos);
}

TEST(ControllerMetricsTest, GrpcMethodNamesSplit) {
  EXPECT_EQ(SplitGrpcMethod("/netrig.v1.ControllerService/SubmitRun"),
            (std::pair<std::string, std::string>{"netrig.v1.ControllerService", "SubmitRun"}));
  EXPECT_EQ(SplitGrpcMethod("garbage").first, "unknown");
  EXPECT_STREQ(GrpcCodeName(5), "NOT_FOUND");
  EXPECT_STREQ(GrpcCodeName(99), "UNKNOWN");
}

}  // namespace
}  // namespace netrig::controller::metrics
