#include "cron/fields.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace conch::cron {
namespace {

uint64_t Bits(std::initializer_list<int> values) {
  uint64_t bits = 0;
  for (int v : values) bits |= uint64_t{1} << v;
  return bits;
}

uint64_t BitRange(int first, int last, int step = 1) {
  uint64_t bits = 0;
  for (int v = first; v <= last; v += step) bits |= uint64_t{1} << v;
  return bits;
}

CronFields MustParse(const std::string& text) {
  Result<CronFields> fields = ParseCronFields(text);
  EXPECT_TRUE(fields.ok()) << text << ": " << fields.status().message();
  return fields.ok() ? *fields : CronFields{};
}

TEST(ParseCronFieldsTest, StarMeansEveryValue) {
  const CronFields f = MustParse("* * * * *");
  EXPECT_EQ(f.minutes, BitRange(0, 59));
  EXPECT_EQ(f.hours, BitRange(0, 23));
  EXPECT_EQ(f.days_of_month, BitRange(1, 31));
  EXPECT_EQ(f.months, BitRange(1, 12));
  EXPECT_EQ(f.days_of_week, BitRange(0, 6));
  EXPECT_TRUE(f.dom_star);
  EXPECT_TRUE(f.dow_star);
  EXPECT_FALSE(f.fixed_hour);
}

TEST(ParseCronFieldsTest, QuestionMarkIsStarInEveryField) {
  // robfig accepts "?" wherever it accepts "*".
  EXPECT_EQ(MustParse("? ? ? ? ?"), MustParse("* * * * *"));
}

struct FieldCase {
  std::string text;
  uint64_t minutes;
};

TEST(ParseCronFieldsTest, ListsRangesAndSteps) {
  const std::vector<FieldCase> cases = {
      {"5", Bits({5})},
      {"05", Bits({5})},
      {"+5", Bits({5})},  // strconv.Atoi takes a sign
      {"0,15,45", Bits({0, 15, 45})},
      {"10-13", Bits({10, 11, 12, 13})},
      {"*/15", Bits({0, 15, 30, 45})},
      {"?/20", Bits({0, 20, 40})},
      {"10-30/10", Bits({10, 20, 30})},
      {"10-31/10", Bits({10, 20, 30})},
      {"50/3", Bits({50, 53, 56, 59})},  // "a/n" is "a-59/n"
      {"7/1", BitRange(7, 59)},
      {"59/100", Bits({59})},
      {"*/100", Bits({0})},
      {"1,1,1", Bits({1})},
      {"0-4,2-6,58", Bits({0, 1, 2, 3, 4, 5, 6, 58})},
      {"*/30,5", Bits({0, 5, 30})},
  };
  for (const FieldCase& c : cases) {
    EXPECT_EQ(MustParse(c.text + " 0 1 1 *").minutes, c.minutes) << c.text;
  }
}

TEST(ParseCronFieldsTest, NamesAnyCase) {
  const CronFields f = MustParse("0 0 * jan,Mar,DEC mon-FRI");
  EXPECT_EQ(f.months, Bits({1, 3, 12}));
  EXPECT_EQ(f.days_of_week, BitRange(1, 5));
  EXPECT_EQ(MustParse("0 0 * JAN/5 SUN/2").months, Bits({1, 6, 11}));
  EXPECT_EQ(MustParse("0 0 * JAN/5 SUN/2").days_of_week, Bits({0, 2, 4, 6}));
  EXPECT_EQ(MustParse("0 0 * * sat").days_of_week, Bits({6}));
  EXPECT_EQ(MustParse("0 0 * * 0").days_of_week, Bits({0}));
}

TEST(ParseCronFieldsTest, WhiteSpaceBetweenFields) {
  EXPECT_EQ(MustParse("  0\t0  * *\n*  "), MustParse("0 0 * * *"));
}

TEST(ParseCronFieldsTest, StarBitFollowsRobfig) {
  // "*" and "*/1" keep the star bit; a step above 1, a range or a list
  // without "*" clear it.
  EXPECT_TRUE(MustParse("0 0 */1 * *").dom_star);
  EXPECT_TRUE(MustParse("0 0 *,5 * *").dom_star);
  EXPECT_FALSE(MustParse("0 0 */2 * *").dom_star);
  EXPECT_FALSE(MustParse("0 0 1-31 * *").dom_star);
  EXPECT_TRUE(MustParse("0 0 * * ?").dow_star);
  EXPECT_FALSE(MustParse("0 0 * * 0-6").dow_star);
}

TEST(ParseCronFieldsTest, FixedHourMeansNoStarAndNoStep) {
  EXPECT_TRUE(MustParse("0 2 * * *").fixed_hour);
  EXPECT_TRUE(MustParse("0 1,13 * * *").fixed_hour);
  EXPECT_TRUE(MustParse("0 9-17 * * *").fixed_hour);
  EXPECT_TRUE(MustParse("0 0-23 * * *").fixed_hour);
  EXPECT_FALSE(MustParse("0 * * * *").fixed_hour);
  EXPECT_FALSE(MustParse("0 ? * * *").fixed_hour);
  EXPECT_FALSE(MustParse("0 */2 * * *").fixed_hour);
  EXPECT_FALSE(MustParse("0 */1 * * *").fixed_hour);
  EXPECT_FALSE(MustParse("0 8-18/2 * * *").fixed_hour);
  EXPECT_FALSE(MustParse("0 3/1 * * *").fixed_hour);
  EXPECT_FALSE(MustParse("0 1,*/6 * * *").fixed_hour);
}

struct ErrorCase {
  std::string text;
  std::string message;
};

TEST(ParseCronFieldsTest, ErrorsNameTheField) {
  const std::vector<ErrorCase> cases = {
      {"",
       "expected 5 fields (minute hour day-of-month month day-of-week), "
       "found 0"},
      {"* * * *",
       "expected 5 fields (minute hour day-of-month month "
       "day-of-week), found 4"},
      {"0 0 0 * * *",
       "expected 5 fields (minute hour day-of-month month "
       "day-of-week), found 6"},
      {"60 * * * *", R"(minute (field 1) "60": 60 is above the maximum 59)"},
      {"* 24 * * *", R"(hour (field 2) "24": 24 is above the maximum 23)"},
      {"* * 0 * *", R"(day of month (field 3) "0": 0 is below the minimum 1)"},
      {"* * 32 * *",
       R"(day of month (field 3) "32": 32 is above the maximum 31)"},
      {"* * * 13 *", R"(month (field 4) "13": 13 is above the maximum 12)"},
      {"* * * 0 *", R"(month (field 4) "0": 0 is below the minimum 1)"},
      {"* * * * 7", R"(day of week (field 5) "7": 7 is above the maximum 6 )"
                    "(use 0 or SUN for Sunday)"},
      {"* * * * 1-7", R"(day of week (field 5) "1-7": 7 is above the maximum )"
                      "6 (use 0 or SUN for Sunday)"},
      {"99999999999999999999 * * * *",
       R"(minute (field 1) "99999999999999999999": 1000000 is above the )"
       "maximum 59"},
      {"x * * * *", R"(minute (field 1) "x": "x" is not a number)"},
      {"MON * * * *", R"(minute (field 1) "MON": "MON" is not a number)"},
      {"* * * FOO *", R"(month (field 4) "FOO": "FOO" is not a number or a )"
                      "month name (JAN-DEC)"},
      {"* * * January *", R"(month (field 4) "January": "January" is not a )"
                          "number or a month name (JAN-DEC)"},
      {"* * * * MON-FUN", R"(day of week (field 5) "MON-FUN": "FUN" is not )"
                          "a number or a weekday name (SUN-SAT)"},
      {"* * * * SUN-7",
       R"(day of week (field 5) "SUN-7": 7 is above the maximum 6 (use 0 or )"
       "SUN for Sunday)"},
      {"30-10 * * * *", R"(minute (field 1) "30-10": range "30-10" runs )"
                        "backwards (30 is after 10)"},
      {"* * * * FRI-MON", R"(day of week (field 5) "FRI-MON": range )"
                          R"("FRI-MON" runs backwards (5 is after 1))"},
      {"*/0 * * * *", R"(minute (field 1) "*/0": step must be at least 1)"},
      {"5/0 * * * *", R"(minute (field 1) "5/0": step must be at least 1)"},
      {"*/x * * * *", R"(minute (field 1) "*/x": step "x" is not a number)"},
      {"*/ * * * *",
       R"(minute (field 1) "*/": missing step after "/" in "*/")"},
      {"*/MON * * * *",
       R"(minute (field 1) "*/MON": step "MON" is not a number)"},
      {"*/2/3 * * * *", R"(minute (field 1) "*/2/3": too many "/" in )"
                        R"("*/2/3")"},
      {"1-2-3 * * * *", R"(minute (field 1) "1-2-3": too many "-" in "1-2-3")"},
      {"5- * * * *", R"(minute (field 1) "5-": missing value in "5-")"},
      {"-5 * * * *", R"(minute (field 1) "-5": missing value in "-5")"},
      {"/5 * * * *", R"(minute (field 1) "/5": missing value in "/5")"},
      {"+ * * * *", R"(minute (field 1) "+": "+" is not a number)"},
      {"1,,2 * * * *", R"(minute (field 1) "1,,2": empty list item)"},
      {",5 * * * *", R"(minute (field 1) ",5": empty list item)"},
      {"*-5 * * * *",
       R"(minute (field 1) "*-5": "*-5": a range cannot start with "*")"},
      {"0 0 30 2 *",
       R"(day of month (field 3) "30" never falls in month (field 4) "2")"},
      {"0 0 31 4,6,9,11 *", R"(day of month (field 3) "31" never falls in )"
                            R"(month (field 4) "4,6,9,11")"},
      {"0 0 30-31 FEB ?", R"(day of month (field 3) "30-31" never falls in )"
                          R"(month (field 4) "FEB")"},
  };
  for (const ErrorCase& c : cases) {
    Result<CronFields> fields = ParseCronFields(c.text);
    ASSERT_FALSE(fields.ok()) << c.text;
    EXPECT_EQ(fields.status().code(), Code::kInvalidArgument) << c.text;
    EXPECT_EQ(fields.status().message(), c.message) << c.text;
  }
}

TEST(ParseCronFieldsTest, DaysThatExistOnlySometimesAreSatisfiable) {
  // Either day rule makes these reachable: February 29 in leap years, the
  // 31st in long months, or any weekday when the day of week restricts too.
  for (const char* text : {"0 0 29 2 *", "0 0 31 1-12 *", "0 0 30 2 MON",
                           "0 0 31 4 1", "0 0 30 2 */2"}) {
    EXPECT_TRUE(ParseCronFields(text).ok()) << text;
  }
}

TEST(DescriptorFieldsTest, MatchFiveFieldEquivalents) {
  EXPECT_EQ(*DescriptorFields("@yearly"), MustParse("0 0 1 1 *"));
  EXPECT_EQ(*DescriptorFields("@annually"), MustParse("0 0 1 1 *"));
  EXPECT_EQ(*DescriptorFields("@monthly"), MustParse("0 0 1 * *"));
  EXPECT_EQ(*DescriptorFields("@weekly"), MustParse("0 0 * * 0"));
  EXPECT_EQ(*DescriptorFields("@daily"), MustParse("0 0 * * *"));
  EXPECT_EQ(*DescriptorFields("@midnight"), MustParse("0 0 * * *"));
  EXPECT_EQ(*DescriptorFields("@hourly"), MustParse("0 * * * *"));
  EXPECT_TRUE(DescriptorFields("@daily")->fixed_hour);
  EXPECT_FALSE(DescriptorFields("@hourly")->fixed_hour);
  EXPECT_FALSE(DescriptorFields("@DAILY"));
  EXPECT_FALSE(DescriptorFields("@daily "));
  EXPECT_FALSE(DescriptorFields("@every 1h"));
}

TEST(DayMatchesTest, EitherDayFieldWhenBothAreRestricted) {
  const CronFields f = MustParse("0 0 13 * FRI");
  EXPECT_TRUE(DayMatches(f, absl::CivilDay(2024, 9, 6)));    // a Friday
  EXPECT_TRUE(DayMatches(f, absl::CivilDay(2024, 10, 13)));  // a Sunday 13th
  EXPECT_FALSE(DayMatches(f, absl::CivilDay(2024, 10, 14)));
}

TEST(DayMatchesTest, BothDayFieldsWhenOneIsStar) {
  const CronFields thirteenth = MustParse("0 0 13 * *");
  EXPECT_TRUE(DayMatches(thirteenth, absl::CivilDay(2024, 10, 13)));
  EXPECT_FALSE(DayMatches(thirteenth, absl::CivilDay(2024, 9, 6)));
  const CronFields fridays = MustParse("0 0 * * FRI");
  EXPECT_TRUE(DayMatches(fridays, absl::CivilDay(2024, 9, 6)));
  EXPECT_FALSE(DayMatches(fridays, absl::CivilDay(2024, 10, 13)));
  // "*/1" keeps the star bit; "*/2" does not (robfig).
  EXPECT_FALSE(
      DayMatches(MustParse("0 0 */1 * MON"), absl::CivilDay(2024, 10, 13)));
  EXPECT_TRUE(
      DayMatches(MustParse("0 0 */2 * MON"), absl::CivilDay(2024, 10, 13)));
}

TEST(DayMatchesTest, MonthMustMatch) {
  const CronFields f = MustParse("0 0 13 MAR FRI");
  EXPECT_FALSE(DayMatches(f, absl::CivilDay(2024, 9, 13)));
  EXPECT_TRUE(DayMatches(f, absl::CivilDay(2024, 3, 1)));
}

TEST(MatchesTest, NeedsAWholeMinute) {
  const CronFields f = MustParse("30 2 * * *");
  EXPECT_TRUE(Matches(f, absl::CivilSecond(2024, 1, 1, 2, 30, 0)));
  EXPECT_FALSE(Matches(f, absl::CivilSecond(2024, 1, 1, 2, 30, 1)));
  EXPECT_FALSE(Matches(f, absl::CivilSecond(2024, 1, 1, 3, 30, 0)));
}

struct NextCase {
  std::string fields;
  absl::CivilSecond after;
  absl::CivilMinute want;
};

TEST(NextMatchTest, FirstMatchingMinuteStrictlyAfter) {
  const std::vector<NextCase> cases = {
      {"* * * * *", absl::CivilSecond(2024, 1, 1, 0, 0, 0),
       absl::CivilMinute(2024, 1, 1, 0, 1)},
      {"* * * * *", absl::CivilSecond(2024, 1, 1, 0, 0, 59),
       absl::CivilMinute(2024, 1, 1, 0, 1)},
      {"30 2 * * *", absl::CivilSecond(2024, 1, 1, 2, 29, 59),
       absl::CivilMinute(2024, 1, 1, 2, 30)},
      {"30 2 * * *", absl::CivilSecond(2024, 1, 1, 2, 30, 0),
       absl::CivilMinute(2024, 1, 2, 2, 30)},
      {"0 0 1 1 *", absl::CivilSecond(2024, 1, 1, 0, 0, 0),
       absl::CivilMinute(2025, 1, 1, 0, 0)},
      {"0 0 31 * *", absl::CivilSecond(2024, 4, 1, 0, 0, 0),
       absl::CivilMinute(2024, 5, 31, 0, 0)},
      {"0 0 29 2 *", absl::CivilSecond(2024, 3, 1, 0, 0, 0),
       absl::CivilMinute(2028, 2, 29, 0, 0)},
      {"0 0 29 2 *", absl::CivilSecond(2096, 3, 1, 0, 0, 0),
       absl::CivilMinute(2104, 2, 29, 0, 0)},
      {"59 23 31 12 *", absl::CivilSecond(2024, 12, 31, 23, 59, 0),
       absl::CivilMinute(2025, 12, 31, 23, 59)},
      {"0 0 13 * FRI", absl::CivilSecond(2024, 10, 11, 0, 0, 0),
       absl::CivilMinute(2024, 10, 13, 0, 0)},
      {"*/20 9-10 * * MON-FRI", absl::CivilSecond(2024, 10, 11, 10, 40, 0),
       absl::CivilMinute(2024, 10, 14, 9, 0)},
  };
  for (const NextCase& c : cases) {
    Result<CronFields> fields = ParseCronFields(c.fields);
    ASSERT_TRUE(fields.ok()) << c.fields;
    std::optional<absl::CivilMinute> got = NextMatch(*fields, c.after);
    ASSERT_TRUE(got) << c.fields;
    EXPECT_EQ(*got, c.want) << c.fields << " after " << c.after;
  }
}

TEST(NextMatchTest, GivesUpOnFieldsThatMatchNoDay) {
  // Only hand-made: the parser refuses this set.
  CronFields f = MustParse("0 0 * * *");
  f.days_of_month = Bits({31});
  f.months = Bits({2});
  f.dow_star = true;
  f.dom_star = false;
  EXPECT_FALSE(NextMatch(f, absl::CivilSecond(2024, 1, 1, 0, 0, 0)));
}

}  // namespace
}  // namespace conch::cron
