// NetnsSutProvider against a fake CommandRunner: rollback, idempotent destroy, orphans,
// readiness and events, without root. frr-router: daemons, config check and apply, readiness,
// stop, orphans, with a temporary state directory and fake FRR binaries.
#include "controller/sut/netns_provider.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace netrig::controller::sut {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Simulates `ip netns add/del/list`; fails the first command whose rendering contains `fail_on`.
// FRR: daemon starts become entries of a process table that `ps` lists and `kill` empties;
// vtysh answers with the configured outputs.
class FakeRunner : public CommandRunner {
 public:
  ExecResult Run(const Command& argv) override {
    const std::string line = RenderCommand(argv);
    log.push_back(line);
    ExecResult r{0, "", ""};
    if (!fail_on.empty() && line.find(fail_on) != std::string::npos) {
      return {2, "", "Error: simulated failure"};
    }
    if (argv.size() > 5 && argv[0] == "ip" && argv[2] == "exec" && argv[5] == "-d") {
      return StartDaemon(argv);
    }
    if (EndsWith(argv[0], "vtysh")) return Vtysh(argv);
    if (argv[0] == "ps") {
      for (const auto& [pid, args] : processes) r.out += std::to_string(pid) + " " + args + "\n";
      return r;
    }
    if (argv[0] == "kill") {
      for (size_t i = 2; i < argv.size(); ++i) {
        if (argv[1] == "-KILL" || !ignore_term) processes.erase(std::stoi(argv[i]));
      }
      return r;
    }
    if (argv.size() >= 3 && argv[0] == "ip" && argv[1] == "netns") {
      if (argv[2] == "add") {
        if (!namespaces.insert(argv[3]).second) return {1, "", "exists"};
      } else if (argv[2] == "del") {
        if (!namespaces.erase(argv[3])) return {1, "", "No such file or directory"};
      } else if (argv[2] == "list") {
        for (const auto& n : namespaces) r.out += n + " (id: 1)\n";
      } else if (argv[2] == "exec") {
        r.out = forwarding;
      }
    } else if (argv[0] == "ip" && line.find("link show dev lo") != std::string::npos) {
      r.out = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\\    alias " + alias + "\n";
    } else if (argv[0] == "ip" && line.find("link show") != std::string::npos) {
      r.out = link_show;
    } else if (argv[0] == "tc" && line.find("qdisc show") != std::string::npos) {
      r.out = qdisc_show;
    }
    return r;
  }
  ExecResult StartDaemon(const Command& argv) {
    const std::string daemon = std::filesystem::path(argv[4]).filename();
    if (daemon == fail_daemon) {
      return {1, "",
              "2026/11/22 18:16:11 BGP: [X][EC 1] Disabling MPLS support (no kernel support)\n"
              "2026/11/22 18:16:11 BGP: [NTCMZ-C8X80][EC 100663303] Can't bind to port 179\n" +
                  daemon + " failed to start, exited 1\n"};
    }
    std::string args;
    for (size_t i = 4; i < argv.size(); ++i) args += (i > 4 ? " " : "") + argv[i];
    processes[next_pid++] = args;
    return {0, "", ""};
  }
  ExecResult Vtysh(const Command& argv) {
    const std::string line = RenderCommand(argv);
    if (line.find(" -C -f ") != std::string::npos) return dry_run;
    if (line.find(" -f ") != std::string::npos) return apply;
    if (line.find("show daemons") != std::string::npos) {
      return show_daemons.empty()
                 ? ExecResult{1, "", "Exiting: failed to connect to any daemons.\n"}
                 : ExecResult{0, show_daemons + "\n", ""};
    }
    if (line.find("show bgp neighbors json") != std::string::npos) return {0, bgp_json, ""};
    if (line.find("show ip ospf neighbor json") != std::string::npos) return {0, ospf_json, ""};
    return {0, "", ""};
  }

  std::set<std::string> namespaces;
  std::vector<std::string> log;
  std::map<int, std::string> processes;  // pid -> command line
  int next_pid = 1000;
  bool ignore_term = false;
  std::string fail_daemon;
  ExecResult dry_run{0, "", ""};
  ExecResult apply{0, "", ""};
  std::string show_daemons = " zebra bgpd ospfd staticd";
  std::string bgp_json = "{}";
  std::string ospf_json = "{\"neighbors\":{}}";
  std::string fail_on;
  std::string forwarding = "1\n";
  std::string alias;
  std::string link_show = "4: west@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n";
  std::string qdisc_show = "qdisc tbf 8001: root refcnt 2 rate 50Mbit burst 16Kb lat 10ms\n";
};

SutRequest Shaper() {
  SutRequest r;
  r.run_id = "r1";
  r.template_name = "linux-shaper";
  r.parameters = {{"rate", "50mbit"}};
  r.links = {{.name = "west", .peer_namespace = "t"}, {.name = "east", .peer_namespace = "t"}};
  return r;
}

struct Fixture {
  FakeRunner* fake = new FakeRunner;
  NetnsSutProvider provider{std::unique_ptr<CommandRunner>(fake), absl::Milliseconds(1)};
};

TEST(NetnsProvider, CreateAndDestroyIdempotent) {
  Fixture f;
  auto inst = f.provider.Create(Shaper());
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_TRUE(f.fake->namespaces.count("nrsut-r1"));
  EXPECT_TRUE(f.provider.WaitReady(*inst, absl::Milliseconds(100)).ok());
  EXPECT_TRUE(f.provider.Destroy(*inst).ok());
  EXPECT_FALSE(f.fake->namespaces.count("nrsut-r1"));
  EXPECT_TRUE(f.provider.Destroy(*inst).ok());
  // A second Create for the same run while its SUT exists is refused.
  ASSERT_TRUE(f.provider.Create(Shaper()).ok());
  EXPECT_EQ(f.provider.Create(Shaper()).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(NetnsProvider, FailingStepRollsBack) {
  Fixture f;
  f.fake->fail_on = "tc -n nrsut-r1 qdisc add dev east";
  auto inst = f.provider.Create(Shaper());
  ASSERT_FALSE(inst.ok());
  EXPECT_THAT(std::string(inst.status().message()),
              HasSubstr("`tc -n nrsut-r1 qdisc add dev east root tbf rate 50mbit"));
  EXPECT_THAT(std::string(inst.status().message()), HasSubstr("simulated failure"));
  EXPECT_TRUE(f.fake->namespaces.empty());
}

TEST(NetnsProvider, UnknownTemplateRunsNothing) {
  Fixture f;
  SutRequest r = Shaper();
  r.template_name = "x";
  EXPECT_EQ(f.provider.Create(r).status().message(),
            "sut.template: unknown template \"x\" (known: linux-router, linux-shaper, frr-router)");
  EXPECT_TRUE(f.fake->log.empty());
}

TEST(NetnsProvider, WaitReadyNamesWhatIsMissing) {
  Fixture f;
  auto inst = f.provider.Create(Shaper());
  ASSERT_TRUE(inst.ok());
  f.fake->link_show = "4: west@if5: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500\n";
  f.fake->forwarding = "0\n";
  f.fake->qdisc_show = "qdisc noqueue 0: root\n";
  absl::Status s = f.provider.WaitReady(*inst, absl::Milliseconds(20));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(s.message()), HasSubstr("link west (west): no carrier"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("no tbf qdisc"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("ip_forward is 0"));
}

TEST(NetnsProvider, Events) {
  Fixture f;
  auto inst = f.provider.Create(Shaper());
  ASSERT_TRUE(inst.ok());
  f.fake->log.clear();
  EXPECT_TRUE(f.provider.InjectEvent(*inst, {"link-down", "east"}).ok());
  EXPECT_EQ(f.fake->log.back(), "ip -n nrsut-r1 link set dev east down");
  EXPECT_TRUE(f.provider.InjectEvent(*inst, {"link-up", "east"}).ok());
  EXPECT_EQ(f.fake->log.back(), "ip -n nrsut-r1 link set dev east up");
  EXPECT_EQ(f.provider.InjectEvent(*inst, {"reboot", "east"}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.provider.InjectEvent(*inst, {"link-down", "north"}).code(), absl::StatusCode::kNotFound);
}

TEST(NetnsProvider, Orphans) {
  Fixture f;
  f.fake->namespaces = {"nrsut-a", "nrsut-b", "other"};
  auto o = f.provider.ListOrphans({"b"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, (std::vector<std::string>{"a"}));
  // A hashed (long) run id comes back through lo's alias.
  const std::string long_id(80, 'z');
  f.fake->namespaces = {NamespaceName(long_id)};
  f.fake->alias = long_id;
  o = f.provider.ListOrphans({});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, (std::vector<std::string>{long_id}));
  o = f.provider.ListOrphans({long_id});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->empty());
  // Destroy by run id alone (after a restart).
  SutInstance orphan;
  orphan.run_id = long_id;
  EXPECT_TRUE(f.provider.Destroy(orphan).ok());
  EXPECT_TRUE(f.fake->namespaces.empty());
}

}  // namespace
}  // namespace netrig::controller::sut

namespace netrig::controller::sut {
namespace {

bool Logged(const FakeRunner& fake, const std::string& prefix) {
  for (const std::string& l : fake.log) {
    if (l.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// A provider whose FRR lives in a temporary directory: fake binaries, fresh state directory.
class FrrProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::path(::testing::TempDir()) /
            ("frr_provider_test_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "bin");
    for (const char* b : {"zebra", "bgpd", "ospfd", "staticd", "vtysh"}) InstallBinary(b);
    NetnsSutOptions o;
    o.poll_interval = absl::Milliseconds(1);
    o.frr.state_dir = (root_ / "state").string();
    o.frr.bin_dir = (root_ / "bin").string();
    o.frr.vtysh = (root_ / "bin" / "vtysh").string();
    o.frr.stop_timeout = absl::Milliseconds(20);
    o.frr.probe_interval = absl::Milliseconds(1);
    provider_ = std::make_unique<NetnsSutProvider>(std::unique_ptr<CommandRunner>(fake_), o);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void InstallBinary(const std::string& name) {
    const auto path = root_ / "bin" / name;
    std::ofstream(path) << "#!/bin/sh\n";
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  }
  std::string InstanceDir(const std::string& ns = "nrsut-r1") const {
    return (root_ / "state" / ns).string();
  }
  SutRequest Request(std::map<std::string, std::string> parameters) const {
    SutRequest r;
    r.run_id = "r1";
    r.template_name = "frr-router";
    r.parameters = std::move(parameters);
    r.links = {{.name = "west", .peer_namespace = "t"}, {.name = "east", .peer_namespace = "t"}};
    return r;
  }
  // Nothing of the instance is left: no namespace, no daemon, no directory.
  void ExpectNothingLeft() const {
    EXPECT_TRUE(fake_->namespaces.empty());
    EXPECT_TRUE(fake_->processes.empty());
    EXPECT_FALSE(std::filesystem::exists(InstanceDir()));
  }

  std::filesystem::path root_;
  FakeRunner* fake_ = new FakeRunner;
  std::unique_ptr<NetnsSutProvider> provider_;
};

const char kBgpConfig[] =
    "hostname r1\n"
    "router bgp 65001\n"
    " neighbor 198.18.1.2 remote-as 65002\n"
    "exit\n";

TEST_F(FrrProviderTest, CreateStartsDaemonsAppliesConfigAndDestroyStopsThem) {
  auto inst = provider_->Create(Request({{"config", kBgpConfig}}));
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(inst->parameters.at("daemons"), "zebra,bgpd");

  // The directory: config, run id, owned by frr.
  const FrrPaths paths = FrrPathsFor((root_ / "state").string(), "nrsut-r1");
  std::ifstream conf(paths.Config());
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(conf), {}), kBgpConfig);
  EXPECT_TRUE(std::filesystem::exists(paths.RunId()));
  EXPECT_TRUE(Logged(*fake_, "chown frr:frr " + paths.dir));

  // Order: config check, namespace, zebra, bgpd, config, check that the daemons answer.
  std::vector<std::string> steps;
  for (const std::string& l : fake_->log) {
    if (l.find(" -C -f ") != std::string::npos) steps.push_back("check");
    if (l == "ip netns add nrsut-r1") steps.push_back("netns");
    if (l.find("/bin/zebra -d") != std::string::npos) steps.push_back("zebra");
    if (l.find("/bin/bgpd -d") != std::string::npos) steps.push_back("bgpd");
    if (l.find("vtysh") != std::string::npos && l.find(" -f ") != std::string::npos &&
        l.find(" -C ") == std::string::npos) {
      steps.push_back("apply");
    }
    if (l.find("show daemons") != std::string::npos) steps.push_back("verify");
  }
  EXPECT_EQ(steps,
            (std::vector<std::string>{"check", "netns", "zebra", "bgpd", "apply", "verify"}));
  EXPECT_TRUE(Logged(*fake_, "ip netns exec nrsut-r1 " + (root_ / "bin" / "zebra").string() +
                                 " -d -f " + paths.StartupConfig() + " -i " + paths.Pid("zebra")));
  EXPECT_EQ(fake_->processes.size(), 2u);
  EXPECT_TRUE(provider_->WaitReady(*inst, absl::Milliseconds(100)).ok());

  fake_->log.clear();
  ASSERT_TRUE(provider_->Destroy(*inst).ok());
  EXPECT_TRUE(Logged(*fake_, "kill -TERM 1000 1001"));
  ExpectNothingLeft();
  EXPECT_TRUE(provider_->Destroy(*inst).ok());
}

TEST_F(FrrProviderTest, ConfigRefusedByDryRunCreatesNothing) {
  fake_->dry_run = {2, "", "line 3: % Unknown command[25]:  neighbor 198.18.1.2 remote-az 65002\n"};
  auto inst = provider_->Create(Request(
      {{"config", "hostname r1\nrouter bgp 65001\n neighbor 198.18.1.2 remote-az 65002\n"}}));
  ASSERT_EQ(inst.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(inst.status().message()),
            "sut.parameters.config: FRR rejected it (`vtysh -C` exit 2): bgpd: line 3 (neighbor "
            "198.18.1.2 remote-az 65002): % Unknown command");
  EXPECT_FALSE(Logged(*fake_, "ip netns add"));
  ExpectNothingLeft();
}

TEST_F(FrrProviderTest, DaemonThatFailsToStartIsNamedAndEverythingIsRemoved) {
  fake_->fail_daemon = "bgpd";
  auto inst = provider_->Create(Request({{"config", kBgpConfig}}));
  ASSERT_EQ(inst.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(
      std::string(inst.status().message()),
      "sut.create (frr-router, run r1): bgpd failed to start (exit 1): Can't bind to port 179; "
      "bgpd failed to start, exited 1");
  EXPECT_TRUE(Logged(*fake_, "kill -TERM 1000"));  // zebra was already running
  ExpectNothingLeft();
}

TEST_F(FrrProviderTest, ConfigRefusedByADaemon) {
  fake_->apply = {
      2, "% Configure the peer-group first\n",
      "line 2: Failure to communicate[13] to bgpd, line:  neighbor 198.18.1.3 peer-group NOPE\n"};
  auto inst = provider_->Create(
      Request({{"config", "router bgp 65001\n neighbor 198.18.1.3 peer-group NOPE\nexit\n"}}));
  ASSERT_EQ(inst.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      std::string(inst.status().message()),
      "sut.create (frr-router, run r1): the daemons rejected frr.conf (`vtysh -f` exit 2): bgpd: "
      "line 2 (neighbor 198.18.1.3 peer-group NOPE): % Configure the peer-group first");
  ExpectNothingLeft();
}

TEST_F(FrrProviderTest, DaemonThatExitsRightAfterStart) {
  fake_->show_daemons = " zebra";
  auto inst = provider_->Create(Request({{"config", kBgpConfig}}));
  ASSERT_EQ(inst.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(std::string(inst.status().message()),
            "sut.create (frr-router, run r1): bgpd exited right after start");
  ExpectNothingLeft();
}

TEST_F(FrrProviderTest, MissingBinaryIsAPrecondition) {
  std::filesystem::remove(root_ / "bin" / "ospfd");
  auto inst = provider_->Create(Request({}));
  ASSERT_EQ(inst.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(inst.status().message()), HasSubstr("/bin/ospfd is not installed"));
  EXPECT_FALSE(Logged(*fake_, "ip netns add"));
  ExpectNothingLeft();
}

TEST_F(FrrProviderTest, WaitReadyNamesWhatIsNotReady) {
  auto inst = provider_->Create(Request({{"config", kBgpConfig}, {"waitFor", "bgp-established"}}));
  ASSERT_TRUE(inst.ok()) << inst.status();
  fake_->bgp_json = R"({"198.18.1.2":{"remoteAs":65002,"bgpState":"Active"}})";
  absl::Status s = provider_->WaitReady(*inst, absl::Milliseconds(20));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("bgp neighbor 198.18.1.2: Active, not Established"));

  fake_->bgp_json = R"({"198.18.1.2":{"remoteAs":65002,"bgpState":"Established"}})";
  EXPECT_TRUE(provider_->WaitReady(*inst, absl::Milliseconds(20)).ok());

  // A daemon that went away: named, and its protocol state is not asked for.
  fake_->show_daemons = " zebra";
  s = provider_->ProbeReady(*inst);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("bgpd: not running (no answer on " + InstanceDir() + "/bgpd.vty)"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("bgp neighbor")));
  ASSERT_TRUE(provider_->Destroy(*inst).ok());
}

TEST_F(FrrProviderTest, OspfFull) {
  auto inst = provider_->Create(Request({{"waitFor", "ospf-full"}}));
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_THAT(std::string(provider_->ProbeReady(*inst).message()),
              HasSubstr("ospf: no neighbors yet"));
  fake_->ospf_json =
      R"({"neighbors":{"10.0.0.2":[{"nbrState":"Full/DR","ifaceAddress":"198.18.1.2","ifaceName":"west:198.18.1.1"}]}})";
  EXPECT_TRUE(provider_->ProbeReady(*inst).ok());
  ASSERT_TRUE(provider_->Destroy(*inst).ok());
}

TEST_F(FrrProviderTest, DaemonIgnoringSigtermGetsSigkill) {
  auto inst = provider_->Create(Request({}));
  ASSERT_TRUE(inst.ok()) << inst.status();
  fake_->ignore_term = true;
  ASSERT_TRUE(provider_->Destroy(*inst).ok());
  EXPECT_TRUE(Logged(*fake_, "kill -TERM 1000 1001"));
  EXPECT_TRUE(Logged(*fake_, "kill -KILL 1000 1001"));
  ExpectNothingLeft();
}

TEST_F(FrrProviderTest, OrphanKnownOnlyByItsDirectory) {
  // A controller crash left a daemon and the directory, but no namespace.
  const std::string dir = InstanceDir("nrsut-lost");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/run-id") << "lost\n";
  std::ofstream(dir + "/zebra.pid") << "4242\n";
  fake_->processes[4242] = "/usr/lib/frr/zebra -d -f /dev/null -i " + dir + "/zebra.pid";
  fake_->processes[4343] =
      "/usr/lib/frr/bgpd -d -f /dev/null -i " + dir + "/bgpd.pid";  // no pid file
  fake_->processes[4444] = "/usr/lib/frr/zebra -d -i " + InstanceDir("nrsut-lost2") + "/zebra.pid";
  auto orphans = provider_->ListOrphans({});
  ASSERT_TRUE(orphans.ok()) << orphans.status();
  EXPECT_EQ(*orphans, (std::vector<std::string>{"lost"}));
  EXPECT_TRUE(provider_->ListOrphans({"lost"})->empty());

  SutInstance by_id;
  by_id.run_id = "lost";
  ASSERT_TRUE(provider_->Destroy(by_id).ok());
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_EQ(fake_->processes.size(), 1u);  // only the other instance's daemon is left
  EXPECT_TRUE(fake_->processes.count(4444));
}

TEST_F(FrrProviderTest, LeftoversOfAnEarlierAttemptAreRemovedFirst) {
  std::filesystem::create_directories(InstanceDir());
  std::ofstream(InstanceDir() + "/stale") << "x";
  fake_->processes[77] = "/usr/lib/frr/zebra -i " + InstanceDir() + "/zebra.pid";
  auto inst = provider_->Create(Request({}));
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_FALSE(fake_->processes.count(77));
  EXPECT_FALSE(std::filesystem::exists(InstanceDir() + "/stale"));
  ASSERT_TRUE(provider_->Destroy(*inst).ok());
  ExpectNothingLeft();
}

TEST_F(FrrProviderTest, LinuxTemplatesDoNotLookForDaemons) {
  SutRequest r = Request({});
  r.template_name = "linux-router";
  auto inst = provider_->Create(r);
  ASSERT_TRUE(inst.ok()) << inst.status();
  ASSERT_TRUE(provider_->WaitReady(*inst, absl::Milliseconds(20)).ok());
  ASSERT_TRUE(provider_->Destroy(*inst).ok());
  for (const std::string& l : fake_->log) {
    EXPECT_THAT(l, Not(HasSubstr("vtysh")));
    EXPECT_NE(l.rfind("ps ", 0), 0u) << l;
  }
}

}  // namespace
}  // namespace netrig::controller::sut
