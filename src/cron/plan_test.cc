#include "cron/plan.h"

#include <gtest/gtest.h>

namespace conch::cron {
namespace {

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

Schedule Every(const char* expr, const char* anchor = "2026-01-01T00:00:00Z") {
  ParseOptions o;
  o.every_anchor = At(anchor);
  Result<Schedule> s = Schedule::Parse(expr, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

TEST(PlanDueTest, NothingDueSleepsUntilTheNextTick) {
  Schedule s = Every("*/5 * * * *");
  DuePlan p = PlanDue(s, At("2026-03-01T10:00:00Z"), At("2026-03-01T10:03:00Z"),
                      Missed::kSkip, Duration(0));
  EXPECT_FALSE(p.run);
  EXPECT_FALSE(p.record_missed);
  EXPECT_EQ(p.missed, 0);
  EXPECT_EQ(p.next, At("2026-03-01T10:05:00Z"));
}

TEST(PlanDueTest, ATickReachedWithinTheGraceRunsAsUsual) {
  Schedule s = Every("*/5 * * * *");
  DuePlan p = PlanDue(s, At("2026-03-01T10:00:00Z"), At("2026-03-01T10:05:04Z"),
                      Missed::kSkip, Duration(0));
  ASSERT_TRUE(p.run);
  EXPECT_EQ(*p.run, At("2026-03-01T10:05:00Z"));
  EXPECT_FALSE(p.catch_up);
  EXPECT_FALSE(p.record_missed);
  EXPECT_EQ(p.next, At("2026-03-01T10:10:00Z"));
}

TEST(PlanDueTest, SkipRecordsEveryMissedTickOnceOnTheNewest) {
  Schedule s = Every("@every 1s");
  // Down from 00:00:10 to 00:00:20: ticks 11..20 missed, 20 beyond grace
  // only at 00:00:26.
  DuePlan p = PlanDue(s, At("2026-01-01T00:00:10Z"),
                      At("2026-01-01T00:00:26.5Z"), Missed::kSkip, Duration(0));
  // Ticks 11..26: 26 is within the grace, so it runs; 11..25 are missed.
  ASSERT_TRUE(p.run);
  EXPECT_EQ(*p.run, At("2026-01-01T00:00:26Z"));
  ASSERT_TRUE(p.record_missed);
  EXPECT_EQ(*p.record_missed, At("2026-01-01T00:00:25Z"));
  EXPECT_EQ(p.missed, 15);
}

TEST(PlanDueTest, SkipWithNoTickNowRecordsTheMisses) {
  Schedule s = Every("0 * * * *");
  DuePlan p = PlanDue(s, At("2026-03-01T05:00:00Z"), At("2026-03-01T10:30:00Z"),
                      Missed::kSkip, Duration(0));
  EXPECT_FALSE(p.run);
  ASSERT_TRUE(p.record_missed);
  EXPECT_EQ(*p.record_missed, At("2026-03-01T10:00:00Z"));
  EXPECT_EQ(p.missed, 5);
  EXPECT_EQ(p.next, At("2026-03-01T11:00:00Z"));
}

TEST(PlanDueTest, RunOnceLetsAnOnTimeTickStandForTheMissedOnes) {
  Schedule s = Every("@every 1s");
  DuePlan p =
      PlanDue(s, At("2026-01-01T00:00:10Z"), At("2026-01-01T00:00:16.5Z"),
              Missed::kRunOnce, Duration(0));
  ASSERT_TRUE(p.run);
  EXPECT_EQ(*p.run, At("2026-01-01T00:00:16Z"));
  EXPECT_TRUE(p.catch_up);
  EXPECT_FALSE(p.record_missed);
  EXPECT_EQ(p.missed, 5);
}

TEST(PlanDueTest, RunOnceRunsTheNewestMissedTickOnce) {
  Schedule s = Every("0 * * * *");
  DuePlan p = PlanDue(s, At("2026-03-01T05:00:00Z"), At("2026-03-01T10:30:00Z"),
                      Missed::kRunOnce, Duration(0));
  ASSERT_TRUE(p.run);
  EXPECT_TRUE(p.catch_up);
  EXPECT_EQ(*p.run, At("2026-03-01T10:00:00Z"));
  EXPECT_FALSE(p.record_missed);
  EXPECT_EQ(p.missed, 5);
}

TEST(PlanDueTest, RunOnceHonoursTheStartingDeadline) {
  Schedule s = Every("0 * * * *");
  const absl::Time last = At("2026-03-01T05:00:00Z");
  const absl::Time now = At("2026-03-01T10:30:00Z");
  DuePlan late =
      PlanDue(s, last, now, Missed::kRunOnce, std::chrono::minutes(20));
  EXPECT_FALSE(late.run);
  ASSERT_TRUE(late.record_missed);
  EXPECT_EQ(*late.record_missed, At("2026-03-01T10:00:00Z"));
  DuePlan in_time =
      PlanDue(s, last, now, Missed::kRunOnce, std::chrono::minutes(30));
  ASSERT_TRUE(in_time.run);
  EXPECT_TRUE(in_time.catch_up);
}

TEST(PlanDueTest, AnUnreachedLastGivesNothingDue) {
  Schedule s = Every("@every 1m", "2026-03-01T10:00:00Z");
  DuePlan p = PlanDue(s, At("2026-03-01T10:00:00Z"), At("2026-03-01T10:00:30Z"),
                      Missed::kRunOnce, Duration(0));
  EXPECT_FALSE(p.run);
  EXPECT_FALSE(p.record_missed);
  EXPECT_EQ(p.next, At("2026-03-01T10:01:00Z"));
}

TEST(PlanDueTest, AYearOfSecondsIsCountedWithoutRunningMoreThanOnce) {
  Schedule s = Every("@every 1s");
  DuePlan p = PlanDue(s, At("2026-01-01T00:00:00Z"), At("2026-01-03T00:00:00Z"),
                      Missed::kRunOnce, Duration(0));
  ASSERT_TRUE(p.run);
  EXPECT_EQ(*p.run, At("2026-01-03T00:00:00Z"));
  EXPECT_TRUE(p.catch_up);  // on time, standing for the others
  EXPECT_FALSE(p.record_missed);
  EXPECT_EQ(p.missed, 2 * 86400 - 1);
}

}  // namespace
}  // namespace conch::cron
