// The kill schedule, driven to the nanosecond with a fake clock, a fake
// hold whose deadlines the test sets, and a fake child that records every
// signal it is sent and when.
#include "supervisor/kill_schedule.h"

#include <signal.h>

#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace conch::supervisor {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

constexpr nanoseconds kTick{1};

class FakeChild final : public SignalTarget {
 public:
  explicit FakeChild(const FakeClock& clock) : clock_(clock) {}
  void SignalGroup(int sig) override { got.emplace_back(clock_.Now(), sig); }
  std::vector<std::pair<MonoTime, int>> got;
  std::vector<int> signals() const {
    std::vector<int> out;
    for (const auto& g : got) out.push_back(g.second);
    return out;
  }

 private:
  const FakeClock& clock_;
};

class FakeHold final : public Hold {
 public:
  int fd() const override { return -1; }
  void Pump() override {}
  bool lost() const override { return lost_; }
  std::string loss() const override { return "our key was deleted"; }
  MonoTime term_at() const override { return term_at_; }
  MonoTime kill_at() const override { return kill_at_; }

  // As primitives::HoldDeadline computes them for valid_until.
  void ValidUntil(MonoTime valid_until, Duration kill_after, Duration margin) {
    kill_at_ = valid_until - margin;
    term_at_ = kill_at_ - kill_after;
  }
  bool lost_ = false;
  MonoTime term_at_{};
  MonoTime kill_at_{};
};

class KillScheduleTest : public ::testing::Test {
 protected:
  // ttl 3 s, --kill-after 1 s, margin 150 ms, last renewal sent at t0.
  void SetUp() override {
    t0_ = clock_.Now();
    hold_.ValidUntil(t0_ + seconds(3), seconds(1), milliseconds(150));
    options_.kill_after = seconds(1);
  }
  // Moves the clock to `t` and lets the schedule look.
  void At(KillSchedule& s, MonoTime t) {
    clock_.AdvanceTo(t);
    s.Tick(clock_.Now());
  }

  FakeClock clock_;
  FakeChild child_{clock_};
  FakeHold hold_;
  RunOptions options_;
  MonoTime t0_;
};

TEST_F(KillScheduleTest, SigtermAtTermAtAndSigkillAtKillAtExactly) {
  KillSchedule s(child_, &hold_, options_, clock_.Now());
  MonoTime term_at = t0_ + milliseconds(1850);  // 3 s - 1 s - 150 ms
  MonoTime kill_at = t0_ + milliseconds(2850);  // 3 s - 150 ms
  EXPECT_EQ(s.NextWake(), term_at);
  At(s, term_at - kTick);
  EXPECT_TRUE(child_.got.empty());
  At(s, term_at);
  ASSERT_EQ(child_.signals(), std::vector<int>{SIGTERM});
  EXPECT_EQ(child_.got[0].first, term_at);
  EXPECT_EQ(s.NextWake(), kill_at);
  At(s, kill_at - kTick);
  EXPECT_EQ(child_.got.size(), 1u);
  At(s, kill_at);
  ASSERT_EQ(child_.signals(), (std::vector<int>{SIGTERM, SIGKILL}));
  EXPECT_EQ(child_.got[1].first, kill_at);
  EXPECT_EQ(s.NextWake(), std::nullopt);
  At(s, kill_at + seconds(10));
  EXPECT_EQ(child_.got.size(), 2u);  // SIGKILL goes out once
  RunOutcome out = s.Finish(SIGKILL);
  EXPECT_EQ(out.end, RunOutcome::End::kHoldLost);
  EXPECT_EQ(out.reason, "the hold could not be renewed in time");
}

TEST_F(KillScheduleTest, RenewalsMoveTheDeadlinesForward) {
  KillSchedule s(child_, &hold_, options_, clock_.Now());
  At(s, t0_ + seconds(1));
  // A renewal sent at t0 + 1 s is answered: valid until t0 + 4 s.
  hold_.ValidUntil(t0_ + seconds(4), seconds(1), milliseconds(150));
  s.Tick(clock_.Now());
  EXPECT_EQ(s.NextWake(), t0_ + milliseconds(2850));
  At(s, t0_ + milliseconds(1850));  // the old term_at passes quietly
  At(s, t0_ + milliseconds(2850) - kTick);
  EXPECT_TRUE(child_.got.empty());
  At(s, t0_ + milliseconds(2850));
  EXPECT_EQ(child_.signals(), std::vector<int>{SIGTERM});
}

TEST_F(KillScheduleTest, KillAfterZeroSendsOnlySigkillAtKillAt) {
  options_.kill_after = Duration::zero();
  hold_.ValidUntil(t0_ + seconds(3), Duration::zero(), milliseconds(150));
  KillSchedule s(child_, &hold_, options_, clock_.Now());
  MonoTime kill_at = t0_ + milliseconds(2850);
  EXPECT_EQ(s.NextWake(), kill_at);
  At(s, kill_at - kTick);
  EXPECT_TRUE(child_.got.empty());
  At(s, kill_at);
  EXPECT_EQ(child_.signals(), std::vector<int>{SIGKILL});
}

TEST_F(KillScheduleTest, AChildIgnoringSigtermIsKilledEvenIfRenewalsResume) {
  KillSchedule s(child_, &hold_, options_, clock_.Now());
  MonoTime term_at = t0_ + milliseconds(1850);
  At(s, term_at);
  ASSERT_EQ(child_.signals(), std::vector<int>{SIGTERM});
  // The store answers again and keeps answering: the deadlines move far
  // ahead. The child ignores SIGTERM, and still dies kill_after later.
  for (int i = 1; i <= 9; ++i) {
    At(s, term_at + milliseconds(100 * i));
    hold_.ValidUntil(clock_.Now() + seconds(3), seconds(1), milliseconds(150));
    s.Tick(clock_.Now());
  }
  EXPECT_EQ(s.NextWake(), term_at + seconds(1));
  At(s, term_at + seconds(1) - kTick);
  EXPECT_EQ(child_.got.size(), 1u);
  At(s, term_at + seconds(1));
  EXPECT_EQ(child_.signals(), (std::vector<int>{SIGTERM, SIGKILL}));
  EXPECT_EQ(s.Finish(SIGKILL).end, RunOutcome::End::kHoldLost);
}

TEST_F(KillScheduleTest, ALateWakeUpPastKillAtSendsSigkillAtOnce) {
  KillSchedule s(child_, &hold_, options_, clock_.Now());
  // The owner thread was descheduled through both deadlines.
  At(s, t0_ + seconds(5));
  EXPECT_EQ(child_.signals(), std::vector<int>{SIGKILL});
}

TEST_F(KillScheduleTest, LossSendsSigtermNowAndSigkillAfterKillAfter) {
  // Deadlines far away: the loss alone drives the schedule.
  hold_.ValidUntil(t0_ + seconds(60), seconds(1), milliseconds(150));
  KillSchedule s(child_, &hold_, options_, clock_.Now());
  At(s, t0_ + milliseconds(300));
  hold_.lost_ = true;
  s.Tick(clock_.Now());
  ASSERT_EQ(child_.signals(), std::vector<int>{SIGTERM});
  EXPECT_EQ(child_.got[0].first, t0_ + milliseconds(300));
  EXPECT_EQ(s.NextWake(), t0_ + milliseconds(1300));
  At(s, t0_ + milliseconds(1300) - kTick);
  EXPECT_EQ(child_.got.size(), 1u);
  At(s, t0_ + milliseconds(1300));
  EXPECT_EQ(child_.signals(), (std::vector<int>{SIGTERM, SIGKILL}));
  RunOutcome out = s.Finish(SIGKILL);
  EXPECT_EQ(out.end, RunOutcome::End::kHoldLost);
  EXPECT_EQ(out.reason, "our key was deleted");
}

TEST_F(KillScheduleTest, ALossJustBeforeTermAtEscalatesOnce) {
  KillSchedule s(child_, &hold_, options_, clock_.Now());
  At(s, t0_ + milliseconds(1800));  // 50 ms before term_at
  hold_.lost_ = true;
  s.Tick(clock_.Now());
  EXPECT_EQ(s.NextWake(), t0_ + milliseconds(2800));  // now + kill_after
  At(s, t0_ + milliseconds(1850));  // term_at: no second SIGTERM
  EXPECT_EQ(child_.signals(), std::vector<int>{SIGTERM});
  At(s, t0_ + milliseconds(2800));
  EXPECT_EQ(child_.signals(), (std::vector<int>{SIGTERM, SIGKILL}));
}

TEST_F(KillScheduleTest, ALossAfterTheDeadlinesSigtermChangesNothing) {
  KillSchedule s(child_, &hold_, options_, clock_.Now());
  MonoTime term_at = t0_ + milliseconds(1850);
  At(s, term_at);
  clock_.Advance(milliseconds(200));
  hold_.lost_ = true;
  s.Tick(clock_.Now());
  EXPECT_EQ(child_.signals(), std::vector<int>{SIGTERM});
  EXPECT_EQ(s.NextWake(), term_at + seconds(1));
  At(s, term_at + seconds(1));
  EXPECT_EQ(child_.signals(), (std::vector<int>{SIGTERM, SIGKILL}));
  EXPECT_EQ(s.Finish(SIGKILL).reason, "the hold could not be renewed in time");
}

TEST_F(KillScheduleTest, StopSignalIsForwardedThenSigkillAfterKillAfter) {
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) {
    FakeChild child(clock_);
    hold_.ValidUntil(clock_.Now() + seconds(60), seconds(1), milliseconds(150));
    KillSchedule s(child, &hold_, options_, clock_.Now());
    MonoTime got = clock_.Now();
    s.OnSignal(sig, got);
    ASSERT_EQ(child.signals(), std::vector<int>{sig});
    EXPECT_EQ(s.NextWake(), got + seconds(1));
    // A second stop signal is forwarded but does not postpone SIGKILL.
    clock_.Advance(milliseconds(500));
    s.OnSignal(SIGTERM, clock_.Now());
    EXPECT_EQ(s.NextWake(), got + seconds(1));
    clock_.AdvanceTo(got + seconds(1) - kTick);
    s.Tick(clock_.Now());
    EXPECT_EQ(child.got.size(), 2u);
    clock_.AdvanceTo(got + seconds(1));
    s.Tick(clock_.Now());
    EXPECT_EQ(child.signals(), (std::vector<int>{sig, SIGTERM, SIGKILL}));
    RunOutcome out = s.Finish(SIGKILL);
    EXPECT_EQ(out.end, RunOutcome::End::kSignaled);
    EXPECT_EQ(out.signal, sig);
  }
}

TEST_F(KillScheduleTest, UserSignalsAreOnlyForwarded) {
  KillSchedule s(child_, &hold_, options_, clock_.Now());
  s.OnSignal(SIGUSR1, clock_.Now());
  s.OnSignal(SIGUSR2, clock_.Now());
  EXPECT_EQ(child_.signals(), (std::vector<int>{SIGUSR1, SIGUSR2}));
  EXPECT_EQ(s.NextWake(), t0_ + milliseconds(1850));  // unchanged
  RunOutcome out = s.Finish(0);
  EXPECT_EQ(out.end, RunOutcome::End::kExited);
  EXPECT_EQ(out.signal, 0);
}

TEST_F(KillScheduleTest,
       AStopSignalAfterTheDeadlinesSigtermDoesNotPostponeSigkill) {
  KillSchedule s(child_, &hold_, options_, clock_.Now());
  MonoTime term_at = t0_ + milliseconds(1850);
  At(s, term_at);
  clock_.Advance(milliseconds(900));
  s.OnSignal(SIGINT, clock_.Now());
  EXPECT_EQ(s.NextWake(), term_at + seconds(1));
  At(s, term_at + seconds(1));
  EXPECT_EQ(child_.signals(), (std::vector<int>{SIGTERM, SIGINT, SIGKILL}));
  // The hold failed first: that is what the run reports.
  RunOutcome out = s.Finish(SIGKILL);
  EXPECT_EQ(out.end, RunOutcome::End::kHoldLost);
  EXPECT_EQ(out.signal, SIGINT);
}

TEST_F(KillScheduleTest, WithoutAHoldOnlyTheTimeoutKills) {
  options_.timeout = seconds(30);
  KillSchedule s(child_, nullptr, options_, clock_.Now());
  EXPECT_EQ(s.NextWake(), t0_ + seconds(30));
  At(s, t0_ + seconds(30) - kTick);
  EXPECT_TRUE(child_.got.empty());
  At(s, t0_ + seconds(30));
  EXPECT_EQ(child_.signals(), std::vector<int>{SIGKILL});
  EXPECT_EQ(s.Finish(SIGKILL).end, RunOutcome::End::kTimedOut);
}

TEST_F(KillScheduleTest, NoHoldAndNoTimeoutMeansNoWakeUp) {
  KillSchedule s(child_, nullptr, options_, clock_.Now());
  EXPECT_EQ(s.NextWake(), std::nullopt);
  At(s, t0_ + seconds(3600));
  EXPECT_TRUE(child_.got.empty());
  EXPECT_EQ(s.Finish(0).end, RunOutcome::End::kExited);
}

TEST_F(KillScheduleTest, KillNowSendsSigkillOnce) {
  KillSchedule s(child_, &hold_, options_, clock_.Now());
  s.KillNow("poll: bad file descriptor");
  s.KillNow("poll: bad file descriptor");
  EXPECT_EQ(child_.signals(), std::vector<int>{SIGKILL});
  EXPECT_EQ(s.NextWake(), std::nullopt);
}

}  // namespace
}  // namespace conch::supervisor
