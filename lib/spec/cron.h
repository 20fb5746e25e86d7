// Fire times of a TestSuite schedule: the cron syntax ValidateCron (lib/spec/units.h) accepts.
//
//   ASSIGN_OR_RETURN(spec::CronSchedule cron, spec::CronSchedule::Parse("0 2 * * 1-5"));
//   absl::Time next = cron.Next(absl::Now());   // 02:00 UTC of the next weekday
//
// Semantics (those of Vixie cron and Kubernetes CronJobs):
//  - five fields: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12 or jan..dec)
//    day-of-week (0-7, 0 and 7 are Sunday, or sun..sat); each a list of `*`, `n`, `a-b`, with an
//    optional `/step` (`*/15`, `10-50/20`);
//  - macros: @hourly = "0 * * * *", @daily and @midnight = "0 0 * * *", @weekly = "0 0 * * 0",
//    @monthly = "0 0 1 * *", @yearly and @annually = "0 0 1 1 *";
//  - when both day-of-month and day-of-week are restricted (neither starts with `*`), a day
//    matches when EITHER does ("0 0 13 * 5": the 13th and every Friday); otherwise both must;
//  - times are UTC, to the minute.
#pragma once

#include <bitset>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace netrig::spec {

class CronSchedule {
 public:
  // InvalidArgument with ValidateCron's message when `text` is not a valid schedule.
  static absl::StatusOr<CronSchedule> Parse(absl::string_view text);

  // The first fire time strictly after `after`. absl::InfiniteFuture() when the schedule never
  // fires (a date that does not exist, such as "0 0 30 2 *").
  absl::Time Next(absl::Time after) const;

  // The last fire time at or before `at`, searching back no further than `not_before`
  // (exclusive). absl::InfinitePast() when there is none in that window.
  absl::Time Last(absl::Time at, absl::Time not_before) const;

  const std::string& text() const { return text_; }

 private:
  CronSchedule() = default;
  bool DayMatches(absl::CivilDay day) const;

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // bit 0 unused
  std::bitset<13> months_;         // bit 0 unused
  std::bitset<7> days_of_week_;    // 0 = Sunday
  bool dom_star_ = false;
  bool dow_star_ = false;
};

}  // namespace netrig::spec
