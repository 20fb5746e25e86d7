// NetnsSutProvider against a fake CommandRunner: rollback, idempotent destroy, orphans,
// readiness and events, without root.
#include "controller/sut/netns_provider.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace netrig::controller::sut {
namespace {

using ::testing::HasSubstr;

// Simulates `ip netns add/del/list`; fails the first command whose rendering contains `fail_on`.
class FakeRunner : public CommandRunner {
 public:
  ExecResult Run(const Command& argv) override {
    const std::string line = RenderCommand(argv);
    log.push_back(line);
    ExecResult r{0, "", ""};
    if (!fail_on.empty() && line.find(fail_on) != std::string::npos) {
      return {2, "", "Error: simulated failure"};
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
  std::set<std::string> namespaces;
  std::vector<std::string> log;
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
            "sut.template: unknown template \"x\" (known: linux-router, linux-shaper)");
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
