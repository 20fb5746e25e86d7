// Controller high availability against a real etcd started by this test (loopback, ports picked
// at runtime): two LeaderElectors with their own etcd clients hand over leadership within the
// lease TTL when the leader stops renewing; two netrig-controller processes with
// --leader-elect: exactly one is ready (/readyz) and reports netrig_controller_leader 1, the
// other answers 503 naming the leader, and after SIGKILL of the leader the other becomes ready
// within TTL + 2 s; a leader exits when its key is deleted or etcd stops answering. Takeover
// times are printed. Skipped when the etcd binary is missing.
#include "controller/leader/leader_election.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "controller/store/etcd_store.h"
#include "controller/store/keys.h"
#include "tests/support/etcd_environment.h"
#include "tests/support/process.h"

namespace netrig::testing {
namespace {

using ::netrig::controller::leader::LeaderElectionOptions;
using ::netrig::controller::leader::LeaderElector;
using ::netrig::controller::store::EtcdStore;
using ::testing::HasSubstr;

constexpr char kNoEtcd[] =
    "etcd binary not found (install etcd-server, or set NETRIG_ETCD_BIN); skipping leader "
    "election tests";
// etcd 3.4 raises shorter TTLs to its minimum (about 2 s), so tests use that.
constexpr absl::Duration kTtl = absl::Seconds(2);

// One etcd for all tests in this binary.
[[maybe_unused]] ::testing::Environment* const kEnv =
    ::testing::AddGlobalTestEnvironment(new EtcdEnvironment);

std::unique_ptr<EtcdStore> Connect() {
  auto s = EtcdStore::Create(
      {.endpoint = EtcdEnvironment::etcd()->endpoint(), .rpc_timeout = absl::Seconds(5)});
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

// Polls `done` every 20 ms; returns the time it took, or nullopt after `timeout`.
std::optional<absl::Duration> TimeUntil(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time start = absl::Now();
  while (!done()) {
    if (absl::Now() - start >= timeout) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::Now() - start;
}

class LeaderElectionEtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (EtcdEnvironment::etcd() == nullptr) GTEST_SKIP() << kNoEtcd;
    // Every test starts without a leader key (a previous test's lease may still hold it).
    auto s = Connect();
    ASSERT_NE(s, nullptr);
    (void)s->Delete(controller::store::keys::kLeader);
  }
};

TEST_F(LeaderElectionEtcdTest, FollowerTakesOverWithinTheTtlWhenTheLeaderStopsRenewing) {
  // Separate clients, as separate controller processes would have.
  auto store_a = Connect();
  auto store_b = Connect();
  ASSERT_NE(store_a, nullptr);
  ASSERT_NE(store_b, nullptr);
  LeaderElectionOptions o;
  o.lease_ttl = kTtl;
  o.retry_interval = absl::Milliseconds(200);
  o.identity = "a";
  auto a = LeaderElector::Create(*store_a, o);
  o.identity = "b";
  auto b = LeaderElector::Create(*store_b, o);
  ASSERT_TRUE(a.ok() && b.ok());
  (*a)->Start();
  (*b)->Start();
  ASSERT_TRUE(TimeUntil([&] { return (*a)->is_leader() || (*b)->is_leader(); }, absl::Seconds(10)));
  LeaderElector& leader = (*a)->is_leader() ? **a : **b;
  LeaderElector& follower = (*a)->is_leader() ? **b : **a;
  const std::string follower_id = (*a)->is_leader() ? "b" : "a";
  ASSERT_TRUE(TimeUntil([&] { return follower.leader().identity == leader.leader().identity; },
                        absl::Seconds(5)));
  EXPECT_FALSE(follower.is_leader());
  // Several renewal periods pass without a change of leader.
  EXPECT_FALSE(follower.AwaitLeadership(kTtl * 2));
  EXPECT_TRUE(leader.is_leader());

  leader.AbandonForTest();  // the leader "dies": no more renewals, its key stays
  auto took = TimeUntil([&] { return follower.is_leader(); }, kTtl + absl::Seconds(5));
  ASSERT_TRUE(took.has_value()) << "no takeover within TTL + 5 s";
  std::printf("[ measured ] takeover after the leader stopped renewing: %s (lease TTL %s)\n",
              absl::FormatDuration(*took).c_str(), absl::FormatDuration(kTtl).c_str());
  // The lease expires at most one TTL after the last renewal; etcd checks expiry every 500 ms.
  EXPECT_LE(*took, kTtl + absl::Milliseconds(1500));
  EXPECT_EQ(follower.leader().identity, follower_id);
  auto kv = store_a->Get(controller::store::keys::kLeader);
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->lease, follower.lease_id());
}

TEST_F(LeaderElectionEtcdTest, ResigningHandsOverAtOnce) {
  auto store_a = Connect();
  auto store_b = Connect();
  ASSERT_NE(store_a, nullptr);
  ASSERT_NE(store_b, nullptr);
  LeaderElectionOptions o;
  o.lease_ttl = kTtl;
  o.identity = "a";
  auto a = LeaderElector::Create(*store_a, o);
  o.identity = "b";
  auto b = LeaderElector::Create(*store_b, o);
  ASSERT_TRUE(a.ok() && b.ok());
  (*a)->Start();
  ASSERT_TRUE((*a)->AwaitLeadership(absl::Seconds(10)));
  (*b)->Start();
  ASSERT_TRUE(TimeUntil([&] { return (*b)->leader().identity == "a"; }, absl::Seconds(5)));
  const absl::Time stop = absl::Now();
  (*a)->Stop();  // revokes the lease
  ASSERT_TRUE((*b)->AwaitLeadership(absl::Seconds(5)));
  const absl::Duration took = absl::Now() - stop;
  std::printf("[ measured ] takeover after the leader resigned: %s\n",
              absl::FormatDuration(took).c_str());
  EXPECT_LT(took, kTtl);  // did not wait for the lease to expire
}

// A netrig-controller process, its log in `dir`: with --leader-elect on the shared etcd, or
// (elect false) alone on a memory store.
class Controller {
 public:
  Controller(std::string identity, const std::string& dir, bool elect = true)
      : identity_(std::move(identity)), log_(dir + "/" + identity_ + ".log") {
    rest_port_ = FreePort();
    // clang-format off
    std::vector<std::string> args = {
        NETRIG_CONTROLLER_BIN, "--listen", "127.0.0.1:0",
        "--rest", absl::StrCat("127.0.0.1:", rest_port_),
        "--sut-provider", "none", "--local-agents", "none",
        "--results-dir", dir + "/results-" + identity_};
    const std::vector<std::string> election = {
        "--store", absl::StrCat("etcd:", EtcdEnvironment::etcd()->endpoint()),
        "--leader-elect", "--leader-lease", absl::StrCat(absl::ToInt64Seconds(kTtl), "s"),
        "--identity", identity_, "--advertise", absl::StrCat(identity_, ".test:7400")};
    // clang-format on
    if (elect) {
      args.insert(args.end(), election.begin(), election.end());
    } else {
      args.insert(args.end(), {"--store", "memory"});
    }
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
      freopen(log_.c_str(), "a", stderr);
      freopen(log_.c_str(), "a", stdout);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~Controller() { Reap(pid_, SIGKILL); }

  // HTTP status of GET path (0: no answer); the body into *body.
  int Get(const std::string& path, std::string* body = nullptr) const {
    httplib::Client c("127.0.0.1", rest_port_);
    c.set_connection_timeout(0, 300000);
    c.set_read_timeout(1, 0);
    auto r = c.Get(path.c_str());
    if (!r) return 0;
    if (body != nullptr) *body = r->body;
    return r->status;
  }
  bool Ready() const { return Get("/readyz") == 200; }
  // The netrig_controller_leader sample, or -1 when it cannot be read.
  int LeaderGauge() const {
    std::string text;
    if (Get("/metrics", &text) != 200) return -1;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (absl::StartsWith(line, "netrig_controller_leader ")) {
        return absl::EndsWith(line, " 1") ? 1 : absl::EndsWith(line, " 0") ? 0 : -1;
      }
    }
    return -1;
  }
  // Sends `sig` and waits; returns the wait status.
  int Kill(int sig) { return Reap(pid_, sig); }
  // Waits up to `timeout` for the process to exit by itself; its wait status, or nullopt.
  std::optional<int> WaitExit(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return st;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return std::nullopt;
  }
  const std::string& identity() const { return identity_; }
  std::string Log() const { return ReadFile(log_); }

 private:
  std::string identity_, log_;
  int rest_port_ = 0;
  pid_t pid_ = -1;
};

class ControllerProcessesTest : public LeaderElectionEtcdTest {
 protected:
  void SetUp() override {
    LeaderElectionEtcdTest::SetUp();
    if (IsSkipped()) return;
    std::string tmpl = ::testing::TempDir() + "/netrig-leader-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

TEST_F(ControllerProcessesTest, ExactlyOneIsReadyAndTheOtherTakesOverAfterSigkill) {
  auto a = std::make_unique<Controller>("ctl-a", dir_);
  auto b = std::make_unique<Controller>("ctl-b", dir_);
  ASSERT_TRUE(TimeUntil([&] { return a->Get("/healthz") == 200 && b->Get("/healthz") == 200; },
                        absl::Seconds(20)))
      << a->Log() << b->Log();
  ASSERT_TRUE(TimeUntil([&] { return a->Ready() || b->Ready(); }, absl::Seconds(10)))
      << a->Log() << b->Log();
  // Over a few renewal periods, never both ready (and the first stays the only one).
  const bool a_leads = a->Ready();
  EXPECT_FALSE(TimeUntil([&] { return a->Ready() == b->Ready() || a->Ready() != a_leads; },
                         absl::Seconds(1)))
      << "exactly one controller must be ready\n"
      << a->Log() << b->Log();
  Controller* leader = a_leads ? a.get() : b.get();
  Controller* follower = a_leads ? b.get() : a.get();
  std::string body;
  EXPECT_EQ(follower->Get("/readyz", &body), 503);
  EXPECT_THAT(body, HasSubstr("not the leader (leader: " + leader->identity() + " at " +
                              leader->identity() + ".test:7400)"));
  EXPECT_EQ(leader->LeaderGauge(), 1);
  EXPECT_EQ(follower->LeaderGauge(), 0);
  EXPECT_EQ(follower->Get("/healthz"), 200);
  EXPECT_EQ(follower->Get("/v1/runs"), 200) << "a follower serves reads from the store";

  leader->Kill(SIGKILL);
  auto took = TimeUntil([&] { return follower->Ready(); }, kTtl + absl::Seconds(5));
  ASSERT_TRUE(took.has_value()) << "the follower did not become ready\n" << follower->Log();
  std::printf("[ measured ] controller ready after SIGKILL of the leader: %s (lease TTL %s)\n",
              absl::FormatDuration(*took).c_str(), absl::FormatDuration(kTtl).c_str());
  EXPECT_LE(*took, kTtl + absl::Seconds(2));
  EXPECT_EQ(follower->LeaderGauge(), 1);
  EXPECT_THAT(follower->Log(), HasSubstr("scheduler started"));

  // The survivor resigns on SIGTERM and exits cleanly.
  const int st = follower->Kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << follower->Log();
  EXPECT_THAT(follower->Log(), HasSubstr("resigned"));
}

TEST_F(ControllerProcessesTest, LeaderExitsWhenItLosesItsKey) {
  auto a = std::make_unique<Controller>("ctl-a", dir_);
  ASSERT_TRUE(TimeUntil([&] { return a->Ready(); }, absl::Seconds(20))) << a->Log();
  auto b = std::make_unique<Controller>("ctl-b", dir_);
  ASSERT_TRUE(TimeUntil([&] { return b->Get("/healthz") == 200; }, absl::Seconds(20))) << b->Log();
  EXPECT_FALSE(b->Ready());

  // Someone removes the leader key (an operator with etcdctl, or a lease lost in etcd): the
  // leader must stop scheduling at once, by exiting; the follower takes over.
  auto s = Connect();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->Delete(controller::store::keys::kLeader).ok());
  auto st = a->WaitExit(absl::Seconds(5));
  ASSERT_TRUE(st.has_value()) << "the leader kept running without its key\n" << a->Log();
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 1) << a->Log();
  EXPECT_THAT(a->Log(), HasSubstr("lost leadership"));
  EXPECT_TRUE(TimeUntil([&] { return b->Ready(); }, absl::Seconds(5))) << b->Log();
}

TEST_F(ControllerProcessesTest, LeaderExitsBeforeItsLeaseCanExpireWhenEtcdStopsAnswering) {
  auto a = std::make_unique<Controller>("ctl-a", dir_);
  ASSERT_TRUE(TimeUntil([&] { return a->Ready(); }, absl::Seconds(20))) << a->Log();
  // A frozen etcd: renewals hang (up to the 5 s RPC deadline) instead of failing fast.
  const pid_t etcd = EtcdEnvironment::etcd()->pid();
  ASSERT_EQ(kill(etcd, SIGSTOP), 0);
  const absl::Time frozen = absl::Now();
  auto st = a->WaitExit(kTtl + absl::Seconds(3));
  const absl::Duration took = absl::Now() - frozen;
  kill(etcd, SIGCONT);
  ASSERT_TRUE(st.has_value()) << "the leader kept running without renewals\n" << a->Log();
  std::printf("[ measured ] leader exited %s after etcd froze (lease TTL %s)\n",
              absl::FormatDuration(took).c_str(), absl::FormatDuration(kTtl).c_str());
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 1) << a->Log();
  EXPECT_THAT(a->Log(), HasSubstr("no lease renewal succeeded"));
  // Gone before etcd could have expired the lease (one TTL after the last renewal).
  EXPECT_LT(took, kTtl);
}

TEST_F(ControllerProcessesTest, WithoutLeaderElectionTheControllerLeadsAlone) {
  auto a = std::make_unique<Controller>("solo", dir_, /*elect=*/false);
  ASSERT_TRUE(TimeUntil([&] { return a->Get("/healthz") == 200; }, absl::Seconds(20))) << a->Log();
  EXPECT_TRUE(a->Ready()) << a->Log();
  EXPECT_EQ(a->LeaderGauge(), 1);
}

TEST(ControllerFlagsTest, LeaderElectionNeedsEtcd) {
  const CommandResult r = RunCommand(absl::StrCat(NETRIG_CONTROLLER_BIN,
                                                  " --store memory --leader-elect --rest '' "
                                                  "--listen 127.0.0.1:0 2>&1"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("leader election needs --store etcd"));
}

}  // namespace
}  // namespace netrig::testing
