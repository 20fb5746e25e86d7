// RunService end to end in one process: MemoryStore, the real registry/coordinator/executor/
// methodology, and simulated agents answering trials like a DUT that forwards at most X fps.
#include "controller/api/run_service.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "controller/metrics/controller_metrics.h"
#include "controller/store/keys.h"
#include "lib/common/metrics_endpoint.h"
#include "controller/store/memory_store.h"
#include "controller/sut/sut_provider.h"

namespace netrig::controller::api {
namespace {

// One agent with ports west and east, cabled through a DUT that forwards at most `limit_fps`.
class SimulatedAgent : public agents::AgentConnection {
 public:
  SimulatedAgent(std::string id, agents::TrialCoordinator& c, double limit_fps)
      : id_(std::move(id)), coordinator_(c), limit_fps_(limit_fps) {}

  bool Send(const v1::ControllerMessage& m) override {
    if (!m.has_start()) return true;
    {
      absl::MutexLock lock(&mu_);
      ++trials_;
      for (const v1::StreamConfig& s : m.start().streams()) dst_macs_.insert(s.dst_mac());
      if (hold_) {  // simulate a long trial: answer only when released
        held_.push_back(m);
        return true;
      }
    }
    Answer(m);
    return true;
  }
  void Answer(const v1::ControllerMessage& m) {
    v1::CommandAck ack;
    ack.set_command_id(m.command_id());
    ack.set_ok(true);
    coordinator_.OnAck(id_, ack);
    v1::FlowStatsBatch b;
    b.set_agent_id(id_);
    b.set_trial_id(m.start().trial_id());
    b.set_final(true);
    const double seconds = static_cast<double>(m.start().duration_ns()) / 1e9;
    for (const v1::StreamConfig& s : m.start().streams()) {
      v1::StreamStats* ss = b.add_streams();
      ss->set_stream(s.name());
      const uint64_t tx = s.max_packets() != 0 ? s.max_packets()
                                               : static_cast<uint64_t>(std::llround(s.rate().value() * seconds));
      double limit;
      {
        absl::MutexLock lock(&mu_);
        limit = limit_fps_;
      }
      const uint64_t cap = static_cast<uint64_t>(limit * seconds);
      ss->set_tx_packets(tx);
      ss->set_unique_packets(std::min(tx, cap));
      ss->set_latency_min_ns(1000);
      ss->set_latency_avg_ns(2000);
      ss->set_latency_max_ns(5000);
      v1::FlowStats* f = b.add_flows();
      f->set_flow_id(s.first_flow_id());
      f->set_stream(s.name());
      f->set_tx_packets(tx);
    }
    coordinator_.OnBatch(b);
  }
  void SetLimit(double fps) {
    absl::MutexLock lock(&mu_);
    limit_fps_ = fps;
  }
  void Hold(bool h) {
    absl::MutexLock lock(&mu_);
    hold_ = h;
  }
  int trials() {
    absl::MutexLock lock(&mu_);
    return trials_;
  }
  std::set<std::string> dst_macs() {
    absl::MutexLock lock(&mu_);
    return dst_macs_;
  }

 private:
  std::string id_;
  agents::TrialCoordinator& coordinator_;
  double limit_fps_;
  absl::Mutex mu_;
  bool hold_ = false;
  std::vector<v1::ControllerMessage> held_;
  int trials_ = 0;
  std::set<std::string> dst_macs_;
};

std::string Spec(const std::string& name, const std::string& level, const std::string& tests = "[throughput]") {
  return R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata: {name: )" + name + R"(}
spec:
  level: )" + level + R"(
  sut: {template: linux-router}
  ports:
    - {name: west, agent: {pool: default}, speed: 1G}
    - {name: east, agent: {pool: default}, speed: 1G}
  benchmark:
    rfc2544:
      tests: )" + tests + R"(
      frameSizes: [64, 1518]
      trialDuration: 1s
      resolution: 0.1
      traffic: [{from: west, to: east, flows: 4}]
      latency: {trials: 2, duration: 1s}
      waits: {drain: 0s, settle: 0s}
)";
}

// A SutProvider that records what it is asked and fails on demand.
class FakeSutProvider : public sut::SutProvider {
 public:
  absl::Status create_error;
  absl::Status ready_error;  // returned by every WaitReady (after sleeping its timeout)
  bool hops_on_refresh = false;
  std::vector<std::string> orphans;

  absl::StatusOr<sut::SutInstance> Create(const sut::SutRequest& request) override {
    absl::MutexLock lock(&mu_);
    requests.push_back(request);
    if (!create_error.ok()) return create_error;
    sut::SutInstance inst;
    inst.run_id = request.run_id;
    inst.template_name = request.template_name;
    inst.namespace_name = "nrsut-" + request.run_id;
    inst.parameters = request.parameters;
    live.insert(request.run_id);
    return inst;
  }
  // Like a cluster provider: the next hops are known only once the SUT is ready.
  absl::Status Refresh(sut::SutInstance& instance) override {
    if (!hops_on_refresh) return absl::OkStatus();
    absl::MutexLock lock(&mu_);
    for (const sut::SutRequest& r : requests) {
      if (r.run_id != instance.run_id) continue;
      instance.next_hops.clear();
      for (size_t i = 0; i < r.links.size(); ++i) {
        instance.next_hops.push_back(
            {r.links[i].name, absl::StrCat("198.18.", i, ".1"), absl::StrCat("02:53:00:00:00:0", i)});
      }
    }
    return absl::OkStatus();
  }
  absl::Status WaitReady(const sut::SutInstance&, absl::Duration timeout) override {
    if (ready_error.ok()) return absl::OkStatus();
    absl::SleepFor(timeout);
    return ready_error;
  }
  absl::Status InjectEvent(const sut::SutInstance&, const sut::SutEvent&) override {
    return absl::OkStatus();
  }
  absl::Status Destroy(const sut::SutInstance& instance) override {
    absl::MutexLock lock(&mu_);
    destroyed.push_back(instance.run_id);
    live.erase(instance.run_id);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::string>> ListOrphans(const std::set<std::string>&) override {
    return orphans;
  }

  absl::Mutex mu_;
  std::vector<sut::SutRequest> requests;
  std::vector<std::string> destroyed;
  std::set<std::string> live;
};

class RunServiceTest : public ::testing::Test {
 protected:
  RunServiceTest() {
    store_ = std::move(*store::MemoryStore::Create());
    TrialCoordinator_options();
  }
  void TrialCoordinator_options() {}
  ~RunServiceTest() override {
    if (runs_) runs_->Stop();
  }

  void StartService(std::function<void(RunServiceOptions&)> customize = {}) {
    RunServiceOptions o;
    o.schedule_interval = absl::Milliseconds(10);
    o.results_dir = results_dir_;
    o.calibration_duration = absl::ZeroDuration();  // the simulated agents count every trial
    if (customize) customize(o);
    runs_ = std::make_unique<RunService>(*store_, registry_, coordinator_, o);
    ASSERT_TRUE(runs_->Start().ok());
  }

  void AddAgent(const std::string& id, double limit_fps) {
    auto agent = std::make_shared<SimulatedAgent>(id, coordinator_, limit_fps);
    v1::AgentCapabilities caps;
    caps.set_agent_id(id);
    for (const char* name : {"west", "east"}) {
      v1::PortCapability* p = caps.add_ports();
      p->set_name(name);
      p->set_pmd("net_af_xdp");
      p->set_speed_bps(1'000'000'000);
      p->set_mac("02:00:00:00:00:01");
    }
    registry_.Register(caps, agent, absl::Now());
    agents_[id] = agent;
  }

  v1::Run WaitTerminal(const std::string& id) {
    const absl::Time until = absl::Now() + absl::Seconds(30);
    while (absl::Now() < until) {
      auto r = runs_->Get(id);
      if (r.ok() && RunService::IsTerminal(r->test_run().status().phase())) return *r;
      absl::SleepFor(absl::Milliseconds(5));
    }
    ADD_FAILURE() << "run " << id << " did not finish";
    return *runs_->Get(id);
  }

  std::unique_ptr<store::MemoryStore> store_;
  agents::AgentRegistry registry_{absl::Seconds(30)};
  agents::TrialCoordinator coordinator_{registry_, {absl::Milliseconds(0), absl::Seconds(2), absl::Seconds(2)}};
  std::map<std::string, std::shared_ptr<SimulatedAgent>> agents_;
  std::unique_ptr<RunService> runs_;
  std::string results_dir_ = ::testing::TempDir() + "/run_service_results_" + std::to_string(getpid());
};

TEST_F(RunServiceTest, RunCompletesWithTheDutsThroughputAndEveryTrialStored) {
  AddAgent("sim", 50'000);  // DUT forwards 50 kfps
  StartService();
  auto run = runs_->Submit(Spec("t1", "L1", "[throughput, latency]"));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->test_run().status().phase(), kPending);
  const v1::Run done = WaitTerminal(run->id());
  EXPECT_EQ(done.test_run().status().phase(), kSucceeded) << done.test_run().status().summary();
  EXPECT_EQ(done.test_run().status().verdict(), "Pass");
  auto results = runs_->Results(run->id());
  ASSERT_TRUE(results.ok());
  int found = 0;
  for (const auto& r : results->results()) {
    if (r.metric() != "throughput_fps") continue;
    ++found;
    // Within the search resolution (0.1 % of line rate) below 50 kfps.
    const double max_fps = 1e9 / (8.0 * (r.frame_size() + 20));
    if (50'000 < max_fps) {
      EXPECT_LE(r.value(), 50'000);
      EXPECT_GE(r.value(), 50'000 - 0.001 * max_fps) << r.frame_size();
    }
  }
  EXPECT_EQ(found, 2);
  EXPECT_EQ(results->trials_size(), agents_["sim"]->trials());
  EXPECT_GT(results->trials_size(), 10);
  for (const auto& t : results->trials()) EXPECT_TRUE(t.valid());
  // Per-flow counters of every trial are in result files, not in the store.
  const std::string first = results_dir_ + "/" + run->id() + "/trial-00000001.json";
  std::ifstream in(first);
  ASSERT_TRUE(in.good()) << first;
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("\"flows\""), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("\"sim\""), std::string::npos);
  std::filesystem::remove_all(results_dir_);
  EXPECT_EQ(registry_.List()[0].state, agents::AgentState::kAvailable);  // released
}

TEST_F(RunServiceTest, InvalidSpecReturnsEveryErrorAndStoresNothing) {
  StartService();
  std::string bad = Spec("t", "L4");
  bad.replace(bad.find("frameSizes: [64, 1518]"), 22, "frameSizes: [20, 1518]");
  auto run = runs_->Submit(bad);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(run.status().message().find("spec.level"), std::string::npos) << run.status();
  EXPECT_NE(run.status().message().find("spec.benchmark.rfc2544.frameSizes[0]: 20 is below"),
            std::string::npos)
      << run.status();
  EXPECT_TRUE(runs_->List("", 0)->empty());
  EXPECT_FALSE(runs_->Validate(bad).valid());
  EXPECT_GE(runs_->Validate(bad).errors_size(), 2);
}

TEST_F(RunServiceTest, ARequestIdSubmitsOnceAndReturnsTheSameRunAfterwards) {
  StartService();  // no agents: runs stay queued, so the queue shows every submission
  auto first = runs_->Submit(Spec("idem", "L2"), {}, "2b7f0c1e-uid-1");
  ASSERT_TRUE(first.ok()) << first.status();
  // Same key: the earlier run comes back, even with another document, and nothing is queued.
  auto again = runs_->Submit(Spec("other", "L1"), {}, "2b7f0c1e-uid-1");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id(), first->id());
  EXPECT_EQ(again->test_run().metadata().name(), "idem");
  // A RunService started afresh on the same store (a controller restart) still knows the key.
  runs_->Stop();
  runs_.reset();
  StartService();
  auto after_restart = runs_->Submit(Spec("idem", "L2"), {}, "2b7f0c1e-uid-1");
  ASSERT_TRUE(after_restart.ok()) << after_restart.status();
  EXPECT_EQ(after_restart->id(), first->id());
  // Another key or none: new runs.
  auto second = runs_->Submit(Spec("idem", "L2"), {}, "2b7f0c1e-uid-2");
  auto third = runs_->Submit(Spec("idem", "L2"));
  ASSERT_TRUE(second.ok() && third.ok());
  EXPECT_NE(second->id(), first->id());
  EXPECT_NE(third->id(), second->id());
  EXPECT_EQ(runs_->List("", 0)->size(), 3u);
  EXPECT_EQ(store_->List(store::keys::QueuePrefix())->kvs.size(), 3u);
  // A key that cannot be stored is refused, naming the field.
  auto bad = runs_->Submit(Spec("idem", "L2"), {}, "a/b");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("request_id"), std::string::npos) << bad.status();
}

TEST_F(RunServiceTest, L1RunsBeforeL3WhenAgentsFreeUp) {
  StartService();  // no agents yet: both runs wait
  auto l3 = runs_->Submit(Spec("slow", "L3"));
  auto l1 = runs_->Submit(Spec("fast", "L1"));
  ASSERT_TRUE(l3.ok() && l1.ok());
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(runs_->Get(l3->id())->test_run().status().phase(), kPending);
  AddAgent("sim", 10'000);
  const v1::Run a = WaitTerminal(l1->id());
  const v1::Run b = WaitTerminal(l3->id());
  EXPECT_EQ(a.test_run().status().phase(), kSucceeded);
  EXPECT_EQ(b.test_run().status().phase(), kSucceeded);
  EXPECT_LE(a.test_run().status().completion_time(), b.test_run().status().start_time());
}

TEST_F(RunServiceTest, CancelPendingAndRunningRunsAndRefuseFinishedOnes) {
  StartService();
  auto pending = runs_->Submit(Spec("p", "L2"));
  ASSERT_TRUE(pending.ok());
  auto c = runs_->Cancel(pending->id(), "not needed");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->test_run().status().phase(), kCancelled);
  EXPECT_EQ(runs_->Cancel(pending->id(), "").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(runs_->Cancel("no-such-run", "").status().code(), absl::StatusCode::kNotFound);

  AddAgent("sim", 10'000);
  agents_["sim"]->Hold(true);  // the first trial never finishes on its own
  auto running = runs_->Submit(Spec("r", "L1"));
  ASSERT_TRUE(running.ok());
  for (int i = 0; i < 500 && runs_->Get(running->id())->test_run().status().phase() != kRunning; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(runs_->Get(running->id())->test_run().status().phase(), kRunning);
  ASSERT_TRUE(runs_->Cancel(running->id(), "ci aborted").ok());
  const v1::Run done = WaitTerminal(running->id());
  EXPECT_EQ(done.test_run().status().phase(), kCancelled);
  EXPECT_EQ(done.test_run().status().summary(), "cancelled: ci aborted");
}

TEST_F(RunServiceTest, RestartMarksRunsThatWereRunningInterruptedAndKeepsTheirTrials) {
  // What a controller killed with -9 leaves behind: a Running record with stored trials.
  v1::Run run;
  run.set_id("20261122-000000-0001");
  run.mutable_test_run()->mutable_status()->set_phase(kRunning);
  std::string bytes;
  run.SerializeToString(&bytes);
  ASSERT_TRUE(store_->Put(store::keys::Run(run.id()), bytes).ok());
  v1::TrialRecord t;
  t.set_index(0);
  t.set_valid(true);
  t.SerializeToString(&bytes);
  ASSERT_TRUE(store_->Put(store::keys::Trial(run.id(), 1), bytes).ok());
  StartService();
  auto after = runs_->Get(run.id());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->test_run().status().phase(), kInterrupted);
  EXPECT_NE(after->test_run().status().summary().find("controller restarted"), std::string::npos);
  EXPECT_EQ(runs_->Results(run.id())->trials_size(), 1);
}

TEST_F(RunServiceTest, RunWaitsForAPortWithTheRequiredDriverAndSpeed) {
  AddAgent("sim", 10'000);  // ports: net_af_xdp at 1 Gb/s
  StartService();
  std::string spec = Spec("needs-ring", "L1");
  spec.replace(spec.find("{name: east, agent: {pool: default}, speed: 1G}"), 47,
               "{name: east, agent: {pool: default}, speed: 1G, pmd: net_ring}");
  auto run = runs_->Submit(spec);
  ASSERT_TRUE(run.ok()) << run.status();
  std::string message;
  for (int i = 0; i < 200 && message.empty(); ++i) {
    absl::SleepFor(absl::Milliseconds(5));
    const v1::Run now = *runs_->Get(run->id());  // a copy: the loop must not dangle
    for (const auto& c : now.test_run().status().conditions()) {
      if (c.reason() == "WaitingForAgents") message = c.message();
    }
  }
  EXPECT_NE(message.find("spec port east"), std::string::npos) << message;
  EXPECT_EQ(runs_->Get(run->id())->test_run().status().phase(), kPending);
  EXPECT_EQ(agents_["sim"]->trials(), 0);
  // A wrong pool waits the same way; the matching run goes first.
  std::string other = Spec("other-pool", "L1");
  other.replace(other.find("{name: west, agent: {pool: default}"), 35, "{name: west, agent: {pool: gpu-lab}");
  auto waiting = runs_->Submit(other);
  auto good = runs_->Submit(Spec("fits", "L2"));
  ASSERT_TRUE(waiting.ok() && good.ok());
  EXPECT_EQ(WaitTerminal(good->id()).test_run().status().phase(), kSucceeded);
  EXPECT_EQ(runs_->Get(waiting->id())->test_run().status().phase(), kPending);
}

TEST_F(RunServiceTest, LostAgentFailsTheRunWithTheReason) {
  AddAgent("sim", 10'000);
  agents_["sim"]->Hold(true);
  StartService();
  auto run = runs_->Submit(Spec("lost", "L1"));
  ASSERT_TRUE(run.ok());
  for (int i = 0; i < 500 && agents_["sim"]->trials() == 0; ++i) absl::SleepFor(absl::Milliseconds(5));
  registry_.SessionEnded("sim", agents_["sim"].get(), "connection reset by peer");
  const v1::Run done = WaitTerminal(run->id());
  EXPECT_EQ(done.test_run().status().phase(), kFailed);
  EXPECT_EQ(done.test_run().status().verdict(), "Fail");
  EXPECT_NE(done.test_run().status().summary().find("connection reset by peer"), std::string::npos)
      << done.test_run().status().summary();
  auto results = runs_->Results(run->id());
  ASSERT_GT(results->trials_size(), 0);
  EXPECT_FALSE(results->trials(0).valid());
  EXPECT_NE(results->trials(0).invalid_reason().find("lost during the trial"), std::string::npos);
}


// ---------------------------------------------------------------- SUT lifecycle

std::string Condition(const v1::Run& run, const std::string& type) {
  for (const auto& c : run.test_run().status().conditions()) {
    if (c.type() == type) return c.status() + "/" + c.reason();
  }
  return "";
}

TEST_F(RunServiceTest, SutIsCreatedAtSchedulingAndDestroyedWhenTheAgentCannotStart) {
  FakeSutProvider sut;
  StartService([&](RunServiceOptions& o) {
    o.sut_provider = &sut;
    o.sut_provider_name = "fake";
  });  // no local agents: the run cannot be served
  auto run = runs_->Submit(Spec("sut1", "L1"));
  ASSERT_TRUE(run.ok());
  const v1::Run done = WaitTerminal(run->id());
  EXPECT_EQ(done.test_run().status().phase(), kFailed);
  EXPECT_EQ(Condition(done, "Completed"), "True/AgentStartFailed");
  EXPECT_NE(done.test_run().status().summary().find("--local-agents"), std::string::npos)
      << done.test_run().status().summary();
  ASSERT_EQ(sut.requests.size(), 1u);
  EXPECT_EQ(sut.requests[0].template_name, "linux-router");
  ASSERT_EQ(sut.requests[0].links.size(), 2u);
  EXPECT_EQ(sut.requests[0].links[0].name, "west");
  EXPECT_EQ(sut.destroyed, std::vector<std::string>{run->id()});
  EXPECT_TRUE(sut.live.empty());
  EXPECT_EQ(Condition(done, "SutReady"), "False/Destroyed");
  // A report was written even for the failed run, and the status names it.
  EXPECT_TRUE(std::filesystem::exists(results_dir_ + "/" + run->id() + "/junit.xml"));
  EXPECT_NE(done.test_run().status().report_url().find("report.html"), std::string::npos);
  std::filesystem::remove_all(results_dir_);
}

TEST_F(RunServiceTest, ClusterSutRunsOnPoolAgentsSendingToTheSutsNextHops) {
  FakeSutProvider sut;
  sut.hops_on_refresh = true;
  StartService([&](RunServiceOptions& o) {
    o.sut_provider = &sut;
    o.sut_provider_name = "kubernetes";
    o.sut_on_pool_agents = true;
  });
  // No pool agent yet: the run waits in the queue and no SUT is made for it.
  auto run = runs_->Submit(Spec("cluster", "L1"));
  ASSERT_TRUE(run.ok());
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(runs_->Get(run->id())->test_run().status().phase(), kPending);
  EXPECT_EQ(Condition(*runs_->Get(run->id()), "Scheduled"), "False/WaitingForAgents");
  {
    absl::MutexLock lock(&sut.mu_);
    EXPECT_TRUE(sut.requests.empty());
  }
  AddAgent("pool-agent", 1e6);
  const v1::Run done = WaitTerminal(run->id());
  EXPECT_EQ(done.test_run().status().phase(), kSucceeded) << done.test_run().status().summary();
  // Frames went to the SUT's interfaces (west -> its west next hop), not to the peer port.
  EXPECT_EQ(agents_["pool-agent"]->dst_macs(), (std::set<std::string>{"02:53:00:00:00:00"}));
  EXPECT_EQ(sut.destroyed, std::vector<std::string>{run->id()});
  // The agent is free again for the next run.
  auto next = runs_->Submit(Spec("cluster2", "L1"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(WaitTerminal(next->id()).test_run().status().phase(), kSucceeded);
}

TEST_F(RunServiceTest, ClusterSutWithoutANextHopForAPortFailsAndFreesTheAgent) {
  FakeSutProvider sut;  // no next hops at all
  StartService([&](RunServiceOptions& o) {
    o.sut_provider = &sut;
    o.sut_on_pool_agents = true;
  });
  AddAgent("pool-agent", 1e6);
  auto run = runs_->Submit(Spec("no-hops", "L1"));
  ASSERT_TRUE(run.ok());
  const v1::Run done = WaitTerminal(run->id());
  EXPECT_EQ(done.test_run().status().phase(), kFailed);
  EXPECT_NE(done.test_run().status().summary().find("no next hop (MAC) on link west"),
            std::string::npos)
      << done.test_run().status().summary();
  EXPECT_EQ(sut.destroyed, std::vector<std::string>{run->id()});
  EXPECT_EQ(agents_["pool-agent"]->trials(), 0);
  ASSERT_EQ(registry_.List().size(), 1u);
  EXPECT_EQ(registry_.List()[0].state, agents::AgentState::kAvailable);
}

TEST_F(RunServiceTest, SutCreateErrorFailsTheRunWithTheProvidersMessage) {
  FakeSutProvider sut;
  sut.create_error = absl::InvalidArgumentError("sut.template: unknown template \"x\"");
  StartService([&](RunServiceOptions& o) { o.sut_provider = &sut; });
  auto run = runs_->Submit(Spec("sut2", "L1"));
  ASSERT_TRUE(run.ok());
  const v1::Run done = WaitTerminal(run->id());
  EXPECT_EQ(done.test_run().status().phase(), kFailed);
  EXPECT_EQ(Condition(done, "Completed"), "True/InvalidSut");
  EXPECT_EQ(done.test_run().status().summary(),
            "SUT linux-router: sut.template: unknown template \"x\"");
  EXPECT_TRUE(sut.destroyed.empty());  // nothing was made
  // The controller keeps serving: the next run is scheduled too.
  auto next = runs_->Submit(Spec("sut3", "L1"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(WaitTerminal(next->id()).test_run().status().phase(), kFailed);
  EXPECT_EQ(sut.requests.size(), 2u);
}

TEST_F(RunServiceTest, ReadinessTimeoutFromTheSpecRemovesTheSut) {
  FakeSutProvider sut;
  sut.ready_error = absl::DeadlineExceededError("link west: down");
  StartService([&](RunServiceOptions& o) { o.sut_provider = &sut; });
  std::string spec = Spec("sut4", "L1");
  spec.replace(spec.find("sut: {template: linux-router}"), 29,
               "sut: {template: linux-router, parameters: {readyTimeout: 300ms}}");
  auto run = runs_->Submit(spec);
  ASSERT_TRUE(run.ok()) << run.status();
  const absl::Time t0 = absl::Now();
  const v1::Run done = WaitTerminal(run->id());
  EXPECT_LT(absl::Now() - t0, absl::Seconds(5));
  EXPECT_EQ(Condition(done, "Completed"), "True/SutReadyTimeout");
  EXPECT_EQ(done.test_run().status().summary(),
            "SUT linux-router not ready after 300ms: link west: down (SUT removed)");
  ASSERT_EQ(sut.requests.size(), 1u);
  EXPECT_EQ(sut.requests[0].parameters.count("readyTimeout"), 0u);  // ours, not the template's
  EXPECT_EQ(sut.destroyed, std::vector<std::string>{run->id()});
}

TEST_F(RunServiceTest, CancelWhileTheSutIsComingUpRemovesIt) {
  FakeSutProvider sut;
  sut.ready_error = absl::DeadlineExceededError("not yet");
  StartService([&](RunServiceOptions& o) { o.sut_provider = &sut; });
  auto run = runs_->Submit(Spec("sut5", "L1"));
  ASSERT_TRUE(run.ok());
  for (int i = 0; i < 500 && sut.requests.empty(); ++i) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_TRUE(runs_->Cancel(run->id(), "").ok());
  const v1::Run done = WaitTerminal(run->id());
  EXPECT_EQ(done.test_run().status().phase(), kCancelled);
  EXPECT_EQ(sut.destroyed, std::vector<std::string>{run->id()});
}

TEST_F(RunServiceTest, OrphanedSutsAreDestroyedAtStart) {
  FakeSutProvider sut;
  sut.orphans = {"20261122-000000-0001", "20261122-000000-0002"};
  StartService([&](RunServiceOptions& o) { o.sut_provider = &sut; });
  EXPECT_EQ(sut.destroyed, sut.orphans);
}

TEST_F(RunServiceTest, SelfCalibrationGoesToTheFingerprint) {
  AddAgent("sim", 50'000);
  StartService([&](RunServiceOptions& o) {
    o.calibration_duration = absl::Milliseconds(200);
    o.controller_version = "9.9.9";
  });
  auto run = runs_->Submit(Spec("cal", "L1"));
  ASSERT_TRUE(run.ok());
  const v1::Run done = WaitTerminal(run->id());
  EXPECT_EQ(done.test_run().status().phase(), kSucceeded) << done.test_run().status().summary();
  EXPECT_EQ(Condition(done, "Calibrated"), "True/Calibrated");
  auto results = runs_->Results(run->id());
  ASSERT_TRUE(results.ok());
  const v1::RunFingerprint& fp = results->fingerprint();
  EXPECT_EQ(fp.spec_hash(), run->spec_hash());
  EXPECT_EQ(fp.sut_template(), "linux-router");
  EXPECT_EQ(fp.sut_provider(), "external");
  EXPECT_EQ(fp.controller_version(), "9.9.9");
  ASSERT_EQ(fp.ports_size(), 2);
  EXPECT_EQ(fp.ports(0).pmd(), "net_af_xdp");
  EXPECT_EQ(fp.ports(0).speed_bps(), 1'000'000'000u);
  ASSERT_EQ(fp.agents_size(), 1);
  ASSERT_EQ(fp.calibration_size(), 1);
  // The simulated agent sends what it is asked: unlimited is taken as line rate for 64 B.
  EXPECT_NEAR(fp.calibration(0).max_tx_percent_line_rate(), 100.0, 1.0);
  EXPECT_EQ(fp.calibration(0).latency_floor_min_ns(), 1000u);
  // Outcomes: one per test and frame size.
  EXPECT_EQ(results->outcomes_size(), 2);
  for (const auto& o : results->outcomes()) EXPECT_EQ(o.state(), "passed");
  EXPECT_EQ(results->run().id(), run->id());
  std::filesystem::remove_all(results_dir_);
}


std::string BaselineSpec(const std::string& name, const std::string& version,
                         const std::string& baseline) {
  return R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata: {name: )" + name + R"(, labels: {netrig.io/suite: nightly}}
spec:
  level: L2
  sut: {template: linux-router, version: ")" + version + R"("}
  ports:
    - {name: west, agent: {pool: default}, speed: 1G}
    - {name: east, agent: {pool: default}, speed: 1G}
  benchmark:
    rfc2544:
      tests: [throughput]
      frameSizes: [1518]
      trialDuration: 1s
      resolution: 0.1
      traffic: [{from: west, to: east, flows: 4}]
      waits: {drain: 0s, settle: 0s}
  verdict: {baseline: )" + baseline + R"(, maxRegression: 5%}
)";
}

// Counter value of one series in the exposition text ("" labels: the first matching name).
double Sample(const std::string& text, const std::string& series) {
  const auto pos = text.find("\n" + series + " ");
  if (pos == std::string::npos) return -1;
  return std::stod(text.substr(pos + series.size() + 2));
}

TEST_F(RunServiceTest, BaselineRegressionIsJudgedAndCountedAndRebuiltAfterRestart) {
  AddAgent("sim", 50'000);
  metrics::ControllerMetrics m("test", "memory");
  StartService([&](RunServiceOptions& o) { o.metrics = &m; });
  const auto run = [&](const std::string& version, const std::string& baseline) {
    auto r = runs_->Submit(BaselineSpec("base", version, baseline), {{kTriggerLabel, "ci"}});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? WaitTerminal(r->id()) : v1::Run();
  };
  const v1::Run first = run("1.0", "last-pass");
  EXPECT_EQ(first.test_run().status().verdict(), "Pass");
  EXPECT_NE(first.test_run().status().summary().find("becomes the baseline"), std::string::npos)
      << first.test_run().status().summary();
  EXPECT_EQ(first.test_run().metadata().labels().at(kTriggerLabel), "ci");

  agents_["sim"]->SetLimit(30'000);  // 40 % slower than the baseline's 50 kfps
  const v1::Run slow = run("1.1", "last-pass");
  EXPECT_EQ(slow.test_run().status().verdict(), "Regressed");
  EXPECT_EQ(slow.test_run().status().phase(), kFailed);
  EXPECT_NE(slow.test_run().status().summary().find(first.id()), std::string::npos)
      << slow.test_run().status().summary();
  const v1::Run again = run("1.1", "last-pass");  // reproduces: confirms the first flag
  EXPECT_EQ(again.test_run().status().verdict(), "Regressed");

  agents_["sim"]->SetLimit(49'000);  // 2 % below: within 5 %
  const v1::Run ok = run("1.1", first.id());
  EXPECT_EQ(ok.test_run().status().verdict(), "Pass") << ok.test_run().status().summary();
  EXPECT_NE(ok.test_run().status().summary().find("within 5.0% of baseline " + first.id()),
            std::string::npos)
      << ok.test_run().status().summary();

  const std::string text = "\n" + common::SerializeMetrics(*m.registry());
  const std::string labels = R"(level="L2",phase="Succeeded",suite="nightly",sut="linux-router",trigger="ci",verdict="Pass")";
  EXPECT_EQ(Sample(text, "netrig_runs_total{" + labels + "}"), 2) << text;
  EXPECT_EQ(Sample(text, R"(netrig_regressions_detected_total{level="L2",suite="nightly",sut="linux-router"})"), 2);
  EXPECT_EQ(Sample(text, R"(netrig_failures_flagged_total{level="L2",suite="nightly"})"), 2);
  EXPECT_EQ(Sample(text, R"(netrig_failures_confirmed_total{level="L2",suite="nightly"})"), 1);
  EXPECT_EQ(Sample(text, R"(netrig_failures_dismissed_total{level="L2",suite="nightly"})"), 1);
  EXPECT_EQ(Sample(text, R"(netrig_sut_versions_tested_total{sut="linux-router"})"), 2);
  EXPECT_EQ(Sample(text, R"(netrig_sut_versions_passed_total{level="L2",sut="linux-router"})"), 2);
  EXPECT_EQ(Sample(text, R"(netrig_trials_total{test="throughput",valid="true"})"),
            [&] {
              int n = 0;
              for (const v1::Run* r : {&first, &slow, &again, &ok}) n += runs_->Results(r->id())->trials_size();
              return n;
            }());
  EXPECT_EQ(text.find("netrig_run_stream_"), std::string::npos) << "live series outlived the runs";
  EXPECT_EQ(text.find("netrig_run_progress_ratio{"), std::string::npos);

  // A new controller on the same store rebuilds the same totals before it serves anything.
  runs_->Stop();
  metrics::ControllerMetrics rebuilt("test", "memory");
  runs_ = std::make_unique<RunService>(*store_, registry_, coordinator_, [&] {
    RunServiceOptions o;
    o.metrics = &rebuilt;
    o.calibration_duration = absl::ZeroDuration();
    return o;
  }());
  ASSERT_TRUE(runs_->Start().ok());
  const std::string again_text = "\n" + common::SerializeMetrics(*rebuilt.registry());
  for (const std::string& series :
       {"netrig_runs_total{" + labels + "}",
        std::string(R"(netrig_failures_confirmed_total{level="L2",suite="nightly"})"),
        std::string(R"(netrig_failures_dismissed_total{level="L2",suite="nightly"})"),
        std::string(R"(netrig_sut_versions_tested_total{sut="linux-router"})"),
        std::string(R"(netrig_run_duration_seconds_count{level="L2",suite="nightly",sut="linux-router"})")}) {
    EXPECT_EQ(Sample(again_text, series), Sample(text, series)) << series;
  }
  runs_.reset();  // before the metrics it reports to
  std::filesystem::remove_all(results_dir_);
}

TEST_F(RunServiceTest, UnknownTriggerLabelIsRejectedWithItsPath) {
  StartService();
  auto r = runs_->Submit(Spec("t", "L1"), {{kTriggerLabel, "cron"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(R"(metadata.labels["netrig.io/trigger"]: "cron" is not one of)"),
            std::string::npos)
      << r.status();
  auto list = runs_->List("", 0);
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

}  // namespace
}  // namespace netrig::controller::api
