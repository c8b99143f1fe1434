#include "primitives/hold_deadline.h"

#include <gtest/gtest.h>

namespace conch::primitives {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using std::chrono::nanoseconds;

TEST(HoldDeadlineTest, MarginScalesWithTtlWithinBounds) {
  EXPECT_EQ(SafetyMargin(seconds(1)), milliseconds(100));
  EXPECT_EQ(SafetyMargin(seconds(3)), milliseconds(150));
  EXPECT_EQ(SafetyMargin(seconds(10)), milliseconds(500));
  EXPECT_EQ(SafetyMargin(seconds(60)), seconds(1));
}

TEST(HoldDeadlineTest, MarginBoundariesAreExact) {
  // ttl/20 takes over from the 100 ms floor at 2 s, and meets the 1 s cap
  // at 20 s.
  EXPECT_EQ(SafetyMargin(seconds(2) - nanoseconds(20)), milliseconds(100));
  EXPECT_EQ(SafetyMargin(seconds(2)), milliseconds(100));
  EXPECT_EQ(SafetyMargin(seconds(2) + nanoseconds(20)),
            milliseconds(100) + nanoseconds(1));
  EXPECT_EQ(SafetyMargin(seconds(20) - nanoseconds(20)),
            seconds(1) - nanoseconds(1));
  EXPECT_EQ(SafetyMargin(seconds(20)), seconds(1));
  EXPECT_EQ(SafetyMargin(seconds(20) + nanoseconds(20)), seconds(1));
}

// kill_after + margin must stay strictly below the budget:
// ttl - ttl/3 (the proof's age) - min(ttl/6, 1 s) (its answer's slack).
TEST(HoldDeadlineTest, FailClosedBoundaryIsExact) {
  // ttl 3 s: margin 150 ms, budget 3 s - 1 s - 500 ms = 1.5 s.
  EXPECT_TRUE(ValidateHoldTiming(seconds(3), milliseconds(1349)).ok());
  EXPECT_TRUE(
      ValidateHoldTiming(seconds(3), milliseconds(1350) - nanoseconds(1)).ok());
  EXPECT_FALSE(ValidateHoldTiming(seconds(3), milliseconds(1350)).ok());
  // ttl 1 s: margin 100 ms, budget 1 s - 333333333 ns - 166666666 ns.
  EXPECT_TRUE(ValidateHoldTiming(seconds(1), nanoseconds(400000000)).ok());
  EXPECT_FALSE(ValidateHoldTiming(seconds(1), nanoseconds(400000001)).ok());
  // ttl 10 s (the default): margin 500 ms, slack capped at 1 s, budget
  // 10 s - 3333333333 ns - 1 s.
  EXPECT_TRUE(ValidateHoldTiming(seconds(10), nanoseconds(5166666666)).ok());
  EXPECT_FALSE(ValidateHoldTiming(seconds(10), nanoseconds(5166666667)).ok());
  // ttl 60 s: margin capped at 1 s, budget 60 s - 20 s - 1 s.
  EXPECT_TRUE(
      ValidateHoldTiming(seconds(60), seconds(38) - nanoseconds(1)).ok());
  EXPECT_FALSE(ValidateHoldTiming(seconds(60), seconds(38)).ok());
}

TEST(HoldDeadlineTest, TtlAndKillAfterBoundariesAreExact) {
  EXPECT_TRUE(ValidateHoldTiming(seconds(1), Duration::zero()).ok());
  EXPECT_FALSE(ValidateHoldTiming(Duration::zero(), Duration::zero()).ok());
  EXPECT_TRUE(ValidateHoldTiming(seconds(3), Duration::zero()).ok());
  EXPECT_FALSE(ValidateHoldTiming(seconds(3), -nanoseconds(1)).ok());
}

TEST(HoldDeadlineTest, UsableEndsExactlyAtTermAt) {
  FakeClock clock;
  HoldDeadline d(seconds(1), milliseconds(150));
  d.Renewed(clock.Now(), seconds(3));
  EXPECT_TRUE(d.Usable(d.term_at() - nanoseconds(1)));
  EXPECT_FALSE(d.Usable(d.term_at()));
}

TEST(HoldDeadlineTest, DeadlinesCountFromTheSendTimeOfTheRenewal) {
  FakeClock clock;
  HoldDeadline d(seconds(1), milliseconds(150));
  MonoTime sent = clock.Now();
  d.Renewed(sent, seconds(3));
  EXPECT_EQ(d.valid_until(), sent + seconds(3));
  EXPECT_EQ(d.term_at(), sent + milliseconds(1850));
  EXPECT_EQ(d.kill_at(), sent + milliseconds(2850));
  EXPECT_TRUE(d.Usable(sent));
  EXPECT_FALSE(d.Usable(sent + milliseconds(1850)));
}

TEST(HoldDeadlineTest, OlderRenewalsNeverMoveTheDeadlineBack) {
  FakeClock clock;
  HoldDeadline d(seconds(1), milliseconds(100));
  MonoTime t0 = clock.Now();
  d.Renewed(t0 + seconds(2), seconds(3));
  d.Renewed(t0, seconds(3));  // a late answer to an older request
  EXPECT_EQ(d.valid_until(), t0 + seconds(5));
}

TEST(HoldDeadlineTest, VoidPutsEveryDeadlineInThePast) {
  FakeClock clock;
  HoldDeadline d(seconds(5), milliseconds(500));
  d.Renewed(clock.Now(), seconds(10));
  d.Void();
  EXPECT_LT(d.kill_at(), clock.Now());
  EXPECT_LT(d.term_at(), clock.Now());
  EXPECT_FALSE(d.Usable(clock.Now()));
}

TEST(HoldDeadlineTest, ValidationAcceptsWorkableSettings) {
  EXPECT_TRUE(ValidateHoldTiming(seconds(10), seconds(5)).ok());  // defaults
  EXPECT_TRUE(ValidateHoldTiming(seconds(3), seconds(1)).ok());
  EXPECT_TRUE(ValidateHoldTiming(seconds(2), Duration::zero()).ok());
  EXPECT_TRUE(ValidateHoldTiming(seconds(60), seconds(30)).ok());
}

TEST(HoldDeadlineTest, ValidationRefusesImpossibleSettings) {
  struct Case {
    Duration ttl, kill_after;
    const char* says;
  } cases[] = {
      {Duration::zero(), seconds(0), "not positive"},
      {-seconds(1), seconds(0), "not positive"},
      {seconds(10), seconds(10), "cannot fail closed"},
      {seconds(10), seconds(7), "cannot fail closed"},
      {seconds(3), seconds(2), "cannot fail closed"},
      {seconds(1), milliseconds(600), "cannot fail closed"},
      {seconds(10), seconds(-1), "negative"},
  };
  for (const Case& c : cases) {
    Status s = ValidateHoldTiming(c.ttl, c.kill_after);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace conch::primitives
