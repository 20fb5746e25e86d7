#include "controller/agents/agent_registry.h"
#include "controller/agents/session_service.h"

#include <gtest/gtest.h>

namespace netrig::controller::agents {
namespace {

class NullConnection : public AgentConnection {
 public:
  bool Send(const v1::ControllerMessage&) override { return true; }
};

v1::AgentCapabilities Caps(const std::string& id) {
  v1::AgentCapabilities c;
  c.set_agent_id(id);
  c.add_ports()->set_name("west");
  return c;
}

TEST(AgentRegistryTest, SilentAgentBecomesUnavailableAndListenersHearWhy) {
  AgentRegistry r(absl::Seconds(3));
  std::vector<std::string> lost;
  r.AddLostListener([&](const std::string& id, const std::string& why) { lost.push_back(id + ": " + why); });
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  r.Register(Caps("a"), std::make_shared<NullConnection>(), t0);
  r.Register(Caps("b"), std::make_shared<NullConnection>(), t0);
  r.Heartbeat("b", t0 + absl::Seconds(2));
  r.Sweep(t0 + absl::Seconds(4));  // a: silent 4 s > 3 s; b: 2 s
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].substr(0, 3), "a: ");
  EXPECT_NE(lost[0].find("no heartbeat for 4s"), std::string::npos) << lost[0];
  for (const AgentRecord& rec : r.List()) {
    EXPECT_EQ(rec.state, rec.id == "a" ? AgentState::kUnavailable : AgentState::kAvailable);
  }
  EXPECT_EQ(r.Connection("a"), nullptr);
  r.Sweep(t0 + absl::Seconds(5));  // reported once only
  EXPECT_EQ(lost.size(), 1u);
}

TEST(AgentRegistryTest, ReRegistrationReplacesTheOldSession) {
  AgentRegistry r(absl::Seconds(3));
  int lost = 0;
  r.AddLostListener([&](const std::string&, const std::string&) { ++lost; });
  auto c1 = std::make_shared<NullConnection>();
  auto c2 = std::make_shared<NullConnection>();
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  r.Register(Caps("a"), c1, t0);
  r.Register(Caps("a"), c2, t0 + absl::Seconds(1));
  r.SessionEnded("a", c1.get(), "old stream closed");  // stale: ignored
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(r.Connection("a"), c2);
  EXPECT_EQ(r.List()[0].sessions, 2u);
  r.SessionEnded("a", c2.get(), "closed");
  EXPECT_EQ(lost, 1);
}

TEST(AgentRegistryTest, AcquireIsAllOrNothing) {
  AgentRegistry r(absl::Seconds(3));
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  r.Register(Caps("a"), std::make_shared<NullConnection>(), t0);
  r.Register(Caps("b"), std::make_shared<NullConnection>(), t0);
  EXPECT_TRUE(r.Acquire({"a"}));
  EXPECT_FALSE(r.Acquire({"a", "b"}));  // a is busy: b must stay available
  EXPECT_TRUE(r.Acquire({"b"}));
  r.Release({"a", "b"});
  EXPECT_TRUE(r.Acquire({"a", "b"}));
  EXPECT_FALSE(r.Acquire({"c"}));  // unknown
}

}  // namespace
}  // namespace netrig::controller::agents

namespace netrig::controller::agents {
namespace {

TEST(ReachableMetricsAddressTest, WildcardBindsBecomeThePeersHost) {
  EXPECT_EQ(ReachableMetricsAddress("0.0.0.0:9465", "ipv4:10.0.0.7:51234"), "10.0.0.7:9465");
  EXPECT_EQ(ReachableMetricsAddress("[::]:9465", "ipv6:[fd00::7]:51234"), "[fd00::7]:9465");
  EXPECT_EQ(ReachableMetricsAddress("192.0.2.1:9465", "ipv4:10.0.0.7:1"), "192.0.2.1:9465");
  EXPECT_EQ(ReachableMetricsAddress("0.0.0.0:9465", "unix:/tmp/s"), "0.0.0.0:9465");
  EXPECT_EQ(ReachableMetricsAddress("", "ipv4:10.0.0.7:1"), "");
}

}  // namespace
}  // namespace netrig::controller::agents
