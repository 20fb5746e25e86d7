#include "lib/spec/cron.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "lib/spec/units.h"

namespace netrig::spec {
namespace {

// A schedule that fires less often than this never fires (Feb 29 on a given weekday repeats
// within 28 years; a date such as Feb 30 never comes).
constexpr int kSearchYears = 30;

struct FieldRange {
  int lo;
  int hi;
  std::vector<absl::string_view> names;  // names[i] is lo_name + i
  int name_base;
};

// `s` is known to be valid (ValidateCron ran first).
int Number(absl::string_view s, const FieldRange& f) {
  int v = 0;
  if (absl::SimpleAtoi(s, &v)) return v;
  const std::string lower = absl::AsciiStrToLower(s);
  for (size_t i = 0; i < f.names.size(); ++i) {
    if (lower == f.names[i]) return f.name_base + static_cast<int>(i);
  }
  return f.lo;
}

// Sets the bits of every value the field selects.
template <size_t N>
void Expand(absl::string_view text, const FieldRange& f, std::bitset<N>* bits) {
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    absl::string_view range = item;
    int step = 1;
    std::vector<absl::string_view> step_parts = absl::StrSplit(item, absl::MaxSplits('/', 1));
    if (step_parts.size() == 2) {
      range = step_parts[0];
      (void)absl::SimpleAtoi(step_parts[1], &step);
    }
    int lo = f.lo, hi = f.hi;
    if (range != "*") {
      std::vector<absl::string_view> bounds = absl::StrSplit(range, absl::MaxSplits('-', 1));
      lo = Number(bounds[0], f);
      // "5/15" means 5, 20, 35, 50: from 5 to the end of the range.
      hi = bounds.size() == 2 ? Number(bounds[1], f) : (step_parts.size() == 2 ? f.hi : lo);
    }
    for (int v = lo; v <= hi; v += step) bits->set(static_cast<size_t>(v) % N);
  }
}

absl::string_view ExpandMacro(absl::string_view text) {
  static constexpr std::pair<absl::string_view, absl::string_view> kMacros[] = {
      {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
      {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
      {"@annually", "0 0 1 1 *"},
  };
  for (const auto& [macro, fields] : kMacros) {
    if (text == macro) return fields;
  }
  return text;
}

int Weekday(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::sunday:
      return 0;
    case absl::Weekday::monday:
      return 1;
    case absl::Weekday::tuesday:
      return 2;
    case absl::Weekday::wednesday:
      return 3;
    case absl::Weekday::thursday:
      return 4;
    case absl::Weekday::friday:
      return 5;
    case absl::Weekday::saturday:
      return 6;
  }
  return 0;
}

}  // namespace

absl::StatusOr<CronSchedule> CronSchedule::Parse(absl::string_view text) {
  if (absl::Status s = ValidateCron(text); !s.ok()) return s;
  CronSchedule c;
  c.text_ = std::string(text);
  std::vector<absl::string_view> fields =
      absl::StrSplit(ExpandMacro(text), ' ', absl::SkipWhitespace());
  static const FieldRange kMinute{0, 59, {}, 0};
  static const FieldRange kHour{0, 23, {}, 0};
  static const FieldRange kDayOfMonth{1, 31, {}, 0};
  static const FieldRange kMonth{
      1,
      12,
      {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"},
      1};
  static const FieldRange kDayOfWeek{0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}, 0};
  Expand(fields[0], kMinute, &c.minutes_);
  Expand(fields[1], kHour, &c.hours_);
  Expand(fields[2], kDayOfMonth, &c.days_of_month_);
  Expand(fields[3], kMonth, &c.months_);
  Expand(fields[4], kDayOfWeek, &c.days_of_week_);  // 7 wraps to bit 0, Sunday
  c.dom_star_ = absl::StartsWith(fields[2], "*");
  c.dow_star_ = absl::StartsWith(fields[4], "*");
  return c;
}

bool CronSchedule::DayMatches(absl::CivilDay day) const {
  if (!months_.test(static_cast<size_t>(day.month()))) return false;
  const bool dom = days_of_month_.test(static_cast<size_t>(day.day()));
  const bool dow = days_of_week_.test(static_cast<size_t>(Weekday(day)));
  if (!dom_star_ && !dow_star_) return dom || dow;
  return dom && dow;
}

absl::Time CronSchedule::Next(absl::Time after) const {
  if (after == absl::InfiniteFuture()) return absl::InfiniteFuture();
  const absl::CivilMinute start =
      absl::ToCivilMinute(after, absl::UTCTimeZone()) + 1;  // strictly after, whole minutes
  const absl::CivilDay first_day(start);
  const absl::CivilDay last_day = first_day + 366 * kSearchYears;
  for (absl::CivilDay day = first_day; day < last_day;) {
    if (!months_.test(static_cast<size_t>(day.month()))) {
      day = absl::CivilDay(absl::CivilMonth(day) + 1);
      continue;
    }
    if (DayMatches(day)) {
      const bool today = day == first_day;
      for (int h = today ? start.hour() : 0; h < 24; ++h) {
        if (!hours_.test(static_cast<size_t>(h))) continue;
        const int first_minute = (today && h == start.hour()) ? start.minute() : 0;
        for (int m = first_minute; m < 60; ++m) {
          if (minutes_.test(static_cast<size_t>(m))) {
            return absl::FromCivil(absl::CivilMinute(day.year(), day.month(), day.day(), h, m),
                                   absl::UTCTimeZone());
          }
        }
      }
    }
    ++day;
  }
  return absl::InfiniteFuture();
}

absl::Time CronSchedule::Last(absl::Time at, absl::Time not_before) const {
  if (at <= not_before) return absl::InfinitePast();
  const absl::CivilMinute end = absl::ToCivilMinute(at, absl::UTCTimeZone());
  const absl::CivilDay last_day(end);
  absl::CivilDay floor_day = last_day - 366 * kSearchYears;
  if (not_before != absl::InfinitePast()) {
    floor_day = std::max(floor_day, absl::ToCivilDay(not_before, absl::UTCTimeZone()));
  }
  for (absl::CivilDay day = last_day; day >= floor_day; --day) {
    if (!DayMatches(day)) continue;
    const bool today = day == last_day;
    for (int h = today ? end.hour() : 23; h >= 0; --h) {
      if (!hours_.test(static_cast<size_t>(h))) continue;
      const int last_minute = (today && h == end.hour()) ? end.minute() : 59;
      for (int m = last_minute; m >= 0; --m) {
        if (!minutes_.test(static_cast<size_t>(m))) continue;
        const absl::Time t = absl::FromCivil(
            absl::CivilMinute(day.year(), day.month(), day.day(), h, m), absl::UTCTimeZone());
        return t > not_before ? t : absl::InfinitePast();
      }
    }
  }
  return absl::InfinitePast();
}

}  // namespace netrig::spec
