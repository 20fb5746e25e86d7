// RFC 2544 through real agents and a real SUT: two agent processes (AF_XDP, falling back to
// AF_PACKET) in a tester namespace, a router namespace forwarding between them with a tbf
// shaper on its egress, and the controller's executor (methodology + lock-step trials) in
// this process. The throughput the search finds must match the shaped rate expressed in
// frames per second (tbf counts frames without FCS: R / (8 (F - 4))).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <map>
#include <thread>

#include "absl/time/clock.h"
#include "controller/agents/session_service.h"
#include "controller/run/rfc2544_executor.h"
#include "lib/spec/testrun.h"
#include "tests/support/netns_router.h"
#include "tests/support/process.h"

namespace netrig::controller::run {
namespace {

using netrig::testing::RunCommand;

const std::string kAgent = NETRIG_AGENT_BIN;

class Rfc2544ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!netrig::testing::IsRoot()) {
      GTEST_SKIP() << "needs root to create network namespaces and veths (CI runs as root)";
    }
    const std::string err = topo_.Create();
    ASSERT_EQ(err, "") << err;
    // The controller's listening socket must live in the tester namespace, where the agents
    // run: this thread enters it before the server is built.
    ASSERT_TRUE(topo_.EnterTester());
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(&service_);
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    for (pid_t pid : agents_) {
      kill(pid, SIGTERM);
      int st;
      waitpid(pid, &st, 0);
    }
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    topo_.Destroy();
  }

  void StartAgent(const std::string& id, const std::string& port_role, const std::string& iface,
                  const std::string& pmd) {
    const pid_t pid = fork();
    if (pid == 0) {
      const std::string log = ::testing::TempDir() + "/exec_agent_" + id + ".log";
      freopen(log.c_str(), "w", stderr);
      const std::string target = "127.0.0.1:" + std::to_string(port_);
      const std::string port = "name=" + port_role + ",pmd=" + pmd + ",iface=" + iface + ",speed=1G";
      // Two agents share this 2-core machine: each uses its own worker core.
      const std::string lcores = id == "agent-west" ? "0,1" : "1,0";
      execlp("ip", "ip", "netns", "exec", topo_.tester.c_str(), kAgent.c_str(), "serve",
             "--controller", target.c_str(), "--id", id.c_str(), "--port", port.c_str(),
             "--lcores", lcores.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    agents_.push_back(pid);
  }

  bool WaitAvailable(const std::string& id) {
    const absl::Time until = absl::Now() + absl::Seconds(20);
    while (absl::Now() < until) {
      for (const auto& r : registry_.List()) {
        if (r.id == id && r.state == agents::AgentState::kAvailable) return true;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  std::vector<BoundPort> Bind() {
    std::vector<BoundPort> out;
    for (const auto& r : registry_.List()) {
      const auto& p = r.capabilities.ports(0);
      BoundPort b;
      b.role = p.name();
      b.agent_id = r.id;
      b.agent_port = p.name();
      b.speed_bps = p.speed_bps();
      b.mac = p.mac();
      if (b.role == "west") b.gateway_mac = topo_.RouterMacA();  // west's frames go to the router
      out.push_back(b);
    }
    return out;
  }

  netrig::testing::NetnsRouter topo_{"x"};
  int port_ = 0;
  agents::AgentRegistry registry_{absl::Seconds(5)};
  agents::TrialCoordinator coordinator_{registry_, {}};
  agents::SessionService service_{registry_, coordinator_};
  std::unique_ptr<grpc::Server> server_;
  std::vector<pid_t> agents_;
};

TEST_F(Rfc2544ExecutorTest, ThroughputThroughATbfShaperMatchesTheShapedRate) {
  // Shaped at 30 Mbit/s (15 kframes/s at 256 B: well within what kernel forwarding sustains on
  // a shared 2-core machine); 1 Gb/s ports, the example searching 0..10% of the line rate
  // (what the generator can offer on a veth). The queue (16 kB burst + 2 ms) absorbs a few ms
  // of sender jitter, and with 2 s trials a zero-loss search can overestimate by at most
  // queue / trial duration (23.5 kB * 8 / 2 s: 0.3 %); the resolution (0.02 % of 1 Gb/s) adds
  // at most 0.67 % below. A longer queue lets the kernel pace small frames to the shaped rate.
  const std::string err = topo_.Shape("rate 30mbit burst 16kb latency 2ms");
  ASSERT_EQ(err, "") << err;
  std::string pmd = "net_af_xdp";
  StartAgent("agent-west", "west", topo_.tester_a, pmd);
  StartAgent("agent-east", "east", topo_.tester_b, pmd);
  ASSERT_TRUE(WaitAvailable("agent-west"));
  ASSERT_TRUE(WaitAvailable("agent-east"));

  // The example as shipped (what netrigctl users run against a DUT like this one).
  std::ifstream in(std::string(NETRIG_SOURCE_DIR) + "/examples/rfc2544-throughput.yaml");
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = spec::ParseTestRun(text.str());
  ASSERT_TRUE(parsed.errors.empty()) << parsed.errors[0].ToString();
  auto plan = spec::CompileTestRun(parsed.object);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::vector<v1::TrialRecord> trials;
  ExecutorCallbacks cb;
  cb.on_trial = [&](const v1::TrialRecord& t, const agents::TrialOutcome&) {
    printf("trial %u %s %u B %.3f%% (%.0f fps): tx %lu rx %lu loss %.3f%% %s %s\n", t.index(),
           t.test().c_str(), t.frame_size(), t.offered_rate_percent(), t.offered_fps(),
           static_cast<unsigned long>(t.tx_frames()), static_cast<unsigned long>(t.rx_frames()),
           t.loss_percent(), t.valid() ? (t.passed() ? "pass" : "fail") : "INVALID",
           t.invalid_reason().c_str());
    trials.push_back(t);
  };
  auto ex = Rfc2544Executor::Create(*plan, Bind(), coordinator_, cb);
  ASSERT_TRUE(ex.ok()) << ex.status();
  std::atomic<bool> cancel{false};
  auto results = (*ex)->Run(cancel);
  ASSERT_TRUE(results.ok()) << results.status();
  std::map<uint32_t, double> fps;
  for (const auto& res : *results) {
    if (res.metric() == "throughput_fps") fps[res.frame_size()] = res.value();
  }
  ASSERT_EQ(fps.size(), 3u);
  for (const auto& [size, measured] : fps) {
    const double shaped = 30e6 / (8.0 * (size - 4));
    printf("frame %u: throughput %.1f fps, shaped rate %.1f fps (%.2f%%)\n", size, measured,
           shaped, 100.0 * (measured - shaped) / shaped);
    EXPECT_NEAR(measured, shaped, shaped * 0.03) << "frame size " << size;
  }
  // Every trial the methodology used was valid and both agents reported.
  for (const auto& t : trials) {
    EXPECT_TRUE(t.valid()) << t.invalid_reason();
    EXPECT_GT(t.tx_frames(), 0u);
  }
}

}  // namespace
}  // namespace netrig::controller::run
