// NetnsSutProvider for real (root): a tester namespace holds both agent ends; the SUT is a
// linux-shaper namespace. Everything made here is removed, also when an assertion fails.
#include <unistd.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller/sut/netns_provider.h"
#include "tests/support/process.h"

namespace netrig::controller::sut {
namespace {

using netrig::testing::IsRoot;
using netrig::testing::RunCommand;
using ::testing::HasSubstr;
using ::testing::Not;

bool NamespaceExists(const std::string& ns) {
  auto r = RunCommand("ip netns list | awk '{print $1}' | grep -qx '" + ns + "'");
  return r.exit_code == 0;
}

class NetnsSutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) GTEST_SKIP() << "needs root (creates network namespaces); run as root";
    const std::string id = std::to_string(getpid() % 100000);
    tester_ = "nrst-" + id;
    run_ = "it-" + id;
    ASSERT_EQ(RunCommand("ip netns add " + tester_ + " 2>&1").exit_code, 0);
    made_tester_ = true;
  }
  void TearDown() override {
    for (const std::string& id : {run_, std::string("orphan-1"), run_ + "-bad"}) {
      SutInstance inst;
      inst.run_id = id;
      (void)provider_.Destroy(inst);
    }
    if (made_tester_) RunCommand("ip netns del " + tester_ + " 2>/dev/null");
  }
  SutRequest ShaperRequest(const std::string& run_id, const std::string& peer_ns) {
    SutRequest r;
    r.run_id = run_id;
    r.template_name = "linux-shaper";
    r.parameters = {{"qdisc", "tbf"}, {"rate", "50mbit"}};
    r.links = {{.name = "west", .peer_namespace = peer_ns, .peer_ifname = "agw"},
               {.name = "east", .peer_namespace = peer_ns, .peer_ifname = "age"}};
    return r;
  }
  std::string Sh(const std::string& cmd) { return RunCommand(cmd + " 2>&1").out; }

  NetnsSutProvider provider_;
  std::string tester_, run_;
  bool made_tester_ = false;
};

TEST_F(NetnsSutTest, ShaperLifecycle) {
  auto inst = provider_.Create(ShaperRequest(run_, tester_));
  ASSERT_TRUE(inst.ok()) << inst.status();
  const std::string ns = inst->namespace_name;
  EXPECT_EQ(ns, "nrsut-" + run_);
  ASSERT_TRUE(provider_.WaitReady(*inst, absl::Seconds(5)).ok());

  // The qdisc, forwarding, neighbour entries, MACs.
  EXPECT_THAT(Sh("tc -n " + ns + " qdisc show dev west"), HasSubstr("qdisc tbf"));
  EXPECT_THAT(Sh("tc -n " + ns + " qdisc show dev west"), HasSubstr("50Mbit"));
  EXPECT_THAT(Sh("tc -n " + ns + " qdisc show dev east"), HasSubstr("qdisc tbf"));
  EXPECT_EQ(Sh("ip netns exec " + ns + " sysctl -n net.ipv4.ip_forward"), "1\n");
  EXPECT_EQ(Sh("ip netns exec " + ns + " sysctl -n net.ipv4.conf.west.rp_filter"), "0\n");
  const std::string neigh = Sh("ip -n " + ns + " neigh show");
  EXPECT_THAT(neigh, HasSubstr("198.18.1.2 dev west lladdr " + inst->links[0].peer_mac + " PERMANENT"));
  EXPECT_THAT(neigh, HasSubstr("198.19.1.2 dev east lladdr " + inst->links[1].peer_mac + " PERMANENT"));
  EXPECT_THAT(Sh("ip -n " + tester_ + " -br link show dev agw"), HasSubstr(inst->links[0].peer_mac));
  EXPECT_THAT(Sh("ip -n " + ns + " -br link show dev west"), HasSubstr(inst->next_hops[0].mac));

  // Reachability: the tester's west address answers the SUT (the tester answers ARP and ICMP;
  // the SUT uses its permanent neighbour entry). No ping binary here: python sends the echo.
  ASSERT_EQ(RunCommand("ip -n " + tester_ + " addr add 198.18.1.2/24 dev agw").exit_code, 0);
  const std::string ping =
      "ip netns exec " + ns +
      " python3 -c 'import socket,sys\n"
      "s=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_ICMP); s.settimeout(2)\n"
      "s.sendto(bytes([8,0,0xf7,0xfe,0,1,0,0]),(\"198.18.1.2\",0))\n"
      "while True:\n"
      "  d,a=s.recvfrom(2048)\n"
      "  if a[0]==\"198.18.1.2\" and d[20]==0: sys.exit(0)\n'";
  EXPECT_EQ(RunCommand(ping).exit_code, 0) << "no echo reply from 198.18.1.2";

  // Events.
  ASSERT_TRUE(provider_.InjectEvent(*inst, {"link-down", "east"}).ok());
  EXPECT_THAT(Sh("ip -n " + ns + " -o link show dev east"), Not(HasSubstr(",UP")));
  absl::Status down = provider_.WaitReady(*inst, absl::Milliseconds(200));
  EXPECT_EQ(down.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(down.message()), HasSubstr("link east (east): down"));
  ASSERT_TRUE(provider_.InjectEvent(*inst, {"link-up", "east"}).ok());
  EXPECT_TRUE(provider_.WaitReady(*inst, absl::Seconds(5)).ok());

  // Destroy takes the agent ends with it; a second Destroy is fine.
  ASSERT_TRUE(provider_.Destroy(*inst).ok());
  EXPECT_FALSE(NamespaceExists(ns));
  EXPECT_NE(RunCommand("ip -n " + tester_ + " link show dev agw >/dev/null 2>&1").exit_code, 0);
  EXPECT_NE(RunCommand("ip -n " + tester_ + " link show dev age >/dev/null 2>&1").exit_code, 0);
  EXPECT_TRUE(provider_.Destroy(*inst).ok());
}

TEST_F(NetnsSutTest, Orphans) {
  SutRequest r = ShaperRequest("orphan-1", tester_);
  r.links[0].peer_ifname = "ago1w";
  r.links[1].peer_ifname = "ago1e";
  auto inst = provider_.Create(r);
  ASSERT_TRUE(inst.ok()) << inst.status();
  auto orphans = provider_.ListOrphans({});
  ASSERT_TRUE(orphans.ok()) << orphans.status();
  EXPECT_THAT(*orphans, ::testing::Contains("orphan-1"));
  orphans = provider_.ListOrphans({"orphan-1"});
  ASSERT_TRUE(orphans.ok());
  EXPECT_THAT(*orphans, Not(::testing::Contains("orphan-1")));
  SutInstance by_id;
  by_id.run_id = "orphan-1";
  EXPECT_TRUE(provider_.Destroy(by_id).ok());
  EXPECT_FALSE(NamespaceExists("nrsut-orphan-1"));
}

TEST_F(NetnsSutTest, FailingStepLeavesNothing) {
  // The agent-side interface name is taken in the tester namespace: the veth step fails after
  // the SUT namespace exists.
  ASSERT_EQ(RunCommand("ip -n " + tester_ + " link add agw type veth peer name agwx").exit_code, 0);
  auto inst = provider_.Create(ShaperRequest(run_ + "-bad", tester_));
  ASSERT_FALSE(inst.ok());
  EXPECT_THAT(std::string(inst.status().message()), HasSubstr("`ip -n " + tester_ + " link add agw"));
  EXPECT_THAT(std::string(inst.status().message()), HasSubstr("exists"));
  EXPECT_FALSE(NamespaceExists("nrsut-" + run_ + "-bad"));

  // A peer namespace that does not exist.
  auto missing = provider_.Create(ShaperRequest(run_ + "-bad", "nrnone-" + run_));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("link add"));
  EXPECT_FALSE(NamespaceExists("nrsut-" + run_ + "-bad"));

  // Validation errors run nothing.
  SutRequest bad = ShaperRequest(run_ + "-bad", tester_);
  bad.parameters["rate"] = "fast";
  EXPECT_EQ(provider_.Create(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad.template_name = "x";
  EXPECT_EQ(provider_.Create(bad).status().message(),
            "sut.template: unknown template \"x\" (known: linux-router, linux-shaper)");
  EXPECT_FALSE(NamespaceExists("nrsut-" + run_ + "-bad"));
}

}  // namespace
}  // namespace netrig::controller::sut
