// KillSchedule: when a supervised process group gets SIGTERM and SIGKILL,
// and how its run ended. It is the fail-closed rule in one place, free of
// I/O: the run loop (supervisor/run.h) feeds it the time and what happened,
// sleeps until NextWake(), and the schedule signals the group through a
// SignalTarget. Unit tests drive it with a FakeClock and a fake child.
//
// The rules, in priority order:
//  - the hold's deadlines (primitives/hold_deadline.h): SIGTERM at
//    term_at(), SIGKILL at kill_at(). The deadlines move forward with each
//    renewal until the signal goes out. Once SIGTERM has gone out, SIGKILL
//    follows at kill_at() or kill_after later, whichever is first: renewals
//    that resume after the SIGTERM never keep alive a command that ignores
//    it.
//  - the store ends the hold (lost()): SIGTERM now, SIGKILL kill_after
//    later (or at kill_at(), if sooner).
//  - a stop signal to conch (TERM, INT, HUP, QUIT): forwarded to the group,
//    then SIGKILL kill_after after the first one. USR1 and USR2 are only
//    forwarded.
//  - a timeout (hooks): SIGKILL at start + timeout.
// SIGKILL is sent at most once; after it the schedule only waits.
//
// Thread contract: owner thread only.
#pragma once

#include <optional>
#include <string>

#include "base/clock.h"

namespace conch::supervisor {

// What the schedule needs from a hold (election, semaphore, cron claim).
class Hold {
 public:
  virtual ~Hold() = default;
  // Readable when store events are pending.
  virtual int fd() const = 0;
  // Handles pending events; afterwards lost() and the deadlines are current.
  virtual void Pump() = 0;
  // True once the store has said the hold is gone; loss() says how.
  virtual bool lost() const = 0;
  virtual std::string loss() const = 0;
  // The fail-closed deadlines (primitives/hold_deadline.h).
  virtual MonoTime term_at() const = 0;
  virtual MonoTime kill_at() const = 0;
};

// Where the schedule's signals go: a Child's process group, or a fake.
class SignalTarget {
 public:
  virtual ~SignalTarget() = default;
  virtual void SignalGroup(int sig) = 0;
};

struct RunOptions {
  std::string what = "command";  // for logs: "command", "--on-lose hook"
  Duration kill_after = std::chrono::seconds(5);
  std::optional<Duration> timeout;  // hooks: --hook-timeout
};

struct RunOutcome {
  enum class End {
    kExited,    // the process ended by itself
    kHoldLost,  // the hold was lost or about to expire; process killed
    kSignaled,  // conch received a signal and passed it on
    kTimedOut,  // the timeout passed; process killed
  };
  End end = End::kExited;
  int wait_status = 0;
  int signal = 0;      // kSignaled: the first signal conch received
  std::string reason;  // kHoldLost: why
};

// True for the signals that ask conch to stop (TERM, INT, HUP, QUIT).
bool IsStopSignal(int sig);

class KillSchedule {
 public:
  // `hold` may be null (a hook run outside the hold). Both `target` and
  // `hold` must outlive the schedule. `start` begins the timeout.
  KillSchedule(SignalTarget& target, const Hold* hold,
               const RunOptions& options, MonoTime start);

  // Applies the deadlines and the hold's loss as of `now`. Call after every
  // wake-up and after every Hold::Pump().
  void Tick(MonoTime now);
  // conch received `sig` at `now`: forwards it, and for a stop signal
  // schedules SIGKILL.
  void OnSignal(int sig, MonoTime now);
  // The loop cannot wait any more (poll failed): SIGKILL now.
  void KillNow(const std::string& why);

  // When Tick() must run next; nullopt once SIGKILL has gone out or when
  // nothing is scheduled (only events can change anything).
  std::optional<MonoTime> NextWake() const;

  // The outcome for a process that ended with `wait_status`. A failed hold
  // wins over a signal or a timeout: it is what the caller must report.
  RunOutcome Finish(int wait_status) const;

 private:
  void Send(int sig);
  void EscalateBy(MonoTime due);
  void HoldFailed(const std::string& reason);

  SignalTarget& target_;
  const Hold* const hold_;
  const RunOptions options_;
  std::optional<MonoTime> timeout_at_;

  bool term_sent_ = false;
  bool kill_sent_ = false;
  std::optional<MonoTime> kill_due_;  // SIGKILL after a SIGTERM
  bool loss_seen_ = false;
  bool hold_failed_ = false;
  RunOutcome outcome_;
};

}  // namespace conch::supervisor
