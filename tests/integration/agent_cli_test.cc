// netrig-agent as a lab engineer uses it: standalone runs on a DPDK ring loopback, and bad
// input rejected with the setting named, a non-zero exit code and no crash.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/process.h"

namespace netrig {
namespace {

using testing::RunCommand;

const std::string kAgent = NETRIG_AGENT_BIN;

testing::CommandResult Agent(const std::string& args) {
  return RunCommand(kAgent + " run " + args + " 2>&1");
}

TEST(AgentCliTest, UnknownPmdIsRejectedNamingTheField) {
  auto r = Agent("--port name=p0,pmd=net_bogus --stream tx=p0,rate=1%");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("ports[0].pmd: unknown PMD \"net_bogus\""), std::string::npos) << r.out;
}

TEST(AgentCliTest, MissingInterfaceIsRejectedNamingTheField) {
  auto r = Agent("--port name=p0,pmd=net_af_xdp,iface=nrnosuchif0 --stream tx=p0,rate=1%");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("ports[0].iface: interface \"nrnosuchif0\" does not exist"),
            std::string::npos)
      << r.out;
}

TEST(AgentCliTest, RateAboveLineRateIsRejected) {
  auto r = Agent("--port name=p0,pmd=net_ring,speed=10G --stream tx=p0,rx=p0,rate=120% --duration 1s");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("streams[0].rate"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("line rate"), std::string::npos) << r.out;

  // Also in absolute units, checked against the port's speed once the port is up.
  r = Agent("--port name=p0,pmd=net_ring,speed=1G --stream tx=p0,rx=p0,rate=2Mpps,size=64 "
            "--duration 1s");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("streams[0].rate"), std::string::npos) << r.out;
}

TEST(AgentCliTest, FrameTooSmallForTheSignatureIsRejected) {
  auto r = Agent("--port name=p0,pmd=net_ring --stream tx=p0,size=60,rate=1%");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("streams[0].size.fixed_bytes: 60 is below the 64-byte minimum"),
            std::string::npos)
      << r.out;
  r = Agent("--port name=p0,pmd=net_ring --stream tx=p0,size=80,l3=ipv6,rate=1%");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("IPv6"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("minimum 84"), std::string::npos) << r.out;
}

TEST(AgentCliTest, MalformedConfigFileNamesTheField) {
  const std::string path = ::testing::TempDir() + "/bad_run.yaml";
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("ports: [{name: p0, pmd: net_ring}]\nstreams: [{tx_port: p0, flows: many}]\n", f);
  fclose(f);
  auto r = Agent("-c " + path);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("streams[0].flows: expected an unsigned integer, got \"many\""),
            std::string::npos)
      << r.out;
  f = fopen(path.c_str(), "w");
  fputs("ports: [{name: p0, pmd: net_ring, sped: 10G}]\n", f);
  fclose(f);
  r = Agent("-c " + path);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("ports[0].sped: unknown field"), std::string::npos) << r.out;
}

// The pacer schedules frames on the TSC: the number of frames sent in a trial is rate x
// duration whatever the machine's load (late frames are sent late, never dropped), and a ring
// loopback loses, duplicates and reorders nothing.
TEST(AgentCliTest, RingLoopbackSendsExactCountsWithoutFalseLoss) {
  auto r = Agent("--port name=p0,pmd=net_ring,speed=10G "
                 "--stream name=a,tx=p0,rx=p0,flows=64,size=64,rate=100000pps "
                 "--stream name=b,tx=p0,rx=p0,flows=8,size=imix,rate=20000pps,udp_checksum=true "
                 "--stream name=c,tx=p0,rx=p0,flows=4,l3=ipv6,size=84-1518/31,rate=5000pps "
                 "--duration 1s --drain 200ms -o json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  const auto& streams = j["stats"]["streams"];
  ASSERT_EQ(streams.size(), 3u);
  const double expected[] = {100000, 20000, 5000};
  for (size_t i = 0; i < 3; ++i) {
    const auto& s = streams[i];
    const double tx = std::stod(s["tx_packets"].get<std::string>());
    EXPECT_NEAR(tx, expected[i], 1.0) << s.dump();
    EXPECT_EQ(s["lost"].get<std::string>(), "0") << s.dump();
    EXPECT_EQ(s["duplicates"].get<std::string>(), "0");
    EXPECT_EQ(s["reordered"].get<std::string>(), "0");
    EXPECT_EQ(s["unique_packets"], s["tx_packets"]);
    EXPECT_EQ(s["flows_seen"], s["flows"]);
  }
  // Every flow accounted for individually.
  for (const auto& f : j["stats"]["flows"]) {
    EXPECT_EQ(f["lost"].get<std::string>(), "0") << f.dump();
    EXPECT_NE(f["tx_packets"].get<std::string>(), "0") << f.dump();
  }
  EXPECT_EQ(j["counters"]["rx_not_probe"].get<std::string>(), "0");
}

}  // namespace
}  // namespace netrig
