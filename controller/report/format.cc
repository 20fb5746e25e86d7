#include "controller/report/format.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace netrig::controller::report {
namespace {

// "1.500" -> "1.5", "2.000" -> "2": tick labels and durations read better without zeros.
std::string TrimZeros(std::string s) {
  if (s.find('.') == std::string::npos) {
    return s;
  }
  while (!s.empty() && s.back() == '0') {
    s.pop_back();
  }
  if (!s.empty() && s.back() == '.') {
    s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

}  // namespace

std::string EscapeMarkup(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string Thousands(double value, int decimals) {
  if (!std::isfinite(value)) {
    return "n/a";
  }
  const std::string plain = absl::StrFormat("%.*f", decimals, std::fabs(value));
  const size_t dot = plain.find('.');
  const std::string whole = plain.substr(0, dot);
  std::string grouped;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) {
      grouped += ',';
    }
    grouped += whole[i];
  }
  const bool negative = value < 0 && plain.find_first_not_of("0.") != std::string::npos;
  return absl::StrCat(negative ? "-" : "", grouped,
                      dot == std::string::npos ? "" : plain.substr(dot));
}

std::string Fixed(double value, int decimals) {
  if (!std::isfinite(value)) {
    return "n/a";
  }
  return absl::StrFormat("%.*f", decimals, value);
}

std::string ShortNumber(double value) {
  if (!std::isfinite(value)) {
    return "n/a";
  }
  struct Unit {
    double scale;
    const char* suffix;
  };
  constexpr Unit kUnits[] = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
  for (const Unit& u : kUnits) {
    if (std::fabs(value) >= u.scale) {
      return TrimZeros(absl::StrFormat("%.3f", value / u.scale)) + u.suffix;
    }
  }
  return TrimZeros(absl::StrFormat("%.3f", value));
}

std::string HumanSeconds(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) {
    return "n/a";
  }
  const auto whole = static_cast<int64_t>(seconds);
  const int64_t hours = whole / 3600;
  const int64_t minutes = (whole % 3600) / 60;
  const double rest = seconds - static_cast<double>(hours * 3600 + minutes * 60);
  std::string out;
  if (hours > 0) {
    absl::StrAppend(&out, hours, "h ");
  }
  if (hours > 0 || minutes > 0) {
    absl::StrAppend(&out, minutes, "m ");
  }
  absl::StrAppend(&out, TrimZeros(absl::StrFormat("%.2f", rest)), "s");
  return out;
}

}  // namespace netrig::controller::report
