#include "lib/spec/units.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace netrig::spec {
namespace {

absl::Status Invalid(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

std::string Quote(absl::string_view s) {
  return absl::StrCat("\"", s.substr(0, 64), s.size() > 64 ? "...\"" : "\"");
}

bool IsAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

}  // namespace

absl::StatusOr<absl::Duration> ParseDurationText(absl::string_view text) {
  if (text.empty()) return Invalid("expected a duration such as 30s, 500ms, 2m or 1h");
  bool plain_number = true;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '.') plain_number = false;
  }
  if (plain_number && text != "0") {
    return Invalid(absl::StrCat(Quote(text), " has no unit (write ", text, "s, ", text,
                                "ms, ", text, "m or ", text, "h)"));
  }
  absl::Duration d;
  if (!absl::ParseDuration(text, &d)) {
    return Invalid(absl::StrCat("expected a duration such as 30s, 500ms, 2m or 1h, got ",
                                Quote(text)));
  }
  if (d == absl::InfiniteDuration() || d == -absl::InfiniteDuration()) {
    return Invalid("must be finite");
  }
  if (d < absl::ZeroDuration()) return Invalid(absl::StrCat(text, " is negative"));
  return d;
}

absl::StatusOr<double> ParsePercent(absl::string_view text) {
  absl::string_view number = absl::StripAsciiWhitespace(text);
  absl::ConsumeSuffix(&number, "%");
  double v = 0;
  const bool letters = std::any_of(number.begin(), number.end(), [](char c) {
    return absl::ascii_isalpha(static_cast<unsigned char>(c));
  });
  if (number.empty() || letters || !absl::SimpleAtod(number, &v) || !std::isfinite(v)) {
    return Invalid(absl::StrCat("expected a percentage such as 5% or 0.5%, got ", Quote(text)));
  }
  return v;
}

absl::StatusOr<uint64_t> ParseByteQuantity(absl::string_view text) {
  struct Suffix {
    absl::string_view name;
    double factor;
  };
  static constexpr Suffix kSuffixes[] = {
      {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
      {"Pi", 1125899906842624.0}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}};
  absl::string_view number = text;
  double factor = 1;
  for (const Suffix& s : kSuffixes) {
    if (absl::ConsumeSuffix(&number, s.name)) {
      factor = s.factor;
      break;
    }
  }
  double v = 0;
  const bool ok_chars = !number.empty() && std::all_of(number.begin(), number.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '.';
  });
  if (!ok_chars || !absl::SimpleAtod(number, &v)) {
    return Invalid(absl::StrCat("expected a quantity such as 1Gi, 512Mi or 2G, got ",
                                Quote(text)));
  }
  const double bytes = v * factor;
  if (!std::isfinite(bytes) || bytes >= 1.8e19) return Invalid(absl::StrCat(text, " is too large"));
  if (bytes != std::floor(bytes)) return Invalid(absl::StrCat(text, " is not a whole number of bytes"));
  return static_cast<uint64_t>(bytes);
}

namespace {

struct CronField {
  absl::string_view name;
  int lo;
  int hi;
  std::vector<absl::string_view> names;  // names[i] stands for lo + i... (see NameValue)
  int name_base;
};

bool ParseCronNumber(absl::string_view s, const CronField& f, int* out) {
  if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c));
      }) && s.size() <= 4) {
    return absl::SimpleAtoi(s, out);
  }
  const std::string lower = absl::AsciiStrToLower(s);
  for (size_t i = 0; i < f.names.size(); ++i) {
    if (lower == f.names[i]) {
      *out = f.name_base + static_cast<int>(i);
      return true;
    }
  }
  return false;
}

absl::Status CheckCronField(absl::string_view text, const CronField& f) {
  auto bad = [&](absl::string_view why) {
    return Invalid(absl::StrCat(f.name, " field ", Quote(text), ": ", why));
  };
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    if (item.empty()) return bad("empty list item");
    absl::string_view range = item;
    std::vector<absl::string_view> step_parts = absl::StrSplit(item, absl::MaxSplits('/', 1));
    if (step_parts.size() == 2) {
      range = step_parts[0];
      int step = 0;
      if (!ParseCronNumber(step_parts[1], CronField{f.name, 1, 0, {}, 0}, &step) || step < 1 ||
          step > f.hi) {
        return bad(absl::StrCat("step ", Quote(step_parts[1]), " must be 1..", f.hi));
      }
    }
    if (range == "*") continue;
    std::vector<absl::string_view> bounds = absl::StrSplit(range, absl::MaxSplits('-', 1));
    int lo = 0, hi = 0;
    if (!ParseCronNumber(bounds[0], f, &lo)) return bad(absl::StrCat(Quote(bounds[0]), " is not a number"));
    if (lo < f.lo || lo > f.hi) {
      return bad(absl::StrCat(lo, " is out of range ", f.lo, "-", f.hi));
    }
    if (bounds.size() == 2) {
      if (!ParseCronNumber(bounds[1], f, &hi)) return bad(absl::StrCat(Quote(bounds[1]), " is not a number"));
      if (hi < f.lo || hi > f.hi) return bad(absl::StrCat(hi, " is out of range ", f.lo, "-", f.hi));
      if (hi < lo) return bad(absl::StrCat("range ", lo, "-", hi, " is reversed"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCron(absl::string_view text) {
  static constexpr absl::string_view kMacros[] = {"@hourly", "@daily", "@midnight", "@weekly",
                                                  "@monthly", "@yearly", "@annually"};
  if (!text.empty() && text[0] == '@') {
    for (absl::string_view m : kMacros) {
      if (text == m) return absl::OkStatus();
    }
    return Invalid(absl::StrCat("unknown macro ", Quote(text),
                                " (known: @hourly, @daily, @midnight, @weekly, @monthly, "
                                "@yearly, @annually)"));
  }
  std::vector<absl::string_view> fields = absl::StrSplit(text, ' ', absl::SkipWhitespace());
  if (fields.size() != 5) {
    return Invalid(absl::StrCat("expected 5 fields (minute hour day-of-month month "
                                "day-of-week), got ", fields.size()));
  }
  const CronField kFields[] = {
      {"minute", 0, 59, {}, 0},
      {"hour", 0, 23, {}, 0},
      {"day-of-month", 1, 31, {}, 0},
      {"month", 1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}, 1},
      {"day-of-week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}, 0},
  };
  for (size_t i = 0; i < 5; ++i) {
    if (absl::Status s = CheckCronField(fields[i], kFields[i]); !s.ok()) return s;
  }
  return absl::OkStatus();
}

bool IsDnsLabel(absl::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return s.front() != '-' && s.back() != '-';
}

bool IsDnsSubdomain(absl::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (absl::string_view label : absl::StrSplit(s, '.')) {
    if (!IsDnsLabel(label)) return false;
  }
  return true;
}

std::string CheckLabelValue(absl::string_view value) {
  if (value.empty()) return "";
  if (value.size() > 63) return "must be at most 63 characters";
  for (char c : value) {
    if (!(IsAlnum(c) || c == '-' || c == '_' || c == '.')) {
      return "may contain only letters, digits, '-', '_' and '.'";
    }
  }
  if (!IsAlnum(value.front()) || !IsAlnum(value.back())) {
    return "must start and end with a letter or digit";
  }
  return "";
}

std::string CheckQualifiedName(absl::string_view key) {
  absl::string_view name = key;
  const size_t slash = key.find('/');
  if (slash != absl::string_view::npos) {
    const absl::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (!IsDnsSubdomain(prefix)) return "the prefix before '/' must be a DNS subdomain";
  }
  if (name.empty()) return "the name must not be empty";
  return CheckLabelValue(name);
}

std::string HumanDuration(absl::Duration d) { return absl::FormatDuration(d); }

}  // namespace netrig::spec
