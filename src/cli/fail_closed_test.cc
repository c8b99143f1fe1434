// The fail-closed rule end to end, simulated on a fake clock: the renewal
// schedule a keep-alive follows (backend/renewal.h), the deadline those
// renewals prove (primitives/hold_deadline.h) and the kill schedule that
// acts on it (supervisor/kill_schedule.h), against a store whose answers
// take a set round trip and can stall. The store renews a lease when it
// handles a renewal, at or after its send, so a lease can expire no earlier
// than the send time of the last answered renewal plus the TTL: the child
// must be dead before that.
#include <signal.h>

#include <deque>
#include <vector>

#include <gtest/gtest.h>

#include "backend/renewal.h"
#include "primitives/hold_deadline.h"
#include "supervisor/kill_schedule.h"

namespace conch {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The hold the kill schedule sees: a HoldDeadline.
class DeadlineHold final : public supervisor::Hold {
 public:
  explicit DeadlineHold(const primitives::HoldDeadline& d) : d_(d) {}
  int fd() const override { return -1; }
  void Pump() override {}
  bool lost() const override { return false; }
  std::string loss() const override { return ""; }
  MonoTime term_at() const override { return d_.term_at(); }
  MonoTime kill_at() const override { return d_.kill_at(); }

 private:
  const primitives::HoldDeadline& d_;
};

// A child that dies on SIGKILL, and on SIGTERM unless it ignores it.
class SimChild final : public supervisor::SignalTarget {
 public:
  SimChild(const FakeClock& clock, bool ignores_term)
      : clock_(clock), ignores_term_(ignores_term) {}
  void SignalGroup(int sig) override {
    got.push_back({clock_.Now(), sig});
    if (!dead_at && (sig == SIGKILL || (sig == SIGTERM && !ignores_term_))) {
      dead_at = clock_.Now();
    }
  }
  struct Got {
    MonoTime at;
    int sig;
  };
  std::vector<Got> got;
  std::optional<MonoTime> dead_at;

 private:
  const FakeClock& clock_;
  bool ignores_term_;
};

// One session with a running command: ttl 3 s, --kill-after 1 s.
class Simulation {
 public:
  static constexpr Duration kTtl = seconds(3);
  static constexpr Duration kKillAfter = seconds(1);

  explicit Simulation(bool ignores_term = false)
      : t0_(clock_.Now()),
        deadline_(kKillAfter, primitives::SafetyMargin(kTtl)),
        renewals_(kTtl),
        hold_(deadline_),
        child_(clock_, ignores_term) {
    deadline_.Renewed(t0_, kTtl);  // the grant, sent at t0
    last_answered_send_ = t0_;
    renewals_.Reset(t0_);
    supervisor::RunOptions o;
    o.kill_after = kKillAfter;
    kill_.emplace(child_, &hold_, o, t0_);
  }

  // The store answers after `rtt`; while stalled over [from, to) it
  // answers nothing, and what it received meanwhile is answered at `to`.
  void Rtt(Duration rtt) { rtt_ = rtt; }
  void Stall(Duration from, Duration to) { stalls_.push_back({from, to}); }

  // Runs every event up to t0 + `until`.
  void Run(Duration until) {
    MonoTime end = t0_ + until;
    for (;;) {
      MonoTime next = renewals_.next_send();
      if (!answers_.empty()) next = std::min(next, answers_.front());
      if (std::optional<MonoTime> w = kill_->NextWake()) {
        next = std::min(next, *w);
      }
      if (next > end) break;
      clock_.AdvanceTo(next);
      MonoTime now = clock_.Now();
      while (!answers_.empty() && answers_.front() <= now) {
        answers_.pop_front();
        if (std::optional<MonoTime> sent = renewals_.Answered()) {
          deadline_.Renewed(*sent, kTtl);
          last_answered_send_ = std::max(last_answered_send_, *sent);
        }
      }
      if (now >= renewals_.next_send()) Send(now);
      kill_->Tick(now);
    }
    clock_.AdvanceTo(end);
  }

  MonoTime t0() const { return t0_; }
  const SimChild& child() const { return child_; }
  // The earliest the store could let the lease expire.
  MonoTime earliest_expiry() const { return last_answered_send_ + kTtl; }

 private:
  void Send(MonoTime now) {
    if (!renewals_.Send(now)) {
      // The stream is presumed dead: a new one starts, and answers still
      // due on the old one are lost with it.
      answers_.clear();
      renewals_.Reset(now);
      renewals_.Send(now);
    }
    MonoTime answer = now;
    for (const auto& [from, to] : stalls_) {
      if (answer >= t0_ + from && answer < t0_ + to) answer = t0_ + to;
    }
    answer += rtt_;
    // Answers on one stream come in order.
    if (!answers_.empty()) answer = std::max(answer, answers_.back());
    answers_.push_back(answer);
  }

  FakeClock clock_;
  MonoTime t0_;
  primitives::HoldDeadline deadline_;
  backend::RenewalSchedule renewals_;
  DeadlineHold hold_;
  SimChild child_;
  std::optional<supervisor::KillSchedule> kill_;
  Duration rtt_ = milliseconds(2);
  std::vector<std::pair<Duration, Duration>> stalls_;
  std::deque<MonoTime> answers_;
  MonoTime last_answered_send_;
};

TEST(FailClosedTest, AHealthyStoreNeverSignalsTheCommand) {
  Simulation sim;
  sim.Run(seconds(600));
  EXPECT_TRUE(sim.child().got.empty());
}

TEST(FailClosedTest, AStoreSlowerThanAnIntervalButWithinBudgetIsEnough) {
  // Each answer takes 800 ms: the deadline is always a full TTL after a
  // send that is at most 1.8 s old when its answer lands.
  Simulation sim;
  sim.Rtt(milliseconds(800));
  sim.Run(seconds(600));
  EXPECT_TRUE(sim.child().got.empty());
}

TEST(FailClosedTest, HiccupsUnderTheBudgetNeverSignalAtAnyPhase) {
  // A stall of 800 ms, wherever it falls in the renewal cycle, ends
  // before the deadline of the last renewal answered before it.
  for (int phase_ms = 0; phase_ms < 1000; phase_ms += 25) {
    Simulation sim;
    Duration from = seconds(10) + milliseconds(phase_ms);
    sim.Stall(from, from + milliseconds(800));
    sim.Run(seconds(30));
    EXPECT_TRUE(sim.child().got.empty()) << "phase " << phase_ms << " ms";
  }
}

TEST(FailClosedTest, AFrozenStoreKillsTheCommandBeforeTheLeaseCanExpire) {
  // With slow answers, a deadline counted from their arrival would come
  // too late: only the send time keeps the child inside the lease.
  for (int phase_ms = 0; phase_ms < 1000; phase_ms += 25) {
    for (bool ignores_term : {false, true}) {
      for (Duration rtt : {milliseconds(2), milliseconds(800)}) {
        Simulation sim(ignores_term);
        sim.Rtt(rtt);
        sim.Stall(seconds(10) + milliseconds(phase_ms), seconds(3600));
        sim.Run(seconds(30));
        ASSERT_TRUE(sim.child().dead_at) << "phase " << phase_ms << " ms";
        EXPECT_LT(*sim.child().dead_at, sim.earliest_expiry())
            << "phase " << phase_ms << " ms";
        // SIGTERM 1.15 s and SIGKILL 150 ms before the deadline.
        ASSERT_EQ(sim.child().got.size(), 2u);
        EXPECT_EQ(sim.child().got[0].sig, SIGTERM);
        EXPECT_EQ(sim.child().got[0].at,
                  sim.earliest_expiry() - milliseconds(1150));
        EXPECT_EQ(sim.child().got[1].sig, SIGKILL);
        EXPECT_EQ(sim.child().got[1].at,
                  sim.earliest_expiry() - milliseconds(150));
      }
    }
  }
}

TEST(FailClosedTest, AStoreThatComesBackAfterSigtermDoesNotSaveTheCommand) {
  // The stall outlasts the budget; renewals succeed again 100 ms after
  // the SIGTERM. A command that ignores SIGTERM still gets SIGKILL one
  // --kill-after later, although the hold is valid again by then.
  Simulation sim(/*ignores_term=*/true);
  sim.Stall(seconds(10), seconds(12) + milliseconds(100));
  sim.Run(seconds(30));
  ASSERT_EQ(sim.child().got.size(), 2u);
  EXPECT_EQ(sim.child().got[0].sig, SIGTERM);
  EXPECT_EQ(sim.child().got[1].sig, SIGKILL);
  EXPECT_EQ(sim.child().got[1].at - sim.child().got[0].at, seconds(1));
}

}  // namespace
}  // namespace conch
