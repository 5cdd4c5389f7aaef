#include "eventrouter/rules/schedule.hpp"

#include <gtest/gtest.h>

#include <string>

#include "eventrouter/util/ids.hpp"

namespace eventrouter::rules {
namespace {

ScheduleTime at(std::string_view rfc3339) {
  auto time = parse_rfc3339(rfc3339);
  EXPECT_TRUE(time.has_value()) << rfc3339;
  return std::chrono::floor<std::chrono::seconds>(
      time.value_or(std::chrono::system_clock::time_point{}));
}

// The due time after `from` as RFC 3339, or "never".
std::string next(std::string_view expression, std::string_view from) {
  auto schedule = Schedule::parse(expression);
  if (!schedule) return "invalid: " + schedule.error().message;
  auto due = schedule->next_after(at(from));
  return due ? format_rfc3339(*due) : "never";
}

// The first `count` due times after `from`, joined by spaces.
std::string series(std::string_view expression, std::string_view from, int count) {
  auto schedule = Schedule::parse(expression);
  if (!schedule) return "invalid: " + schedule.error().message;
  std::string out;
  auto t = at(from);
  for (int i = 0; i < count; ++i) {
    auto due = schedule->next_after(t);
    if (!due) return out + "never";
    out += format_rfc3339(*due) + (i + 1 < count ? " " : "");
    t = *due;
  }
  return out;
}

std::string error_of(std::string_view expression) {
  auto schedule = Schedule::parse(expression);
  if (schedule) return "accepted";
  return schedule.error().message;
}

TEST(ScheduleRate, FiresOnEpochAlignedMultiplesOfItsPeriod) {
  EXPECT_EQ(series("rate(1 minute)", "2026-12-06T12:00:30Z", 3),
            "2026-12-06T12:01:00Z 2026-12-06T12:02:00Z 2026-12-06T12:03:00Z");
  EXPECT_EQ(next("rate(1 minute)", "2026-12-06T12:01:00Z"), "2026-12-06T12:02:00Z");
  EXPECT_EQ(series("rate(5 minutes)", "2026-12-06T12:03:00Z", 2),
            "2026-12-06T12:05:00Z 2026-12-06T12:10:00Z");
  EXPECT_EQ(next("rate(1 hour)", "2026-12-06T12:00:00Z"), "2026-12-06T13:00:00Z");
  EXPECT_EQ(next("rate(2 hours)", "2026-12-06T13:10:00Z"), "2026-12-06T14:00:00Z");
  EXPECT_EQ(next("rate(1 day)", "2026-12-06T12:00:00Z"), "2026-12-07T00:00:00Z");
  // The epoch was a Thursday: seven-day periods start on Thursdays at midnight UTC.
  EXPECT_EQ(next("rate(7 days)", "2026-12-06T12:00:00Z"), "2026-12-10T00:00:00Z");
  EXPECT_EQ(next("rate(100000 days)", "2026-12-06T12:00:00Z"), "2243-10-17T00:00:00Z");
}

TEST(ScheduleCron, MinutesAndHours) {
  EXPECT_EQ(next("cron(0 12 * * ? *)", "2026-12-06T11:59:59Z"), "2026-12-06T12:00:00Z");
  EXPECT_EQ(next("cron(0 12 * * ? *)", "2026-12-06T12:00:00Z"), "2026-12-07T12:00:00Z");
  EXPECT_EQ(series("cron(0/15 * * * ? *)", "2026-12-06T12:07:00Z", 4),
            "2026-12-06T12:15:00Z 2026-12-06T12:30:00Z 2026-12-06T12:45:00Z "
            "2026-12-06T13:00:00Z");
  EXPECT_EQ(series("cron(*/10 * * * ? *)", "2026-12-06T12:55:00Z", 2),
            "2026-12-06T13:00:00Z 2026-12-06T13:10:00Z");
  EXPECT_EQ(series("cron(1/10 * * * ? *)", "2026-12-06T12:00:00Z", 3),
            "2026-12-06T12:01:00Z 2026-12-06T12:11:00Z 2026-12-06T12:21:00Z");
  EXPECT_EQ(series("cron(5,35 * * * ? *)", "2026-12-06T12:05:00Z", 2),
            "2026-12-06T12:35:00Z 2026-12-06T13:05:00Z");
  EXPECT_EQ(series("cron(10-12 * * * ? *)", "2026-12-06T12:10:30Z", 3),
            "2026-12-06T12:11:00Z 2026-12-06T12:12:00Z 2026-12-06T13:10:00Z");
  EXPECT_EQ(series("cron(0 9-17/4 * * ? *)", "2026-12-06T00:00:00Z", 4),
            "2026-12-06T09:00:00Z 2026-12-06T13:00:00Z 2026-12-06T17:00:00Z "
            "2026-12-07T09:00:00Z");
  EXPECT_EQ(series("cron(30 0,23 * * ? *)", "2026-12-31T00:30:00Z", 2),
            "2026-12-31T23:30:00Z 2027-01-01T00:30:00Z");
  // Seconds of the starting time do not count: the next whole minute that matches.
  EXPECT_EQ(next("cron(0 * * * ? *)", "2026-12-06T12:00:01Z"), "2026-12-06T13:00:00Z");
}

TEST(ScheduleCron, DayOfMonthAndMonth) {
  EXPECT_EQ(series("cron(0 0 31 * ? *)", "2026-12-06T00:00:00Z", 3),
            "2026-12-31T00:00:00Z 2027-01-31T00:00:00Z 2027-03-31T00:00:00Z");
  EXPECT_EQ(series("cron(0 0 1 JAN,jul ? *)", "2026-12-06T00:00:00Z", 2),
            "2027-01-01T00:00:00Z 2027-07-01T00:00:00Z");
  EXPECT_EQ(series("cron(0 0 1-2 11-12 ? *)", "2026-12-01T12:00:00Z", 2),
            "2026-12-02T00:00:00Z 2027-11-01T00:00:00Z");
  EXPECT_EQ(series("cron(0 0 1/10 FEB ? *)", "2026-12-06T00:00:00Z", 4),
            "2027-02-01T00:00:00Z 2027-02-11T00:00:00Z 2027-02-21T00:00:00Z "
            "2028-02-01T00:00:00Z");
  EXPECT_EQ(next("cron(0 0 * * ? *)", "2026-12-31T23:59:30Z"), "2027-01-01T00:00:00Z");
}

TEST(ScheduleCron, LeapYears) {
  EXPECT_EQ(series("cron(0 0 29 2 ? *)", "2026-12-06T00:00:00Z", 3),
            "2028-02-29T00:00:00Z 2032-02-29T00:00:00Z 2036-02-29T00:00:00Z");
  // 2100 is not a leap year; 2000 was.
  EXPECT_EQ(next("cron(0 0 29 2 ? *)", "2096-03-01T00:00:00Z"), "2104-02-29T00:00:00Z");
  EXPECT_EQ(next("cron(0 0 29 2 ? *)", "1999-01-01T00:00:00Z"), "2000-02-29T00:00:00Z");
  EXPECT_EQ(next("cron(0 0 L 2 ? *)", "2027-01-01T00:00:00Z"), "2027-02-28T00:00:00Z");
  EXPECT_EQ(next("cron(0 0 L 2 ? *)", "2028-01-01T00:00:00Z"), "2028-02-29T00:00:00Z");
}

TEST(ScheduleCron, DayOfWeek) {
  // 2026-12-06 is a Sunday.
  EXPECT_EQ(series("cron(0 8 ? * MON-FRI *)", "2026-12-06T00:00:00Z", 2),
            "2026-12-07T08:00:00Z 2026-12-08T08:00:00Z");
  EXPECT_EQ(next("cron(0 8 ? * MON-FRI *)", "2026-12-11T09:00:00Z"), "2026-12-14T08:00:00Z");
  EXPECT_EQ(next("cron(0 0 ? * 1 *)", "2026-12-07T00:00:00Z"), "2026-12-13T00:00:00Z");  // 1: SUN
  EXPECT_EQ(next("cron(0 0 ? * 7 *)", "2026-12-07T00:00:00Z"), "2026-12-12T00:00:00Z");  // 7: SAT
  EXPECT_EQ(series("cron(0 0 ? * sun,WED *)", "2026-12-06T00:00:00Z", 2),
            "2026-12-09T00:00:00Z 2026-12-13T00:00:00Z");
  EXPECT_EQ(next("cron(0 0 ? * * *)", "2026-12-06T00:00:00Z"), "2026-12-07T00:00:00Z");
}

TEST(ScheduleCron, LastDayAndWeekday) {
  EXPECT_EQ(series("cron(0 0 L * ? *)", "2026-12-06T00:00:00Z", 3),
            "2026-12-31T00:00:00Z 2027-01-31T00:00:00Z 2027-02-28T00:00:00Z");
  // L in day-of-week is the last day of the week, Saturday.
  EXPECT_EQ(next("cron(0 0 ? * L *)", "2026-12-06T00:00:00Z"), "2026-12-12T00:00:00Z");
  // 5L: the last Thursday of the month.
  EXPECT_EQ(series("cron(0 0 ? * 5L *)", "2026-12-06T00:00:00Z", 3),
            "2026-12-31T00:00:00Z 2027-01-28T00:00:00Z 2027-02-25T00:00:00Z");
  EXPECT_EQ(next("cron(0 0 ? * FRIL *)", "2026-12-06T00:00:00Z"), "2026-12-25T00:00:00Z");
  // LW: the last weekday; February 2027 ends on a Sunday.
  EXPECT_EQ(next("cron(0 0 LW * ? *)", "2027-02-01T00:00:00Z"), "2027-02-26T00:00:00Z");
  EXPECT_EQ(next("cron(0 0 LW * ? *)", "2026-12-01T00:00:00Z"), "2026-12-31T00:00:00Z");
}

TEST(ScheduleCron, NearestWeekday) {
  // May 2027: the 1st is a Saturday, the 16th a Sunday, the 15th a Saturday.
  EXPECT_EQ(next("cron(0 0 1W 5 ? *)", "2027-01-01T00:00:00Z"), "2027-05-03T00:00:00Z");
  EXPECT_EQ(next("cron(0 0 16W 5 ? *)", "2027-01-01T00:00:00Z"), "2027-05-17T00:00:00Z");
  EXPECT_EQ(next("cron(0 0 15W 5 ? *)", "2027-01-01T00:00:00Z"), "2027-05-14T00:00:00Z");
  EXPECT_EQ(next("cron(0 0 3W 5 ? *)", "2027-01-01T00:00:00Z"), "2027-05-03T00:00:00Z");
  // The 28th of February 2027 is a Sunday and the month's last day: the Friday before.
  EXPECT_EQ(next("cron(0 0 28W 2 ? *)", "2027-01-01T00:00:00Z"), "2027-02-26T00:00:00Z");
  // No 31st in April: 31W skips it.
  EXPECT_EQ(next("cron(0 0 31W * ? *)", "2027-04-01T00:00:00Z"), "2027-05-31T00:00:00Z");
}

TEST(ScheduleCron, NthWeekdayOfMonth) {
  // December 2026 starts on a Tuesday.
  EXPECT_EQ(series("cron(0 0 ? * 3#2 *)", "2026-12-06T00:00:00Z", 2),
            "2026-12-08T00:00:00Z 2027-01-12T00:00:00Z");
  EXPECT_EQ(series("cron(0 0 ? * THU#5 *)", "2026-12-06T00:00:00Z", 2),
            "2026-12-31T00:00:00Z 2027-04-29T00:00:00Z");
  EXPECT_EQ(next("cron(0 0 ? * 2#1 *)", "2026-12-06T00:00:00Z"), "2026-12-07T00:00:00Z");
}

TEST(ScheduleCron, YearFieldAndItsEnd) {
  EXPECT_EQ(series("cron(0 0 1 1 ? 2027)", "2026-12-06T00:00:00Z", 2),
            "2027-01-01T00:00:00Z never");
  EXPECT_EQ(series("cron(0 0 1 1 ? 2030/10)", "2026-12-06T00:00:00Z", 2),
            "2030-01-01T00:00:00Z 2040-01-01T00:00:00Z");
  EXPECT_EQ(series("cron(0 0 1 1 ? 2027-2028)", "2026-12-06T00:00:00Z", 3),
            "2027-01-01T00:00:00Z 2028-01-01T00:00:00Z never");
  EXPECT_EQ(series("cron(59 23 31 12 ? 2199)", "2026-12-06T00:00:00Z", 2),
            "2199-12-31T23:59:00Z never");
  EXPECT_EQ(next("cron(0 0 1 1 ? 1970)", "1960-01-01T00:00:00Z"), "1970-01-01T00:00:00Z");
  EXPECT_EQ(next("cron(0 0 1 1 ? *)", "2199-06-01T00:00:00Z"), "never");
}

TEST(ScheduleCron, NeverFiring) {
  EXPECT_EQ(next("cron(0 0 30 2 ? *)", "2026-12-06T00:00:00Z"), "never");
  EXPECT_EQ(next("cron(0 0 31 4,6,9,11 ? *)", "2026-12-06T00:00:00Z"), "never");
  EXPECT_EQ(next("cron(0 0 1 1 ? 2020)", "2026-12-06T00:00:00Z"), "never");
}

TEST(ScheduleCron, UtcHasNoDaylightSaving) {
  // The nights the US (2027-03-14) and the EU (2027-03-28) move their clocks: UTC does not.
  EXPECT_EQ(next("cron(30 2 * * ? *)", "2027-03-14T00:00:00Z"), "2027-03-14T02:30:00Z");
  EXPECT_EQ(series("cron(0 * * * ? *)", "2027-03-28T00:30:00Z", 3),
            "2027-03-28T01:00:00Z 2027-03-28T02:00:00Z 2027-03-28T03:00:00Z");
  EXPECT_EQ(series("cron(0 * * * ? *)", "2027-10-31T00:30:00Z", 2),
            "2027-10-31T01:00:00Z 2027-10-31T02:00:00Z");
}

TEST(ScheduleParse, RateErrorsSayWhatToWrite) {
  EXPECT_EQ(error_of("rate(5 minute)"),
            "rate unit 'minute' at character 8: use 'minutes' for a value other than 1");
  EXPECT_EQ(error_of("rate(1 minutes)"),
            "rate unit 'minutes' at character 8: use 'minute' for a value of 1");
  EXPECT_EQ(error_of("rate(1 hours)"),
            "rate unit 'hours' at character 8: use 'hour' for a value of 1");
  EXPECT_EQ(error_of("rate(2 day)"),
            "rate unit 'day' at character 8: use 'days' for a value other than 1");
  EXPECT_EQ(error_of("rate(5 weeks)"),
            "rate unit 'weeks' at character 8: expected minute, minutes, hour, hours, day or days");
  EXPECT_EQ(
      error_of("rate(5 Minutes)"),
      "rate unit 'Minutes' at character 8: expected minute, minutes, hour, hours, day or days");
  EXPECT_EQ(error_of("rate(0 minutes)"),
            "rate value '0' at character 6: expected a whole number from 1 to 100000");
  EXPECT_EQ(error_of("rate(-5 minutes)"),
            "rate value '-5' at character 6: expected a whole number from 1 to 100000");
  EXPECT_EQ(error_of("rate(1.5 hours)"),
            "rate value '1.5' at character 6: expected a whole number from 1 to 100000");
  EXPECT_EQ(error_of("rate(100001 minutes)"),
            "rate value '100001' at character 6: expected a whole number from 1 to 100000");
  EXPECT_EQ(error_of("rate(5)"), "rate expression needs a value and a unit, e.g. rate(5 minutes)");
  EXPECT_EQ(error_of("rate(5 minutes now)"),
            "rate expression needs a value and a unit, e.g. rate(5 minutes)");
  EXPECT_EQ(error_of("rate( 5  minutes )"), "accepted");
}

TEST(ScheduleParse, ShapeErrors) {
  const std::string usage =
      "expected rate(value unit), e.g. rate(5 minutes), or cron(minutes hours day-of-month month "
      "day-of-week year), e.g. cron(0 12 * * ? *)";
  EXPECT_EQ(error_of(""), usage);
  EXPECT_EQ(error_of("every 5 minutes"), usage);
  EXPECT_EQ(error_of("RATE(5 minutes)"), usage);
  EXPECT_EQ(error_of("cron(0 12 * * ? *"), "missing ')' at the end; " + usage);
  EXPECT_EQ(error_of("cron(0 12 * * ?)"),
            "cron expression has 5 fields; it needs 6: minutes hours day-of-month month "
            "day-of-week year, e.g. cron(0 12 * * ? *)");
  EXPECT_EQ(error_of("cron(0 12 * * ? * *)").substr(0, 29), "cron expression has 7 fields;");
  EXPECT_EQ(error_of("rate(" + std::string(300, '1') + " minutes)"),
            "the expression is 314 characters long; at most 256 are allowed");
  auto e = Schedule::parse("cron(0 12 * * ?)");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().character, 6u);
}

TEST(ScheduleParse, FieldErrorsNameTheFieldAndCharacter) {
  EXPECT_EQ(error_of("cron(0 12 ? * MOX *)"),
            "cron field 5 (day-of-week) 'MOX' at character 15: expected 1-7, SUN-SAT, ?, *, L "
            "or #");
  EXPECT_EQ(error_of("cron(60 * * * ? *)"),
            "cron field 1 (minutes) '60' at character 6: out of range; use 0-59");
  EXPECT_EQ(error_of("cron(0 24 * * ? *)"),
            "cron field 2 (hours) '24' at character 8: out of range; use 0-23");
  EXPECT_EQ(error_of("cron(0 0 32 * ? *)"),
            "cron field 3 (day-of-month) '32' at character 10: out of range; use 1-31");
  EXPECT_EQ(error_of("cron(0 0 0 * ? *)"),
            "cron field 3 (day-of-month) '0' at character 10: out of range; use 1-31");
  EXPECT_EQ(error_of("cron(0 0 1 13 ? *)"),
            "cron field 4 (month) '13' at character 12: out of range; use 1-12");
  EXPECT_EQ(error_of("cron(0 0 1 JANUARY ? *)"),
            "cron field 4 (month) 'JANUARY' at character 12: expected 1-12, JAN-DEC, ',', '-', "
            "'*' or '/'");
  EXPECT_EQ(error_of("cron(0 0 ? * 8 *)"),
            "cron field 5 (day-of-week) '8' at character 14: out of range; use 1-7");
  EXPECT_EQ(error_of("cron(0 0 ? * 0 *)"),
            "cron field 5 (day-of-week) '0' at character 14: out of range; use 1-7");
  EXPECT_EQ(error_of("cron(0 0 1 * ? 1969)"),
            "cron field 6 (year) '1969' at character 16: out of range; use 1970-2199");
  EXPECT_EQ(error_of("cron(0 0 1 * ? 2200)"),
            "cron field 6 (year) '2200' at character 16: out of range; use 1970-2199");
  EXPECT_EQ(error_of("cron(x * * * ? *)"),
            "cron field 1 (minutes) 'x' at character 6: expected 0-59, ',', '-', '*' or '/'");
  // The position points into a list or range at the part that is wrong.
  EXPECT_EQ(error_of("cron(0,75 * * * ? *)"),
            "cron field 1 (minutes) '75' at character 8: out of range; use 0-59");
  EXPECT_EQ(error_of("cron(0 9-25 * * ? *)"),
            "cron field 2 (hours) '25' at character 10: out of range; use 0-23");
}

TEST(ScheduleParse, WildcardErrors) {
  EXPECT_EQ(error_of("cron(0 0 ? * ? *)"),
            "cron field 5 (day-of-week) '?' at character 14: day-of-month and day-of-week are "
            "both '?'; give one of them a value (or *) and leave '?' in the other");
  EXPECT_EQ(error_of("cron(0 0 * * * *)"),
            "cron field 5 (day-of-week) '*' at character 14: day-of-month and day-of-week are "
            "both set; use '?' in one of them (e.g. cron(0 12 * * ? *) or cron(0 12 ? * MON *))");
  EXPECT_EQ(error_of("cron(0 0 1 * MON *)").substr(0, 75),
            "cron field 5 (day-of-week) 'MON' at character 14: day-of-month and day-of-w");
  EXPECT_EQ(error_of("cron(? 0 * * ? *)"),
            "cron field 1 (minutes) '?' at character 6: expected 0-59, ',', '-', '*' or '/'");
  EXPECT_EQ(error_of("cron(0 0 1,? * ? *)"),
            "cron field 3 (day-of-month) '1,?' at character 10: '?' stands alone: it means any "
            "day, set by the other day field");
  EXPECT_EQ(error_of("cron(0/0 * * * ? *)"),
            "cron field 1 (minutes) '0' at character 8: the increment after '/' must be a whole "
            "number from 1 to 60");
  EXPECT_EQ(error_of("cron(0/x * * * ? *)"),
            "cron field 1 (minutes) 'x' at character 8: the increment after '/' must be a whole "
            "number from 1 to 60");
  EXPECT_EQ(error_of("cron(0 17-9 * * ? *)"),
            "cron field 2 (hours) '17-9' at character 8: a range goes from the smaller value to "
            "the larger");
  EXPECT_EQ(error_of("cron(0,,5 * * * ? *)"),
            "cron field 1 (minutes) '0,,5' at character 6: an empty item in a ',' list");
  EXPECT_EQ(error_of("cron(0 0 ? * 3#1,6#3 *)"),
            "cron field 5 (day-of-week) '3#1,6#3' at character 14: L, W and # take the whole "
            "field: one such expression per field, no list");
  EXPECT_EQ(error_of("cron(0 0 ? * 3#6 *)"),
            "cron field 5 (day-of-week) '6' at character 16: the number after '#' must be 1 to 5");
  EXPECT_EQ(error_of("cron(0 0 ? * 9#1 *)"),
            "cron field 5 (day-of-week) '9' at character 14: out of range; use 1-7");
  EXPECT_EQ(error_of("cron(0 0 ? * 1/2 *)"),
            "cron field 5 (day-of-week) '1/2' at character 14: expected 1-7, SUN-SAT, ?, *, L "
            "or #");
  EXPECT_EQ(error_of("cron(0 0 32W * ? *)"),
            "cron field 3 (day-of-month) '32' at character 10: out of range; use 1-31");
  EXPECT_EQ(error_of("cron(0 0 LX * ? *)"),
            "cron field 3 (day-of-month) 'LX' at character 10: expected 1-31, ',', '-', '*', "
            "'?', '/', L or W");
  EXPECT_EQ(error_of("cron(0 0 1,L * ? *)"),
            "cron field 3 (day-of-month) '1,L' at character 10: L, W and # take the whole "
            "field: one such expression per field, no list");
  EXPECT_EQ(error_of("cron(0 0 ? * 8L *)"),
            "cron field 5 (day-of-week) '8' at character 14: out of range; use 1-7");
  EXPECT_EQ(error_of("cron(L 0 * * ? *)"),
            "cron field 1 (minutes) 'L' at character 6: expected 0-59, ',', '-', '*' or '/'");
}

TEST(ScheduleParse, KeepsTheExpression) {
  auto schedule = Schedule::parse("cron(0 12 * * ? *)");
  ASSERT_TRUE(schedule);
  EXPECT_EQ(schedule->expression(), "cron(0 12 * * ? *)");
}

}  // namespace
}  // namespace eventrouter::rules
