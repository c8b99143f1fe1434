#include "backend/renewal.h"

#include <gtest/gtest.h>

namespace conch::backend {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(RenewalScheduleTest, IntervalIsAThirdOfTheTtlAndRetryHalfOfThatAtMost1s) {
  EXPECT_EQ(RenewInterval(seconds(3)), seconds(1));
  EXPECT_EQ(RetryAfter(seconds(3)), milliseconds(500));
  EXPECT_EQ(RenewInterval(seconds(10)), nanoseconds(3333333333));
  EXPECT_EQ(RetryAfter(seconds(6)), seconds(1));   // exactly at the cap
  EXPECT_EQ(RetryAfter(seconds(60)), seconds(1));  // capped
  EXPECT_EQ(RetryAfter(seconds(1)), nanoseconds(166666666));
}

TEST(RenewalScheduleTest, FirstRenewalIsDueAtOnceOnANewStream) {
  FakeClock clock;
  RenewalSchedule s(seconds(3));
  s.Reset(clock.Now());
  EXPECT_EQ(s.next_send(), clock.Now());
  EXPECT_EQ(s.outstanding(), 0u);
}

TEST(RenewalScheduleTest,
     AnsweredRenewalSchedulesTheNextAnIntervalAfterItsSend) {
  FakeClock clock;
  RenewalSchedule s(seconds(3));
  s.Reset(clock.Now());
  MonoTime sent = clock.Now();
  ASSERT_TRUE(s.Send(sent));
  clock.Advance(milliseconds(40));  // the answer's round trip
  std::optional<MonoTime> acked = s.Answered();
  ASSERT_TRUE(acked);
  EXPECT_EQ(*acked, sent);  // the send time, not the arrival time
  EXPECT_EQ(s.next_send(), sent + seconds(1));
}

TEST(RenewalScheduleTest, AMissedAnswerIsRetriedAfterRetryAfterNotAnInterval) {
  FakeClock clock;
  RenewalSchedule s(seconds(3));
  s.Reset(clock.Now());
  MonoTime first = clock.Now();
  ASSERT_TRUE(s.Send(first));
  EXPECT_EQ(s.next_send(), first + milliseconds(500));
  clock.AdvanceTo(s.next_send());
  MonoTime second = clock.Now();
  ASSERT_TRUE(s.Send(second));
  EXPECT_EQ(s.next_send(), second + milliseconds(500));
  EXPECT_EQ(s.outstanding(), 2u);
}

TEST(RenewalScheduleTest, AnswersAcknowledgeTheOldestSendFirst) {
  FakeClock clock;
  RenewalSchedule s(seconds(3));
  s.Reset(clock.Now());
  MonoTime a = clock.Now();
  ASSERT_TRUE(s.Send(a));
  clock.Advance(milliseconds(500));
  MonoTime b = clock.Now();
  ASSERT_TRUE(s.Send(b));
  MonoTime retry = s.next_send();
  clock.Advance(milliseconds(10));
  EXPECT_EQ(s.Answered(), a);
  // b is still outstanding: its retry timer stands.
  EXPECT_EQ(s.next_send(), retry);
  EXPECT_EQ(s.Answered(), b);
  EXPECT_EQ(s.next_send(), b + seconds(1));
  EXPECT_EQ(s.Answered(), std::nullopt);  // nothing outstanding
}

TEST(RenewalScheduleTest, StreamIsPresumedDeadAfterFourUnansweredSends) {
  FakeClock clock;
  RenewalSchedule s(seconds(3));
  s.Reset(clock.Now());
  for (int i = 0; i < RenewalSchedule::kMaxUnanswered; ++i) {
    clock.AdvanceTo(s.next_send());
    ASSERT_TRUE(s.Send(clock.Now())) << "send " << i;
  }
  MonoTime due = s.next_send();
  clock.AdvanceTo(due);
  EXPECT_FALSE(s.Send(clock.Now()));
  EXPECT_EQ(s.next_send(), due);  // a refused send records nothing
  EXPECT_EQ(s.outstanding(), 4u);
  // A new stream starts clean.
  s.Reset(clock.Now());
  EXPECT_EQ(s.outstanding(), 0u);
  EXPECT_TRUE(s.Send(clock.Now()));
}

TEST(RenewalScheduleTest, AnAnswerMakesRoomForAnotherSend) {
  FakeClock clock;
  RenewalSchedule s(seconds(3));
  s.Reset(clock.Now());
  for (int i = 0; i < RenewalSchedule::kMaxUnanswered; ++i) {
    ASSERT_TRUE(s.Send(clock.Now()));
    clock.Advance(milliseconds(500));
  }
  ASSERT_TRUE(s.Answered());
  EXPECT_TRUE(s.Send(clock.Now()));
}

}  // namespace
}  // namespace conch::backend
