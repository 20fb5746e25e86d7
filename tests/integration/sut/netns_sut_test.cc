// NetnsSutProvider for real (root): a tester namespace holds both agent ends; the SUT is a
// linux-shaper namespace, or an frr-router namespace running FRR's daemons (skipped without
// /usr/lib/frr/zebra). Everything made here is removed, also when an assertion fails.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

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
            "sut.template: unknown template \"x\" (known: linux-router, linux-shaper, frr-router)");
  EXPECT_FALSE(NamespaceExists("nrsut-" + run_ + "-bad"));
}

// ---------------------------------------------------------------- frr-router

constexpr char kFrrStateDir[] = "/run/netrig/sut";

// Pids of the processes whose command line contains `marker` (read from /proc, so that the
// search itself never matches).
std::vector<int> ProcessesWith(const std::string& marker) {
  std::vector<int> pids;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string args = ss.str();
    for (char& c : args) c = c == '\0' ? ' ' : c;
    if (args.find(marker) != std::string::npos) pids.push_back(std::stoi(name));
  }
  return pids;
}

std::string InstanceDir(const std::string& run_id) {
  return std::string(kFrrStateDir) + "/" + NamespaceName(run_id);
}

class FrrSutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) GTEST_SKIP() << "needs root (creates network namespaces, runs FRR); run as root";
    if (access("/usr/lib/frr/zebra", X_OK) != 0) {
      GTEST_SKIP() << "FRR is not installed (/usr/lib/frr/zebra is missing): apt-get install frr";
    }
    id_ = std::to_string(getpid() % 100000);
    tester_ = "nrft-" + id_;
    ASSERT_EQ(RunCommand("ip netns add " + tester_ + " 2>&1").exit_code, 0);
    made_tester_ = true;
  }
  void TearDown() override {
    // Destroy by run id alone: stops any daemon, removes the namespace and the directory.
    for (const std::string& run : runs_) {
      SutInstance inst;
      inst.run_id = run;
      (void)provider_.Destroy(inst);
    }
    if (made_tester_) RunCommand("ip netns del " + tester_ + " 2>/dev/null");
    if (!fake_bin_.empty()) std::filesystem::remove_all(fake_bin_);
  }
  // A run id for this test, destroyed in TearDown whatever happens.
  std::string NewRun(const std::string& suffix) {
    runs_.push_back("itfrr-" + id_ + "-" + suffix);
    return runs_.back();
  }
  // Two links into the tester namespace, with agent-side names unique to this run.
  SutRequest Request(const std::string& run_id, std::map<std::string, std::string> parameters) {
    SutRequest r;
    r.run_id = run_id;
    r.template_name = "frr-router";
    r.parameters = std::move(parameters);
    const std::string tag = std::to_string(runs_.size());
    r.links = {{.name = "west", .peer_namespace = tester_, .peer_ifname = "fw" + tag},
               {.name = "east", .peer_namespace = tester_, .peer_ifname = "fe" + tag}};
    return r;
  }
  // No namespace, no directory, no daemon of the run.
  void ExpectNothingLeft(const std::string& run_id) {
    EXPECT_FALSE(NamespaceExists(NamespaceName(run_id))) << NamespaceName(run_id);
    EXPECT_FALSE(std::filesystem::exists(InstanceDir(run_id))) << InstanceDir(run_id);
    EXPECT_THAT(ProcessesWith(InstanceDir(run_id) + "/"), ::testing::IsEmpty()) << "daemons left";
  }
  std::string Vtysh(const std::string& run_id, const std::string& command) {
    return RunCommand("vtysh --vty_socket " + InstanceDir(run_id) + " -c '" + command + "' 2>&1")
        .out;
  }
  std::string Sh(const std::string& cmd) { return RunCommand(cmd + " 2>&1").out; }

  NetnsSutProvider provider_;
  std::string id_, tester_, fake_bin_;
  std::vector<std::string> runs_;
  bool made_tester_ = false;
};

TEST_F(FrrSutTest, OspfAndStaticRouteComeUpAndForward) {
  const std::string run = NewRun("ospf");
  const std::string config =
      "hostname frr-it\n"
      "ip route 10.99.0.0/24 198.19.1.2\n"
      "!\n"
      "interface west\n"
      " ip ospf hello-interval 2\n"
      "exit\n"
      "!\n"
      "router ospf\n"
      " ospf router-id 198.18.1.1\n"
      " network 198.18.1.0/24 area 0\n"
      " network 198.19.1.0/24 area 0\n"
      "exit\n";
  const auto start = std::chrono::steady_clock::now();
  auto inst = provider_.Create(Request(run, {{"config", config}}));
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(inst->parameters.at("daemons"), "zebra,ospfd,staticd");
  ASSERT_TRUE(provider_.WaitReady(*inst, absl::Seconds(10)).ok());
  std::printf("frr-router (zebra, ospfd, staticd) created and ready in %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count()));
  const std::string ns = inst->namespace_name;

  // The daemons run inside the SUT namespace and hold the configuration.
  const std::vector<int> daemons = ProcessesWith(InstanceDir(run) + "/");
  EXPECT_EQ(daemons.size(), 3u);
  for (int pid : daemons) {
    EXPECT_EQ(Sh("readlink /proc/" + std::to_string(pid) + "/ns/net"),
              Sh("ip netns exec " + ns + " readlink /proc/self/ns/net"));
  }
  const std::string running = Vtysh(run, "show running-config");
  EXPECT_THAT(running, HasSubstr("hostname frr-it"));
  EXPECT_THAT(running, HasSubstr("ip route 10.99.0.0/24 198.19.1.2"));
  EXPECT_THAT(running, HasSubstr("ip ospf hello-interval 2"));
  EXPECT_THAT(running, HasSubstr("network 198.19.1.0/24 area 0"));
  EXPECT_THAT(Vtysh(run, "show ip ospf"), HasSubstr("Router ID: 198.18.1.1"));

  // staticd's route reached the kernel of the SUT namespace...
  EXPECT_THAT(Sh("ip -n " + ns + " route show 10.99.0.0/24"),
              HasSubstr("via 198.19.1.2 dev east proto static"));
  // ... and forwards: a datagram the tester sends to 10.99.0.5 through the SUT's west side comes
  // out of its east side (the tester sniffs its east end).
  const std::string west = inst->links[0].peer_ifname, east = inst->links[1].peer_ifname;
  ASSERT_EQ(RunCommand("ip -n " + tester_ + " addr add 198.18.1.2/24 dev " + west).exit_code, 0);
  ASSERT_EQ(RunCommand("ip -n " + tester_ + " route add 10.99.0.0/24 via 198.18.1.1").exit_code, 0);
  const std::string probe =
      "ip netns exec " + tester_ +
      " python3 -c 'import socket,sys,time\n"
      "r=socket.socket(socket.AF_PACKET,socket.SOCK_RAW,socket.htons(0x0800)); r.bind((\"" +
      east +
      "\",0))\n"
      "r.settimeout(0.5); s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); end=time.time()+5\n"
      "while time.time()<end:\n"
      "  s.sendto(b\"netrig-frr-probe\",(\"10.99.0.5\",9))\n"
      "  try:\n"
      "    while True:\n"
      "      if b\"netrig-frr-probe\" in r.recv(2048): sys.exit(0)\n"
      "  except socket.timeout: pass\n"
      "sys.exit(1)\n'";
  EXPECT_EQ(RunCommand(probe).exit_code, 0) << "10.99.0.5 was not forwarded to the east link";

  // Link events work as for the other templates.
  ASSERT_TRUE(provider_.InjectEvent(*inst, {"link-down", "east"}).ok());
  absl::Status down = provider_.WaitReady(*inst, absl::Milliseconds(300));
  EXPECT_EQ(down.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(down.message()), HasSubstr("link east (east): down"));
  ASSERT_TRUE(provider_.InjectEvent(*inst, {"link-up", "east"}).ok());
  EXPECT_TRUE(provider_.WaitReady(*inst, absl::Seconds(5)).ok());

  ASSERT_TRUE(provider_.Destroy(*inst).ok());
  ExpectNothingLeft(run);
  EXPECT_TRUE(provider_.Destroy(*inst).ok());
}

TEST_F(FrrSutTest, BadConfigFailsNamingTheDaemonAndLeavesNothing) {
  // FRR's parser refuses the line: nothing is created at all.
  const std::string run = NewRun("bad");
  auto inst = provider_.Create(
      Request(run, {{"config", "router bgp 65001\n neighbor 198.18.1.2 remote-az 65002\nexit\n"}}));
  ASSERT_FALSE(inst.ok());
  EXPECT_EQ(inst.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(inst.status().message()),
              HasSubstr("bgpd: line 2 (neighbor 198.18.1.2 remote-az 65002): % Unknown command"));
  std::printf("dry run: %s\n", std::string(inst.status().message()).c_str());
  ExpectNothingLeft(run);

  // Valid syntax that bgpd refuses when it is applied: the daemons were running, and are gone.
  inst = provider_.Create(
      Request(run, {{"config", "router bgp 65001\n neighbor 198.18.1.3 peer-group NOPE\nexit\n"}}));
  ASSERT_FALSE(inst.ok());
  EXPECT_EQ(inst.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      std::string(inst.status().message()),
      HasSubstr(
          "bgpd: line 2 (neighbor 198.18.1.3 peer-group NOPE): % Configure the peer-group first"));
  std::printf("apply: %s\n", std::string(inst.status().message()).c_str());
  ExpectNothingLeft(run);
}

TEST_F(FrrSutTest, DaemonThatFailsToStartLeavesNothing) {
  // zebra is the real one; bgpd exits at once with a message, like a daemon that cannot start.
  fake_bin_ = "/tmp/netrig-frr-bin-" + id_;
  std::filesystem::create_directories(fake_bin_);
  std::filesystem::create_symlink("/usr/lib/frr/zebra", fake_bin_ + "/zebra");
  std::ofstream(fake_bin_ + "/bgpd")
      << "#!/bin/sh\necho 'bgpd: cannot open the BGP socket (simulated)' >&2\nexit 3\n";
  std::filesystem::permissions(fake_bin_ + "/bgpd", std::filesystem::perms::owner_all);
  NetnsSutOptions options;
  options.frr.bin_dir = fake_bin_;
  NetnsSutProvider provider(std::make_unique<ExecRunner>(), options);

  const std::string run = NewRun("nostart");
  auto inst = provider.Create(Request(run, {{"daemons", "bgpd"}}));
  ASSERT_FALSE(inst.ok());
  EXPECT_EQ(inst.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(std::string(inst.status().message()),
            "sut.create (frr-router, run " + run +
                "): bgpd failed to start (exit 3): bgpd: cannot open the BGP socket (simulated)");
  ExpectNothingLeft(run);
}

TEST_F(FrrSutTest, BgpNeighborThatNeverAnswersTimesOut) {
  const std::string run = NewRun("bgp");
  auto inst = provider_.Create(Request(run, {{"config",
                                              "router bgp 65001\n"
                                              " bgp router-id 198.18.1.1\n"
                                              " neighbor 198.18.1.2 remote-as 65002\n"
                                              "exit\n"},
                                             {"waitFor", "bgp-established"}}));
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(inst->parameters.at("daemons"), "zebra,bgpd");
  EXPECT_THAT(Vtysh(run, "show running-config"), HasSubstr("neighbor 198.18.1.2 remote-as 65002"));

  const auto start = std::chrono::steady_clock::now();
  absl::Status s = provider_.WaitReady(*inst, absl::Seconds(2));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(s.message()), HasSubstr("bgp neighbor 198.18.1.2: "));
  EXPECT_THAT(std::string(s.message()), HasSubstr(", not Established"));
  EXPECT_LT(waited, std::chrono::seconds(4));
  std::printf("%s\n", std::string(s.message()).c_str());

  ASSERT_TRUE(provider_.Destroy(*inst).ok());
  ExpectNothingLeft(run);
}

TEST_F(FrrSutTest, OrphansLeaveNoDaemons) {
  // A controller that crashed: a new provider knows nothing but what it finds.
  const std::string run = NewRun("orphan");
  {
    NetnsSutProvider crashed;
    auto inst = crashed.Create(Request(run, {}));
    ASSERT_TRUE(inst.ok()) << inst.status();
    ASSERT_EQ(ProcessesWith(InstanceDir(run) + "/").size(), 2u);  // zebra, ospfd
  }
  NetnsSutProvider restarted;
  auto orphans = restarted.ListOrphans({});
  ASSERT_TRUE(orphans.ok()) << orphans.status();
  EXPECT_THAT(*orphans, ::testing::Contains(run));
  SutInstance by_id;
  by_id.run_id = run;
  ASSERT_TRUE(restarted.Destroy(by_id).ok());
  ExpectNothingLeft(run);

  // The namespace went but the daemons did not (a crash in between): the directory names it.
  const std::string half = NewRun("half");
  auto inst = provider_.Create(Request(half, {}));
  ASSERT_TRUE(inst.ok()) << inst.status();
  ASSERT_EQ(RunCommand("ip netns del " + inst->namespace_name).exit_code, 0);
  ASSERT_FALSE(ProcessesWith(InstanceDir(half) + "/").empty());
  orphans = restarted.ListOrphans({});
  ASSERT_TRUE(orphans.ok()) << orphans.status();
  EXPECT_THAT(*orphans, ::testing::Contains(half));
  by_id.run_id = half;
  ASSERT_TRUE(restarted.Destroy(by_id).ok());
  ExpectNothingLeft(half);
}

TEST_F(FrrSutTest, TwoRoutersReachBgpEstablishedAndOspfFull) {
  // Router a (198.18.1.1, AS 65001) and router b (198.18.1.2, AS 65002) share one segment: their
  // west links' agent ends are bridged in the tester namespace.
  auto config = [](const std::string& self, const std::string& asn, const std::string& peer,
                   const std::string& peer_asn) {
    return "interface west\n"
           " ip ospf network point-to-point\n"
           " ip ospf hello-interval 1\n"
           " ip ospf dead-interval 4\n"
           "exit\n"
           "router ospf\n"
           " ospf router-id " +
           self +
           "\n"
           " network 198.18.1.0/24 area 0\n"
           "exit\n"
           "router bgp " +
           asn +
           "\n"
           " bgp router-id " +
           self +
           "\n"
           " no bgp ebgp-requires-policy\n"
           " neighbor " +
           peer + " remote-as " + peer_asn +
           "\n"
           " neighbor " +
           peer +
           " timers connect 1\n"
           "exit\n";
  };
  const std::map<std::string, std::string> wait = {{"waitFor", "bgp-established,ospf-full"}};
  SutRequest a = Request(NewRun("a"), wait);
  a.parameters["config"] = config("198.18.1.1", "65001", "198.18.1.2", "65002");
  a.links = {{.name = "west",
              .peer_namespace = tester_,
              .peer_ifname = "pa",
              .ipv4 = "198.18.1.1/24",
              .peer_ipv4 = "198.18.1.9"}};
  SutRequest b = Request(NewRun("b"), wait);
  b.parameters["config"] = config("198.18.1.2", "65002", "198.18.1.1", "65001");
  b.links = {{.name = "west",
              .peer_namespace = tester_,
              .peer_ifname = "pb",
              .ipv4 = "198.18.1.2/24",
              .peer_ipv4 = "198.18.1.10"}};

  auto ra = provider_.Create(a);
  ASSERT_TRUE(ra.ok()) << ra.status();
  auto rb = provider_.Create(b);
  ASSERT_TRUE(rb.ok()) << rb.status();
  ASSERT_EQ(RunCommand("ip -n " + tester_ + " link add br0 type bridge && ip -n " + tester_ +
                       " link set pa master br0 && ip -n " + tester_ +
                       " link set pb master br0 && ip -n " + tester_ + " link set br0 up")
                .exit_code,
            0);
  const auto start = std::chrono::steady_clock::now();
  absl::Status ready_a = provider_.WaitReady(*ra, absl::Seconds(30));
  ASSERT_TRUE(ready_a.ok()) << ready_a;
  absl::Status ready_b = provider_.WaitReady(*rb, absl::Seconds(10));
  ASSERT_TRUE(ready_b.ok()) << ready_b;
  std::printf("BGP Established and OSPF Full on both routers %lld ms after the link\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count()));
  EXPECT_THAT(Vtysh(a.run_id, "show bgp summary"), HasSubstr("198.18.1.2"));

  // Taking b's link down: a's OSPF neighbour dies after the dead interval (4 s), and a says so.
  ASSERT_TRUE(provider_.InjectEvent(*rb, {"link-down", "west"}).ok());
  absl::Status lost = absl::OkStatus();
  for (int i = 0; i < 100 && lost.ok(); ++i) {
    lost = provider_.ProbeReady(*ra);
    if (lost.ok()) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_THAT(std::string(lost.message()), HasSubstr("ospf: no neighbors yet"));
  std::printf("router a after b's link-down: %s\n", std::string(lost.message()).c_str());

  ASSERT_TRUE(provider_.Destroy(*ra).ok());
  ASSERT_TRUE(provider_.Destroy(*rb).ok());
  ExpectNothingLeft(a.run_id);
  ExpectNothingLeft(b.run_id);
}

}  // namespace
}  // namespace netrig::controller::sut
