#include "lib/rate/line_rate.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace netrig::rate {
namespace {

// RFC 2889 App. A: 96 bit times of inter-frame gap and 64 bits of preamble + SFD.
constexpr double kIfgBits = 96;
constexpr double kPreambleBits = 64;

// Bits one frame occupies on the wire, preamble and minimum gap included.
constexpr uint64_t WireBits(uint32_t frame_bytes) {
  return 8 * (static_cast<uint64_t>(frame_bytes) + kWireOverheadBytes);
}

// ---- Text parsing ---------------------------------------------------------------------------
// Debian's Abseil is built with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0),
// so the absl/strings helpers do not accept std::string_view; these few are spelled out.

std::string_view StripWhitespace(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(s[i])) !=
        absl::ascii_tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && StartsWithIgnoreCase(a, b);
}

// A decimal number as written ("1.5" -> mantissa 15, fraction_digits 1), kept exact so that
// "2.5G" becomes exactly 2,500,000,000 bit/s instead of going through binary floating point.
struct Decimal {
  unsigned __int128 mantissa = 0;
  int fraction_digits = 0;
  double AsDouble() const {
    return static_cast<double>(mantissa) / std::pow(10.0, fraction_digits);
  }
};

// Consumes "digits[.digits]" from the front of `text`. Rejects signs, exponents, "inf" and
// "nan" on purpose: none of them is a sensible rate and absl::SimpleAtod would accept them.
std::optional<Decimal> ConsumeDecimal(std::string_view& text) {
  Decimal d;
  size_t i = 0;
  int digits = 0;
  bool in_fraction = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' && !in_fraction) {
      in_fraction = true;
      continue;
    }
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) break;
    // 38 significant digits still fit the 128-bit mantissa; nobody writes more.
    if (digits >= 38) return std::nullopt;
    d.mantissa = d.mantissa * 10 + static_cast<unsigned>(c - '0');
    ++digits;
    if (in_fraction) ++d.fraction_digits;
  }
  if (digits == 0) return std::nullopt;
  text.remove_prefix(i);
  return d;
}

// Consumes an optional decimal SI multiplier (k, M, G, T; case-insensitive). Returns 1 when
// there is none. Link speeds are decimal by definition (IEEE 802.3), never 1024-based.
uint64_t ConsumeMultiplier(std::string_view& text) {
  if (text.empty()) return 1;
  uint64_t mult = 1;
  switch (absl::ascii_tolower(static_cast<unsigned char>(text.front()))) {
    case 'k':
      mult = 1'000;
      break;
    case 'm':
      mult = 1'000'000;
      break;
    case 'g':
      mult = 1'000'000'000;
      break;
    case 't':
      mult = 1'000'000'000'000;
      break;
    default:
      return 1;
  }
  text.remove_prefix(1);
  return mult;
}

// Consumes a bit-rate unit: "bps", "bit", "bits", "bit/s", "b/s" (case-insensitive).
// Longest spellings first so "bits" is not read as "bit" followed by garbage.
bool ConsumeBitUnit(std::string_view& text) {
  for (std::string_view unit : {"bit/s", "bits", "bps", "bit", "b/s"}) {
    if (StartsWithIgnoreCase(text, unit)) {
      text.remove_prefix(unit.size());
      return true;
    }
  }
  return false;
}

// Formats a value with the largest decimal multiplier that keeps it >= 1 ("1.5M", "200k").
std::string FormatScaled(double value) {
  struct Scale {
    double factor;
    const char* prefix;
  };
  static constexpr Scale kScales[] = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
  for (const Scale& s : kScales) {
    if (std::fabs(value) >= s.factor) return absl::StrFormat("%.12g%s", value / s.factor, s.prefix);
  }
  return absl::StrFormat("%.12g", value);
}

std::string UnitSuffix(RateUnit unit) {
  switch (unit) {
    case RateUnit::kPps:
      return "pps";
    case RateUnit::kL1Bps:
      return "bps-l1";
    case RateUnit::kL2Bps:
      return "bps";
    case RateUnit::kPercentLineRate:
      return "%";
  }
  return "?";
}

// Known IMIX definitions. Sizes are frame sizes incl. FCS (METHODOLOGY §13.3): the classic
// 40/576/1500-byte IP packets plus 18 bytes of Ethernet header and FCS, 40 padded up to 64.
struct KnownMix {
  std::string_view name;
  uint32_t middle_bytes;
};
constexpr KnownMix kKnownMixes[] = {
    {"imix", 594}, {"simple-imix", 594}, {"imix-570", 570}, {"imix-576", 576}};

}  // namespace

double MaxFrameRate(uint64_t link_bps, uint32_t frame_bytes) {
  return static_cast<double>(link_bps) / static_cast<double>(WireBits(frame_bytes));
}

uint64_t MaxFrameRateFloor(uint64_t link_bps, uint32_t frame_bytes) {
  // Integer division: the double quotient can round up across an integer boundary.
  return link_bps / WireBits(frame_bytes);
}

uint64_t MaxFrameRateRound(uint64_t link_bps, uint32_t frame_bytes) {
  const uint64_t d = WireBits(frame_bytes);
  const uint64_t q = link_bps / d;
  const uint64_t r = link_bps % d;
  // Half up; comparing r against d - r avoids overflowing 2 * r.
  return r >= d - r ? q + 1 : q;
}

double FrameWireTimeNs(uint64_t link_bps, uint32_t frame_bytes) {
  return static_cast<double>(WireBits(frame_bytes)) * 1e9 / static_cast<double>(link_bps);
}

double L2BitRateAtLineRate(uint64_t link_bps, uint32_t frame_bytes) {
  return static_cast<double>(link_bps) * frame_bytes /
         (static_cast<double>(frame_bytes) + kWireOverheadBytes);
}

double SizeMix::AverageFrameBytes() const {
  double bytes = 0;
  double count = 0;
  for (const SizeMixEntry& e : entries) {
    bytes += static_cast<double>(e.frame_bytes) * e.weight;
    count += e.weight;
  }
  return count == 0 ? 0.0 : bytes / count;
}

absl::StatusOr<SizeMix> NamedMix(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  for (const KnownMix& known : kKnownMixes) {
    if (lower == known.name) {
      return SizeMix{.name = std::string(known.name),
                     .entries = {{.frame_bytes = 64, .weight = 7},
                                 {.frame_bytes = known.middle_bytes, .weight = 4},
                                 {.frame_bytes = 1518, .weight = 1}}};
    }
  }
  std::vector<std::string> names;
  for (const KnownMix& known : kKnownMixes) names.emplace_back(known.name);
  return absl::InvalidArgumentError(
      absl::StrFormat("mix \"%s\": unknown; known mixes are %s", name, absl::StrJoin(names, ", ")));
}

double MaxFrameRate(uint64_t link_bps, const SizeMix& mix) {
  return static_cast<double>(link_bps) /
         (8 * (mix.AverageFrameBytes() + static_cast<double>(kWireOverheadBytes)));
}

std::vector<uint32_t> ExpandMixCycle(const SizeMix& mix) {
  // Smooth weighted round-robin (as in nginx): every step each entry gains its weight, the
  // entry with the largest credit is sent and pays the total weight. Over one cycle of
  // sum(weights) steps every entry is picked exactly `weight` times, and heavy entries are
  // spread out instead of being sent in one run. Ties go to the earlier entry, which makes
  // the cycle deterministic. The cycle has sum(weights) entries, so weights are meant to be
  // small counts (7:4:1), not percentages scaled up.
  int64_t total = 0;
  for (const SizeMixEntry& e : mix.entries) total += e.weight;
  std::vector<uint32_t> cycle;
  cycle.reserve(static_cast<size_t>(total));
  std::vector<int64_t> credit(mix.entries.size(), 0);
  for (int64_t step = 0; step < total; ++step) {
    size_t best = 0;
    bool found = false;
    for (size_t i = 0; i < mix.entries.size(); ++i) {
      if (mix.entries[i].weight == 0) continue;
      credit[i] += mix.entries[i].weight;
      if (!found || credit[i] > credit[best]) {
        best = i;
        found = true;
      }
    }
    credit[best] -= total;
    cycle.push_back(mix.entries[best].frame_bytes);
  }
  return cycle;
}

double BurstTxTimeSeconds(uint32_t frame_bytes, uint32_t burst_frames, uint64_t link_bps) {
  const double per_frame_bits = kIfgBits + kPreambleBits + 8.0 * frame_bytes;
  // The last frame of a burst is not followed by a gap, hence "- IFG".
  return (burst_frames * per_frame_bits - kIfgBits) / static_cast<double>(link_bps);
}

double InterBurstGapSeconds(uint32_t frame_bytes, double load_percent, uint32_t burst_frames,
                            uint64_t link_bps) {
  const double per_frame_bits = kIfgBits + kPreambleBits + 8.0 * frame_bytes;
  return ((100.0 / load_percent - 1.0) * burst_frames * per_frame_bits + kIfgBits) /
         static_cast<double>(link_bps);
}

absl::StatusOr<RateSpec> ParseRate(std::string_view text) {
  const auto error = [text](std::string_view reason) {
    return absl::InvalidArgumentError(absl::StrFormat("rate \"%s\": %s", text, reason));
  };
  std::string_view rest = StripWhitespace(text);
  const std::optional<Decimal> number = ConsumeDecimal(rest);
  if (!number.has_value()) {
    return error(
        "expected a non-negative number followed by a unit, e.g. \"50%\", \"1.5Mpps\", "
        "\"200Mbps\" or \"1Gbps-l1\"");
  }
  rest = StripWhitespace(rest);
  if (rest.empty()) {
    return error("missing unit; use %, pps, bps (L2) or bps-l1 (L1)");
  }
  RateSpec spec;
  if (rest == "%") {
    spec.unit = RateUnit::kPercentLineRate;
    spec.value = number->AsDouble();
    return spec;
  }
  const uint64_t mult = ConsumeMultiplier(rest);
  if (EqualsIgnoreCase(rest, "pps")) {
    spec.unit = RateUnit::kPps;
  } else if (ConsumeBitUnit(rest)) {
    if (rest.empty() || EqualsIgnoreCase(rest, "-l2")) {
      spec.unit = RateUnit::kL2Bps;
    } else if (EqualsIgnoreCase(rest, "-l1")) {
      spec.unit = RateUnit::kL1Bps;
    } else {
      return error(
          absl::StrFormat("unexpected \"%s\" after the bit-rate unit; only -l1 or -l2", rest));
    }
  } else {
    return error("unknown unit; use %, pps, bps (L2) or bps-l1 (L1) with an optional k/M/G/T");
  }
  spec.value = number->AsDouble() * static_cast<double>(mult);
  return spec;
}

absl::StatusOr<uint64_t> ParseBitsPerSecond(std::string_view text) {
  const auto error = [text](std::string_view reason) {
    return absl::InvalidArgumentError(absl::StrFormat("bit rate \"%s\": %s", text, reason));
  };
  std::string_view rest = StripWhitespace(text);
  const std::optional<Decimal> number = ConsumeDecimal(rest);
  if (!number.has_value()) {
    return error("expected a positive number with an optional k/M/G/T multiplier, e.g. \"10G\"");
  }
  rest = StripWhitespace(rest);
  const uint64_t mult = ConsumeMultiplier(rest);
  if (!rest.empty() && !(ConsumeBitUnit(rest) && rest.empty())) {
    return error("unknown unit; expected an optional k/M/G/T followed by an optional bps/bit");
  }
  // Exact decimal arithmetic: value = mantissa * mult / 10^fraction_digits.
  unsigned __int128 scaled = number->mantissa * mult;
  if (number->mantissa != 0 && scaled / number->mantissa != mult) {
    return error("too large");
  }
  unsigned __int128 divisor = 1;
  for (int i = 0; i < number->fraction_digits; ++i) divisor *= 10;
  if (scaled % divisor != 0) {
    return error("not a whole number of bits per second");
  }
  scaled /= divisor;
  if (scaled > UINT64_MAX) return error("too large");
  if (scaled == 0) return error("must be greater than zero");
  return static_cast<uint64_t>(scaled);
}

absl::StatusOr<double> ToFramesPerSecond(const RateSpec& rate, uint64_t link_bps,
                                         double avg_frame_bytes) {
  const std::string text = FormatRate(rate);
  if (!std::isfinite(rate.value) || rate.value < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("rate %s: must be a finite non-negative value", text));
  }
  if (link_bps == 0) {
    return absl::InvalidArgumentError(absl::StrFormat("rate %s: link speed is zero", text));
  }
  if (!std::isfinite(avg_frame_bytes) || avg_frame_bytes <= 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "rate %s: average frame size %g bytes is not positive", text, avg_frame_bytes));
  }
  const double wire_bits = 8 * (avg_frame_bytes + kWireOverheadBytes);
  const double line_fps = static_cast<double>(link_bps) / wire_bits;
  double fps = 0;
  // Fraction of L1 capacity, computed from the rate as given so that "100%" or exactly
  // the line rate in bit/s is accepted without floating-point noise tripping the check.
  double load = 0;
  switch (rate.unit) {
    case RateUnit::kPps:
      fps = rate.value;
      load = fps / line_fps;
      break;
    case RateUnit::kL1Bps:
      fps = rate.value / wire_bits;
      load = rate.value / static_cast<double>(link_bps);
      break;
    case RateUnit::kL2Bps:
      fps = rate.value / (8 * avg_frame_bytes);
      load = fps / line_fps;
      break;
    case RateUnit::kPercentLineRate:
      fps = rate.value / 100 * line_fps;
      load = rate.value / 100;
      break;
  }
  // A relative slack of 1e-12 only absorbs rounding of the conversions above; any
  // meaningful excess (even 1 fps at 400G) is far larger.
  if (load > 1 + 1e-12) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "rate %s exceeds line rate: %.2f fps is %.6g%% of the line rate of %.2f fps for "
        "%g-byte frames on a %sbit/s link",
        text, fps, load * 100, line_fps, avg_frame_bytes, FormatScaled(link_bps)));
  }
  return fps;
}

std::string FormatRate(const RateSpec& rate) {
  if (rate.unit == RateUnit::kPercentLineRate) {
    return absl::StrFormat("%.12g%%", rate.value);
  }
  return FormatScaled(rate.value) + UnitSuffix(rate.unit);
}

}  // namespace netrig::rate
