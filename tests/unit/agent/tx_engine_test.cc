// TX engine -> net_ring loopback -> full frame parser and RX analyzer. Every frame the engine
// builds must parse with correct IPv4 and UDP checksums, carry the right signature, follow the
// size cycle, and the analyzer must account for every one of them.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "agent/control/plan_compiler.h"
#include "agent/dataplane/rx_engine.h"
#include "agent/dataplane/tx_engine.h"
#include "agent/io/port.h"
#include "lib/packet/frame.h"
#include "lib/stats/flow_analyzer.h"

namespace netrig::agent {
namespace {

using dataplane::FlowTable;
using dataplane::LcoreCounters;
using dataplane::RxAnalyzer;
using dataplane::TscClock;
using dataplane::TxEngine;

class RingLoopbackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    io::PortSpec spec;
    spec.name = "loop";
    spec.pmd = io::Pmd::kRing;
    spec.speed_bps = 10'000'000'000u;
    auto port = io::OpenPort(spec, 0, 1518);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = new io::PortInfo(*port);
  }
  static void TearDownTestSuite() {
    if (port_ != nullptr) io::ClosePort(*port_);
    delete port_;
    port_ = nullptr;
  }

  // Sends `frames` frames of `stream` as fast as the ring takes them, draining the ring into
  // the parser after each step. Returns the parsed frames.
  std::vector<packet::ParsedFrame> SendAndParse(const v1::StreamConfig& stream, uint64_t frames,
                                                std::vector<uint32_t>* sizes_seen,
                                                stats::FlowSummary* flow0) {
    auto compiled = control::CompileStream(stream, "streams[0]", *port_, port_, 0, rte_get_tsc_hz());
    EXPECT_TRUE(compiled.ok()) << compiled.status();
    if (!compiled.ok()) return {};
    compiled->plan.max_packets = frames;
    const TscClock clock(rte_get_tsc_hz(), rte_rdtsc(), 1'000'000'000'000u);
    LcoreCounters counters;
    TxEngine tx(compiled->plan, clock, port_->tx_pool, counters);
    const uint64_t now = rte_rdtsc();
    tx.Arm(now, now + rte_get_tsc_hz() * 10);
    dataplane::RxPlan rx_plan;
    rx_plan.total_flows = compiled->plan.flows;
    rx_plan.stream_first_flow = {0};
    FlowTable table(rx_plan);
    RxAnalyzer analyzer(table, clock, counters);
    std::vector<packet::ParsedFrame> parsed;
    rte_mbuf* pkts[dataplane::kBurstSize];
    for (int guard = 0; guard < 1'000'000 && !tx.done(); ++guard) {
      (void)tx.Step(rte_rdtsc());
      uint16_t n;
      while ((n = rte_eth_rx_burst(port_->port_id, 0, pkts, dataplane::kBurstSize)) > 0) {
        analyzer.Analyze(pkts, n, rte_rdtsc());
        for (uint16_t i = 0; i < n; ++i) {
          const uint8_t* d = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
          auto f = packet::ParseFrame({d, rte_pktmbuf_data_len(pkts[i])});
          EXPECT_TRUE(f.ok()) << f.status();
          if (f.ok()) parsed.push_back(*f);
          if (sizes_seen) sizes_seen->push_back(rte_pktmbuf_data_len(pkts[i]) + 4u);
        }
        rte_pktmbuf_free_bulk(pkts, n);
      }
    }
    EXPECT_TRUE(tx.done());
    *flow0 = stats::Summarize(table.state(0), tx.flow_tx_packets()[0]);
    uint64_t total = 0, rx_bytes = 0;
    for (uint32_t k = 0; k < compiled->plan.flows; ++k) {
      const auto s = stats::Summarize(table.state(k), tx.flow_tx_packets()[k]);
      EXPECT_EQ(s.lost, 0) << "flow " << k;
      EXPECT_EQ(s.reordered, 0u) << "flow " << k;
      EXPECT_EQ(s.duplicates, 0u) << "flow " << k;
      total += s.unique_packets;
      rx_bytes += s.rx_bytes;
    }
    EXPECT_EQ(total, frames);
    EXPECT_EQ(counters.rx_not_probe.Read(), 0u);
    // The live counters behind interim statistics end where the final counters do.
    EXPECT_EQ(tx.live_tx_packets(), frames);
    EXPECT_EQ(tx.live_tx_bytes(), tx.tx_bytes());
    EXPECT_EQ(table.live(0).packets.Read(), frames);
    EXPECT_EQ(table.live(0).bytes.Read(), rx_bytes);
    dataplane::LiveHistogramSnapshot live_latency;
    live_latency.Add(table.live(0).latency);
    EXPECT_EQ(live_latency.count(), table.histogram(0).count());
    const double exact_p50 = static_cast<double>(table.histogram(0).Quantile(0.5));
    EXPECT_NEAR(static_cast<double>(live_latency.Quantile(0.5)), exact_p50,
                exact_p50 * (dataplane::LiveHistogram::kMaxRelativeError +
                             stats::LatencyHistogram::kMaxRelativeError) + 1);
    return parsed;
  }

  // Steps the engine on this thread until it is done, draining the ring; returns frames received.
  static uint64_t DriveUntilDone(TxEngine& tx) {
    rte_mbuf* pkts[dataplane::kBurstSize];
    uint64_t received = 0;
    while (!tx.done()) {
      (void)tx.Step(rte_rdtsc());
      uint16_t n;
      while ((n = rte_eth_rx_burst(port_->port_id, 0, pkts, dataplane::kBurstSize)) > 0) {
        received += n;
        rte_pktmbuf_free_bulk(pkts, n);
      }
    }
    return received;
  }

  static io::PortInfo* port_;
};

io::PortInfo* RingLoopbackTest::port_ = nullptr;

TEST_F(RingLoopbackTest, Ipv4FixedSizeFramesParseWithSignatures) {
  v1::StreamConfig s;
  s.set_tx_port("loop");
  s.set_flows(7);
  s.mutable_size()->set_fixed_bytes(64);
  s.mutable_rate()->set_unlimited(true);
  s.mutable_dst_port()->set_start("5000");
  s.mutable_dst_port()->set_count(7);
  std::vector<uint32_t> sizes;
  stats::FlowSummary flow0;
  const auto frames = SendAndParse(s, 700, &sizes, &flow0);
  ASSERT_EQ(frames.size(), 700u);
  std::map<uint32_t, uint32_t> next_seq;
  for (size_t i = 0; i < frames.size(); ++i) {
    const auto& f = frames[i];
    EXPECT_EQ(f.l3, packet::L3::kIpv4);
    EXPECT_TRUE(f.ipv4_checksum_ok);
    EXPECT_FALSE(f.udp_checksum_present);  // RFC 2544 App. C: UDP checksum 0
    ASSERT_TRUE(f.signature.has_value());
    EXPECT_EQ(f.signature->flow_id, i % 7);                       // round robin over flows
    EXPECT_EQ(f.dst_port, 5000 + f.signature->flow_id);           // field modifier
    EXPECT_EQ(f.signature->seq, next_seq[f.signature->flow_id]++);  // per-flow sequence
    EXPECT_EQ(f.udp_length, 26);                                  // 64 - 38
    EXPECT_EQ(sizes[i], 64u);
  }
  EXPECT_EQ(flow0.tx_packets, 100u);
  EXPECT_EQ(flow0.unique_packets, 100u);
}

TEST_F(RingLoopbackTest, ImixWithUdpChecksumsFollowsTheCycle) {
  v1::StreamConfig s;
  s.set_tx_port("loop");
  s.set_flows(3);
  s.set_udp_checksum(true);
  s.mutable_size()->set_imix("imix");
  s.mutable_rate()->set_unlimited(true);
  std::vector<uint32_t> sizes;
  stats::FlowSummary flow0;
  const auto frames = SendAndParse(s, 1200, &sizes, &flow0);
  ASSERT_EQ(frames.size(), 1200u);
  std::map<uint32_t, int> count;
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_TRUE(frames[i].ipv4_checksum_ok) << i;
    EXPECT_TRUE(frames[i].udp_checksum_present) << i;
    EXPECT_TRUE(frames[i].udp_checksum_ok) << "frame " << i << " size " << sizes[i];
    EXPECT_EQ(frames[i].udp_length, sizes[i] - 38) << i;
    ++count[sizes[i]];
  }
  // 1200 frames = 100 cycles of 7:4:1.
  EXPECT_EQ(count[64], 700);
  EXPECT_EQ(count[594], 400);
  EXPECT_EQ(count[1518], 100);
}

TEST_F(RingLoopbackTest, Ipv6SweepCarriesValidChecksums) {
  v1::StreamConfig s;
  s.set_tx_port("loop");
  s.set_flows(5);
  s.set_l3(v1::L3_PROTOCOL_IPV6);
  s.mutable_size()->mutable_sweep()->set_min_bytes(84);
  s.mutable_size()->mutable_sweep()->set_max_bytes(1518);
  s.mutable_size()->mutable_sweep()->set_step_bytes(1);
  s.mutable_src_ip()->set_start("2001:2::10");
  s.mutable_src_ip()->set_count(5);
  s.mutable_rate()->set_unlimited(true);
  std::vector<uint32_t> sizes;
  stats::FlowSummary flow0;
  const auto frames = SendAndParse(s, 1435 * 2, &sizes, &flow0);
  ASSERT_EQ(frames.size(), 1435u * 2);
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].l3, packet::L3::kIpv6);
    EXPECT_TRUE(frames[i].udp_checksum_ok) << "frame " << i << " size " << sizes[i];
    EXPECT_EQ(sizes[i], 84 + i % 1435);
    EXPECT_EQ(frames[i].src_ipv6[15], 0x10 + frames[i].signature->flow_id);
  }
}

TEST_F(RingLoopbackTest, PacerSendsRateTimesDurationFrames) {
  // 50,000 frames/s for 200 ms: exactly 10,000 frames are due, however slowly this machine
  // gets to them (late frames go out late; none are skipped).
  v1::StreamConfig s;
  s.set_tx_port("loop");
  s.set_flows(4);
  s.mutable_rate()->set_unit(v1::RATE_UNIT_PPS);
  s.mutable_rate()->set_value(50000);
  auto compiled = control::CompileStream(s, "streams[0]", *port_, port_, 0, rte_get_tsc_hz());
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  const TscClock clock(rte_get_tsc_hz(), rte_rdtsc(), 0);
  LcoreCounters counters;
  TxEngine tx(compiled->plan, clock, port_->tx_pool, counters);
  const uint64_t start = rte_rdtsc();
  tx.Arm(start, start + rte_get_tsc_hz() / 5);
  const uint64_t received = DriveUntilDone(tx);
  EXPECT_NEAR(static_cast<double>(tx.tx_packets()), 10000.0, 1.0);
  EXPECT_EQ(received, tx.tx_packets());
}

TEST_F(RingLoopbackTest, BurstProfileSpacesBurstsByTheGap) {
  // Bursts of 10 x 1000-byte frames at line rate, 1 ms apart: in 10.5 ms, 11 bursts.
  v1::StreamConfig s;
  s.set_tx_port("loop");
  s.mutable_size()->set_fixed_bytes(1000);
  s.mutable_rate()->set_burst_bytes(10000);
  s.mutable_rate()->set_gap_ns(1'000'000);
  auto compiled = control::CompileStream(s, "streams[0]", *port_, port_, 0, rte_get_tsc_hz());
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  const TscClock clock(rte_get_tsc_hz(), rte_rdtsc(), 0);
  LcoreCounters counters;
  TxEngine tx(compiled->plan, clock, port_->tx_pool, counters);
  const uint64_t start = rte_rdtsc();
  tx.Arm(start, start + rte_get_tsc_hz() * 105 / 10000);
  (void)DriveUntilDone(tx);
  // Each burst: 10 frames of 1020 wire bytes at 10 Gb/s (8.16 us) then 1 ms of gap.
  EXPECT_EQ(tx.tx_packets(), 110u);
}

}  // namespace
}  // namespace netrig::agent
