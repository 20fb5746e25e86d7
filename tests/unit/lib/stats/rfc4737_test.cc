// RFC 4737 golden vectors (METHODOLOGY.md §8.3): §7 Tables 1-4 and the §4.6.4 run examples.
// Times in the tables are ms; the analyzer works in ns. Payload is 100 bytes per packet.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "lib/stats/flow_analyzer.h"

namespace netrig::stats {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint32_t kPayload = 100;

struct Row {
  uint32_t seq;
  uint64_t src_ms;
  uint64_t dst_ms;
  uint32_t next_exp;  // the table's NextExp column (value before this arrival)
};

struct Trace {
  FlowRxState f{};
  std::vector<Arrival> arrivals;
  FlowSummary sum;
};

Trace Feed(const std::vector<Row>& rows) {
  Trace r;
  AnalyzerConfig cfg;
  for (size_t k = 0; k < rows.size(); ++k) {
    if (k > 0) {
      EXPECT_EQ(r.f.next_exp, rows[k].next_exp) << "NextExp before arrival " << k + 1;
    }
    r.arrivals.push_back(OnPacket(r.f, rows[k].seq, rows[k].src_ms * kMs, rows[k].dst_ms * kMs,
                                  kPayload, cfg, nullptr));
  }
  r.sum = Summarize(r.f, rows.size());
  return r;
}

void ExpectInOrder(const Arrival& a) {
  EXPECT_EQ(a.kind, ArrivalKind::kInOrder);
  EXPECT_EQ(a.extent, 0u);
}

void ExpectReordered(const Arrival& a, uint32_t extent, uint64_t late_ms, uint64_t byte_offset,
                     uint32_t n) {
  EXPECT_EQ(a.kind, ArrivalKind::kReordered);
  EXPECT_EQ(a.extent, extent);
  EXPECT_EQ(a.late_time_ns, late_ms * kMs);
  EXPECT_EQ(a.byte_offset, byte_offset);
  EXPECT_EQ(a.n_reordering, n);
}

// §7.1 Table 1: s = 1,2,3,5,6,7,8,4,9,10.
TEST(Rfc4737Test, Table1SingleReorderedPacketExtent4LateTime62msOffset400) {
  const Trace r = Feed({{1, 0, 68, 1},
                        {2, 20, 88, 2},
                        {3, 40, 108, 3},
                        {5, 80, 148, 4},
                        {6, 100, 168, 6},
                        {7, 120, 188, 7},
                        {8, 140, 208, 8},
                        {4, 60, 210, 9},
                        {9, 160, 228, 9},
                        {10, 180, 248, 10}});
  for (size_t k : {0, 1, 2, 4, 5, 6, 8, 9}) {
    ExpectInOrder(r.arrivals[k]);
  }
  EXPECT_TRUE(r.arrivals[3].discontinuity);  // 5 with NextExp 4
  EXPECT_EQ(r.arrivals[3].discontinuity_size, 1u);
  ExpectReordered(r.arrivals[7], /*extent=*/4, /*late_ms=*/62, /*byte_offset=*/400, /*n=*/4);
  EXPECT_FALSE(r.arrivals[7].gap_defined);  // first reordering discontinuity

  EXPECT_EQ(r.sum.unique_packets, 10u);
  EXPECT_EQ(r.sum.lost, 0);
  EXPECT_EQ(r.sum.reordered, 1u);
  EXPECT_DOUBLE_EQ(r.sum.reordered_ratio, 0.1);  // R = 10 %
  EXPECT_EQ(r.sum.max_extent, 4u);
  // Degree of n-reordering 0.1 for n = 1..4, 0 for n >= 5.
  EXPECT_EQ(r.sum.n_reordered_1, 1u);
  EXPECT_EQ(r.sum.n_reordered_3, 1u);
  EXPECT_EQ(r.sum.max_n_reordering, 4u);
  EXPECT_EQ(r.sum.late_time_sum_ns, 62 * kMs);
  EXPECT_EQ(r.sum.seq_discontinuities, 1u);
  EXPECT_EQ(r.sum.reordering_discontinuities, 1u);
  EXPECT_EQ(r.sum.extent_unknown, 0u);
}

// §7.2 Table 2: s = 1,2,3,4,7,5,6,8,9,10.
TEST(Rfc4737Test, Table2TwoPacketsOfOneDiscontinuityOnlyTheFirstIsNReordered) {
  const Trace r = Feed({{1, 0, 68, 1},
                        {2, 20, 88, 2},
                        {3, 40, 108, 3},
                        {4, 60, 128, 4},
                        {7, 120, 188, 5},
                        {5, 80, 189, 8},
                        {6, 100, 190, 8},
                        {8, 140, 208, 8},
                        {9, 160, 228, 9},
                        {10, 180, 248, 10}});
  EXPECT_TRUE(r.arrivals[4].discontinuity);
  EXPECT_EQ(r.arrivals[4].discontinuity_size, 2u);
  ExpectReordered(r.arrivals[5], /*extent=*/1, /*late_ms=*/1, /*byte_offset=*/100, /*n=*/1);
  ExpectReordered(r.arrivals[6], /*extent=*/2, /*late_ms=*/2, /*byte_offset=*/100, /*n=*/0);
  for (size_t k : {0, 1, 2, 3, 4, 7, 8, 9}) {
    ExpectInOrder(r.arrivals[k]);
  }
  EXPECT_EQ(r.sum.reordered, 2u);
  EXPECT_DOUBLE_EQ(r.sum.reordered_ratio, 0.2);
  EXPECT_EQ(r.sum.n_reordered_1, 1u);
  EXPECT_EQ(r.sum.n_reordered_3, 0u);
  EXPECT_EQ(r.sum.max_n_reordering, 1u);
  EXPECT_EQ(r.sum.max_extent, 2u);
  EXPECT_EQ(r.sum.late_time_sum_ns, 3 * kMs);
  EXPECT_EQ(r.sum.reordering_discontinuities, 1u);  // both found packet 7 (j = 5)
}

// §7.3 Table 3: s = 1,2,3,7,8,9,10,4,5,6,11.
TEST(Rfc4737Test, Table3ThreePacketsExtents456AllFromDiscontinuityAtPacket7) {
  const Trace r = Feed({{1, 0, 68, 1},
                        {2, 20, 88, 2},
                        {3, 40, 108, 3},
                        {7, 120, 188, 4},
                        {8, 140, 208, 8},
                        {9, 160, 228, 9},
                        {10, 180, 248, 10},
                        {4, 60, 250, 11},
                        {5, 80, 252, 11},
                        {6, 100, 256, 11},
                        {11, 200, 268, 11}});
  ExpectReordered(r.arrivals[7], /*extent=*/4, /*late_ms=*/62, /*byte_offset=*/400, /*n=*/4);
  ExpectReordered(r.arrivals[8], /*extent=*/5, /*late_ms=*/64, /*byte_offset=*/400, /*n=*/0);
  ExpectReordered(r.arrivals[9], /*extent=*/6, /*late_ms=*/68, /*byte_offset=*/400, /*n=*/0);
  ExpectInOrder(r.arrivals[10]);
  // Extent histogram bins 1..7 = 0,0,0,1,1,1,0.
  std::vector<int> bins(8, 0);
  for (const Arrival& a : r.arrivals) {
    if (a.kind == ArrivalKind::kReordered) {
      ++bins[a.extent];
    }
  }
  EXPECT_EQ(bins, (std::vector<int>{0, 0, 0, 0, 1, 1, 1, 0}));
  EXPECT_EQ(r.sum.reordered, 3u);
  EXPECT_DOUBLE_EQ(r.sum.reordered_ratio, 3.0 / 11);  // 27.27 %
  EXPECT_EQ(r.sum.max_extent, 6u);
  EXPECT_EQ(r.sum.max_n_reordering, 4u);
  EXPECT_EQ(r.sum.n_reordered_1, 1u);
  EXPECT_EQ(r.sum.n_reordered_3, 1u);
  EXPECT_EQ(r.sum.reordering_discontinuities, 1u);
}

// §7.4 Table 4: s = 1,2,3,6,7,4,5,8,9,10,12,13,11,14,15,16. The methodology gives no times for
// this table; a 20 ms periodic stream with DstTime(i) = 68 + 20 (i - 1) ms is used.
TEST(Rfc4737Test, Table4GapBetweenReorderingDiscontinuitiesIs7AndRunsGiveQ50) {
  const std::vector<uint32_t> seqs = {1, 2, 3, 6, 7, 4, 5, 8, 9, 10, 12, 13, 11, 14, 15, 16};
  const std::vector<uint32_t> next_exp = {1, 2, 3, 4, 7, 8, 8, 8, 9, 10, 11, 13, 14, 14, 15, 16};
  std::vector<Row> rows;
  for (size_t k = 0; k < seqs.size(); ++k) {
    rows.push_back({seqs[k], (seqs[k] - 1) * 20, 68 + 20 * k, next_exp[k]});
  }
  // q after each arrival: r^2 is added at each reordered arrival only.
  {
    FlowRxState f{};
    std::vector<uint64_t> q;
    for (const Row& row : rows) {
      OnPacket(f, row.seq, row.src_ms * kMs, row.dst_ms * kMs, kPayload, AnalyzerConfig{}, nullptr);
      q.push_back(Summarize(f, 0).runs_q);
    }
    EXPECT_EQ(q,
              (std::vector<uint64_t>{0, 0, 0, 0, 0, 25, 25, 25, 25, 25, 25, 25, 50, 50, 50, 50}));
  }
  const Trace r = Feed(rows);
  ExpectReordered(r.arrivals[5], /*extent=*/2, /*late_ms=*/40, /*byte_offset=*/200, /*n=*/2);
  ExpectReordered(r.arrivals[6], /*extent=*/3, /*late_ms=*/60, /*byte_offset=*/200, /*n=*/0);
  ExpectReordered(r.arrivals[12], /*extent=*/2, /*late_ms=*/40, /*byte_offset=*/200, /*n=*/2);
  EXPECT_FALSE(r.arrivals[5].gap_defined);  // first reordering discontinuity (packet 6, j = 4)
  EXPECT_FALSE(r.arrivals[6].gap_defined);  // same discontinuity
  ASSERT_TRUE(r.arrivals[12].gap_defined);  // packet 12, j' = 11
  EXPECT_EQ(r.arrivals[12].gap, 7u);        // Gap = 11 - 4
  EXPECT_EQ(r.arrivals[12].gap_time_ns, 7 * 20 * kMs);
  EXPECT_TRUE(r.arrivals[3].discontinuity);   // 6 with NextExp 4
  EXPECT_TRUE(r.arrivals[10].discontinuity);  // 12 with NextExp 11
  EXPECT_EQ(r.sum.seq_discontinuities, 2u);
  EXPECT_EQ(r.sum.reordering_discontinuities, 2u);

  // Reordering-free runs 5, 0, 5 (the trailing run of 3 is not added): p=16 x=3 a=13 q=50.
  EXPECT_EQ(r.sum.runs_p, 16u);
  EXPECT_EQ(r.sum.runs_x, 3u);
  EXPECT_EQ(r.sum.runs_a, 13u);
  EXPECT_EQ(r.sum.runs_q, 50u);
  EXPECT_DOUBLE_EQ(r.sum.reordered_ratio, 3.0 / 16);  // 18.75 %
}

// §4.6.4: 36 packets. Each run of in-order packets is closed by one reordered packet: the gap
// left by skipping a sequence number is filled after the run.
Trace FeedRuns(const std::vector<uint32_t>& runs) {
  std::vector<Row> rows;
  uint32_t base = 1;
  for (const uint32_t len : runs) {
    // in order: base+1 .. base+len; then base (reordered)
    for (uint32_t s = base + 1; s <= base + len; ++s) {
      rows.push_back({s, 0, 0, 0});
    }
    rows.push_back({base, 0, 0, 0});
    base += len + 1;
  }
  Trace r;
  for (const Row& row : rows) {
    r.arrivals.push_back(OnPacket(r.f, row.seq, 0, 0, kPayload, AnalyzerConfig{}, nullptr));
  }
  r.sum = Summarize(r.f, rows.size());
  return r;
}

TEST(Rfc4737Test, Section464ThreeRunsOf11GiveQ363AndVariability1) {
  const Trace r = FeedRuns({11, 11, 11});
  EXPECT_EQ(r.sum.runs_p, 36u);
  EXPECT_EQ(r.sum.runs_x, 3u);
  EXPECT_EQ(r.sum.runs_a, 33u);
  EXPECT_EQ(r.sum.runs_q, 363u);
  const double a = r.sum.runs_a, x = r.sum.runs_x, q = r.sum.runs_q;
  EXPECT_DOUBLE_EQ(a / x, 11);  // average run
  EXPECT_DOUBLE_EQ(q / a, 11);
  EXPECT_DOUBLE_EQ((q / a) / (a / x), 1);  // variability
}

TEST(Rfc4737Test, Section464RunsOf1And1And31GiveQ963AndVariability265) {
  const Trace r = FeedRuns({1, 1, 31});
  EXPECT_EQ(r.sum.runs_p, 36u);
  EXPECT_EQ(r.sum.runs_x, 3u);
  EXPECT_EQ(r.sum.runs_a, 33u);
  EXPECT_EQ(r.sum.runs_q, 963u);
  const double a = r.sum.runs_a, x = r.sum.runs_x, q = r.sum.runs_q;
  EXPECT_DOUBLE_EQ(a / x, 11);
  EXPECT_NEAR(q / a, 29.18, 0.005);
  EXPECT_NEAR((q / a) / (a / x), 2.65, 0.005);
}

// §5.3 example: s = 1,2,3,7,8,9,4,5,6: 4, 5, 6 are reordered, only 4 is n-reordered (n = 3).
TEST(Rfc4737Test, Section53OnlyTheFirstOfAnAscendingGapIsNReordered) {
  FlowRxState f{};
  std::vector<uint32_t> n;
  for (const uint32_t s : {1, 2, 3, 7, 8, 9, 4, 5, 6}) {
    const Arrival a = OnPacket(f, s, 0, 0, kPayload, AnalyzerConfig{}, nullptr);
    if (a.kind == ArrivalKind::kReordered) {
      n.push_back(a.n_reordering);
    }
  }
  EXPECT_EQ(n, (std::vector<uint32_t>{3, 0, 0}));
  const FlowSummary sum = Summarize(f, 9);
  EXPECT_EQ(sum.n_reordered_1, 1u);
  EXPECT_EQ(sum.n_reordered_3, 1u);
  EXPECT_EQ(sum.max_n_reordering, 3u);
}

}  // namespace
}  // namespace netrig::stats
