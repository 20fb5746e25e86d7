// Rendering of the agent's /metrics (docs/metrics.md, "Agent metrics") from a plain sample,
// and the monotonic rebasing of PMD counters. No DPDK: the sample is built by hand.
#include "agent/control/agent_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>

#include "prometheus/text_serializer.h"

namespace netrig::agent::control {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Text(const AgentMetricsSample& sample) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, RenderAgentMetrics(sample));
  return out.str();
}

AgentMetricsSample TwoPortSample() {
  AgentMetricsSample s;
  s.version = "1.2.3";
  s.session_state = SessionState::kRunning;
  s.trials_completed = 4;
  s.trials_interrupted = 1;
  s.trials_refused = 2;
  RuntimeSample::Port west;
  west.name = "west";
  west.pmd = "net_af_packet";
  west.device = "veth0";
  west.speed_bps = 10'000'000'000u;
  west.stats = io::PortStats{.tx_packets = 100,
                             .tx_bytes = 6000,
                             .rx_packets = 7,
                             .rx_bytes = 420,
                             .rx_missed = 3,
                             .rx_errors = 2,
                             .tx_errors = 1,
                             .rx_mbuf_allocation_errors = 5};
  RuntimeSample::Port east = west;
  east.name = "east";
  east.device = "veth1";
  east.stats.reset();  // unreadable: no counters, but still described
  s.runtime.ports = {west, east};
  s.runtime.lcores = {{1, 3'000'000'000u}, {2, 0}};
  s.runtime.tsc_hz = 2'000'000'000u;
  s.runtime.anomalies = {
      .tx_alloc_fail = 11, .tx_ring_full = 12, .rx_not_probe = 13, .rx_unknown_flow = 14};
  s.runtime.active_streams = 2;
  return s;
}

TEST(AgentMetricsTest, RendersEveryDocumentedFamilyWithItsLabels) {
  const std::string text = Text(TwoPortSample());
  EXPECT_THAT(text, HasSubstr("# TYPE netrig_agent_build_info gauge\n"
                              "netrig_agent_build_info{version=\"1.2.3\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("netrig_agent_active_streams 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE netrig_agent_trials_total counter\n"
                              "netrig_agent_trials_total{result=\"completed\"} 4\n"
                              "netrig_agent_trials_total{result=\"interrupted\"} 1\n"
                              "netrig_agent_trials_total{result=\"refused\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("netrig_agent_port_info{port=\"west\",pmd=\"net_af_packet\","
                              "device=\"veth0\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("netrig_agent_port_info{port=\"east\",pmd=\"net_af_packet\","
                              "device=\"veth1\"} 1\n"));
  EXPECT_THAT(
      text, HasSubstr("netrig_agent_port_link_speed_bytes_per_second{port=\"west\"} 1250000000\n"));
  EXPECT_THAT(text, HasSubstr("netrig_agent_port_tx_packets_total{port=\"west\"} 100\n"));
  EXPECT_THAT(text, HasSubstr("netrig_agent_port_tx_bytes_total{port=\"west\"} 6000\n"));
  EXPECT_THAT(text, HasSubstr("netrig_agent_port_rx_packets_total{port=\"west\"} 7\n"));
  EXPECT_THAT(text, HasSubstr("netrig_agent_port_rx_bytes_total{port=\"west\"} 420\n"));
  EXPECT_THAT(text, HasSubstr("netrig_agent_port_rx_missed_packets_total{port=\"west\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("netrig_agent_port_rx_errors_total{port=\"west\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("netrig_agent_port_tx_errors_total{port=\"west\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("netrig_agent_port_rx_mbuf_allocation_errors_total{port=\"west\"} 5\n"));
  EXPECT_THAT(text, Not(HasSubstr("_total{port=\"east\"}")));  // unreadable port: no counters
  EXPECT_THAT(text, HasSubstr("netrig_agent_lcore_busy_seconds_total{lcore=\"1\"} 1.5\n"));
  EXPECT_THAT(text, HasSubstr("netrig_agent_lcore_busy_seconds_total{lcore=\"2\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("netrig_agent_tx_mbuf_allocation_failures_total 11\n"));
  EXPECT_THAT(text, HasSubstr("netrig_agent_tx_ring_full_total 12\n"));
  EXPECT_THAT(text, HasSubstr("netrig_agent_rx_foreign_packets_total 13\n"));
  EXPECT_THAT(text, HasSubstr("netrig_agent_rx_unknown_flow_packets_total 14\n"));
}

TEST(AgentMetricsTest, ExactlyOneSessionStateIsOne) {
  for (SessionState state :
       {SessionState::kDisconnected, SessionState::kIdle, SessionState::kRunning}) {
    AgentMetricsSample s;
    s.session_state = state;
    int ones = 0, series = 0;
    for (const auto& f : RenderAgentMetrics(s)) {
      if (f.name != "netrig_agent_session_state") continue;
      for (const auto& m : f.metric) {
        ++series;
        if (m.gauge.value == 1) ++ones;
      }
    }
    EXPECT_EQ(series, 3);
    EXPECT_EQ(ones, 1);
  }
}

TEST(AgentMetricsTest, FollowsTheNamingRules) {
  std::set<std::string> names;
  for (const auto& f : RenderAgentMetrics(TwoPortSample())) {
    EXPECT_TRUE(names.insert(f.name).second) << "duplicate family " << f.name;
    EXPECT_EQ(f.name.rfind("netrig_agent_", 0), 0u) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    const bool total = f.name.size() > 6 && f.name.substr(f.name.size() - 6) == "_total";
    EXPECT_EQ(total, f.type == prometheus::MetricType::Counter) << f.name;
    for (const auto& m : f.metric) {
      for (const auto& l : m.label) {
        EXPECT_NE(l.name, "flow") << f.name << ": no per-flow labels";
      }
    }
  }
  EXPECT_EQ(names.size(), 19u);
}

TEST(AgentMetricsTest, ReadyOnlyWhileRegisteredWithTheController) {
  EXPECT_TRUE(SessionReadiness(SessionState::kIdle).ok());
  EXPECT_TRUE(SessionReadiness(SessionState::kRunning).ok());
  const absl::Status down = SessionReadiness(SessionState::kDisconnected);
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(down.message()), HasSubstr("not registered with the controller"));
}

TEST(MonotonicTotalTest, FollowsTheSourceAndSurvivesARestartFromZero) {
  MonotonicTotal t;
  EXPECT_EQ(t.Update(10), 10u);
  EXPECT_EQ(t.Update(25), 25u);
  EXPECT_EQ(t.Update(25), 25u);
  EXPECT_EQ(t.Update(4), 29u);  // the source restarted: 4 new since
  EXPECT_EQ(t.Update(6), 31u);
  EXPECT_EQ(t.value(), 31u);
}

}  // namespace
}  // namespace netrig::agent::control
