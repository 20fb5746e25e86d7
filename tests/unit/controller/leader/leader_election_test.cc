// LeaderElector on MemoryStore: one of two candidates wins, the other takes over when the
// winner's lease is revoked or expires (lease clock driven by the test), a leader reacts to its
// key being deleted or overwritten and to failed renewals; plus the REST probes a Kubernetes
// Service uses to route to the leader.
#include "controller/leader/leader_election.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "controller/agents/agent_registry.h"
#include "controller/agents/trial_coordinator.h"
#include "controller/api/controller_service.h"
#include "controller/api/run_service.h"
#include "controller/store/keys.h"
#include "controller/store/memory_store.h"

namespace netrig::controller::leader {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(5);  // generous: 2 shared cores

// Polls `done` until it holds or `timeout` passes (the elector works on its own threads).
bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout = kWait) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

// Records on_lost calls.
struct LossLog {
  absl::Mutex mu;
  int calls = 0;
  std::string reason;

  LeaderElector::LostCallback Callback() {
    return [this](const std::string& r) {
      absl::MutexLock lock(&mu);
      ++calls;
      reason = r;
    };
  }
  int count() {
    absl::MutexLock lock(&mu);
    return calls;
  }
  std::string last() {
    absl::MutexLock lock(&mu);
    return reason;
  }
};

// A StateStore that counts KeepAlive calls and can make them fail; everything else goes to
// the wrapped store.
class KeepAliveControlStore : public store::StateStore {
 public:
  explicit KeepAliveControlStore(store::StateStore& s) : s_(s) {}
  std::atomic<int> fail_code{0};   // absl::StatusCode; 0: KeepAlive works
  std::atomic<int> keepalives{0};  // successful ones

  absl::StatusOr<store::KeyValue> Get(absl::string_view k) override { return s_.Get(k); }
  absl::StatusOr<store::ListResult> List(absl::string_view p, int64_t l) override {
    return s_.List(p, l);
  }
  absl::StatusOr<int64_t> Put(absl::string_view k, absl::string_view v, int64_t l) override {
    return s_.Put(k, v, l);
  }
  absl::StatusOr<int64_t> Create(absl::string_view k, absl::string_view v, int64_t l) override {
    return s_.Create(k, v, l);
  }
  absl::StatusOr<int64_t> CompareAndSwap(absl::string_view k, int64_t r, absl::string_view v,
                                         int64_t l) override {
    return s_.CompareAndSwap(k, r, v, l);
  }
  absl::StatusOr<int64_t> Delete(absl::string_view k) override { return s_.Delete(k); }
  absl::StatusOr<int64_t> CompareAndDelete(absl::string_view k, int64_t r) override {
    return s_.CompareAndDelete(k, r);
  }
  absl::StatusOr<int64_t> Txn(const store::TxnRequest& t) override { return s_.Txn(t); }
  absl::StatusOr<std::unique_ptr<store::WatchHandle>> Watch(absl::string_view p, int64_t r,
                                                            store::EventCallback e,
                                                            store::ErrorCallback err) override {
    return s_.Watch(p, r, std::move(e), std::move(err));
  }
  absl::StatusOr<int64_t> Grant(absl::Duration ttl) override { return s_.Grant(ttl); }
  absl::StatusOr<absl::Duration> KeepAlive(int64_t lease) override {
    if (const int code = fail_code.load(); code != 0) {
      return absl::Status(static_cast<absl::StatusCode>(code), "injected KeepAlive failure");
    }
    auto ttl = s_.KeepAlive(lease);
    if (ttl.ok()) ++keepalives;
    return ttl;
  }
  absl::Status Revoke(int64_t lease) override { return s_.Revoke(lease); }
  void Stop() override {}

 private:
  store::StateStore& s_;
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Leases expire only when the test moves the clock and calls ExpireLeases().
    auto s = store::MemoryStore::Create(
        {.now = [this] { return Now(); }, .reap_interval = absl::ZeroDuration()});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
  }
  void TearDown() override { store_->Stop(); }

  absl::Time Now() {
    absl::MutexLock lock(&clock_mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&clock_mu_);
    now_ += d;
  }

  std::unique_ptr<LeaderElector> Elector(const std::string& identity,
                                         absl::Duration renew_interval = absl::ZeroDuration()) {
    LeaderElectionOptions o;
    o.identity = identity;
    o.advertise = identity + ".example:7400";
    o.lease_ttl = absl::Seconds(3);
    o.renew_interval = renew_interval;
    o.retry_interval = absl::Milliseconds(100);
    auto e = LeaderElector::Create(*store_, o);
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? *std::move(e) : nullptr;
  }

  // The record stored under the leader key, or an empty one when the key is missing.
  LeaderRecord Stored() {
    auto kv = store_->Get(store::keys::kLeader);
    if (!kv.ok()) return {};
    auto r = LeaderRecord::FromValue(kv->value);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : LeaderRecord{};
  }

  absl::Mutex clock_mu_;
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
  std::unique_ptr<store::MemoryStore> store_;
};

TEST(LeaderRecordTest, RoundTripsIdentityAndAdvertise) {
  const LeaderRecord r{"controller-0", "10.0.0.7:7400"};
  auto back = LeaderRecord::FromValue(r.ToValue());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, r);
}

TEST(LeaderRecordTest, RejectsValuesWithoutAnIdentity) {
  EXPECT_THAT(LeaderRecord::FromValue("not json").status().message(), HasSubstr("JSON object"));
  EXPECT_THAT(LeaderRecord::FromValue(R"({"advertise": "a:1"})").status().message(),
              HasSubstr("identity"));
  EXPECT_THAT(LeaderRecord::FromValue(R"({"identity": "a", "advertise": 7})").status().message(),
              HasSubstr("advertise"));
}

TEST_F(LeaderElectionTest, CreateNamesTheBadOption) {
  LeaderElectionOptions o;
  o.identity = "";
  EXPECT_THAT(LeaderElector::Create(*store_, o).status().message(), HasSubstr("identity"));
  o.identity = "a";
  o.lease_ttl = absl::Milliseconds(500);
  EXPECT_THAT(LeaderElector::Create(*store_, o).status().message(), HasSubstr("lease TTL"));
  o.lease_ttl = absl::Seconds(3);
  o.renew_interval = absl::Seconds(2);
  EXPECT_THAT(LeaderElector::Create(*store_, o).status().message(), HasSubstr("renew interval"));
  o.renew_interval = absl::Seconds(1);
  EXPECT_TRUE(LeaderElector::Create(*store_, o).ok());
}

TEST_F(LeaderElectionTest, OneOfTwoCandidatesWinsAndTheOtherKnowsWho) {
  auto a = Elector("a");
  auto b = Elector("b");
  a->Start();
  b->Start();
  ASSERT_TRUE(WaitUntil([&] { return a->is_leader() || b->is_leader(); }));
  LeaderElector& winner = a->is_leader() ? *a : *b;
  LeaderElector& loser = a->is_leader() ? *b : *a;
  EXPECT_FALSE(loser.is_leader());
  EXPECT_EQ(loser.lease_id(), 0);

  // The key holds the winner's identity and advertised address, on the winner's lease.
  const std::string winner_id = &winner == a.get() ? "a" : "b";
  EXPECT_EQ(Stored(), (LeaderRecord{winner_id, winner_id + ".example:7400"}));
  auto kv = store_->Get(store::keys::kLeader);
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->lease, winner.lease_id());
  EXPECT_NE(kv->lease, 0);
  EXPECT_EQ(winner.leader(), Stored());
  ASSERT_TRUE(WaitUntil([&] { return loser.leader() == Stored(); }))
      << "loser sees " << loser.leader().identity;
  EXPECT_FALSE(loser.is_leader());
}

TEST_F(LeaderElectionTest, FollowerTakesOverWhenTheLeadersLeaseIsRevoked) {
  LossLog a_lost;
  auto a = Elector("a");
  a->Start(nullptr, a_lost.Callback());
  ASSERT_TRUE(a->AwaitLeadership(kWait));
  std::atomic<int> b_elected{0};
  auto b = Elector("b");
  b->Start([&] { ++b_elected; });
  ASSERT_TRUE(WaitUntil([&] { return b->leader().identity == "a"; }));
  EXPECT_FALSE(b->is_leader());

  ASSERT_TRUE(store_->Revoke(a->lease_id()).ok());
  ASSERT_TRUE(b->AwaitLeadership(kWait)) << "b did not take over";
  // on_elected runs on the elector's thread right after it takes the lead.
  EXPECT_TRUE(WaitUntil([&] { return b_elected.load() == 1; }));
  EXPECT_EQ(Stored().identity, "b");
  ASSERT_TRUE(WaitUntil([&] { return a_lost.count() == 1; }));
  EXPECT_TRUE(a->lost());
  EXPECT_FALSE(a->is_leader());
  // The watch (key deleted), the renewal (lease gone), or, when b's create lands before a reads
  // the key again, the key held by b: whichever noticed first.
  EXPECT_THAT(a_lost.last(), ::testing::AnyOf(HasSubstr("was deleted"), HasSubstr("revoked"),
                                              HasSubstr("overwritten by b")));
}

TEST_F(LeaderElectionTest, FollowerTakesOverWhenTheLeadersLeaseExpires) {
  auto a = Elector("a");
  a->Start();
  ASSERT_TRUE(a->AwaitLeadership(kWait));
  auto b = Elector("b");
  b->Start();
  ASSERT_TRUE(WaitUntil([&] { return b->leader().identity == "a"; }));

  // A crashed leader: no more renewals, no revoke. Its key outlives it until the TTL passes.
  a->AbandonForTest();
  EXPECT_EQ(Stored().identity, "a");
  EXPECT_FALSE(b->AwaitLeadership(absl::Milliseconds(300)));

  Advance(absl::Seconds(4));  // past the 3 s TTL
  auto expired = store_->ExpireLeases();
  ASSERT_TRUE(expired.ok()) << expired.status();
  EXPECT_EQ(*expired, 1);
  ASSERT_TRUE(b->AwaitLeadership(kWait)) << "b did not take over after the lease expired";
  EXPECT_EQ(Stored(), (LeaderRecord{"b", "b.example:7400"}));
}

TEST_F(LeaderElectionTest, RenewalsKeepTheLeaseAliveAcrossManyTtls) {
  KeepAliveControlStore counting(*store_);
  LeaderElectionOptions o;
  o.identity = "a";
  o.lease_ttl = absl::Seconds(3);
  o.renew_interval = absl::Milliseconds(50);
  auto a = LeaderElector::Create(counting, o);
  ASSERT_TRUE(a.ok()) << a.status();
  (*a)->Start();
  ASSERT_TRUE((*a)->AwaitLeadership(kWait));
  const int64_t lease = (*a)->lease_id();
  // Each step moves the lease clock by 1 s (a third of the TTL) and waits for two renewals
  // (so one surely started after the move); without them the lease expires by the third step.
  for (int i = 0; i < 6; ++i) {
    Advance(absl::Seconds(1));
    const int seen = counting.keepalives.load();
    ASSERT_TRUE(WaitUntil([&] { return counting.keepalives.load() >= seen + 2; }));
    auto expired = store_->ExpireLeases();
    ASSERT_TRUE(expired.ok());
    EXPECT_EQ(*expired, 0) << "step " << i;
  }
  EXPECT_TRUE((*a)->is_leader());
  EXPECT_EQ((*a)->lease_id(), lease);
  EXPECT_EQ(Stored().identity, "a");
}

TEST_F(LeaderElectionTest, LeaderLosesWhenItsKeyIsDeleted) {
  LossLog lost;
  auto a = Elector("a");
  a->Start(nullptr, lost.Callback());
  ASSERT_TRUE(a->AwaitLeadership(kWait));
  ASSERT_TRUE(store_->Delete(store::keys::kLeader).ok());
  ASSERT_TRUE(WaitUntil([&] { return lost.count() == 1; }));
  EXPECT_THAT(lost.last(), HasSubstr("/netrig/leader was deleted"));
  EXPECT_FALSE(a->is_leader());
  EXPECT_TRUE(a->lost());
  // Losing is final: the elector does not campaign again (the controller exits instead).
  EXPECT_FALSE(a->AwaitLeadership(absl::Milliseconds(300)));
  EXPECT_EQ(lost.count(), 1);
}

TEST_F(LeaderElectionTest, LeaderLosesWhenItsKeyIsOverwritten) {
  LossLog lost;
  auto a = Elector("a");
  a->Start(nullptr, lost.Callback());
  ASSERT_TRUE(a->AwaitLeadership(kWait));
  ASSERT_TRUE(store_->Put(store::keys::kLeader, LeaderRecord{"intruder", ""}.ToValue()).ok());
  ASSERT_TRUE(WaitUntil([&] { return lost.count() == 1; }));
  EXPECT_THAT(lost.last(), HasSubstr("overwritten by intruder"));
}

TEST_F(LeaderElectionTest, StopRevokesTheLeaseSoTheFollowerTakesOverAtOnce) {
  LossLog a_lost;
  auto a = Elector("a");
  a->Start(nullptr, a_lost.Callback());
  ASSERT_TRUE(a->AwaitLeadership(kWait));
  auto b = Elector("b");
  b->Start();
  ASSERT_TRUE(WaitUntil([&] { return b->leader().identity == "a"; }));
  a->Stop();  // no clock movement: only the revoke can free the key
  ASSERT_TRUE(b->AwaitLeadership(kWait));
  EXPECT_EQ(a_lost.count(), 0);  // resigning is not losing
  EXPECT_FALSE(a->is_leader());
}

TEST_F(LeaderElectionTest, CandidateWaitsWhileAnotherHoldsTheKey) {
  auto lease = store_->Grant(absl::Seconds(3));
  ASSERT_TRUE(lease.ok());
  store::StateStore& kv = *store_;  // MemoryStore::Create (the factory) hides StateStore's
  ASSERT_TRUE(kv.Create(store::keys::kLeader, LeaderRecord{"other", "o:1"}.ToValue(), *lease).ok());
  auto a = Elector("a");
  a->Start();
  ASSERT_TRUE(WaitUntil([&] { return a->leader().identity == "other"; }));
  EXPECT_EQ(a->leader().advertise, "o:1");
  EXPECT_FALSE(a->AwaitLeadership(absl::Milliseconds(300)));
  ASSERT_TRUE(store_->Revoke(*lease).ok());
  EXPECT_TRUE(a->AwaitLeadership(kWait));
}

TEST_F(LeaderElectionTest, LeaderGivesUpWhenRenewalsFailForTwoThirdsOfTheTtl) {
  KeepAliveControlStore flaky(*store_);
  LeaderElectionOptions o;
  o.identity = "a";
  o.lease_ttl = absl::Seconds(1);
  o.retry_interval = absl::Milliseconds(50);
  auto a = LeaderElector::Create(flaky, o);
  ASSERT_TRUE(a.ok()) << a.status();
  LossLog lost;
  (*a)->Start(nullptr, lost.Callback());
  ASSERT_TRUE((*a)->AwaitLeadership(kWait));
  flaky.fail_code.store(static_cast<int>(absl::StatusCode::kUnavailable));
  const absl::Time failing_since = absl::Now();
  ASSERT_TRUE(WaitUntil([&] { return lost.count() == 1; }));
  // Given up within 2/3 of the TTL after the last good renewal, which is at most one renewal
  // period (TTL/3) before the failures began: so well before the lease could expire.
  EXPECT_LT(absl::Now() - failing_since, absl::Milliseconds(1000));
  EXPECT_THAT(lost.last(), HasSubstr("no lease renewal succeeded"));
}

TEST_F(LeaderElectionTest, LeaderLosesWhenKeepAliveSaysTheLeaseIsGone) {
  KeepAliveControlStore flaky(*store_);
  LeaderElectionOptions o;
  o.identity = "a";
  o.lease_ttl = absl::Seconds(3);
  o.renew_interval = absl::Milliseconds(50);
  auto a = LeaderElector::Create(flaky, o);
  ASSERT_TRUE(a.ok()) << a.status();
  LossLog lost;
  (*a)->Start(nullptr, lost.Callback());
  ASSERT_TRUE((*a)->AwaitLeadership(kWait));
  flaky.fail_code.store(static_cast<int>(absl::StatusCode::kNotFound));
  ASSERT_TRUE(WaitUntil([&] { return lost.count() == 1; }));
  EXPECT_THAT(lost.last(), HasSubstr("expired or was revoked"));
}

// The probes a Kubernetes Service routes by: /healthz always, /readyz from the readiness
// function (main.cc makes it "not the leader (leader: ...)" on a follower).
TEST(RestProbesTest, ReadyzFollowsTheReadinessFunctionAndHealthzDoesNot) {
  auto st = store::MemoryStore::Create();
  ASSERT_TRUE(st.ok());
  agents::AgentRegistry registry(absl::Seconds(30));
  agents::TrialCoordinator coordinator(registry, {});
  api::RunService runs(**st, registry, coordinator);
  api::RestServer rest(runs);
  std::atomic<bool> ready{false};
  rest.set_readiness([&]() -> absl::Status {
    if (ready.load()) return absl::OkStatus();
    return absl::UnavailableError("not the leader (leader: b at b:7400)");
  });
  auto port = rest.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  httplib::Client c("127.0.0.1", *port);
  auto health = c.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto not_ready = c.Get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_THAT(not_ready->body, HasSubstr("not the leader (leader: b at b:7400)"));
  ready.store(true);
  auto is_ready = c.Get("/readyz");
  ASSERT_TRUE(is_ready);
  EXPECT_EQ(is_ready->status, 200);
  rest.Stop();
}

}  // namespace
}  // namespace netrig::controller::leader
