#include "controller/agents/trial_coordinator.h"

#include <gtest/gtest.h>

#include <thread>

#include "absl/synchronization/notification.h"

namespace netrig::controller::agents {
namespace {

// Records what the coordinator sends and lets the test answer like an agent would.
class FakeAgent : public AgentConnection {
 public:
  bool Send(const v1::ControllerMessage& m) override {
    absl::MutexLock lock(&mu_);
    sent_.push_back(m);
    return connected_;
  }
  // Waits for the n-th message.
  v1::ControllerMessage WaitMessage(size_t n) {
    absl::MutexLock lock(&mu_);
    const auto arrived = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return sent_.size() > n; };
    mu_.Await(absl::Condition(&arrived));
    return sent_[n];
  }
  bool connected_ = true;

 private:
  absl::Mutex mu_;
  std::vector<v1::ControllerMessage> sent_;
};

v1::AgentCapabilities Caps(const std::string& id) {
  v1::AgentCapabilities c;
  c.set_agent_id(id);
  return c;
}

v1::TrialStart Start() {
  v1::TrialStart t;
  t.set_duration_ns(1000);
  t.add_streams()->set_tx_port("p");
  return t;
}

v1::FlowStatsBatch Batch(const std::string& agent, const std::string& trial, bool final) {
  v1::FlowStatsBatch b;
  b.set_agent_id(agent);
  b.set_trial_id(trial);
  b.set_final(final);
  return b;
}

class TrialCoordinatorTest : public ::testing::Test {
 protected:
  TrialCoordinatorTest() : registry_(absl::Seconds(3)), coordinator_(registry_, Options()) {
    registry_.Register(Caps("a"), a_, absl::Now());
    registry_.Register(Caps("b"), b_, absl::Now());
  }
  static TrialCoordinator::Options Options() {
    TrialCoordinator::Options o;
    o.start_lead = absl::Milliseconds(1);
    o.ack_timeout = absl::Milliseconds(200);
    o.report_slack = absl::Milliseconds(300);
    return o;
  }
  void Ack(const std::string& agent, const v1::ControllerMessage& m, bool ok, const std::string& err = "") {
    v1::CommandAck ack;
    ack.set_command_id(m.command_id());
    ack.set_ok(ok);
    ack.set_error(err);
    coordinator_.OnAck(agent, ack);
  }

  std::shared_ptr<FakeAgent> a_ = std::make_shared<FakeAgent>(), b_ = std::make_shared<FakeAgent>();
  AgentRegistry registry_;
  TrialCoordinator coordinator_;
};

TEST_F(TrialCoordinatorTest, ValidOnlyWhenEveryAgentSentFinalCounters) {
  std::thread agents([&] {
    const auto ma = a_->WaitMessage(0), mb = b_->WaitMessage(0);
    // Same trial, same common start time for both agents.
    EXPECT_EQ(ma.start().trial_id(), mb.start().trial_id());
    EXPECT_EQ(ma.start().start_unix_ns(), mb.start().start_unix_ns());
    EXPECT_GT(ma.start().start_unix_ns(), 0u);
    Ack("a", ma, true);
    Ack("b", mb, true);
    coordinator_.OnBatch(Batch("a", ma.start().trial_id(), false));  // mid-trial: ignored
    coordinator_.OnBatch(Batch("a", ma.start().trial_id(), true));
    coordinator_.OnBatch(Batch("b", mb.start().trial_id(), true));
  });
  auto out = coordinator_.Run({{"a", Start()}, {"b", Start()}});
  agents.join();
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->valid) << out->invalid_reason;
  EXPECT_EQ(out->batches.size(), 2u);
  EXPECT_TRUE(out->batches.at("a").final());
}

TEST_F(TrialCoordinatorTest, MissingFinalCountersTimeOutAsInvalidAndAgentsAreStopped) {
  std::thread agents([&] {
    const auto ma = a_->WaitMessage(0);
    Ack("a", ma, true);
    coordinator_.OnBatch(Batch("a", ma.start().trial_id(), false));  // never final
  });
  auto out = coordinator_.Run({{"a", Start()}});
  agents.join();
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->valid);
  EXPECT_EQ(out->invalid_reason, "timed out waiting for the agents' final counters");
  EXPECT_TRUE(a_->WaitMessage(1).has_stop());  // nobody keeps transmitting for a dead trial
}

TEST_F(TrialCoordinatorTest, LostAgentInvalidatesTheTrial) {
  std::thread agents([&] {
    const auto ma = a_->WaitMessage(0), mb = b_->WaitMessage(0);
    Ack("a", ma, true);
    Ack("b", mb, true);
    coordinator_.OnBatch(Batch("a", ma.start().trial_id(), true));
    registry_.SessionEnded("b", b_.get(), "connection reset");
  });
  auto out = coordinator_.Run({{"a", Start()}, {"b", Start()}});
  agents.join();
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->valid);
  EXPECT_EQ(out->invalid_reason, "agent b was lost during the trial: connection reset");
}

TEST_F(TrialCoordinatorTest, RefusalCarriesTheAgentsReason) {
  std::thread agents([&] { Ack("a", a_->WaitMessage(0), false, "streams[0].rate: too fast"); });
  auto out = coordinator_.Run({{"a", Start()}});
  agents.join();
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->valid);
  EXPECT_EQ(out->invalid_reason, "agent a refused the trial: streams[0].rate: too fast");
}

TEST_F(TrialCoordinatorTest, UnknownAgentIsInvalidImmediately) {
  auto out = coordinator_.Run({{"nobody", Start()}});
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->valid);
  EXPECT_EQ(out->invalid_reason, "agent nobody is not connected");
  EXPECT_FALSE(coordinator_.Run({}).ok());
}

}  // namespace
}  // namespace netrig::controller::agents
