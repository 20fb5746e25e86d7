// The agent against a real SUT: two agent ports (net_af_xdp, falling back to net_af_packet) on
// veths into a namespace that forwards with the kernel's IPv4 stack. The agent itself runs in a
// second namespace made by the test, so no traffic touches any interface the test didn't make.
//
//   [ns tester]  nt<id>a ──veth── nr<id>a  [ns router: ip_forward]  nr<id>b ──veth── nt<id>b
//                198.18.1.2             198.18.1.1            198.19.1.1            198.19.1.2
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/cpu_watch.h"
#include "tests/support/netns_router.h"
#include "tests/support/process.h"

namespace netrig {
namespace {

using testing::RunCommand;

const std::string kAgent = NETRIG_AGENT_BIN;

class NetnsRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root to create network namespaces and veths (CI runs as root)";
    }
    const std::string err = topo_.Create();
    ASSERT_EQ(err, "") << err;
    tester_ = topo_.tester;
    router_ = topo_.router;
    ta_ = topo_.tester_a;
    tb_ = topo_.tester_b;
    rb_ = topo_.router_b;
    ra_mac_ = topo_.RouterMacA();
    ASSERT_FALSE(ra_mac_.empty());
  }

  void TearDown() override { topo_.Destroy(); }

  // Runs the agent in the tester namespace with both ports on `pmd` and returns its JSON.
  nlohmann::json RunAgent(const std::string& pmd, const std::string& stream_args,
                          const std::string& duration) {
    const std::string cmd = "ip netns exec " + tester_ + " " + kAgent +
                            " run --port name=west,pmd=" + pmd + ",iface=" + ta_ +
                            " --port name=east,pmd=" + pmd + ",iface=" + tb_ +
                            " --stream tx=west,rx=east,dst_mac=" + ra_mac_ + "," + stream_args +
                            " --duration " + duration + " --drain 500ms -o json 2>" +
                            ::testing::TempDir() + "/agent_stderr.txt";
    auto r = RunCommand(cmd);
    last_exit_ = r.exit_code;
    if (r.exit_code != 0) {
      std::ifstream err(::testing::TempDir() + "/agent_stderr.txt");
      std::string line, all;
      while (std::getline(err, line)) all += line + "\n";
      ADD_FAILURE() << "agent (" << pmd << ") exited " << r.exit_code << ": " << all;
      return {};
    }
    return nlohmann::json::parse(r.out);
  }

  // net_af_xdp first, net_af_packet when AF_XDP is unavailable.
  nlohmann::json RunAgentAnyPmd(const std::string& stream_args, const std::string& duration) {
    auto j = RunAgent("net_af_xdp", stream_args, duration);
    if (last_exit_ == 0) {
      return j;
    }
    return RunAgent("net_af_packet", stream_args, duration);
  }

  static uint64_t U64(const nlohmann::json& v) {
    return v.is_string() ? std::stoull(v.get<std::string>()) : v.get<uint64_t>();
  }
  static int64_t I64(const nlohmann::json& v) {
    return v.is_string() ? std::stoll(v.get<std::string>()) : v.get<int64_t>();
  }

  testing::NetnsRouter topo_{"a"};
  std::string tester_, router_, ta_, tb_, rb_, ra_mac_;
  int last_exit_ = 0;
};

TEST_F(NetnsRouterTest, LowRateForwardingHasNoLossNoReorderingAndEveryFlowSeen) {
  const auto j = RunAgentAnyPmd(
      "flows=32,size=128,rate=20000pps,dst_port.start=5000,dst_port.count=32", "2s");
  ASSERT_FALSE(j.is_null());
  const auto& s = j["stats"]["streams"][0];
  const uint64_t tx = U64(s["tx_packets"]);
  EXPECT_NEAR(static_cast<double>(tx), 40000.0, 1.0);
  EXPECT_EQ(I64(s["lost"]), 0) << s.dump();
  EXPECT_EQ(U64(s["reordered"]), 0u);
  EXPECT_EQ(U64(s["duplicates"]), 0u);
  EXPECT_EQ(U64(s["unique_packets"]), tx);
  EXPECT_EQ(s["flows_seen"].get<int>(), 32);
  std::printf("router: %s frames on %s, latency min/avg/max %s/%s/%s ns\n", s["tx_packets"].dump().c_str(),
              j["ports"][0]["pmd"].get<std::string>().c_str(), s["latency_min_ns"].dump().c_str(),
              s["latency_avg_ns"].dump().c_str(), s["latency_max_ns"].dump().c_str());
  for (const auto& f : j["stats"]["flows"]) {
    EXPECT_EQ(I64(f["lost"]), 0) << f.dump();
    EXPECT_GT(U64(f["unique_packets"]), 0u) << f.dump();
  }
  // Forwarded through a real router: latency is positive and below a second.
  EXPECT_GT(U64(s["latency_min_ns"]), 0u);
  EXPECT_LT(U64(s["latency_max_ns"]), 1'000'000'000u);
}

TEST_F(NetnsRouterTest, TbfShaperAt100MbitIsMeasuredWithinTwoPercent) {
  // Small queue (burst 16 kB, latency 5 ms) so the queue's contribution to the received
  // volume stays far below 2 % of a 3 s trial.
  const std::string err = topo_.Shape("rate 100mbit burst 16kb latency 5ms");
  ASSERT_EQ(err, "") << err;
  // 200 Mbit/s offered (frame bits), 512-byte frames, 16 flows.
  // The generator needs its CPU to offer twice the shaped rate: on failure, say what else ran.
  const testing::CpuReportOnFailure cpu;
  const auto j = RunAgentAnyPmd(
      "flows=16,size=512,rate=200Mbps,dst_port.start=6000,dst_port.count=16", "3s");
  ASSERT_FALSE(j.is_null());
  const auto& s = j["stats"]["streams"][0];
  const uint64_t unique = U64(s["unique_packets"]);
  const double span = s["rx_duration_s"].get<double>();
  ASSERT_GT(span, 2.0);
  // tbf counts the frame without FCS (Ethernet header included, no preamble).
  const double tbf_bytes = static_cast<double>(U64(s["rx_bytes"])) - 4.0 * static_cast<double>(unique);
  const double rate = tbf_bytes * 8.0 / span;
  EXPECT_NEAR(rate, 100e6, 2e6) << "measured " << rate / 1e6 << " Mbit/s over " << span << " s";
  std::printf("tbf 100 Mbit/s: measured %.3f Mbit/s (as tbf counts) over %.3f s on %s, lost %s of %s\n",
              rate / 1e6, span, j["ports"][0]["pmd"].get<std::string>().c_str(),
              s["lost"].dump().c_str(), s["tx_packets"].dump().c_str());
  // Offered twice the shaped rate: about half is lost, and the loss shows in every flow.
  const int64_t lost = I64(s["lost"]);
  const uint64_t tx = U64(s["tx_packets"]);
  EXPECT_GT(lost, static_cast<int64_t>(tx * 0.4)) << s.dump();
  EXPECT_LT(lost, static_cast<int64_t>(tx * 0.6)) << s.dump();
  int64_t sum = 0;
  for (const auto& f : j["stats"]["flows"]) {
    EXPECT_GT(I64(f["lost"]), 0) << f.dump();
    sum += I64(f["lost"]);
  }
  EXPECT_EQ(sum, lost);
}

}  // namespace
}  // namespace netrig
