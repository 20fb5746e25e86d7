#include "lib/rate/line_rate.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace netrig::rate {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr uint64_t k10M = 10'000'000;
constexpr uint64_t k100M = 100'000'000;
constexpr uint64_t k1G = 1'000'000'000;
constexpr uint64_t k10G = 10'000'000'000;
constexpr uint64_t k100G = 100'000'000'000;

// absl::Status::message() is an absl::string_view (a distinct type in Debian's Abseil), which
// the gmock string matchers do not take.
std::string Message(const absl::Status& status) { return std::string(status.message()); }

// ---- Maximum frame rate (METHODOLOGY §13.1-13.2) ---------------------------------------------

TEST(MaxFrameRateTest, Exact64BytesAt1G) {
  EXPECT_NEAR(MaxFrameRate(k1G, 64), 1'488'095.238, 0.001);
  EXPECT_EQ(MaxFrameRateFloor(k1G, 64), 1'488'095u);
  EXPECT_EQ(MaxFrameRateRound(k1G, 64), 1'488'095u);
}

TEST(MaxFrameRateTest, Exact64BytesAt10GAnd100G) {
  EXPECT_NEAR(MaxFrameRate(k10G, 64), 14'880'952.38, 0.01);
  EXPECT_EQ(MaxFrameRateFloor(k10G, 64), 14'880'952u);
  EXPECT_NEAR(MaxFrameRate(k100G, 64), 148'809'523.8, 0.1);
  EXPECT_EQ(MaxFrameRateFloor(k100G, 64), 148'809'523u);
  EXPECT_EQ(MaxFrameRateRound(k100G, 64), 148'809'524u);
}

TEST(MaxFrameRateTest, FloorAndRoundDifferAt64BytesAt100M) {
  // RFC 2544/5180 truncate (148,809); tools and the RFC 3918 draft use 148,810.
  EXPECT_NEAR(MaxFrameRate(k100M, 64), 148'809.52, 0.01);
  EXPECT_EQ(MaxFrameRateFloor(k100M, 64), 148'809u);
  EXPECT_EQ(MaxFrameRateRound(k100M, 64), 148'810u);
}

TEST(MaxFrameRateTest, Rfc2544AppendixBTenMegabitColumnIsTruncated) {
  const std::map<uint32_t, uint64_t> kAppendixB = {{64, 14880}, {128, 8445}, {256, 4528},
                                                   {512, 2349}, {768, 1586}, {1024, 1197},
                                                   {1280, 961}, {1518, 812}};
  for (const auto& [size, expected] : kAppendixB) {
    EXPECT_EQ(MaxFrameRateFloor(k10M, size), expected) << size << " bytes";
  }
  // The RFC's numbers are floors, not rounded: 14,880.95 would round to 14,881.
  EXPECT_EQ(MaxFrameRateRound(k10M, 64), 14881u);
}

TEST(MaxFrameRateTest, Rfc5180AppendixA1Cells) {
  const std::vector<uint64_t> kSpeeds = {k10M, k100M, k1G, k10G};
  const std::vector<uint64_t> k64 = {14'880, 148'809, 1'488'095, 14'880'952};
  const std::vector<uint64_t> k1518 = {812, 8'127, 81'274, 812'743};
  const std::vector<uint64_t> k1522 = {810, 8'106, 81'063, 810'635};
  for (size_t i = 0; i < kSpeeds.size(); ++i) {
    EXPECT_EQ(MaxFrameRateFloor(kSpeeds[i], 64), k64[i]) << kSpeeds[i];
    EXPECT_EQ(MaxFrameRateFloor(kSpeeds[i], 1518), k1518[i]) << kSpeeds[i];
    EXPECT_EQ(MaxFrameRateFloor(kSpeeds[i], 1522), k1522[i]) << kSpeeds[i];
  }
  EXPECT_EQ(MaxFrameRateFloor(k10G, 9216), 135'339u);
  // RFC 5180 prints 13,534 for 9216 B @ 1G: it rounded that cell instead of truncating.
  EXPECT_EQ(MaxFrameRateFloor(k1G, 9216), 13'533u);
  EXPECT_EQ(MaxFrameRateRound(k1G, 9216), 13'534u);
}

TEST(MaxFrameRateTest, RoundIsHalfUp) {
  // 8 * (X + 20) = 672 for X = 64; 336 is exactly half a frame.
  EXPECT_EQ(MaxFrameRateRound(672 * 10 + 335, 64), 10u);
  EXPECT_EQ(MaxFrameRateRound(672 * 10 + 336, 64), 11u);
  EXPECT_EQ(MaxFrameRateFloor(672 * 10 + 671, 64), 10u);
}

TEST(MaxFrameRateTest, FloorIsExactWhereDoubleDivisionRoundsUp) {
  // link_bps = 672 * 2^53 - 1: the true quotient is just below 2^53, but the double
  // quotient rounds to exactly 2^53.
  const uint64_t bps = 672ull * (1ull << 53) - 1;
  EXPECT_EQ(MaxFrameRateFloor(bps, 64), (1ull << 53) - 1);
  EXPECT_EQ(MaxFrameRateRound(bps, 64), 1ull << 53);
  EXPECT_EQ(MaxFrameRateRound(UINT64_MAX, 64), UINT64_MAX / 672 + 1);  // no overflow
}

TEST(FrameWireTimeTest, GoldenValues) {
  EXPECT_DOUBLE_EQ(FrameWireTimeNs(k1G, 64), 672.0);
  EXPECT_DOUBLE_EQ(FrameWireTimeNs(k1G, 1518), 12'304.0);
  EXPECT_DOUBLE_EQ(FrameWireTimeNs(k10M, 64), 67'200.0);
  EXPECT_NEAR(FrameWireTimeNs(k10G, 64), 67.2, 1e-9);
  EXPECT_NEAR(FrameWireTimeNs(25'000'000'000, 64), 26.88, 1e-9);
  EXPECT_NEAR(FrameWireTimeNs(k100G, 1518), 123.04, 1e-9);
}

TEST(L2BitRateTest, AtLineRate) {
  EXPECT_NEAR(L2BitRateAtLineRate(k1G, 64), 761'904'761.9, 0.1);
  EXPECT_NEAR(L2BitRateAtLineRate(k1G, 1518), 986'996'098.8, 0.1);
  // Consistency: L2 rate = max fps * 8 * X.
  EXPECT_NEAR(L2BitRateAtLineRate(k10G, 512), MaxFrameRate(k10G, 512) * 8 * 512, 1e-3);
}

// ---- IMIX (METHODOLOGY §13.3) ---------------------------------------------------------------

TEST(SizeMixTest, SimpleImixGoldenValues) {
  const absl::StatusOr<SizeMix> mix = NamedMix("imix");
  ASSERT_TRUE(mix.ok()) << mix.status();
  EXPECT_EQ(mix->name, "imix");
  ASSERT_EQ(mix->entries.size(), 3u);
  EXPECT_EQ(mix->entries[0].frame_bytes, 64u);
  EXPECT_EQ(mix->entries[0].weight, 7u);
  EXPECT_EQ(mix->entries[1].frame_bytes, 594u);
  EXPECT_EQ(mix->entries[1].weight, 4u);
  EXPECT_EQ(mix->entries[2].frame_bytes, 1518u);
  EXPECT_EQ(mix->entries[2].weight, 1u);
  EXPECT_NEAR(mix->AverageFrameBytes(), 361.8333, 1e-4);
  EXPECT_NEAR(MaxFrameRate(k1G, *mix), 327'367.96, 0.01);
  EXPECT_NEAR(MaxFrameRate(k10G, *mix), 3'273'679.62, 0.01);
  EXPECT_NEAR(MaxFrameRate(25'000'000'000, *mix), 8'184'199.04, 0.01);
  EXPECT_NEAR(MaxFrameRate(k100G, *mix), 32'736'796.16, 0.01);
  // Line-rate check: fps * (avg + 20) * 8 is the link speed.
  EXPECT_NEAR(MaxFrameRate(k10G, *mix) * (mix->AverageFrameBytes() + 20) * 8, 1e10, 1e-3);
}

TEST(SizeMixTest, SimpleImixIsAnAlias) {
  const absl::StatusOr<SizeMix> mix = NamedMix("simple-imix");
  ASSERT_TRUE(mix.ok()) << mix.status();
  EXPECT_NEAR(mix->AverageFrameBytes(), 361.8333, 1e-4);
}

TEST(SizeMixTest, Imix570And576Variants) {
  const absl::StatusOr<SizeMix> m570 = NamedMix("imix-570");
  ASSERT_TRUE(m570.ok()) << m570.status();
  EXPECT_NEAR(m570->AverageFrameBytes(), 353.8333, 1e-4);
  EXPECT_NEAR(MaxFrameRate(k1G, *m570), 334'373.61, 0.01);
  EXPECT_NEAR(MaxFrameRate(k10G, *m570), 3'343'736.07, 0.01);

  const absl::StatusOr<SizeMix> m576 = NamedMix("IMIX-576");  // names are case-insensitive
  ASSERT_TRUE(m576.ok()) << m576.status();
  EXPECT_NEAR(m576->AverageFrameBytes(), 355.8333, 1e-4);
  EXPECT_NEAR(MaxFrameRate(k1G, *m576), 332'594.24, 0.01);
  EXPECT_NEAR(MaxFrameRate(k10G, *m576), 3'325'942.35, 0.01);
}

TEST(SizeMixTest, UnknownNameListsTheKnownOnes) {
  const absl::StatusOr<SizeMix> mix = NamedMix("trimodal");
  ASSERT_EQ(mix.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(mix.status()),
              AllOf(HasSubstr("\"trimodal\""), HasSubstr("imix"), HasSubstr("simple-imix"),
                    HasSubstr("imix-570"), HasSubstr("imix-576")));
}

TEST(SizeMixTest, AverageOfEmptyOrZeroWeightMixIsZero) {
  EXPECT_EQ(SizeMix{}.AverageFrameBytes(), 0.0);
  const SizeMix zero{.name = "z", .entries = {{.frame_bytes = 64, .weight = 0}}};
  EXPECT_EQ(zero.AverageFrameBytes(), 0.0);
}

// Longest run of `value` in `cycle`, treating the cycle as repeating (the TX engine loops it).
size_t LongestCyclicRun(const std::vector<uint32_t>& cycle, uint32_t value) {
  if (std::all_of(cycle.begin(), cycle.end(), [&](uint32_t v) { return v == value; })) {
    return cycle.size();
  }
  size_t best = 0;
  size_t run = 0;
  for (size_t i = 0; i < 2 * cycle.size(); ++i) {
    run = cycle[i % cycle.size()] == value ? run + 1 : 0;
    best = std::max(best, run);
  }
  return best;
}

TEST(ExpandMixCycleTest, SimpleImixIsSmoothWeightedRoundRobin) {
  const absl::StatusOr<SizeMix> mix = NamedMix("imix");
  ASSERT_TRUE(mix.ok());
  const std::vector<uint32_t> cycle = ExpandMixCycle(*mix);
  // Golden sequence of smooth weighted round-robin for 7:4:1 (ties to the first entry).
  EXPECT_THAT(cycle, ElementsAre(64, 594, 64, 64, 594, 64, 1518, 64, 594, 64, 594, 64));
  EXPECT_EQ(std::count(cycle.begin(), cycle.end(), 64u), 7);
  EXPECT_EQ(std::count(cycle.begin(), cycle.end(), 594u), 4);
  EXPECT_EQ(std::count(cycle.begin(), cycle.end(), 1518u), 1);
  // The guarantee: never more than 2 small frames back to back, even across the wrap.
  EXPECT_EQ(LongestCyclicRun(cycle, 64), 2u);
  EXPECT_EQ(LongestCyclicRun(cycle, 594), 1u);
}

TEST(ExpandMixCycleTest, CountsEqualWeightsAndHeavyEntriesAreSpread) {
  const SizeMix mix{.name = "custom",
                    .entries = {{.frame_bytes = 128, .weight = 10},
                                {.frame_bytes = 256, .weight = 0},
                                {.frame_bytes = 512, .weight = 3},
                                {.frame_bytes = 1024, .weight = 2}}};
  const std::vector<uint32_t> cycle = ExpandMixCycle(mix);
  ASSERT_EQ(cycle.size(), 15u);
  EXPECT_EQ(std::count(cycle.begin(), cycle.end(), 128u), 10);
  EXPECT_EQ(std::count(cycle.begin(), cycle.end(), 256u), 0);  // weight 0 is never sent
  EXPECT_EQ(std::count(cycle.begin(), cycle.end(), 512u), 3);
  EXPECT_EQ(std::count(cycle.begin(), cycle.end(), 1024u), 2);
  // 10 of 15 with the other 5 interleaved: runs of at most ceil(10 / 5) = 2.
  EXPECT_LE(LongestCyclicRun(cycle, 128), 2u);
  // The cycle is the average frame size exactly.
  double sum = 0;
  for (uint32_t v : cycle) sum += v;
  EXPECT_DOUBLE_EQ(sum / cycle.size(), mix.AverageFrameBytes());
}

TEST(ExpandMixCycleTest, DegenerateMixes) {
  EXPECT_TRUE(ExpandMixCycle(SizeMix{}).empty());
  const SizeMix single{.name = "one", .entries = {{.frame_bytes = 64, .weight = 3}}};
  EXPECT_THAT(ExpandMixCycle(single), ElementsAre(64, 64, 64));
  const SizeMix equal{
      .name = "eq",
      .entries = {{.frame_bytes = 64, .weight = 2}, {.frame_bytes = 128, .weight = 2}}};
  EXPECT_THAT(ExpandMixCycle(equal), ElementsAre(64, 128, 64, 128));
}

TEST(ExpandMixCycleTest, Deterministic) {
  const absl::StatusOr<SizeMix> mix = NamedMix("imix-570");
  ASSERT_TRUE(mix.ok());
  EXPECT_THAT(ExpandMixCycle(*mix), ElementsAreArray(ExpandMixCycle(*mix)));
}

// ---- RFC 2889 App. A (METHODOLOGY §4.10, V7) ------------------------------------------------

TEST(BurstTest, Rfc2889AppendixATxTime) {
  EXPECT_NEAR(BurstTxTimeSeconds(64, 24, k10M) * 1e6, 1603.2, 1e-9);
}

TEST(BurstTest, Rfc2889AppendixAInterBurstGap) {
  EXPECT_NEAR(InterBurstGapSeconds(64, 100, 24, k10M) * 1e6, 9.6, 1e-9);
  EXPECT_NEAR(InterBurstGapSeconds(64, 50, 24, k10M) * 1e6, 1622.4, 1e-9);
  EXPECT_NEAR(InterBurstGapSeconds(64, 25, 24, k10M) * 1e6, 4848.0, 1e-9);
  EXPECT_NEAR(InterBurstGapSeconds(64, 10, 24, k10M) * 1e6, 14'524.8, 1e-9);
}

TEST(BurstTest, BurstCountsForTenSeconds) {
  const double tx = BurstTxTimeSeconds(64, 24, k10M);
  const auto bursts = [&](double load) {
    return std::ceil(10.0 / (tx + InterBurstGapSeconds(64, load, 24, k10M)));
  };
  EXPECT_EQ(bursts(100), 6201);
  EXPECT_EQ(bursts(50), 3101);
  EXPECT_EQ(bursts(25), 1551);
  EXPECT_EQ(bursts(10), 621);
  // The RFC's printed example (IBG 1612.8 us, inconsistent with its own formula) gives 3110.
  EXPECT_EQ(std::ceil(10.0 / (tx + 1612.8e-6)), 3110);
}

TEST(BurstTest, FullLoadBurstsOccupyTheWireExactlyOnce) {
  // At 100% load, TXTIME + IBG is exactly BURST frame times.
  const double period =
      BurstTxTimeSeconds(1518, 16, k1G) + InterBurstGapSeconds(1518, 100, 16, k1G);
  EXPECT_NEAR(period, 16 * FrameWireTimeNs(k1G, 1518) * 1e-9, 1e-15);
}

// ---- Parsing --------------------------------------------------------------------------------

struct RateCase {
  std::string text;
  RateUnit unit;
  double value;
};

TEST(ParseRateTest, AcceptsDocumentedForms) {
  const std::vector<RateCase> cases = {
      {"50%", RateUnit::kPercentLineRate, 50},   {"100%", RateUnit::kPercentLineRate, 100},
      {"0.5%", RateUnit::kPercentLineRate, 0.5}, {" 12.5 % ", RateUnit::kPercentLineRate, 12.5},
      {"1.5Mpps", RateUnit::kPps, 1.5e6},        {"1.5mpps", RateUnit::kPps, 1.5e6},
      {"2000pps", RateUnit::kPps, 2000},         {"2000PPS", RateUnit::kPps, 2000},
      {"10kpps", RateUnit::kPps, 10e3},          {"200Mbps", RateUnit::kL2Bps, 200e6},
      {"200Mbit", RateUnit::kL2Bps, 200e6},      {"200mbit/s", RateUnit::kL2Bps, 200e6},
      {"200Mbps-l2", RateUnit::kL2Bps, 200e6},   {"1Gbps-l1", RateUnit::kL1Bps, 1e9},
      {"1GBPS-L1", RateUnit::kL1Bps, 1e9},       {"2.5Gbit-l1", RateUnit::kL1Bps, 2.5e9},
      {"1Tbps", RateUnit::kL2Bps, 1e12},         {"5000bps", RateUnit::kL2Bps, 5000},
  };
  for (const RateCase& c : cases) {
    const absl::StatusOr<RateSpec> spec = ParseRate(c.text);
    ASSERT_TRUE(spec.ok()) << c.text << ": " << spec.status();
    EXPECT_EQ(spec->unit, c.unit) << c.text;
    EXPECT_DOUBLE_EQ(spec->value, c.value) << c.text;
  }
}

TEST(ParseRateTest, RejectsGarbageNamingTheInput) {
  for (const std::string text :
       {"abc", "", "%", "50", "-5%", "+5%", "5e3pps", "1.2.3pps", "50%%", "10 Xpps", "nan%", "inf%",
        "1Gbps-l3", "1Gbpsx", "100Mpp", "1kk pps", "50 percent"}) {
    const absl::StatusOr<RateSpec> spec = ParseRate(text);
    ASSERT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument) << "\"" << text << "\"";
    EXPECT_THAT(Message(spec.status()), HasSubstr("rate \"" + text + "\": ")) << text;
  }
}

TEST(ParseRateTest, MissingUnitIsExplained) {
  const absl::StatusOr<RateSpec> spec = ParseRate("50");
  EXPECT_THAT(Message(spec.status()), HasSubstr("missing unit"));
}

TEST(ParseBitsPerSecondTest, AcceptsDocumentedForms) {
  const std::map<std::string, uint64_t> cases = {
      {"10G", 10'000'000'000},
      {"25G", 25'000'000'000},
      {"100M", 100'000'000},
      {"1000000000", k1G},
      {"37mbit", 37'000'000},
      {"10Gbps", 10'000'000'000},
      {"10gbps", 10'000'000'000},
      {"2.5G", 2'500'000'000},
      {"400G", 400'000'000'000},
      {"1T", 1'000'000'000'000},
      {"1.544M", 1'544'000},
      {"64k", 64'000},
      {" 40 G ", 40'000'000'000},
      {"100Mbit/s", 100'000'000},
      {"9600", 9600},
      {"18446744073709551615", UINT64_MAX},
  };
  for (const auto& [text, expected] : cases) {
    const absl::StatusOr<uint64_t> bps = ParseBitsPerSecond(text);
    ASSERT_TRUE(bps.ok()) << text << ": " << bps.status();
    EXPECT_EQ(*bps, expected) << text;
  }
}

TEST(ParseBitsPerSecondTest, RejectsGarbageNamingTheInput) {
  for (const std::string text :
       {"abc", "", "G", "10X", "10Gpps", "10G-l1", "-1G", "0", "0G", "1.5", "0.0000000001G",
        "18446744073709551616", "100000000T", "10 G bps x", "1e9"}) {
    const absl::StatusOr<uint64_t> bps = ParseBitsPerSecond(text);
    ASSERT_EQ(bps.status().code(), absl::StatusCode::kInvalidArgument) << "\"" << text << "\"";
    EXPECT_THAT(Message(bps.status()), HasSubstr("\"" + text + "\": ")) << text;
  }
}

// ---- Unit conversion ------------------------------------------------------------------------

double Fps(const RateSpec& rate, uint64_t link_bps, double avg) {
  const absl::StatusOr<double> fps = ToFramesPerSecond(rate, link_bps, avg);
  EXPECT_TRUE(fps.ok()) << fps.status();
  return fps.ok() ? *fps : -1;
}

TEST(ToFramesPerSecondTest, EveryUnit) {
  // pps passes through.
  EXPECT_DOUBLE_EQ(Fps({RateUnit::kPps, 1000}, k1G, 64), 1000);
  // L2: 100 Mbit/s of 64-byte frames = 1e8 / 512.
  EXPECT_DOUBLE_EQ(Fps({RateUnit::kL2Bps, 100e6}, k1G, 64), 195'312.5);
  // L1: bps / (8 * (X + 20)); 1518 B -> 1538 B on the wire.
  EXPECT_DOUBLE_EQ(Fps({RateUnit::kL1Bps, 500e6}, k1G, 1518), 500e6 / (8 * 1538));
  // Percent of the L1 capacity.
  EXPECT_NEAR(Fps({RateUnit::kPercentLineRate, 50}, k10G, 64), 7'440'476.19, 0.01);
  EXPECT_NEAR(Fps({RateUnit::kPercentLineRate, 100}, k1G, 64), 1'488'095.238, 0.001);
  // IMIX average size.
  EXPECT_NEAR(Fps({RateUnit::kPercentLineRate, 100}, k10G, 361.8333333333333), 3'273'679.62, 0.01);
  EXPECT_EQ(Fps({RateUnit::kPps, 0}, k1G, 64), 0);
}

TEST(ToFramesPerSecondTest, ExactlyLineRateIsAcceptedInEveryUnit) {
  EXPECT_TRUE(ToFramesPerSecond({RateUnit::kPercentLineRate, 100}, k10G, 64).ok());
  EXPECT_TRUE(ToFramesPerSecond({RateUnit::kL1Bps, 1e10}, k10G, 64).ok());
  EXPECT_TRUE(ToFramesPerSecond({RateUnit::kL2Bps, L2BitRateAtLineRate(k10G, 64)}, k10G, 64).ok());
  EXPECT_TRUE(ToFramesPerSecond({RateUnit::kPps, MaxFrameRate(k10G, 64)}, k10G, 64).ok());
  EXPECT_TRUE(ToFramesPerSecond({RateUnit::kPps, MaxFrameRate(k100G, 1518)}, k100G, 1518).ok());
}

TEST(ToFramesPerSecondTest, AboveLineRateIsRejectedWithTheLineRate) {
  const std::vector<RateSpec> too_fast = {
      {RateUnit::kPercentLineRate, 100.001},
      {RateUnit::kPps, 1'488'096},
      {RateUnit::kL1Bps, 1.000001e9},
      {RateUnit::kL2Bps, 800e6},  // L2 line rate for 64 B is 761.9 Mbit/s
  };
  for (const RateSpec& rate : too_fast) {
    const absl::StatusOr<double> fps = ToFramesPerSecond(rate, k1G, 64);
    ASSERT_EQ(fps.status().code(), absl::StatusCode::kInvalidArgument) << FormatRate(rate);
    EXPECT_THAT(Message(fps.status()),
                AllOf(HasSubstr("exceeds line rate"), HasSubstr("1488095.24 fps"),
                      HasSubstr(FormatRate(rate))));
  }
}

TEST(ToFramesPerSecondTest, RejectsNegativeAndNonFinite) {
  EXPECT_EQ(ToFramesPerSecond({RateUnit::kPps, -1}, k1G, 64).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToFramesPerSecond({RateUnit::kPps, NAN}, k1G, 64).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToFramesPerSecond({RateUnit::kL2Bps, INFINITY}, k1G, 64).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToFramesPerSecond({RateUnit::kPps, 1}, 0, 64).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToFramesPerSecond({RateUnit::kPps, 1}, k1G, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FormatRateTest, FormatsWithUnitsAndRoundTrips) {
  EXPECT_EQ(FormatRate({RateUnit::kPercentLineRate, 50}), "50%");
  EXPECT_EQ(FormatRate({RateUnit::kPps, 1.5e6}), "1.5Mpps");
  EXPECT_EQ(FormatRate({RateUnit::kPps, 2000}), "2kpps");
  EXPECT_EQ(FormatRate({RateUnit::kPps, 999}), "999pps");
  EXPECT_EQ(FormatRate({RateUnit::kL2Bps, 200e6}), "200Mbps");
  EXPECT_EQ(FormatRate({RateUnit::kL1Bps, 1e9}), "1Gbps-l1");
  EXPECT_EQ(FormatRate({RateUnit::kL1Bps, 2.5e12}), "2.5Tbps-l1");
  for (const RateSpec& rate : std::vector<RateSpec>{{RateUnit::kPercentLineRate, 12.345},
                                                    {RateUnit::kPps, 1'488'095.238},
                                                    {RateUnit::kL2Bps, 761'904'761.9},
                                                    {RateUnit::kL1Bps, 25e9}}) {
    const absl::StatusOr<RateSpec> parsed = ParseRate(FormatRate(rate));
    ASSERT_TRUE(parsed.ok()) << FormatRate(rate) << ": " << parsed.status();
    EXPECT_EQ(parsed->unit, rate.unit);
    EXPECT_NEAR(parsed->value, rate.value, rate.value * 1e-11);
  }
}

}  // namespace
}  // namespace netrig::rate
