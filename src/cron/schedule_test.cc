#include "cron/schedule.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace conch::cron {
namespace {

absl::Time At(const std::string& rfc3339) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error))
      << rfc3339 << ": " << error;
  return t;
}

Schedule MustParse(const std::string& expression,
                   const std::string& zone = "UTC") {
  ParseOptions options;
  options.default_zone = zone;
  Result<Schedule> s = Schedule::Parse(expression, options);
  EXPECT_TRUE(s.ok()) << expression << ": " << s.status().message();
  if (!s.ok()) return *Schedule::Parse("* * * * *");
  return *s;
}

// The next `n` ticks after `from`, as local RFC 3339 times in the zone.
std::vector<std::string> Ticks(const std::string& zone,
                               const std::string& expression,
                               const std::string& from, size_t n) {
  const Schedule s = MustParse(expression, zone);
  std::vector<std::string> out;
  for (absl::Time t : s.NextN(At(from), n)) {
    out.push_back(absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, s.zone()));
  }
  return out;
}

// ---- Parsing ----------------------------------------------------------

TEST(ScheduleParseTest, FiveFieldsAndKinds) {
  EXPECT_EQ(MustParse("30 2 * * *").kind(), Schedule::Kind::kFixedHour);
  EXPECT_EQ(MustParse("*/30 * * * *").kind(), Schedule::Kind::kRealTime);
  EXPECT_EQ(MustParse("0 */2 * * *").kind(), Schedule::Kind::kRealTime);
  EXPECT_EQ(MustParse("@daily").kind(), Schedule::Kind::kFixedHour);
  EXPECT_EQ(MustParse("@weekly").kind(), Schedule::Kind::kFixedHour);
  EXPECT_EQ(MustParse("@hourly").kind(), Schedule::Kind::kRealTime);
  EXPECT_EQ(MustParse("@every 1m").kind(), Schedule::Kind::kEvery);
}

TEST(ScheduleParseTest, DescriptorsEqualTheirFields) {
  EXPECT_EQ(MustParse("@yearly").fields(), MustParse("0 0 1 1 *").fields());
  EXPECT_EQ(MustParse("@annually").fields(), MustParse("0 0 1 1 *").fields());
  EXPECT_EQ(MustParse("@monthly").fields(), MustParse("0 0 1 * *").fields());
  EXPECT_EQ(MustParse("@weekly").fields(), MustParse("0 0 * * 0").fields());
  EXPECT_EQ(MustParse("@daily").fields(), MustParse("0 0 * * *").fields());
  EXPECT_EQ(MustParse("@midnight").fields(), MustParse("0 0 * * *").fields());
  EXPECT_EQ(MustParse("@hourly").fields(), MustParse("0 * * * *").fields());
}

TEST(ScheduleParseTest, ZonePrefixWinsOverTheDefault) {
  for (const char* text :
       {"TZ=Asia/Tokyo 0 9 * * *", "CRON_TZ=Asia/Tokyo 0 9 * * *",
        "  CRON_TZ=Asia/Tokyo \t 0 9 * * *  "}) {
    const Schedule s = MustParse(text, "Europe/Berlin");
    EXPECT_EQ(s.zone_name(), "Asia/Tokyo") << text;
    EXPECT_TRUE(s.zone_from_prefix());
    EXPECT_EQ(s.Canonical(), "CRON_TZ=Asia/Tokyo 0 9 * * *");
  }
}

TEST(ScheduleParseTest, DefaultZoneWithoutAPrefix) {
  const Schedule plain = MustParse("0 9 * * *", "Europe/Berlin");
  EXPECT_EQ(plain.zone_name(), "Europe/Berlin");
  EXPECT_FALSE(plain.zone_from_prefix());
  EXPECT_EQ(plain.Canonical(), "CRON_TZ=Europe/Berlin 0 9 * * *");
  EXPECT_EQ(MustParse("TZ=UTC @every 90s").Canonical(),
            "CRON_TZ=UTC @every 90s");
  EXPECT_EQ(MustParse("TZ=Asia/Tokyo @daily").zone_name(), "Asia/Tokyo");
}

TEST(ScheduleParseTest, CanonicalParsesToTheSameTicks) {
  const Schedule s = MustParse("  0   9 *\t* MON-FRI ", "America/New_York");
  const Schedule again = MustParse(s.Canonical(), "Asia/Tokyo");
  EXPECT_EQ(again.zone_name(), "America/New_York");
  const absl::Time from = At("2024-03-01T00:00:00Z");
  EXPECT_EQ(s.NextN(from, 20), again.NextN(from, 20));
}

TEST(ScheduleParseTest, EveryDurations) {
  EXPECT_EQ(MustParse("@every 90s").period(), absl::Seconds(90));
  EXPECT_EQ(MustParse("@every 1h30m").period(), absl::Minutes(90));
  EXPECT_EQ(MustParse("@every 1s").period(), absl::Seconds(1));
  // Fractions of a second are dropped, as robfig drops them.
  EXPECT_EQ(MustParse("@every 1.5s").period(), absl::Seconds(1));
  EXPECT_EQ(MustParse("@every 1999ms").period(), absl::Seconds(1));
  EXPECT_EQ(MustParse("@every  2m ").period(), absl::Minutes(2));
  EXPECT_EQ(MustParse("@every\t2m").period(), absl::Minutes(2));
}

TEST(ScheduleParseTest, EveryAnchorIsAWholeSecond) {
  ParseOptions options;
  options.every_anchor = At("2024-01-01T00:00:00.75Z");
  Result<Schedule> s = Schedule::Parse("@every 10s", options);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->anchor(), At("2024-01-01T00:00:00Z"));
}

struct ErrorCase {
  std::string expression;
  std::string message;
};

TEST(ScheduleParseTest, ErrorsPointAtTheProblem) {
  const std::vector<ErrorCase> cases = {
      {"", R"(schedule "": empty)"},
      {"   ", R"(schedule "": empty)"},
      {"0 0 30 2 *", R"(schedule "0 0 30 2 *": day of month (field 3) "30" )"
                     R"(never falls in month (field 4) "2")"},
      {"61 * * * *", R"(schedule "61 * * * *": minute (field 1) "61": 61 is )"
                     "above the maximum 59"},
      {"* * * * * *", R"(schedule "* * * * * *": expected 5 fields (minute )"
                      "hour day-of-month month day-of-week), found 6"},
      {"@every 500ms", R"(schedule "@every 500ms": @every 500ms is below the )"
                       "minimum of 1s"},
      {"@every 0s", R"(schedule "@every 0s": @every 0s is below the minimum )"
                    "of 1s"},
      {"@every -1m", R"(schedule "@every -1m": @every -1m is below the )"
                     "minimum of 1s"},
      {"@every 90", R"(schedule "@every 90": @every "90" needs a unit, like )"
                    R"("@every 90s")"},
      {"@every 5x", R"(schedule "@every 5x": invalid duration "5x": unknown )"
                    R"(unit "x" (use ns, us, ms, s, m, h))"},
      {"@every", R"(schedule "@every": @every needs a duration, like )"
                 R"("@every 1m30s")"},
      {"@every ", R"(schedule "@every": @every needs a duration, like )"
                  R"("@every 1m30s")"},
      {"@everyday", R"(schedule "@everyday": unknown descriptor "@everyday" )"
                    "(use @yearly, @annually, @monthly, @weekly, @daily, "
                    "@midnight, @hourly or @every <duration>)"},
      {"@DAILY", R"(schedule "@DAILY": unknown descriptor "@DAILY" (use )"
                 "@yearly, @annually, @monthly, @weekly, @daily, @midnight, "
                 "@hourly or @every <duration>)"},
      {"TZ=Mars/Base * * * * *",
       R"(schedule "TZ=Mars/Base * * * * *": unknown time zone )"
       R"("Mars/Base")"},
      {"CRON_TZ=localtime 0 0 * * *",
       R"(schedule "CRON_TZ=localtime 0 0 * * *": invalid time zone name )"
       R"("localtime" (use an IANA name such as "Europe/Berlin" or )"
       R"("UTC"))"},
      {"TZ= 0 0 * * *",
       R"(schedule "TZ= 0 0 * * *": invalid time zone name "" (use an IANA )"
       R"(name such as "Europe/Berlin" or "UTC"))"},
      {"TZ=UTC", R"(schedule "TZ=UTC": nothing after the time zone "UTC")"},
      {"TZ=UTC  ", R"(schedule "TZ=UTC": nothing after the time zone "UTC")"},
      {"TZ=UTC 0 0 30 2 *", R"(schedule "TZ=UTC 0 0 30 2 *": day of month )"
                            R"((field 3) "30" never falls in month (field 4) )"
                            R"("2")"},
  };
  for (const ErrorCase& c : cases) {
    Result<Schedule> s = Schedule::Parse(c.expression);
    ASSERT_FALSE(s.ok()) << c.expression;
    EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(s.status().message(), c.message) << c.expression;
  }
}

TEST(ScheduleParseTest, BadDefaultZoneIsReportedOnlyWhenUsed) {
  ParseOptions options;
  options.default_zone = "Mars/Base";
  Result<Schedule> s = Schedule::Parse("0 0 * * *", options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            R"(default time zone: unknown time zone "Mars/Base")");
  EXPECT_TRUE(Schedule::Parse("TZ=UTC 0 0 * * *", options).ok());
}

TEST(ScheduleParseTest, ControlBytesAreEscapedInMessages) {
  Result<Schedule> s = Schedule::Parse("0 0 *\x1b[2J * x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message().find('\x1b'), std::string::npos);
}

TEST(ScheduleParseTest, EveryAnchorOutOfRange) {
  ParseOptions options;
  options.every_anchor = absl::InfiniteFuture();
  EXPECT_FALSE(Schedule::Parse("@every 1s", options).ok());
  EXPECT_TRUE(Schedule::Parse("0 0 * * *", options).ok());
}

// ---- Next: DST tables -------------------------------------------------
// Each row: zone, expression, from (strictly after), expected ticks printed
// in the zone's offset at that instant.

struct TableRow {
  std::string zone;
  std::string expression;
  std::string from;
  std::vector<std::string> want;
};

void CheckTable(const std::vector<TableRow>& rows) {
  for (const TableRow& row : rows) {
    EXPECT_EQ(Ticks(row.zone, row.expression, row.from, row.want.size()),
              row.want)
        << row.zone << R"( ")" << row.expression << R"(" after )" << row.from;
  }
}

// Berlin: 2024-03-31 02:00 CET -> 03:00 CEST; 2024-10-27 03:00 CEST ->
// 02:00 CET.
TEST(ScheduleNextTest, BerlinFixedHour) {
  const std::string z = "Europe/Berlin";
  CheckTable({
      // Spring forward: a skipped time runs at the end of the gap.
      {z,
       "30 2 * * *",
       "2024-03-30T12:00:00+01:00",
       {"2024-03-31T03:00:00+02:00", "2024-04-01T02:30:00+02:00"}},
      {z,
       "0 2 * * *",
       "2024-03-30T12:00:00+01:00",
       {"2024-03-31T03:00:00+02:00", "2024-04-01T02:00:00+02:00"}},
      // Every skipped time of the gap, and the 03:00 it lands on, tick once.
      {z,
       "0,30 2 * * *",
       "2024-03-30T12:00:00+01:00",
       {"2024-03-31T03:00:00+02:00", "2024-04-01T02:00:00+02:00",
        "2024-04-01T02:30:00+02:00"}},
      {z,
       "0 2,3 * * *",
       "2024-03-30T12:00:00+01:00",
       {"2024-03-31T03:00:00+02:00", "2024-04-01T02:00:00+02:00",
        "2024-04-01T03:00:00+02:00"}},
      {z,
       "* 2 * * *",
       "2024-03-30T12:00:00+01:00",
       {"2024-03-31T03:00:00+02:00", "2024-04-01T02:00:00+02:00",
        "2024-04-01T02:01:00+02:00"}},
      {z,
       "30 1 * * *",
       "2024-03-30T12:00:00+01:00",
       {"2024-03-31T01:30:00+01:00", "2024-04-01T01:30:00+02:00"}},
      // From exactly the end of the gap: its tick is not after it.
      {z,
       "30 2 * * *",
       "2024-03-31T03:00:00+02:00",
       {"2024-04-01T02:30:00+02:00"}},
      {z,
       "30 2 * * *",
       "2024-03-31T02:59:59+02:00",
       {"2024-03-31T03:00:00+02:00"}},
      // Fall back: a repeated time runs at its first occurrence only.
      {z,
       "30 2 * * *",
       "2024-10-26T12:00:00+02:00",
       {"2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"}},
      {z,
       "0 2 * * *",
       "2024-10-26T12:00:00+02:00",
       {"2024-10-27T02:00:00+02:00", "2024-10-28T02:00:00+01:00"}},
      {z,
       "0 2-3 * * *",
       "2024-10-26T12:00:00+02:00",
       {"2024-10-27T02:00:00+02:00", "2024-10-27T03:00:00+01:00",
        "2024-10-28T02:00:00+01:00"}},
      // From the second pass through the repeated hour.
      {z,
       "30 2 * * *",
       "2024-10-27T02:15:00+01:00",
       {"2024-10-28T02:30:00+01:00"}},
      {z,
       "30 2 * * *",
       "2024-10-27T02:45:00+02:00",
       {"2024-10-28T02:30:00+01:00"}},
      {z,
       "45 2 * * *",
       "2024-10-27T02:59:59+01:00",
       {"2024-10-28T02:45:00+01:00"}},
      {z,
       "@daily",
       "2024-03-30T12:00:00+01:00",
       {"2024-03-31T00:00:00+01:00", "2024-04-01T00:00:00+02:00"}},
  });
}

TEST(ScheduleNextTest, BerlinRealTime) {
  const std::string z = "Europe/Berlin";
  CheckTable({
      // Spring forward: skipped local times do not run.
      {z,
       "*/30 * * * *",
       "2024-03-31T01:00:00+01:00",
       {"2024-03-31T01:30:00+01:00", "2024-03-31T03:00:00+02:00",
        "2024-03-31T03:30:00+02:00"}},
      {z,
       "0 * * * *",
       "2024-03-31T00:30:00+01:00",
       {"2024-03-31T01:00:00+01:00", "2024-03-31T03:00:00+02:00",
        "2024-03-31T04:00:00+02:00"}},
      {z,
       "@hourly",
       "2024-03-31T00:30:00+01:00",
       {"2024-03-31T01:00:00+01:00", "2024-03-31T03:00:00+02:00"}},
      {z,
       "30 */2 * * *",
       "2024-03-31T00:45:00+01:00",
       {"2024-03-31T04:30:00+02:00"}},
      // Fall back: repeated local times run once per real instant.
      {z,
       "*/30 * * * *",
       "2024-10-27T01:45:00+02:00",
       {"2024-10-27T02:00:00+02:00", "2024-10-27T02:30:00+02:00",
        "2024-10-27T02:00:00+01:00", "2024-10-27T02:30:00+01:00",
        "2024-10-27T03:00:00+01:00"}},
      {z,
       "0 * * * *",
       "2024-10-27T01:30:00+02:00",
       {"2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00",
        "2024-10-27T03:00:00+01:00"}},
      {z,
       "30 */2 * * *",
       "2024-10-27T01:45:00+02:00",
       {"2024-10-27T02:30:00+02:00", "2024-10-27T02:30:00+01:00",
        "2024-10-27T04:30:00+01:00"}},
  });
}

// New York: 2024-03-10 02:00 EST -> 03:00 EDT; 2024-11-03 02:00 EDT ->
// 01:00 EST.
TEST(ScheduleNextTest, NewYorkFixedHour) {
  const std::string z = "America/New_York";
  CheckTable({
      {z,
       "30 2 * * *",
       "2024-03-09T12:00:00-05:00",
       {"2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00"}},
      {z,
       "0 2 * * *",
       "2024-03-09T12:00:00-05:00",
       {"2024-03-10T03:00:00-04:00", "2024-03-11T02:00:00-04:00"}},
      {z,
       "0 2,3 * * *",
       "2024-03-09T12:00:00-05:00",
       {"2024-03-10T03:00:00-04:00", "2024-03-11T02:00:00-04:00"}},
      {z,
       "0 1 * * *",
       "2024-11-02T12:00:00-04:00",
       {"2024-11-03T01:00:00-04:00", "2024-11-04T01:00:00-05:00"}},
      {z,
       "30 1 * * *",
       "2024-11-02T12:00:00-04:00",
       {"2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"}},
      {z,
       "0 1 * * *",
       "2024-11-03T01:30:00-05:00",
       {"2024-11-04T01:00:00-05:00"}},
      {z,
       "15 1 * * *",
       "2024-11-03T01:20:00-04:00",
       {"2024-11-04T01:15:00-05:00"}},
      {z,
       "0 2 * * *",
       "2024-11-02T12:00:00-04:00",
       {"2024-11-03T02:00:00-05:00", "2024-11-04T02:00:00-05:00"}},
  });
}

TEST(ScheduleNextTest, NewYorkRealTime) {
  const std::string z = "America/New_York";
  CheckTable({
      {z,
       "*/30 * * * *",
       "2024-03-10T01:00:00-05:00",
       {"2024-03-10T01:30:00-05:00", "2024-03-10T03:00:00-04:00",
        "2024-03-10T03:30:00-04:00"}},
      {z,
       "0 * * * *",
       "2024-03-10T00:30:00-05:00",
       {"2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00",
        "2024-03-10T04:00:00-04:00"}},
      {z,
       "*/30 * * * *",
       "2024-11-03T00:45:00-04:00",
       {"2024-11-03T01:00:00-04:00", "2024-11-03T01:30:00-04:00",
        "2024-11-03T01:00:00-05:00", "2024-11-03T01:30:00-05:00",
        "2024-11-03T02:00:00-05:00"}},
      {z,
       "0 * * * *",
       "2024-11-03T00:30:00-04:00",
       {"2024-11-03T01:00:00-04:00", "2024-11-03T01:00:00-05:00",
        "2024-11-03T02:00:00-05:00"}},
      // From inside the repeated hour's second pass.
      {z,
       "*/30 * * * *",
       "2024-11-03T01:10:00-05:00",
       {"2024-11-03T01:30:00-05:00", "2024-11-03T02:00:00-05:00"}},
  });
}

// Lord Howe shifts by 30 minutes: 2024-04-07 02:00 +11:00 -> 01:30 +10:30
// (01:30-01:59 repeat); 2024-10-06 02:00 +10:30 -> 02:30 +11:00
// (02:00-02:29 are skipped).
TEST(ScheduleNextTest, LordHoweFixedHour) {
  const std::string z = "Australia/Lord_Howe";
  CheckTable({
      {z,
       "0 2 * * *",
       "2024-10-05T12:00:00+10:30",
       {"2024-10-06T02:30:00+11:00", "2024-10-07T02:00:00+11:00"}},
      {z,
       "15 2 * * *",
       "2024-10-05T12:00:00+10:30",
       {"2024-10-06T02:30:00+11:00", "2024-10-07T02:15:00+11:00"}},
      // 02:30 exists on both days: the shift does not touch it.
      {z,
       "30 2 * * *",
       "2024-10-05T12:00:00+10:30",
       {"2024-10-06T02:30:00+11:00", "2024-10-07T02:30:00+11:00"}},
      {z,
       "0,30 2 * * *",
       "2024-10-05T12:00:00+10:30",
       {"2024-10-06T02:30:00+11:00", "2024-10-07T02:00:00+11:00",
        "2024-10-07T02:30:00+11:00"}},
      {z,
       "30 1 * * *",
       "2024-04-06T12:00:00+11:00",
       {"2024-04-07T01:30:00+11:00", "2024-04-08T01:30:00+10:30"}},
      {z,
       "45 1 * * *",
       "2024-04-06T12:00:00+11:00",
       {"2024-04-07T01:45:00+11:00", "2024-04-08T01:45:00+10:30"}},
      {z,
       "0 2 * * *",
       "2024-04-06T12:00:00+11:00",
       {"2024-04-07T02:00:00+10:30", "2024-04-08T02:00:00+10:30"}},
      {z,
       "30 2 * * *",
       "2024-04-06T12:00:00+11:00",
       {"2024-04-07T02:30:00+10:30", "2024-04-08T02:30:00+10:30"}},
      {z,
       "0 1 * * *",
       "2024-04-06T12:00:00+11:00",
       {"2024-04-07T01:00:00+11:00", "2024-04-08T01:00:00+10:30"}},
  });
}

TEST(ScheduleNextTest, LordHoweRealTime) {
  const std::string z = "Australia/Lord_Howe";
  CheckTable({
      {z,
       "0 * * * *",
       "2024-10-06T00:30:00+10:30",
       {"2024-10-06T01:00:00+10:30", "2024-10-06T03:00:00+11:00"}},
      {z,
       "*/30 * * * *",
       "2024-10-06T01:15:00+10:30",
       {"2024-10-06T01:30:00+10:30", "2024-10-06T02:30:00+11:00",
        "2024-10-06T03:00:00+11:00"}},
      {z,
       "*/15 * * * *",
       "2024-10-06T01:50:00+10:30",
       {"2024-10-06T02:30:00+11:00", "2024-10-06T02:45:00+11:00"}},
      {z,
       "*/30 * * * *",
       "2024-04-07T01:15:00+11:00",
       {"2024-04-07T01:30:00+11:00", "2024-04-07T01:30:00+10:30",
        "2024-04-07T02:00:00+10:30"}},
      {z,
       "0 * * * *",
       "2024-04-07T00:30:00+11:00",
       {"2024-04-07T01:00:00+11:00", "2024-04-07T02:00:00+10:30"}},
      {z,
       "*/15 * * * *",
       "2024-04-07T01:20:00+11:00",
       {"2024-04-07T01:30:00+11:00", "2024-04-07T01:45:00+11:00",
        "2024-04-07T01:30:00+10:30", "2024-04-07T01:45:00+10:30",
        "2024-04-07T02:00:00+10:30"}},
  });
}

// ---- Next: days, leap years, @every, range -----------------------------

TEST(ScheduleNextTest, DayOfMonthOrDayOfWeek) {
  const std::string z = "UTC";
  CheckTable({
      {z,
       "0 0 13 * FRI",
       "2024-09-01T00:00:00Z",
       {"2024-09-06T00:00:00+00:00", "2024-09-13T00:00:00+00:00",
        "2024-09-20T00:00:00+00:00", "2024-09-27T00:00:00+00:00",
        "2024-10-04T00:00:00+00:00", "2024-10-11T00:00:00+00:00",
        "2024-10-13T00:00:00+00:00", "2024-10-18T00:00:00+00:00"}},
      {z,
       "0 0 13 * *",
       "2024-09-01T00:00:00Z",
       {"2024-09-13T00:00:00+00:00", "2024-10-13T00:00:00+00:00"}},
      {z,
       "0 0 * * FRI",
       "2024-09-01T00:00:00Z",
       {"2024-09-06T00:00:00+00:00", "2024-09-13T00:00:00+00:00"}},
      {z,
       "0 0 ? * MON",
       "2024-09-01T00:00:00Z",
       {"2024-09-02T00:00:00+00:00", "2024-09-09T00:00:00+00:00"}},
      // robfig's star bit: "*/2" restricts, so either field may match.
      {z,
       "0 0 */2 * MON",
       "2024-09-01T00:00:00Z",
       {"2024-09-02T00:00:00+00:00", "2024-09-03T00:00:00+00:00",
        "2024-09-05T00:00:00+00:00"}},
      {z,
       "0 0 */1 * MON",
       "2024-09-01T00:00:00Z",
       {"2024-09-02T00:00:00+00:00", "2024-09-09T00:00:00+00:00"}},
      {z,
       "0 12 1 * SUN",
       "2024-09-01T00:00:00Z",
       {"2024-09-01T12:00:00+00:00", "2024-09-08T12:00:00+00:00"}},
  });
}

TEST(ScheduleNextTest, LeapYears) {
  CheckTable({
      {"UTC",
       "0 0 29 2 *",
       "2023-01-01T00:00:00Z",
       {"2024-02-29T00:00:00+00:00", "2028-02-29T00:00:00+00:00",
        "2032-02-29T00:00:00+00:00"}},
      // 2100 is not a leap year: the longest wait, 8 years.
      {"UTC",
       "0 0 29 2 *",
       "2096-03-01T00:00:00Z",
       {"2104-02-29T00:00:00+00:00"}},
      {"UTC",
       "0 0 29 2 *",
       "2393-03-01T00:00:00Z",
       {"2396-02-29T00:00:00+00:00"}},
      {"UTC",
       "0 0 31 * *",
       "2024-01-31T00:00:00Z",
       {"2024-03-31T00:00:00+00:00", "2024-05-31T00:00:00+00:00"}},
      {"Europe/Berlin",
       "@yearly",
       "2024-06-01T00:00:00Z",
       {"2025-01-01T00:00:00+01:00", "2026-01-01T00:00:00+01:00"}},
      {"Europe/Berlin",
       "@monthly",
       "2024-06-01T00:00:00Z",
       {"2024-07-01T00:00:00+02:00", "2024-08-01T00:00:00+02:00"}},
      {"Europe/Berlin",
       "@weekly",
       "2024-06-01T00:00:00Z",
       {"2024-06-02T00:00:00+02:00", "2024-06-09T00:00:00+02:00"}},
  });
}

TEST(ScheduleNextTest, ZonePrefixIsUsed) {
  CheckTable({
      {"UTC",
       "TZ=Asia/Tokyo 0 9 * * *",
       "2023-12-31T12:00:00Z",
       {"2024-01-01T09:00:00+09:00", "2024-01-02T09:00:00+09:00"}},
      {"UTC",
       "CRON_TZ=America/New_York 0 9 * * *",
       "2024-01-01T00:00:00Z",
       {"2024-01-01T09:00:00-05:00"}},
  });
}

TEST(ScheduleNextTest, EveryIsAnchored) {
  ParseOptions options;
  options.every_anchor = At("2024-01-01T00:00:00Z");
  Result<Schedule> s = Schedule::Parse("@every 90s", options);
  ASSERT_TRUE(s.ok());
  const absl::Time anchor = options.every_anchor;
  // The first tick is one period after the anchor, whatever came before.
  EXPECT_EQ(s->Next(anchor - absl::Hours(5)), anchor + absl::Seconds(90));
  EXPECT_EQ(s->Next(absl::InfinitePast()), anchor + absl::Seconds(90));
  EXPECT_EQ(s->Next(anchor), anchor + absl::Seconds(90));
  EXPECT_EQ(s->Next(anchor + absl::Seconds(89)), anchor + absl::Seconds(90));
  EXPECT_EQ(s->Next(anchor + absl::Seconds(90)), anchor + absl::Seconds(180));
  EXPECT_EQ(s->Next(anchor + absl::Milliseconds(90500)),
            anchor + absl::Seconds(180));
  EXPECT_EQ(s->Next(anchor + absl::Seconds(1000000)),
            anchor + absl::Seconds(1000080));  // 11112 periods
  EXPECT_FALSE(s->IsTick(anchor));
  EXPECT_TRUE(s->IsTick(anchor + absl::Seconds(90)));
  EXPECT_FALSE(s->IsTick(anchor + absl::Seconds(91)));
  EXPECT_FALSE(s->IsTick(anchor - absl::Seconds(90)));
}

TEST(ScheduleNextTest, EveryIgnoresDaylightSaving) {
  ParseOptions options;
  options.every_anchor = At("2024-03-31T00:00:00+01:00");
  Result<Schedule> s = Schedule::Parse("TZ=Europe/Berlin @every 1h", options);
  ASSERT_TRUE(s.ok());
  const std::vector<absl::Time> ticks = s->NextN(options.every_anchor, 4);
  ASSERT_EQ(ticks.size(), 4U);
  EXPECT_EQ(ticks[1], At("2024-03-31T03:00:00+02:00"));
  EXPECT_EQ(ticks[3], At("2024-03-31T05:00:00+02:00"));
}

TEST(ScheduleNextTest, TwoNodesWithTheSameJobAgree) {
  // Same expression, zone and anchor: same ticks, from any starting point.
  ParseOptions options;
  options.default_zone = "Europe/Berlin";
  options.every_anchor = At("2024-05-05T10:11:12Z");
  for (const char* text : {"@every 7m", "30 2 * * *", "*/7 * * * *"}) {
    Result<Schedule> a = Schedule::Parse(text, options);
    Result<Schedule> b = Schedule::Parse(text, options);
    ASSERT_TRUE(a.ok() && b.ok());
    const std::vector<absl::Time> ticks =
        a->NextN(At("2024-05-06T00:00:00Z"), 50);
    EXPECT_EQ(b->NextN(ticks[10] - absl::Seconds(1), 39),
              std::vector<absl::Time>(ticks.begin() + 10, ticks.end() - 1));
  }
}

TEST(ScheduleNextTest, SubSecondAfterCountsFromItsSecond) {
  const Schedule s = MustParse("* * * * *");
  EXPECT_EQ(s.Next(At("2024-01-01T00:00:59.999Z")), At("2024-01-01T00:01:00Z"));
  EXPECT_EQ(s.Next(At("2024-01-01T00:01:00.001Z")), At("2024-01-01T00:02:00Z"));
  EXPECT_EQ(s.Next(At("1969-12-31T23:59:59.5Z")), At("1970-01-01T00:00:00Z"));
}

TEST(ScheduleNextTest, RangeEnds) {
  const Schedule s = MustParse("0 0 1 1 *");
  EXPECT_EQ(s.Next(absl::InfiniteFuture()), absl::InfiniteFuture());
  EXPECT_EQ(s.Next(At("2400-01-01T00:00:00Z")), absl::InfiniteFuture());
  EXPECT_EQ(s.Next(At("2399-12-31T23:59:59Z")), absl::InfiniteFuture());
  EXPECT_EQ(s.Next(At("2398-12-31T23:59:59Z")), At("2399-01-01T00:00:00Z"));
  EXPECT_EQ(s.Next(absl::InfinitePast()), At("0002-01-01T00:00:00Z"));
  EXPECT_EQ(s.NextN(At("2397-06-01T00:00:00Z"), 5).size(), 2U);
  EXPECT_FALSE(s.IsTick(absl::InfiniteFuture()));
}

TEST(ScheduleNextTest, ZoneShiftsAreListedThroughTheRange) {
  // The real-time search walks the zone's listed offset changes; absl lists
  // them only so far into the future (schedule.h), and this range must stay
  // inside that.
  for (const char* name : {"Europe/Berlin", "America/New_York",
                           "Australia/Lord_Howe", "Europe/Dublin"}) {
    const absl::TimeZone zone = MustParse("* * * * *", name).zone();
    absl::TimeZone::CivilTransition shift;
    EXPECT_TRUE(zone.NextTransition(At("2400-06-01T00:00:00Z"), &shift))
        << name;
  }
}

TEST(ScheduleNextTest, IsTickAgreesWithNext) {
  const Schedule fixed = MustParse("30 2 * * *", "Europe/Berlin");
  EXPECT_TRUE(fixed.IsTick(At("2024-03-31T03:00:00+02:00")));
  EXPECT_FALSE(fixed.IsTick(At("2024-03-31T03:30:00+02:00")));
  EXPECT_TRUE(fixed.IsTick(At("2024-10-27T02:30:00+02:00")));
  EXPECT_FALSE(fixed.IsTick(At("2024-10-27T02:30:00+01:00")));
  EXPECT_FALSE(fixed.IsTick(At("2024-10-27T02:30:00.5+02:00")));
  const Schedule real = MustParse("30 * * * *", "Europe/Berlin");
  EXPECT_TRUE(real.IsTick(At("2024-10-27T02:30:00+02:00")));
  EXPECT_TRUE(real.IsTick(At("2024-10-27T02:30:00+01:00")));
  EXPECT_FALSE(real.IsTick(At("2024-03-31T03:00:00+02:00")));
}

}  // namespace
}  // namespace conch::cron
