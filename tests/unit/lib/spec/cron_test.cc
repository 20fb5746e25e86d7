#include "lib/spec/cron.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "lib/spec/units.h"

namespace netrig::spec {
namespace {

absl::Time At(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), absl::UTCTimeZone());
}

std::string Next(const std::string& expr, absl::Time after) {
  absl::StatusOr<CronSchedule> c = CronSchedule::Parse(expr);
  EXPECT_TRUE(c.ok()) << expr << ": " << c.status();
  if (!c.ok()) return "";
  const absl::Time t = c->Next(after);
  if (t == absl::InfiniteFuture()) return "never";
  return absl::FormatTime("%Y-%m-%d %H:%M %a", t, absl::UTCTimeZone());
}

TEST(CronScheduleTest, DailyAndHourly) {
  EXPECT_EQ(Next("0 2 * * *", At(2027, 1, 15, 8, 0)), "2027-01-16 02:00 Sat");
  EXPECT_EQ(Next("@daily", At(2027, 1, 15, 8, 0)), "2027-01-16 00:00 Sat");
  EXPECT_EQ(Next("@midnight", At(2027, 1, 15, 23, 59)), "2027-01-16 00:00 Sat");
  EXPECT_EQ(Next("@hourly", At(2027, 1, 15, 8, 30)), "2027-01-15 09:00 Fri");
  // Strictly after: a fire time is not its own next.
  EXPECT_EQ(Next("@hourly", At(2027, 1, 15, 9, 0)), "2027-01-15 10:00 Fri");
  // Seconds are below the resolution: 08:59:30 fires at 09:00.
  EXPECT_EQ(Next("@hourly", At(2027, 1, 15, 8, 59) + absl::Seconds(30)), "2027-01-15 09:00 Fri");
}

TEST(CronScheduleTest, RangesStepsAndLists) {
  EXPECT_EQ(Next("*/15 9-17 * * 1-5", At(2027, 1, 15, 17, 50)), "2027-01-18 09:00 Mon");
  EXPECT_EQ(Next("*/15 9-17 * * 1-5", At(2027, 1, 15, 9, 1)), "2027-01-15 09:15 Fri");
  EXPECT_EQ(Next("5,35 * * * *", At(2027, 1, 15, 10, 6)), "2027-01-15 10:35 Fri");
  EXPECT_EQ(Next("10-50/20 * * * *", At(2027, 1, 15, 10, 31)), "2027-01-15 10:50 Fri");
  EXPECT_EQ(Next("10-50/20 * * * *", At(2027, 1, 15, 10, 51)), "2027-01-15 11:10 Fri");
  EXPECT_EQ(Next("0 0 1 jan,jul *", At(2027, 1, 15, 0, 0)), "2027-07-01 00:00 Thu");
}

TEST(CronScheduleTest, DayOfWeek) {
  // 0 and 7 are both Sunday, and so is "sun".
  EXPECT_EQ(Next("0 12 * * 0", At(2027, 1, 15, 0, 0)), "2027-01-17 12:00 Sun");
  EXPECT_EQ(Next("0 12 * * 7", At(2027, 1, 15, 0, 0)), "2027-01-17 12:00 Sun");
  EXPECT_EQ(Next("0 12 * * sun", At(2027, 1, 15, 0, 0)), "2027-01-17 12:00 Sun");
  EXPECT_EQ(Next("@weekly", At(2027, 1, 15, 0, 0)), "2027-01-17 00:00 Sun");
  EXPECT_EQ(Next("0 0 * * fri-sat", At(2027, 1, 16, 0, 0)), "2027-01-22 00:00 Fri");
  // Both day fields restricted: either matches (the 13th, and every Friday).
  EXPECT_EQ(Next("0 0 13 * 5", At(2027, 1, 1, 0, 0)), "2027-01-08 00:00 Fri");
  EXPECT_EQ(Next("0 0 13 * 5", At(2027, 1, 8, 0, 0)), "2027-01-13 00:00 Wed");
  // One of them starts with '*': both must match (odd days that are Fridays).
  EXPECT_EQ(Next("0 0 */2 * 5", At(2027, 1, 1, 0, 0)), "2027-01-15 00:00 Fri");
}

TEST(CronScheduleTest, MonthAndYearEdges) {
  EXPECT_EQ(Next("0 0 31 * *", At(2027, 1, 31, 0, 0)), "2027-03-31 00:00 Wed");
  EXPECT_EQ(Next("@monthly", At(2027, 12, 15, 0, 0)), "2028-01-01 00:00 Sat");
  EXPECT_EQ(Next("@yearly", At(2027, 12, 31, 23, 59)), "2028-01-01 00:00 Sat");
  EXPECT_EQ(Next("@annually", At(2028, 1, 1, 0, 0)), "2029-01-01 00:00 Mon");
  EXPECT_EQ(Next("0 0 29 2 *", At(2027, 1, 1, 0, 0)), "2028-02-29 00:00 Tue");
  EXPECT_EQ(Next("59 23 31 12 *", At(2027, 12, 31, 23, 58)), "2027-12-31 23:59 Fri");
  EXPECT_EQ(Next("0 0 30 2 *", At(2027, 1, 1, 0, 0)), "never");
}

TEST(CronScheduleTest, LastFindsTheLatestFireTimeInAWindow) {
  absl::StatusOr<CronSchedule> c = CronSchedule::Parse("*/10 * * * *");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->Last(At(2027, 1, 15, 9, 5), At(2027, 1, 15, 8, 0)), At(2027, 1, 15, 9, 0));
  EXPECT_EQ(c->Last(At(2027, 1, 15, 9, 0), At(2027, 1, 15, 8, 0)), At(2027, 1, 15, 9, 0));
  // The window's start is excluded.
  EXPECT_EQ(c->Last(At(2027, 1, 15, 8, 5), At(2027, 1, 15, 8, 0)), absl::InfinitePast());
  absl::StatusOr<CronSchedule> yearly = CronSchedule::Parse("@yearly");
  ASSERT_TRUE(yearly.ok());
  EXPECT_EQ(yearly->Last(At(2030, 6, 1, 0, 0), At(2027, 6, 1, 0, 0)), At(2030, 1, 1, 0, 0));
  EXPECT_EQ(yearly->Last(At(2027, 12, 1, 0, 0), At(2027, 6, 1, 0, 0)), absl::InfinitePast());
}

TEST(CronScheduleTest, InvalidSchedulesGiveValidateCronsMessage) {
  absl::StatusOr<CronSchedule> c = CronSchedule::Parse("61 * * * *");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status(), ValidateCron("61 * * * *"));
  EXPECT_THAT(std::string(c.status().message()), ::testing::HasSubstr("minute"));
  EXPECT_FALSE(CronSchedule::Parse("@often").ok());
  EXPECT_FALSE(CronSchedule::Parse("* * * *").ok());
}

}  // namespace
}  // namespace netrig::spec
