// netrig-agent serve with --metrics-address against a real network: two net_af_packet ports on
// veths into a namespace that forwards IPv4 (tests/support/netns_router.h), driven by a fake
// controller in this process. Checks the /metrics contract (docs/metrics.md, "Agent metrics")
// on a real scrape, promtool's verdict on it, that port counters match the trial's final
// counters, and that interim stream batches arrive while the trial runs.
//
// The test thread moves into the tester namespace, so the fake controller's listening socket,
// the agent it forks and the HTTP scrapes all live there; nothing touches the host's network.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "proto/netrig/v1/agent.grpc.pb.h"
#include "tests/support/netns_router.h"
#include "tests/support/process.h"

namespace netrig {
namespace {

using testing::RunCommand;

const std::string kAgent = NETRIG_AGENT_BIN;

// The controller's side of AgentSession, reduced to what the test observes: the registration,
// acks, and every statistics batch in arrival order. Commands are queued by the test.
class FakeController final : public v1::AgentSession::Service {
 public:
  grpc::Status Session(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::ControllerMessage, v1::AgentMessage>* stream) override {
    std::thread reader([&] {
      v1::AgentMessage m;
      while (stream->Read(&m)) {
        absl::MutexLock lock(&mu_);
        if (m.has_register_()) {
          caps_ = m.register_();
          registered_ = true;
        } else if (m.has_ack()) {
          acks_.push_back(m.ack());
        }
      }
      absl::MutexLock lock(&mu_);
      session_over_ = true;
    });
    for (;;) {
      v1::ControllerMessage cmd;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](FakeController* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
              return !c->outbox_.empty() || c->session_over_ || c->stopping_;
            },
            this));
        if (session_over_ || stopping_) break;
        cmd = outbox_.front();
        outbox_.pop_front();
      }
      stream->Write(cmd);
    }
    ctx->TryCancel();  // ends the reader's Read when we stop first
    reader.join();
    return grpc::Status::OK;
  }

  grpc::Status ReportStats(grpc::ServerContext*, grpc::ServerReader<v1::FlowStatsBatch>* reader,
                           v1::StatsAck* ack) override {
    v1::FlowStatsBatch b;
    uint64_t n = 0;
    while (reader->Read(&b)) {
      absl::MutexLock lock(&mu_);
      batches_.push_back(b);
      ++n;
    }
    ack->set_batches(n);
    return grpc::Status::OK;
  }

  void Send(v1::ControllerMessage cmd) {
    absl::MutexLock lock(&mu_);
    outbox_.push_back(std::move(cmd));
  }
  void Stop() {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }

  bool registered() {
    absl::MutexLock lock(&mu_);
    return registered_;
  }
  v1::AgentCapabilities caps() {
    absl::MutexLock lock(&mu_);
    return caps_;
  }
  std::vector<v1::CommandAck> acks() {
    absl::MutexLock lock(&mu_);
    return acks_;
  }
  std::vector<v1::FlowStatsBatch> batches() {
    absl::MutexLock lock(&mu_);
    return batches_;
  }

 private:
  absl::Mutex mu_;
  bool registered_ ABSL_GUARDED_BY(mu_) = false;
  bool session_over_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  v1::AgentCapabilities caps_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::CommandAck> acks_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::FlowStatsBatch> batches_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::ControllerMessage> outbox_ ABSL_GUARDED_BY(mu_);
};

// Polls `pred` until it holds or `timeout` passes.
template <typename Pred>
bool WaitFor(Pred pred, absl::Duration timeout) {
  const absl::Time until = absl::Now() + timeout;
  while (!pred()) {
    if (absl::Now() >= until) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

// One scrape: "name{labels}" -> value, plus the raw text.
struct Scrape {
  std::string text;
  std::map<std::string, double> samples;
  bool ok = false;

  double Get(const std::string& series) const {
    auto it = samples.find(series);
    EXPECT_NE(it, samples.end()) << "no series " << series << " in\n" << text;
    return it == samples.end() ? -1 : it->second;
  }
};

class AgentMetricsNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root to create network namespaces and veths (CI runs as root)";
    }
    const std::string err = topo_.Create();
    ASSERT_EQ(err, "") << err;
    router_mac_ = topo_.RouterMacA();
    ASSERT_FALSE(router_mac_.empty());
    ASSERT_TRUE(topo_.EnterTester());

    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &controller_port_);
    b.RegisterService(&controller_);
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(controller_port_, 0);

    log_ = ::testing::TempDir() + "/agent_metrics_netns_" + std::to_string(getpid()) + ".log";
    std::remove(log_.c_str());
    agent_ = testing::Spawn(
        {kAgent, "serve", "--controller", "127.0.0.1:" + std::to_string(controller_port_), "--id",
         "m1", "--port", "name=west,pmd=net_af_packet,iface=" + topo_.tester_a, "--port",
         "name=east,pmd=net_af_packet,iface=" + topo_.tester_b, "--metrics-address", "127.0.0.1:0"},
        log_);
    ASSERT_TRUE(WaitFor([&] { return controller_.registered(); }, absl::Seconds(60)))
        << "the agent did not register; its log:\n"
        << testing::ReadFile(log_);
    metrics_address_ = controller_.caps().metrics_address();
  }

  void TearDown() override {
    testing::Reap(agent_, SIGTERM);
    if (server_ != nullptr) {
      controller_.Stop();
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
      server_.reset();
    }
    topo_.Destroy();
  }

  Scrape ScrapeMetrics() {
    Scrape s;
    const auto colon = metrics_address_.rfind(':');
    httplib::Client cli(metrics_address_.substr(0, colon),
                        std::stoi(metrics_address_.substr(colon + 1)));
    cli.set_connection_timeout(5);
    cli.set_read_timeout(5);
    auto res = cli.Get("/metrics");
    if (!res || res->status != 200) {
      ADD_FAILURE() << "GET http://" << metrics_address_ << "/metrics failed";
      return s;
    }
    s.text = res->body;
    s.ok = true;
    std::istringstream in(s.text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      const auto sp = line.rfind(' ');
      s.samples[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    }
    return s;
  }

  // Scrapes until `pred` holds (the agent's state changes are asynchronous to our view).
  template <typename Pred>
  Scrape ScrapeUntil(Pred pred, absl::Duration timeout) {
    const absl::Time until = absl::Now() + timeout;
    Scrape s = ScrapeMetrics();
    while (s.ok && !pred(s) && absl::Now() < until) {
      absl::SleepFor(absl::Milliseconds(20));
      s = ScrapeMetrics();
    }
    return s;
  }

  v1::ControllerMessage Trial(const std::string& id, absl::Duration duration,
                              absl::Duration progress) {
    v1::ControllerMessage m;
    m.set_command_id("cmd-" + id);
    v1::TrialStart* t = m.mutable_start();
    t->set_trial_id(id);
    t->set_duration_ns(static_cast<uint64_t>(absl::ToInt64Nanoseconds(duration)));
    t->set_drain_ns(500'000'000);
    t->set_progress_interval_ns(static_cast<uint64_t>(absl::ToInt64Nanoseconds(progress)));
    v1::StreamConfig* s = t->add_streams();
    s->set_name("west-east");
    s->set_tx_port("west");
    s->set_rx_port("east");
    s->set_flows(8);
    s->set_dst_mac(router_mac_);
    s->mutable_dst_port()->set_start("5000");
    s->mutable_dst_port()->set_count(8);
    s->mutable_size()->set_fixed_bytes(128);
    s->mutable_rate()->set_unit(v1::RATE_UNIT_PPS);
    s->mutable_rate()->set_value(20000);
    return m;
  }

  testing::NetnsRouter topo_{"m"};
  std::string router_mac_;
  FakeController controller_;
  std::unique_ptr<grpc::Server> server_;
  int controller_port_ = 0;
  pid_t agent_ = -1;
  std::string log_;
  std::string metrics_address_;
};

std::string PortSeries(const std::string& name, const std::string& port) {
  return "netrig_agent_port_" + name + "_total{port=\"" + port + "\"}";
}

TEST_F(AgentMetricsNetnsTest, TrialMovesPortCountersAndStreamsInterimStats) {
  ASSERT_FALSE(metrics_address_.empty()) << "registration carries no metrics address";
  ASSERT_NE(metrics_address_.substr(metrics_address_.rfind(':') + 1), "0");

  const Scrape before = ScrapeUntil(
      [](const Scrape& s) {
        return s.samples.count("netrig_agent_session_state{state=\"idle\"}") &&
               s.samples.at("netrig_agent_session_state{state=\"idle\"}") == 1;
      },
      absl::Seconds(5));
  ASSERT_TRUE(before.ok);
  EXPECT_EQ(before.Get("netrig_agent_session_state{state=\"idle\"}"), 1);
  EXPECT_EQ(before.Get("netrig_agent_session_state{state=\"disconnected\"}"), 0);
  EXPECT_EQ(before.Get("netrig_agent_session_state{state=\"running\"}"), 0);
  EXPECT_EQ(before.Get("netrig_agent_active_streams"), 0);
  EXPECT_EQ(before.Get("netrig_agent_trials_total{result=\"completed\"}"), 0);
  EXPECT_EQ(before.Get("netrig_agent_port_info{port=\"west\",pmd=\"net_af_packet\",device=\"" +
                       topo_.tester_a + "\"}"),
            1);
  EXPECT_GT(before.Get("netrig_agent_port_link_speed_bytes_per_second{port=\"east\"}"), 0);

  controller_.Send(Trial("t1", absl::Seconds(2), absl::Milliseconds(200)));

  // Mid-trial: the first interim batch is in, the agent reports itself running.
  ASSERT_TRUE(WaitFor([&] { return !controller_.batches().empty(); }, absl::Seconds(10)))
      << testing::ReadFile(log_);
  const Scrape during = ScrapeMetrics();
  EXPECT_EQ(during.Get("netrig_agent_session_state{state=\"running\"}"), 1);
  EXPECT_EQ(during.Get("netrig_agent_active_streams"), 1);
  EXPECT_GT(during.Get(PortSeries("tx_packets", "west")),
            before.Get(PortSeries("tx_packets", "west")));

  std::vector<v1::FlowStatsBatch> batches;
  ASSERT_TRUE(WaitFor(
      [&] {
        batches = controller_.batches();
        return !batches.empty() && batches.back().final();
      },
      absl::Seconds(20)))
      << testing::ReadFile(log_);
  const v1::FlowStatsBatch final_batch = batches.back();
  batches.pop_back();
  ASSERT_EQ(final_batch.streams_size(), 1);
  const v1::StreamStats& fin = final_batch.streams(0);
  EXPECT_EQ(final_batch.flows_size(), 8);
  EXPECT_EQ(fin.tx_packets(), 40000u);
  EXPECT_EQ(fin.lost(), 0);

  // Interim batches: every 200 ms over 2 s of TX and 0.5 s of drain, all before the final one.
  EXPECT_GE(batches.size(), 8u);
  EXPECT_LE(batches.size(), 14u);
  uint64_t prev_elapsed = 0, prev_tx = 0, rising = 0;
  bool saw_latency = false;
  for (const v1::FlowStatsBatch& b : batches) {
    SCOPED_TRACE(b.ShortDebugString());
    EXPECT_FALSE(b.final());
    EXPECT_EQ(b.trial_id(), "t1");
    EXPECT_EQ(b.agent_id(), "m1");
    EXPECT_EQ(b.flows_size(), 0) << "interim batches never carry per-flow entries";
    ASSERT_EQ(b.streams_size(), 1);
    const v1::StreamStats& s = b.streams(0);
    EXPECT_EQ(s.stream(), "west-east");
    EXPECT_EQ(s.tx_port(), "west");
    EXPECT_EQ(s.flows(), 8u);
    EXPECT_DOUBLE_EQ(s.target_frames_per_second(), 20000);
    EXPECT_GT(b.elapsed_ns(), prev_elapsed);
    EXPECT_GE(s.tx_packets(), prev_tx);
    if (s.tx_packets() > prev_tx) ++rising;
    EXPECT_EQ(s.tx_bytes(), s.tx_packets() * 128);
    EXPECT_LE(s.tx_packets(), fin.tx_packets());
    EXPECT_LE(s.rx_packets(), fin.rx_packets());
    EXPECT_EQ(s.rx_bytes(), s.rx_packets() * 128);
    // The elapsed time paces the transmitted count (20 kpps), within a few polls.
    const double expected = std::min(2.0, static_cast<double>(b.elapsed_ns()) / 1e9) * 20000;
    EXPECT_NEAR(static_cast<double>(s.tx_packets()), expected, 20000 * 0.05);
    if (s.rx_packets() > 0) {
      saw_latency = true;
      EXPECT_GT(s.latency_p50_ns(), 0u);
      EXPECT_LE(s.latency_p50_ns(), s.latency_p99_ns());
      EXPECT_LE(s.latency_p99_ns(), s.latency_p999_ns());
      EXPECT_LT(s.latency_p999_ns(), 1'000'000'000u);
    }
    prev_elapsed = b.elapsed_ns();
    prev_tx = s.tx_packets();
  }
  EXPECT_GE(rising, 7u) << "tx counters must rise from one interim batch to the next during TX";
  EXPECT_TRUE(saw_latency);
  EXPECT_EQ(prev_tx, fin.tx_packets()) << "the last interim batch (drain) has every frame sent";

  const Scrape after = ScrapeUntil(
      [](const Scrape& s) {
        return s.samples.count("netrig_agent_trials_total{result=\"completed\"}") &&
               s.samples.at("netrig_agent_trials_total{result=\"completed\"}") == 1;
      },
      absl::Seconds(5));
  EXPECT_EQ(after.Get("netrig_agent_trials_total{result=\"completed\"}"), 1);
  EXPECT_EQ(after.Get("netrig_agent_trials_total{result=\"interrupted\"}"), 0);
  EXPECT_EQ(after.Get("netrig_agent_session_state{state=\"idle\"}"), 1);
  EXPECT_EQ(after.Get("netrig_agent_active_streams"), 0);

  // Port counters moved by exactly the trial's frames. The PMD counts frames without FCS.
  const auto delta = [&](const std::string& series) {
    return after.Get(series) - before.Get(series);
  };
  EXPECT_EQ(delta(PortSeries("tx_packets", "west")), static_cast<double>(fin.tx_packets()));
  EXPECT_EQ(delta(PortSeries("tx_bytes", "west")),
            static_cast<double>(fin.tx_bytes() - 4 * fin.tx_packets()));
  // East is the only port polled: every frame it received is a probe of the trial, foreign
  // (kernel chatter such as IPv6 ND), or of an unknown flow.
  const double foreign = delta("netrig_agent_rx_foreign_packets_total");
  const double unknown = delta("netrig_agent_rx_unknown_flow_packets_total");
  EXPECT_EQ(delta(PortSeries("rx_packets", "east")),
            static_cast<double>(fin.rx_packets()) + foreign + unknown);
  EXPECT_GE(delta(PortSeries("rx_bytes", "east")),
            static_cast<double>(fin.rx_bytes() - 4 * fin.rx_packets()));
  EXPECT_EQ(delta(PortSeries("rx_packets", "west")), 0) << "west transmits only: never polled";
  const double busy = delta("netrig_agent_lcore_busy_seconds_total{lcore=\"1\"}");
  EXPECT_GT(busy, 0);
  EXPECT_LT(busy, 10);
  std::printf(
      "%zu interim batches; final tx %lu rx %lu, p50 %lu ns (last interim p50 %lu ns); "
      "east foreign %.0f; lcore 1 busy %.3f s\n",
      batches.size(), static_cast<unsigned long>(fin.tx_packets()),
      static_cast<unsigned long>(fin.rx_packets()),
      static_cast<unsigned long>(fin.latency_p50_ns()),
      static_cast<unsigned long>(batches.back().streams(0).latency_p50_ns()), foreign, busy);
  EXPECT_EQ(delta(PortSeries("rx_missed_packets", "east")), 0);
  EXPECT_EQ(delta("netrig_agent_tx_mbuf_allocation_failures_total"), 0);
  // Counters never go down.
  for (const auto& [series, value] : before.samples) {
    if (series.find("_total") == std::string::npos) continue;
    EXPECT_GE(after.Get(series), value) << series;
  }

  // promtool's linter accepts the exposition as served.
  const std::string file = ::testing::TempDir() + "/agent_metrics_" + std::to_string(getpid());
  std::ofstream(file) << after.text;
  const auto lint = RunCommand("promtool check metrics < " + file + " 2>&1");
  EXPECT_EQ(lint.exit_code, 0) << lint.out;
  EXPECT_EQ(lint.out, "") << after.text;
  std::remove(file.c_str());
}

TEST_F(AgentMetricsNetnsTest, RefusedAndInterruptedTrialsAreCounted) {
  ASSERT_FALSE(metrics_address_.empty());
  v1::ControllerMessage bad = Trial("bad", absl::Seconds(1), absl::ZeroDuration());
  bad.mutable_start()->mutable_streams(0)->set_tx_port("nope");
  controller_.Send(bad);
  ASSERT_TRUE(WaitFor([&] { return !controller_.acks().empty(); }, absl::Seconds(10)));
  EXPECT_FALSE(controller_.acks()[0].ok());

  // A long trial stopped after its first interim batch.
  controller_.Send(Trial("long", absl::Seconds(30), absl::Milliseconds(100)));
  ASSERT_TRUE(WaitFor([&] { return !controller_.batches().empty(); }, absl::Seconds(10)))
      << testing::ReadFile(log_);
  v1::ControllerMessage stop;
  stop.set_command_id("stop-long");
  stop.mutable_stop()->set_trial_id("long");
  controller_.Send(stop);

  const Scrape after = ScrapeUntil(
      [](const Scrape& s) {
        return s.samples.count("netrig_agent_trials_total{result=\"interrupted\"}") &&
               s.samples.at("netrig_agent_trials_total{result=\"interrupted\"}") == 1;
      },
      absl::Seconds(10));
  EXPECT_EQ(after.Get("netrig_agent_trials_total{result=\"refused\"}"), 1);
  EXPECT_EQ(after.Get("netrig_agent_trials_total{result=\"interrupted\"}"), 1);
  EXPECT_EQ(after.Get("netrig_agent_trials_total{result=\"completed\"}"), 0);
  EXPECT_EQ(after.Get("netrig_agent_session_state{state=\"idle\"}"), 1);
  EXPECT_EQ(after.Get("netrig_agent_active_streams"), 0);
  for (const v1::FlowStatsBatch& b : controller_.batches()) {
    EXPECT_FALSE(b.final()) << "an interrupted trial has no final counters";
  }
}

// The Kubernetes probes on the metrics address: /healthz while the agent serves, /readyz only
// while its controller session is registered (an AgentPool pod's readiness).
TEST_F(AgentMetricsNetnsTest, ReadinessFollowsTheControllerSession) {
  ASSERT_FALSE(metrics_address_.empty());
  const auto colon = metrics_address_.rfind(':');
  httplib::Client cli(metrics_address_.substr(0, colon),
                      std::stoi(metrics_address_.substr(colon + 1)));
  cli.set_connection_timeout(5);
  cli.set_read_timeout(5);
  auto probe = [&](const char* path) {
    auto res = cli.Get(path);
    return res ? res->status : -1;
  };
  EXPECT_EQ(probe("/healthz"), 200);
  EXPECT_TRUE(WaitFor([&] { return probe("/readyz") == 200; }, absl::Seconds(5)))
      << "registered, but /readyz says " << probe("/readyz");

  // The controller goes away: the agent is alive but no longer ready.
  controller_.Stop();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_.reset();
  ASSERT_TRUE(WaitFor([&] { return probe("/readyz") == 503; }, absl::Seconds(15)))
      << testing::ReadFile(log_);
  auto res = cli.Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "not registered with the controller (no session)\n");
  EXPECT_EQ(probe("/healthz"), 200);
}

}  // namespace
}  // namespace netrig
