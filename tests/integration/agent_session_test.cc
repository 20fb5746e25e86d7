// Controller <-> agent sessions over gRPC with real agent processes (net_ring ports: no
// network set-up needed). The controller side (registry, trial coordinator, session service)
// runs in this test process on a loopback port picked at runtime.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "controller/agents/agent_registry.h"
#include "controller/agents/session_service.h"
#include "controller/agents/trial_coordinator.h"

namespace netrig::controller::agents {
namespace {

const std::string kAgent = NETRIG_AGENT_BIN;

class Controller {
 public:
  explicit Controller(int port = 0) : registry_(absl::Seconds(3)), coordinator_(registry_, {}),
                                      service_(registry_, coordinator_) {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                       &port_);
    b.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 500);
    b.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    b.RegisterService(&service_);
    server_ = b.BuildAndStart();
    sweeper_ = std::thread([this] {
      while (!stop_.load()) {
        registry_.Sweep(absl::Now());
        absl::SleepFor(absl::Milliseconds(100));
      }
    });
  }
  ~Controller() { Shutdown(); }
  void Shutdown() {
    if (server_) {
      server_->Shutdown(std::chrono::system_clock::now());
      server_.reset();
    }
    stop_.store(true);
    if (sweeper_.joinable()) sweeper_.join();
  }
  int port() const { return port_; }
  AgentRegistry& registry() { return registry_; }
  TrialCoordinator& coordinator() { return coordinator_; }

  // Waits until `id` is registered and in `state`; false on timeout.
  bool WaitFor(const std::string& id, AgentState state, absl::Duration timeout,
               const std::string& reported = "") {
    const absl::Time until = absl::Now() + timeout;
    while (absl::Now() < until) {
      for (const AgentRecord& r : registry_.List()) {
        if (r.id == id && r.state == state && (reported.empty() || r.reported_state == reported)) {
          return true;
        }
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

 private:
  AgentRegistry registry_;
  TrialCoordinator coordinator_;
  SessionService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<bool> stop_{false};
  std::thread sweeper_;
};

// A `netrig-agent serve` child process with one ring loopback port.
class AgentProcess {
 public:
  AgentProcess(const std::string& id, int controller_port) {
    pid_ = fork();
    if (pid_ == 0) {
      const std::string target = "127.0.0.1:" + std::to_string(controller_port);
      const std::string log = ::testing::TempDir() + "/agent_" + id + ".log";
      freopen(log.c_str(), "w", stderr);
      execl(kAgent.c_str(), kAgent.c_str(), "serve", "--controller", target.c_str(), "--id",
            id.c_str(), "--port", "name=loop,pmd=net_ring,speed=10G", "--label", "pool=test",
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~AgentProcess() { Stop(SIGTERM); }
  void Stop(int sig) {
    if (pid_ > 0) {
      kill(pid_, sig);
      int status;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
};

v1::TrialStart RingTrial(double pps, absl::Duration duration, uint32_t size = 64) {
  v1::TrialStart t;
  v1::StreamConfig* s = t.add_streams();
  s->set_name("s0");
  s->set_tx_port("loop");
  s->set_rx_port("loop");
  s->set_flows(8);
  s->mutable_size()->set_fixed_bytes(size);
  s->mutable_rate()->set_unit(v1::RATE_UNIT_PPS);
  s->mutable_rate()->set_value(pps);
  t.set_duration_ns(absl::ToInt64Nanoseconds(duration));
  t.set_drain_ns(absl::ToInt64Nanoseconds(absl::Milliseconds(200)));
  return t;
}

TEST(AgentSessionTest, TwoAgentsRegisterAndRunALockStepTrial) {
  Controller c;
  AgentProcess a("agent-a", c.port()), b("agent-b", c.port());
  ASSERT_TRUE(c.WaitFor("agent-a", AgentState::kAvailable, absl::Seconds(20)));
  ASSERT_TRUE(c.WaitFor("agent-b", AgentState::kAvailable, absl::Seconds(20)));
  for (const AgentRecord& r : c.registry().List()) {
    ASSERT_EQ(r.capabilities.ports_size(), 1);
    EXPECT_EQ(r.capabilities.ports(0).pmd(), "net_ring");
    EXPECT_EQ(r.capabilities.ports(0).speed_bps(), 10'000'000'000u);
    EXPECT_EQ(r.capabilities.labels().at("pool"), "test");
  }
  auto outcome = c.coordinator().Run({{"agent-a", RingTrial(10000, absl::Seconds(1))},
                                      {"agent-b", RingTrial(20000, absl::Seconds(1))}});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_TRUE(outcome->valid) << outcome->invalid_reason;
  ASSERT_EQ(outcome->batches.size(), 2u);
  const auto& sa = outcome->batches.at("agent-a").streams(0);
  const auto& sb = outcome->batches.at("agent-b").streams(0);
  EXPECT_TRUE(outcome->batches.at("agent-a").final());
  EXPECT_NEAR(static_cast<double>(sa.tx_packets()), 10000, 1);
  EXPECT_NEAR(static_cast<double>(sb.tx_packets()), 20000, 1);
  EXPECT_EQ(sa.unique_packets(), sa.tx_packets());
  EXPECT_EQ(sb.lost(), 0);
  // Both started at the common start time: their first arrivals are within a few ms.
  const auto first = [](const v1::FlowStatsBatch& batch) {
    uint64_t m = UINT64_MAX;
    for (const auto& f : batch.flows()) m = std::min(m, f.first_rx_unix_ns());
    return m;
  };
  const int64_t skew = static_cast<int64_t>(first(outcome->batches.at("agent-a"))) -
                       static_cast<int64_t>(first(outcome->batches.at("agent-b")));
  EXPECT_LT(std::abs(skew), 20'000'000) << "start skew " << skew << " ns";
}

TEST(AgentSessionTest, RefusedConfigurationInvalidatesTheTrialWithTheFieldPath) {
  Controller c;
  AgentProcess a("agent-r", c.port());
  ASSERT_TRUE(c.WaitFor("agent-r", AgentState::kAvailable, absl::Seconds(20)));
  auto outcome = c.coordinator().Run({{"agent-r", RingTrial(1000, absl::Seconds(1), 60)}});
  ASSERT_TRUE(outcome.ok());
  EXPECT_FALSE(outcome->valid);
  EXPECT_NE(outcome->invalid_reason.find("streams[0].size.fixed_bytes: 60 is below"),
            std::string::npos)
      << outcome->invalid_reason;
  // The agent stays usable.
  outcome = c.coordinator().Run({{"agent-r", RingTrial(1000, absl::Milliseconds(300))}});
  ASSERT_TRUE(outcome.ok());
  EXPECT_TRUE(outcome->valid) << outcome->invalid_reason;
}

TEST(AgentSessionTest, AgentKilledMidTrialInvalidatesItWithTheReason) {
  Controller c;
  AgentProcess a("agent-k", c.port());
  ASSERT_TRUE(c.WaitFor("agent-k", AgentState::kAvailable, absl::Seconds(20)));
  std::thread killer([&] {
    ASSERT_TRUE(c.WaitFor("agent-k", AgentState::kAvailable, absl::Seconds(5), "running"));
    a.Stop(SIGKILL);
  });
  const absl::Time t0 = absl::Now();
  auto outcome = c.coordinator().Run({{"agent-k", RingTrial(1000, absl::Seconds(30))}});
  killer.join();
  ASSERT_TRUE(outcome.ok());
  EXPECT_FALSE(outcome->valid);
  EXPECT_NE(outcome->invalid_reason.find("agent agent-k was lost during the trial"),
            std::string::npos)
      << outcome->invalid_reason;
  EXPECT_LT(absl::Now() - t0, absl::Seconds(10));  // not the 30 s trial
}

TEST(AgentSessionTest, AgentStopsTransmittingWhenTheControllerGoesAwayAndReconnects) {
  int port = 0;
  {
    auto c = std::make_unique<Controller>();
    port = c->port();
    AgentProcess* a = new AgentProcess("agent-s", port);
    ASSERT_TRUE(c->WaitFor("agent-s", AgentState::kAvailable, absl::Seconds(20)));
    // A 60 s trial the controller never waits for: the controller dies after it started.
    std::thread runner([&] { (void)c->coordinator().Run({{"agent-s", RingTrial(1000, absl::Seconds(60))}}); });
    ASSERT_TRUE(c->WaitFor("agent-s", AgentState::kAvailable, absl::Seconds(5), "running"));
    c->Shutdown();
    runner.join();
    // A new controller on the same port: the agent reconnects and reports idle, i.e. it
    // stopped the trial when it lost its controller instead of running the 60 s.
    Controller c2(port);
    EXPECT_TRUE(c2.WaitFor("agent-s", AgentState::kAvailable, absl::Seconds(15), "idle"));
    auto outcome = c2.coordinator().Run({{"agent-s", RingTrial(1000, absl::Milliseconds(300))}});
    ASSERT_TRUE(outcome.ok());
    EXPECT_TRUE(outcome->valid) << outcome->invalid_reason;
    delete a;
  }
}

}  // namespace
}  // namespace netrig::controller::agents
