// RFC 3393 / RFC 5481 golden vectors (METHODOLOGY.md §9.3) through ReferenceIpdv /
// ReferencePdv, and the same figures fed to the online analyzer (in sending order, lost
// packets not delivered) to check that its IPDV / PDV summaries agree with the reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "lib/stats/flow_analyzer.h"

namespace netrig::stats {
namespace {

using Opt = std::optional<double>;
using Series = std::vector<Opt>;
constexpr std::nullopt_t U = std::nullopt;
constexpr uint64_t kMs = 1'000'000;

void ExpectSeries(const Series& got, const Series& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].has_value(), want[i].has_value()) << "packet " << i + 1;
    if (want[i].has_value()) {
      EXPECT_DOUBLE_EQ(*got[i], *want[i]) << "packet " << i + 1;
    }
  }
}

struct Figure {
  const char* name;
  Series delay_ms;
  Series ipdv_ms;
  Series pdv_ms;
};

const std::vector<Figure>& Figures() {
  static const std::vector<Figure> kFigures = {
      {"Fig1", {20, 10, 20, 25, 20}, {U, -10, 10, 5, -5}, {10, 0, 10, 15, 10}},
      {"Fig2ExA",
       {100, 110, 120, 130, 140, 150, 140, 130, 120, 110, 100},
       {U, 10, 10, 10, 10, 10, -10, -10, -10, -10, -10},
       {0, 10, 20, 30, 40, 50, 40, 30, 20, 10, 0}},
      // Packet 6 is 100 - 120 = -20; the RFC prints -10 (typo).
      {"Fig2ExB",
       {100, 110, 150, U, 120, 100, 110, 150, 130, 120, 100},
       {U, 10, 40, U, U, -20, 10, 40, -20, -10, -20},
       {0, 10, 50, U, 20, 0, 10, 50, 30, 20, 0}},
      {"Fig3",
       {3, U, 5, U, 4, U, 3, U, 4, U},
       {U, U, U, U, U, U, U, U, U, U},
       {0, U, 2, U, 1, U, 0, U, 1, U}},
      {"Fig4",
       {3, 4, U, U, U, U, U, 5, 4, 3},
       {U, 1, U, U, U, U, U, U, -1, -1},
       {0, 1, U, U, U, U, U, 2, 1, 0}},
      {"Fig5",
       {4, 4, 4, 4, 9, 9, 9, 9, 9},
       {U, 0, 0, 0, 5, 0, 0, 0, 0},
       {0, 0, 0, 0, 5, 5, 5, 5, 5}},
      {"Fig6",
       {3, 4, 3, 3, U, U, 8, 9, 8},
       {U, 1, -1, 0, U, U, U, 1, -1},
       {0, 1, 0, 0, U, U, 5, 6, 5}},
      // §5.2 [Cia03]: 20 ms periodic stream hit by a 85-95 ms queuing burst; baseline 0 before
      // and after. PDV 85,65,45,25,5; IPDV 85,-20,-20,-20,-20,-5.
      {"Cia03",
       {0, 85, 65, 45, 25, 5, 0},
       {U, 85, -20, -20, -20, -20, -5},
       {0, 85, 65, 45, 25, 5, 0}},
  };
  return kFigures;
}

TEST(DelayVariationTest, ReferenceIpdvAndPdvReproduceRfc5481Figures) {
  for (const Figure& fig : Figures()) {
    SCOPED_TRACE(fig.name);
    ExpectSeries(ReferenceIpdv(fig.delay_ms), fig.ipdv_ms);
    ExpectSeries(ReferencePdv(fig.delay_ms), fig.pdv_ms);
  }
}

double Range(const Series& s) {
  double lo = INFINITY, hi = -INFINITY;
  for (const Opt& v : s) {
    if (v.has_value()) {
      lo = std::min(lo, *v);
      hi = std::max(hi, *v);
    }
  }
  return hi - lo;
}

TEST(DelayVariationTest, FigureRangesMatchTheRfcText) {
  const auto& f = Figures();
  EXPECT_EQ(Range(ReferenceIpdv(f[0].delay_ms)), 20);  // Fig. 1
  EXPECT_EQ(Range(ReferencePdv(f[0].delay_ms)), 15);
  EXPECT_EQ(Range(ReferencePdv(f[1].delay_ms)), 50);  // Fig. 2 Ex. A
  EXPECT_EQ(Range(ReferenceIpdv(f[1].delay_ms)), 20);
  EXPECT_EQ(Range(ReferencePdv(f[2].delay_ms)), 50);   // Fig. 2 Ex. B
  EXPECT_EQ(Range(ReferenceIpdv(f[2].delay_ms)), 60);  // 40 - (-20)
}

TEST(DelayVariationTest, ReferenceHandlesEmptyAndAllLostSamples) {
  EXPECT_TRUE(ReferenceIpdv({}).empty());
  EXPECT_TRUE(ReferencePdv({}).empty());
  ExpectSeries(ReferenceIpdv({U, U}), {U, U});
  ExpectSeries(ReferencePdv({U, U}), {U, U});
  ExpectSeries(ReferenceIpdv({7}), {U});
  ExpectSeries(ReferencePdv({7}), {0});
}

// RFC 4737 §7 Tables 1-3 IPDV columns are RFC 5481 IPDV in sending order.
TEST(DelayVariationTest, ReferenceIpdvReproducesRfc4737TableColumns) {
  // Delay by sequence number 1..10 (Table 1), 1..10 (Table 2), 1..11 (Table 3).
  ExpectSeries(ReferenceIpdv({68, 68, 68, 150, 68, 68, 68, 68, 68, 68}),
               {U, 0, 0, 82, -82, 0, 0, 0, 0, 0});
  ExpectSeries(ReferenceIpdv({68, 68, 68, 68, 109, 90, 68, 68, 68, 68}),
               {U, 0, 0, 0, 41, -19, -22, 0, 0, 0});
  ExpectSeries(ReferenceIpdv({68, 68, 68, 190, 172, 156, 68, 68, 68, 68, 68}),
               {U, 0, 0, 122, -18, -16, -88, 0, 0, 0, 0});
}

// Online analyzer over the same figures: packets sent 20 ms apart in sequence order, lost ones
// not delivered. Its IPDV statistics cover exactly the reference's defined IPDV values, and
// pdv_max is the PDV range.
TEST(DelayVariationTest, OnlineIpdvAndPdvAgreeWithReferenceOnInOrderFigures) {
  for (const Figure& fig : Figures()) {
    SCOPED_TRACE(fig.name);
    FlowRxState f{};
    LatencyHistogram hist;
    for (size_t i = 0; i < fig.delay_ms.size(); ++i) {
      if (!fig.delay_ms[i].has_value()) {
        continue;
      }
      const uint64_t tx = 1000 * kMs + 20 * kMs * i;
      const uint64_t rx = tx + static_cast<uint64_t>(*fig.delay_ms[i]) * kMs;
      OnPacket(f, static_cast<uint32_t>(i), tx, rx, 100, AnalyzerConfig{}, &hist);
    }
    const FlowSummary s = Summarize(f, fig.delay_ms.size());
    const Series ref = ReferenceIpdv(fig.delay_ms);
    uint64_t n = 0;
    double lo = INFINITY, hi = -INFINITY, abs_sum = 0;
    for (const Opt& v : ref) {
      if (v.has_value()) {
        ++n;
        lo = std::min(lo, *v);
        hi = std::max(hi, *v);
        abs_sum += std::fabs(*v);
      }
    }
    EXPECT_EQ(s.ipdv_count, n);
    if (n > 0) {
      EXPECT_EQ(s.ipdv_min_ns, static_cast<int64_t>(lo) * static_cast<int64_t>(kMs));
      EXPECT_EQ(s.ipdv_max_ns, static_cast<int64_t>(hi) * static_cast<int64_t>(kMs));
      EXPECT_DOUBLE_EQ(s.ipdv_mean_abs_ns, abs_sum / n * kMs);
    } else {
      EXPECT_EQ(s.ipdv_min_ns, 0);
      EXPECT_EQ(s.ipdv_max_ns, 0);
    }
    EXPECT_EQ(s.pdv_max_ns, static_cast<uint64_t>(Range(ReferencePdv(fig.delay_ms))) * kMs);
    EXPECT_EQ(hist.count(), s.latency_count);
    EXPECT_EQ(s.reordered, 0u);
  }
}

// RFC 3550 A.8: J += |D| - ((J + 8) >> 4) in units of 1/16; the float form J += (|D| - J)/16
// agrees within rounding.
TEST(DelayVariationTest, Rfc3550JitterMatchesTheIntegerEstimatorAndTheFloatForm) {
  FlowRxState f{};
  const std::vector<uint64_t> delays = {1000, 1500, 900, 2000, 2000, 1200, 5000, 800, 1000, 1001};
  uint64_t j_q4 = 0;
  double j = 0;
  for (size_t i = 0; i < delays.size(); ++i) {
    const uint64_t tx = 1'000'000 * i;
    OnPacket(f, static_cast<uint32_t>(i), tx, tx + delays[i], 100, AnalyzerConfig{}, nullptr);
    if (i > 0) {
      const uint64_t d =
          delays[i] > delays[i - 1] ? delays[i] - delays[i - 1] : delays[i - 1] - delays[i];
      j_q4 += d - ((j_q4 + 8) >> 4);
      j += (static_cast<double>(d) - j) / 16;
    }
  }
  const FlowSummary s = Summarize(f, delays.size());
  EXPECT_DOUBLE_EQ(s.jitter_rfc3550_ns, static_cast<double>(j_q4) / 16);
  EXPECT_NEAR(s.jitter_rfc3550_ns, j, 1.0);
}

}  // namespace
}  // namespace netrig::stats
