#include "lib/kube/leader_election.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/unit/lib/kube/fake_apiserver.h"

namespace netrig::kube {
namespace {

using testing::FakeApiServer;
using testing::WaitFor;

constexpr char kLeasePath[] = "/apis/coordination.k8s.io/v1/namespaces/netrig/leases/op";

std::unique_ptr<Client> NewClient(const FakeApiServer& fake) {
  ClientOptions o;
  o.max_attempts = 1;
  o.request_timeout = absl::Seconds(2);
  auto c = Client::Create(fake.config(), o);
  EXPECT_TRUE(c.ok()) << c.status();
  return std::move(*c);
}

LeaderElectionConfig Fast(const std::string& identity, bool release_on_stop = true) {
  LeaderElectionConfig c;
  c.ns = "netrig";
  c.name = "op";
  c.identity = identity;
  c.lease_duration = absl::Seconds(1);
  c.renew_deadline = absl::Milliseconds(600);
  c.retry_period = absl::Milliseconds(50);
  c.release_on_stop = release_on_stop;
  return c;
}

// One candidate running on its own thread, counting its callbacks.
class Candidate {
 public:
  Candidate(Api* api, LeaderElectionConfig config) : elector_(api, std::move(config)) {
    thread_ = std::thread([this] { elector_.Run([this] { ++started_; }, [this] { ++stopped_; }); });
  }
  ~Candidate() { Stop(); }
  void Stop() {
    elector_.Stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  bool leader() const { return elector_.is_leader(); }
  std::string holder() const { return elector_.holder(); }
  int started() const { return started_.load(); }
  int stopped() const { return stopped_.load(); }

 private:
  LeaderElector elector_;
  std::atomic<int> started_{0}, stopped_{0};
  std::thread thread_;
};

TEST(LeaderElectorTest, OnlyOneOfTwoCandidatesLeads) {
  FakeApiServer fake;
  auto client = NewClient(fake);
  Candidate a(client.get(), Fast("a"));
  Candidate b(client.get(), Fast("b"));
  ASSERT_TRUE(WaitFor([&] { return a.leader() || b.leader(); }));
  // Over many renew periods: never both, and the leader stays the leader.
  const bool a_leads = a.leader();
  for (int i = 0; i < 40; ++i) {
    EXPECT_FALSE(a.leader() && b.leader());
    EXPECT_EQ(a.leader(), a_leads);
    EXPECT_EQ(b.leader(), !a_leads);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(a.started() + b.started(), 1);
  const std::string leader = a_leads ? "a" : "b";
  EXPECT_EQ(fake.Stored(kLeasePath)["spec"]["holderIdentity"], leader);
  EXPECT_EQ(fake.Stored(kLeasePath)["spec"]["leaseDurationSeconds"], 1);
  // The follower saw who holds it.
  ASSERT_TRUE(WaitFor([&] { return (a_leads ? b : a).holder() == leader; }));
}

TEST(LeaderElectorTest, TakesOverAfterTheLeaseExpires) {
  FakeApiServer fake;
  auto client = NewClient(fake);
  Candidate a(client.get(), Fast("a", /*release_on_stop=*/false));
  ASSERT_TRUE(WaitFor([&] { return a.leader(); }));
  Candidate b(client.get(), Fast("b"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(b.leader());

  const auto abandoned = std::chrono::steady_clock::now();
  a.Stop();  // no release: b must wait for the lease to expire
  EXPECT_EQ(a.stopped(), 1);
  ASSERT_TRUE(WaitFor([&] { return b.leader(); }));
  const auto waited = std::chrono::steady_clock::now() - abandoned;
  EXPECT_GE(waited, std::chrono::milliseconds(700));  // about lease_duration (1 s)
  EXPECT_LT(waited, std::chrono::milliseconds(2000));
  const Json spec = fake.Stored(kLeasePath)["spec"];
  EXPECT_EQ(spec["holderIdentity"], "b");
  EXPECT_EQ(spec["leaseTransitions"], 1);
}

TEST(LeaderElectorTest, ReleaseOnStopHandsOverAtOnce) {
  FakeApiServer fake;
  auto client = NewClient(fake);
  Candidate a(client.get(), Fast("a", /*release_on_stop=*/true));
  ASSERT_TRUE(WaitFor([&] { return a.leader(); }));
  Candidate b(client.get(), Fast("b"));
  ASSERT_TRUE(WaitFor([&] { return b.holder() == "a"; }));

  const auto released = std::chrono::steady_clock::now();
  a.Stop();
  EXPECT_FALSE(a.leader());
  EXPECT_EQ(a.started(), 1);
  EXPECT_EQ(a.stopped(), 1);
  ASSERT_TRUE(WaitFor([&] { return b.leader(); }));
  // Well before the 1 s lease would have expired.
  EXPECT_LT(std::chrono::steady_clock::now() - released, std::chrono::milliseconds(500));
  EXPECT_EQ(fake.Stored(kLeasePath)["spec"]["holderIdentity"], "b");
}

TEST(LeaderElectorTest, StepsDownWhenItCannotRenewWithinTheDeadline) {
  FakeApiServer fake;
  auto client = NewClient(fake);
  Candidate a(client.get(), Fast("a"));
  ASSERT_TRUE(WaitFor([&] { return a.leader(); }));
  const auto broken = std::chrono::steady_clock::now();
  fake.SetHandler([](const httplib::Request&, httplib::Response& res) {
    testing::SendStatus(res, 500, "InternalError", "etcd unavailable");
  });
  ASSERT_TRUE(WaitFor([&] { return !a.leader(); }));
  const auto waited = std::chrono::steady_clock::now() - broken;
  EXPECT_GE(waited, std::chrono::milliseconds(500));  // renew_deadline is 600 ms
  EXPECT_EQ(a.stopped(), 1);

  fake.SetHandler(nullptr);  // the store is back: a campaigns again and wins
  ASSERT_TRUE(WaitFor([&] { return a.leader(); }));
  EXPECT_EQ(a.started(), 2);
}

TEST(LeaderElectorTest, LosesLeadershipWhenSomeoneElseHoldsTheLease) {
  FakeApiServer fake;
  auto client = NewClient(fake);
  Candidate a(client.get(), Fast("a"));
  ASSERT_TRUE(WaitFor([&] { return a.leader(); }));
  // Another writer (an operator with a different config, or a human) takes the lease.
  Json lease = fake.Stored(kLeasePath);
  lease["spec"]["holderIdentity"] = "intruder";
  lease["spec"]["leaseDurationSeconds"] = 30;
  fake.Put(kLeasePath, lease);
  ASSERT_TRUE(WaitFor([&] { return !a.leader(); }));
  EXPECT_EQ(a.holder(), "intruder");
  EXPECT_EQ(a.stopped(), 1);
}

}  // namespace
}  // namespace netrig::kube
