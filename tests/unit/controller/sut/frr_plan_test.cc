// Pure logic of the frr-router template: parameters and defaults, config analysis, command
// lines, and the parsers of vtysh / ps output (fed with output captured from FRR 8.4).
#include "controller/sut/frr_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "controller/sut/netns_plan.h"

namespace netrig::controller::sut {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

SutRequest FrrRequest(std::map<std::string, std::string> parameters = {}) {
  SutRequest r;
  r.run_id = "run-1";
  r.template_name = "frr-router";
  r.parameters = std::move(parameters);
  r.links = {{.name = "west", .peer_namespace = "tester"},
             {.name = "east", .peer_namespace = "tester"}};
  return r;
}

std::string PlanError(std::map<std::string, std::string> parameters) {
  return std::string(PlanInstance(FrrRequest(std::move(parameters))).status().message());
}

TEST(FrrParams, DefaultsAreOspfOnTheLinks) {
  auto inst = PlanInstance(FrrRequest());
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(inst->parameters.size(), 3u);
  EXPECT_EQ(inst->parameters.at("daemons"), "zebra,ospfd");
  EXPECT_EQ(inst->parameters.at("waitFor"), "daemons");
  EXPECT_EQ(inst->parameters.at("config"),
            "hostname nrsut-run-1\n"
            "!\n"
            "router ospf\n"
            " ospf router-id 198.18.1.1\n"
            " network 198.18.1.0/24 area 0\n"
            " network 198.19.1.0/24 area 0\n"
            "exit\n"
            "!\n");
  // The namespace part is linux-router's.
  const std::vector<Command> cmds = CreateCommands(*inst);
  ASSERT_FALSE(cmds.empty());
  EXPECT_EQ(cmds[0], (Command{"ip", "netns", "add", "nrsut-run-1"}));
  EXPECT_EQ(ExpectedQdisc(*inst), "");
}

TEST(FrrParams, DefaultConfigFollowsTheDaemons) {
  auto inst = PlanInstance(FrrRequest({{"daemons", " bgpd , staticd "}}));
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(inst->parameters.at("daemons"), "zebra,bgpd,staticd");
  EXPECT_THAT(inst->parameters.at("config"),
              HasSubstr("router bgp 65000\n bgp router-id 198.18.1.1\nexit\n"));
  EXPECT_THAT(inst->parameters.at("config"), Not(HasSubstr("router ospf")));

  inst = PlanInstance(FrrRequest({{"daemons", "zebra"}}));
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(inst->parameters.at("daemons"), "zebra");
  EXPECT_EQ(inst->parameters.at("config"), "hostname nrsut-run-1\n!\n");
}

TEST(FrrParams, DaemonsDefaultToWhatTheConfigNeeds) {
  auto inst = PlanInstance(FrrRequest({{"config",
                                        "hostname r1\n"
                                        "ip route 10.99.0.0/24 198.19.1.2\n"
                                        "router bgp 65001\n"
                                        " neighbor 198.18.1.2 remote-as 65002\n"
                                        "exit\n"},
                                       {"waitFor", "bgp-established"}}));
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(inst->parameters.at("daemons"), "zebra,bgpd,staticd");
  EXPECT_EQ(inst->parameters.at("waitFor"), "daemons,bgp-established");
  EXPECT_THAT(inst->parameters.at("config"), HasSubstr("hostname r1\n"));

  inst = PlanInstance(FrrRequest({{"config", "hostname only-zebra\n"}}));
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(inst->parameters.at("daemons"), "zebra");
}

TEST(FrrParams, Errors) {
  EXPECT_EQ(
      PlanError({{"readyTimeout", "30s"}}),
      "sut.parameters.readyTimeout: unknown parameter (frr-router takes daemons, config, waitFor)");
  EXPECT_EQ(PlanError({{"daemons", "zebra,ripd"}}),
            "sut.parameters.daemons: \"ripd\" is not one of zebra, bgpd, ospfd, staticd");
  EXPECT_EQ(PlanError({{"daemons", " , "}}),
            "sut.parameters.daemons: empty (e.g. zebra,bgpd; from zebra, bgpd, ospfd, staticd)");
  EXPECT_EQ(
      PlanError({{"daemons", "zebra,ospfd"}, {"config", "hostname x\nrouter bgp 65001\nexit\n"}}),
      "sut.parameters.daemons: \"zebra,ospfd\" lacks bgpd, which config line 2 (router bgp 65001) "
      "needs");
  EXPECT_EQ(PlanError({{"config", "router rip\n network west\n"}}),
            "sut.parameters.config: line 1 (router rip) needs ripd, which frr-router does not run "
            "(it runs zebra, bgpd, ospfd, staticd)");
  EXPECT_EQ(
      PlanError({{"config", "interface west\n ip ospf6 area 0\n ipv6 ospf6 cost 2\n"}}),
      "sut.parameters.config: line 3 (ipv6 ospf6 cost 2) needs ospf6d, which frr-router does not "
      "run (it runs zebra, bgpd, ospfd, staticd)");
  EXPECT_EQ(PlanError({{"config", " \n\n"}}),
            "sut.parameters.config: empty (omit the parameter for the default configuration)");
  EXPECT_EQ(PlanError({{"config", "hostname a\nhost\x01name b\n"}}),
            "sut.parameters.config: line 2: control character 0x01");
  EXPECT_THAT(PlanError({{"config", std::string(kMaxFrrConfigBytes + 1, 'x')}}),
              HasSubstr("sut.parameters.config: 65537 bytes; at most 65536"));
  EXPECT_EQ(
      PlanError({{"config", "log file /etc/passwd\n"}}),
      "sut.parameters.config: line 1 (log file /etc/passwd): not allowed; every daemon logs to "
      "<instance dir>/<daemon>.log");
  EXPECT_EQ(PlanError({{"waitFor", "daemons,bgp-up"}}),
            "sut.parameters.waitFor: \"bgp-up\" is not one of daemons, bgp-established, ospf-full");
  EXPECT_EQ(PlanError({{"waitFor", "bgp-established"}}),
            "sut.parameters.waitFor: bgp-established needs bgpd in sut.parameters.daemons");
  EXPECT_EQ(PlanError({{"daemons", "bgpd"}, {"waitFor", "bgp-established"}}),
            "sut.parameters.waitFor: bgp-established: the config has no BGP neighbor");
  EXPECT_EQ(PlanError({{"daemons", "bgpd"}, {"waitFor", "ospf-full"}}),
            "sut.parameters.waitFor: ospf-full needs ospfd in sut.parameters.daemons");
  EXPECT_TRUE(PlanInstance(FrrRequest({{"waitFor", "ospf-full,daemons"}})).ok());
}

TEST(FrrParams, RoundTrip) {
  FrrParams p{{"zebra", "bgpd"}, "hostname x\n", {"daemons", "bgp-established"}};
  SutInstance inst;
  inst.parameters = FrrParamsToMap(p);
  const FrrParams back = FrrParamsOf(inst);
  EXPECT_EQ(back.daemons, p.daemons);
  EXPECT_EQ(back.config, p.config);
  EXPECT_EQ(back.wait_for, p.wait_for);
}

TEST(FrrConfig, Analysis) {
  const auto lines = AnalyzeFrrConfig(
      "frr defaults traditional\r\n"
      "! a comment\n"
      "interface west\n"
      " ip address 198.18.1.1/24\n"
      " ip ospf cost 10\n"
      "exit\n"
      "no ip route 10.0.0.0/8 blackhole\n"
      "vrf blue\n"
      " ip route 10.1.0.0/16 blackhole\n"
      "exit-vrf\n"
      "router ospf6\n"
      "router bgp 65001\n"
      " neighbor 198.18.1.2 remote-as 65002\n"
      " address-family ipv4 unicast\n"
      "  network 10.0.0.0/8\n"
      " exit-address-family\n"
      "exit\n"
      "bgp community-list standard c1 permit 65001:1\n"
      "router ospf\n"
      " neighbor 10.0.0.9\n");
  std::vector<std::string> seen;
  for (const FrrConfigLine& l : lines) seen.push_back(absl::StrCat(l.number, ":", l.daemon));
  EXPECT_THAT(seen, ElementsAre("1:", "3:", "4:", "5:ospfd", "6:", "7:staticd", "8:", "9:staticd",
                                "10:", "11:ospf6d", "12:bgpd", "13:bgpd", "14:bgpd", "15:bgpd",
                                "16:bgpd", "17:", "18:bgpd", "19:ospfd", "20:ospfd"));
  EXPECT_EQ(lines[0].text, "frr defaults traditional");
  EXPECT_EQ(lines[3].section, "interface west");
  EXPECT_EQ(lines[10].section, "router bgp 65001");
}

TEST(FrrConfig, StartupConfigHasWhatOnlyWorksAtStart) {
  EXPECT_EQ(
      FrrStartupConfig("hostname r1\nfrr defaults datacenter\nrouter bgp 1\n hostname x\nexit\n"),
      "! read by the daemons at start; vtysh applies frr.conf\nfrr defaults datacenter\nhostname "
      "r1\n");
  EXPECT_EQ(FrrStartupConfig("router ospf\n"),
            "! read by the daemons at start; vtysh applies frr.conf\n");
}

TEST(FrrPaths, Layout) {
  const FrrPaths p = FrrPathsFor("/run/netrig/sut/", "nrsut-run-1");
  EXPECT_EQ(p.dir, "/run/netrig/sut/nrsut-run-1");
  EXPECT_EQ(p.Config(), "/run/netrig/sut/nrsut-run-1/frr.conf");
  EXPECT_EQ(p.Pid("bgpd"), "/run/netrig/sut/nrsut-run-1/bgpd.pid");
  EXPECT_EQ(p.Marker(), "/run/netrig/sut/nrsut-run-1/");
}

TEST(FrrCommands, CommandLines) {
  const FrrPaths p = FrrPathsFor("/run/netrig/sut", "nrsut-r1");
  EXPECT_EQ(
      RenderCommand(FrrStartCommand("/usr/lib/frr", "nrsut-r1", p, "bgpd")),
      "ip netns exec nrsut-r1 /usr/lib/frr/bgpd -d -f /run/netrig/sut/nrsut-r1/daemons.conf -i "
      "/run/netrig/sut/nrsut-r1/bgpd.pid "
      "-z /run/netrig/sut/nrsut-r1/zserv.api --vty_socket /run/netrig/sut/nrsut-r1 "
      "--log file:/run/netrig/sut/nrsut-r1/bgpd.log -P 0");
  EXPECT_EQ(
      RenderCommand(VtyshDryRunCommand("vtysh", p)),
      "vtysh --vty_socket /run/netrig/sut/nrsut-r1 --config_dir /run/netrig/sut/nrsut-r1 -C -f "
      "/run/netrig/sut/nrsut-r1/frr.conf");
  EXPECT_EQ(RenderCommand(VtyshApplyCommand("vtysh", p)),
            "vtysh --vty_socket /run/netrig/sut/nrsut-r1 --config_dir /run/netrig/sut/nrsut-r1 -f "
            "/run/netrig/sut/nrsut-r1/frr.conf");
  EXPECT_EQ(RenderCommand(VtyshShowCommand("vtysh", p, "show daemons")),
            "vtysh --vty_socket /run/netrig/sut/nrsut-r1 --config_dir /run/netrig/sut/nrsut-r1 -c "
            "'show daemons'");
  EXPECT_EQ(RenderCommand(ProcessListCommand()), "ps -ww -e -o pid=,args=");
  EXPECT_EQ(RenderCommand(KillCommand("TERM", {12, 34})), "kill -TERM 12 34");
}

TEST(FrrParse, DryRunErrors) {
  const std::string config =
      "hostname x\nrouter bgp 65001\n neighbor 198.18.1.2 remote-az 65002\nip route 10.1.0.0/24 "
      "blackhole\nfoo bar\n";
  const auto errors = ParseVtyshErrors("",
                                       "line 3: % Unknown command[25]:  neighbor 198.18.1.2 "
                                       "remote-az 65002\nline 5: % Unknown command[4]: foo bar\n",
                                       AnalyzeFrrConfig(config));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].daemon, "bgpd");
  EXPECT_EQ(errors[0].line, 3);
  EXPECT_EQ(errors[0].reason, "% Unknown command");
  EXPECT_EQ(DescribeConfigErrors(errors),
            "bgpd: line 3 (neighbor 198.18.1.2 remote-az 65002): % Unknown command; "
            "line 5 (foo bar): % Unknown command");
}

TEST(FrrParse, ApplyErrors) {
  const std::string config = "router bgp 65001\n neighbor 198.18.1.3 peer-group NOPE\nexit\n";
  const auto errors = ParseVtyshErrors(
      "% Configure the peer-group first\n",
      "line 2: Failure to communicate[13] to bgpd, line:  neighbor 198.18.1.3 peer-group NOPE\n\n",
      AnalyzeFrrConfig(config));
  EXPECT_EQ(DescribeConfigErrors(errors),
            "bgpd: line 2 (neighbor 198.18.1.3 peer-group NOPE): % Configure the peer-group first");
  EXPECT_TRUE(ParseVtyshErrors("", "some other failure\n", {}).empty());
}

TEST(FrrParse, ShowDaemons) {
  EXPECT_THAT(ParseShowDaemons(" zebra ospfd bgpd staticd\n"),
              ElementsAre("zebra", "ospfd", "bgpd", "staticd"));
  EXPECT_TRUE(ParseShowDaemons("").empty());
}

TEST(FrrParse, BgpNeighbors) {
  auto n = ParseBgpNeighbors(R"({
  "198.18.1.2":{"remoteAs":65002,"localAs":65001,"bgpState":"Active","bgpTimerLastRead":30000},
  "198.19.1.2":{"remoteAs":65003,"bgpState":"Established"}})");
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_EQ(n->size(), 2u);
  EXPECT_THAT(BgpNotReady(*n), ElementsAre("bgp neighbor 198.18.1.2: Active, not Established"));
  (*n)[0].state = "Established";
  EXPECT_TRUE(BgpNotReady(*n).empty());
  n = ParseBgpNeighbors("{\n}\n");
  ASSERT_TRUE(n.ok());
  EXPECT_THAT(BgpNotReady(*n), ElementsAre("bgp: no neighbors configured"));
  EXPECT_FALSE(ParseBgpNeighbors("% BGP instance not found\n").ok());
}

TEST(FrrParse, OspfNeighbors) {
  auto n = ParseOspfNeighbors(R"({
  "neighbors":{
    "10.0.0.2":[{"priority":1,"state":"Full\/-","nbrState":"Full\/-","converged":"Full",
                 "address":"198.18.1.2","ifaceAddress":"198.18.1.2","ifaceName":"west:198.18.1.1"}],
    "10.0.0.3":[{"nbrState":"ExStart\/DR","ifaceAddress":"198.19.1.2","ifaceName":"east:198.19.1.1"}]}})");
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_EQ(n->size(), 2u);
  EXPECT_EQ((*n)[0].ifname, "west");
  EXPECT_EQ((*n)[0].state, "Full/-");
  EXPECT_THAT(OspfNotReady(*n),
              ElementsAre("ospf neighbor 10.0.0.3 (198.19.1.2 on east): ExStart/DR, not Full"));
  n = ParseOspfNeighbors("{\n  \"neighbors\":{\n  }\n}\n");
  ASSERT_TRUE(n.ok());
  EXPECT_THAT(OspfNotReady(*n), ElementsAre("ospf: no neighbors yet"));
  EXPECT_FALSE(ParseOspfNeighbors("[1,2").ok());
}

TEST(FrrParse, ProcessesAndMarker) {
  const auto procs = ParseProcessList(
      "    1 /sbin/init\n"
      "  812 /usr/lib/frr/zebra -d -f /dev/null -i /run/netrig/sut/nrsut-run-1/zebra.pid -P 0\n"
      "  813 /usr/lib/frr/zebra -d -f /dev/null -i /run/netrig/sut/nrsut-run-10/zebra.pid -P 0\n"
      "  900 [kworker/0:1]\n");
  ASSERT_EQ(procs.size(), 4u);
  EXPECT_EQ(procs[1].pid, 812);
  EXPECT_THAT(PidsWithMarker(procs, "/run/netrig/sut/nrsut-run-1/"), ElementsAre(812));
  EXPECT_TRUE(PidsWithMarker(procs, "").empty());
}

TEST(FrrParse, OutputTail) {
  EXPECT_EQ(FrrOutputTail("2026/11/22 18:16:11 ZEBRA: [NNACN-54BDA][EC 4043309110] Disabling MPLS "
                          "support (no kernel support)\n"
                          "2026/11/22 18:16:11 ZEBRA: [NTCMZ-C8X80][EC 100663303] Could not lock "
                          "pid_file /x/zebra.pid, exiting\n"
                          "zebra failed to start, exited 1\n",
                          3),
            "Could not lock pid_file /x/zebra.pid, exiting; zebra failed to start, exited 1");
  EXPECT_EQ(FrrOutputTail("a\nb\nc\n", 2), "b; c");
  EXPECT_EQ(FrrOutputTail("", 2), "");
}

}  // namespace
}  // namespace netrig::controller::sut
