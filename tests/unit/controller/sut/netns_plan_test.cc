// Pure logic of the netns SUT provider: names, validation, command lines, output parsers.
#include "controller/sut/netns_plan.h"

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace netrig::controller::sut {
namespace {

using ::testing::HasSubstr;

SutRequest TwoLinks(const std::string& tmpl) {
  SutRequest r;
  r.run_id = "run-1";
  r.template_name = tmpl;
  r.links = {{.name = "west", .peer_namespace = "tester"}, {.name = "east", .peer_namespace = "tester"}};
  return r;
}

bool Contains(const std::vector<Command>& cmds, const Command& c) {
  for (const Command& x : cmds) {
    if (x == c) return true;
  }
  return false;
}

TEST(RunId, Validation) {
  EXPECT_TRUE(ValidateRunId("run-1.A_b").ok());
  EXPECT_FALSE(ValidateRunId("").ok());
  EXPECT_FALSE(ValidateRunId("a b").ok());
  EXPECT_FALSE(ValidateRunId("a/b").ok());
  EXPECT_FALSE(ValidateRunId("a;rm -rf").ok());
  EXPECT_FALSE(ValidateRunId(std::string(kMaxRunIdLength + 1, 'a')).ok());
  EXPECT_THAT(std::string(ValidateRunId("x'y").message()), HasSubstr("sut.runId"));
}

TEST(Names, NamespaceShortAndLong) {
  EXPECT_EQ(NamespaceName("run-1"), "nrsut-run-1");
  const std::string a = std::string(100, 'a') + "1";
  const std::string b = std::string(100, 'a') + "2";
  EXPECT_LE(NamespaceName(a).size(), kMaxNamespaceLength);
  EXPECT_EQ(NamespaceName(a).rfind("nrsut-", 0), 0u);
  EXPECT_NE(NamespaceName(a), NamespaceName(b));
  EXPECT_EQ(NamespaceName(a), NamespaceName(a));  // stable
  const std::string exact(kMaxNamespaceLength - 6, 'x');
  EXPECT_EQ(NamespaceName(exact), "nrsut-" + exact);
}

TEST(Names, Ifnames) {
  EXPECT_TRUE(IsValidIfname("west"));
  EXPECT_TRUE(IsValidIfname(std::string(15, 'a')));
  EXPECT_FALSE(IsValidIfname(std::string(16, 'a')));
  EXPECT_FALSE(IsValidIfname(""));
  EXPECT_FALSE(IsValidIfname("a/b"));
  EXPECT_FALSE(IsValidIfname("a b"));
  EXPECT_FALSE(IsValidIfname(".."));
  std::set<std::string> seen;
  for (int run = 0; run < 200; ++run) {
    for (size_t i = 0; i < kMaxLinks; ++i) {
      const std::string n = DefaultPeerIfname("run-" + std::to_string(run), i);
      EXPECT_TRUE(IsValidIfname(n)) << n;
      EXPECT_TRUE(seen.insert(n).second) << "duplicate " << n;
    }
  }
}

TEST(Names, MacsAreLocalUnicastAndDistinct) {
  auto inst = PlanInstance(TwoLinks("linux-router"));
  ASSERT_TRUE(inst.ok()) << inst.status();
  std::set<std::string> macs;
  for (const SutLink& l : inst->links) {
    for (const std::string& m : {l.sut_mac, l.peer_mac}) {
      EXPECT_EQ(m.size(), 17u);
      EXPECT_EQ(m.substr(0, 3), "02:");
      macs.insert(m);
    }
  }
  EXPECT_EQ(macs.size(), 4u);
}

TEST(Plan, RouterDefaults) {
  auto inst = PlanInstance(TwoLinks("linux-router"));
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(inst->namespace_name, "nrsut-run-1");
  ASSERT_EQ(inst->links.size(), 2u);
  EXPECT_EQ(inst->links[0].sut_ifname, "west");
  EXPECT_EQ(inst->links[0].ipv4, "198.18.1.1/24");
  EXPECT_EQ(inst->links[0].peer_ipv4, "198.18.1.2");
  EXPECT_EQ(inst->links[1].ipv4, "198.19.1.1/24");
  EXPECT_EQ(inst->links[1].peer_ipv4, "198.19.1.2");
  EXPECT_NE(inst->links[0].peer_ifname, inst->links[1].peer_ifname);
  ASSERT_EQ(inst->next_hops.size(), 2u);
  EXPECT_EQ(inst->next_hops[0].link, "west");
  EXPECT_EQ(inst->next_hops[0].ipv4, "198.18.1.1");
  EXPECT_EQ(inst->next_hops[0].mac, inst->links[0].sut_mac);

  const auto cmds = CreateCommands(*inst);
  ASSERT_FALSE(cmds.empty());
  EXPECT_EQ(cmds[0], (Command{"ip", "netns", "add", "nrsut-run-1"}));
  const SutLink& w = inst->links[0];
  EXPECT_TRUE(Contains(cmds, {"ip", "-n", "tester", "link", "add", w.peer_ifname, "address", w.peer_mac,
                              "type", "veth", "peer", "name", "west", "address", w.sut_mac, "netns",
                              "nrsut-run-1"}));
  EXPECT_TRUE(Contains(cmds, {"ip", "-n", "nrsut-run-1", "neigh", "replace", "198.18.1.2", "lladdr",
                              w.peer_mac, "dev", "west", "nud", "permanent"}));
  EXPECT_TRUE(Contains(cmds, {"ip", "-n", "nrsut-run-1", "addr", "add", "198.18.1.1/24", "dev", "west"}));
  for (const Command& c : cmds) EXPECT_NE(c[0], "tc") << RenderCommand(c);
}

TEST(Plan, PeerInRootNamespace) {
  SutRequest r = TwoLinks("linux-router");
  r.links[0].peer_namespace = "";
  auto inst = PlanInstance(r);
  ASSERT_TRUE(inst.ok());
  const SutLink& w = inst->links[0];
  EXPECT_TRUE(Contains(CreateCommands(*inst), {"ip", "link", "add", w.peer_ifname, "address", w.peer_mac,
                                               "type", "veth", "peer", "name", "west", "address",
                                               w.sut_mac, "netns", "nrsut-run-1"}));
}

TEST(Plan, ShaperTbfAndHtb) {
  SutRequest r = TwoLinks("linux-shaper");
  r.parameters = {{"rate", "50mbit"}};
  auto inst = PlanInstance(r);
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(ExpectedQdisc(*inst), "tbf");
  auto cmds = CreateCommands(*inst);
  EXPECT_TRUE(Contains(cmds, {"tc", "-n", "nrsut-run-1", "qdisc", "add", "dev", "east", "root", "tbf",
                              "rate", "50mbit", "burst", "16kb", "latency", "10ms"}));

  r.parameters = {{"qdisc", "htb"}, {"rate", "1gbit"}, {"burst", "32kb"}};
  inst = PlanInstance(r);
  ASSERT_TRUE(inst.ok()) << inst.status();
  cmds = CreateCommands(*inst);
  EXPECT_TRUE(Contains(cmds, {"tc", "-n", "nrsut-run-1", "qdisc", "add", "dev", "west", "root", "handle",
                              "1:", "htb", "default", "1"}));
  EXPECT_TRUE(Contains(cmds, {"tc", "-n", "nrsut-run-1", "class", "add", "dev", "west", "parent", "1:",
                              "classid", "1:1", "htb", "rate", "1gbit", "ceil", "1gbit", "burst", "32kb"}));
}

TEST(Plan, UnknownTemplate) {
  auto inst = PlanInstance(TwoLinks("x"));
  ASSERT_EQ(inst.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(inst.status().message(),
            "sut.template: unknown template \"x\" (known: linux-router, linux-shaper, frr-router)");
}

TEST(Plan, BadParameters) {
  SutRequest r = TwoLinks("linux-shaper");
  r.parameters = {{"rate", "fast"}};
  auto inst = PlanInstance(r);
  ASSERT_EQ(inst.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(inst.status().message()), HasSubstr("sut.parameters.rate: \"fast\" is not a rate"));

  for (const char* bad : {"", "100", "mbit", "-5mbit", "0mbit", "1.mbit", "100 mbit", "100mbit;x"}) {
    r.parameters = {{"rate", bad}};
    EXPECT_FALSE(PlanInstance(r).ok()) << bad;
  }
  for (const char* good : {"100mbit", "1Gbit", "12.5mbps", "500kbit", "9600bit"}) {
    r.parameters = {{"rate", good}};
    EXPECT_TRUE(PlanInstance(r).ok()) << good;
  }
  r.parameters = {{"burst", "lots"}};
  EXPECT_THAT(std::string(PlanInstance(r).status().message()), HasSubstr("sut.parameters.burst"));
  r.parameters = {{"latency", "10"}};
  EXPECT_THAT(std::string(PlanInstance(r).status().message()), HasSubstr("sut.parameters.latency"));
  r.parameters = {{"qdisc", "netem"}};
  EXPECT_THAT(std::string(PlanInstance(r).status().message()), HasSubstr("sut.parameters.qdisc"));
  r.parameters = {{"qdisc", "htb"}, {"latency", "10ms"}};
  EXPECT_FALSE(PlanInstance(r).ok());
  r.parameters = {{"ratee", "1mbit"}};
  EXPECT_THAT(std::string(PlanInstance(r).status().message()), HasSubstr("unknown parameter"));

  SutRequest router = TwoLinks("linux-router");
  router.parameters = {{"rate", "1mbit"}};
  EXPECT_FALSE(PlanInstance(router).ok());
}

TEST(Plan, BadLinks) {
  SutRequest r = TwoLinks("linux-router");
  r.links[1].name = "west";
  EXPECT_THAT(std::string(PlanInstance(r).status().message()), HasSubstr("duplicate link"));
  r = TwoLinks("linux-router");
  r.links[0].sut_ifname = "a-very-long-interface";
  EXPECT_THAT(std::string(PlanInstance(r).status().message()), HasSubstr("sut.links[0].sutIfname"));
  r = TwoLinks("linux-router");
  r.links[0].peer_ifname = "x y";
  EXPECT_FALSE(PlanInstance(r).ok());
  r = TwoLinks("linux-router");
  r.links[1].ipv4 = "300.1.1.1/24";
  EXPECT_THAT(std::string(PlanInstance(r).status().message()), HasSubstr("sut.links[1].ipv4"));
  r = TwoLinks("linux-router");
  r.links[0].peer_namespace = "a b";
  EXPECT_FALSE(PlanInstance(r).ok());
  r = TwoLinks("linux-router");
  r.links.clear();
  EXPECT_FALSE(PlanInstance(r).ok());
  r = TwoLinks("linux-router");
  r.links[0].name = "a-link-name-longer-than-15";
  auto inst = PlanInstance(r);
  ASSERT_TRUE(inst.ok());
  EXPECT_EQ(inst->links[0].sut_ifname, "sut0");
}

TEST(Parse, LinkShow) {
  auto st = ParseLinkShow(
      "5: west@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc tbf state UP mode DEFAULT");
  EXPECT_TRUE(st.found && st.up && st.carrier);
  st = ParseLinkShow("5: west@if4: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 state LOWERLAYERDOWN");
  EXPECT_TRUE(st.found && st.up);
  EXPECT_FALSE(st.carrier);
  st = ParseLinkShow("5: west@if4: <BROADCAST,MULTICAST> mtu 1500 state DOWN");
  EXPECT_FALSE(st.up);
  EXPECT_FALSE(ParseLinkShow("").found);
}

TEST(Parse, NetnsListAndAlias) {
  EXPECT_EQ(ParseNetnsList("nrsut-a (id: 3)\nfoo\n\nnrsut-b\n"),
            (std::vector<std::string>{"nrsut-a", "foo", "nrsut-b"}));
  EXPECT_EQ(ParseLinkAlias("1: lo: <LOOPBACK,UP> mtu 65536\\    link/loopback 00:00:00:00:00:00 "
                           "brd 00:00:00:00:00:00\\    alias run-1.x\n"),
            "run-1.x");
  EXPECT_EQ(ParseLinkAlias("1: lo: <LOOPBACK> mtu 65536\n"), "");
}

TEST(Exec, ShellQuote) {
  EXPECT_EQ(RenderCommand({"ip", "-n", "a b", "it's"}), "ip -n 'a b' 'it'\\''s'");
  EXPECT_EQ(ShellQuote(""), "''");
}

}  // namespace
}  // namespace netrig::controller::sut
