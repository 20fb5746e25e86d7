// Text helpers shared by the three report renderers: markup escaping and number formatting.
// Every string that comes from a user, an agent or the SUT goes through EscapeMarkup() before
// it reaches report.html, an SVG chart or junit.xml.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace netrig::controller::report {

// Escapes & < > " ' for XML 1.0, HTML text and attribute values alike. Control characters
// that XML 1.0 forbids (everything below 0x20 except tab, LF and CR) become U+FFFD, so a
// hostile run name can neither break the markup nor make junit.xml unparsable.
std::string EscapeMarkup(absl::string_view text);

// 1488095.238 -> "1,488,095" (decimals = 0) or "1,488,095.24" (decimals = 2).
std::string Thousands(double value, int decimals = 0);
// Fixed-point without grouping: Fixed(73.33984375, 2) -> "73.34".
std::string Fixed(double value, int decimals);
// Short SI form for axis ticks: 1500000 -> "1.5M", 250000 -> "250k", 0.5 -> "0.5".
std::string ShortNumber(double value);
// Seconds as a human duration: 3725.5 -> "1h 2m 5.5s", 12.25 -> "12.25s".
std::string HumanSeconds(double seconds);

}  // namespace netrig::controller::report
