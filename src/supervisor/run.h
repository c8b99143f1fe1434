// RunUnderHold: supervises one spawned process (the command, or a hook)
// while a cluster-wide hold is valid, and fails closed.
//
// The loop polls, in priority order: the process's exit, conch's signals,
// and the hold's store events. It ends only when the process has been
// reaped, so no path leaves it running:
//  - the process exits: any group members left behind are SIGKILLed, and
//    so are descendants that left the group and were re-parented to conch
//    (a subreaper, see BecomeSubreaper());
//  - the hold's fail-closed deadline: SIGTERM to the group at term_at(),
//    SIGKILL at kill_at();
//  - the store ends the hold (lost()): SIGTERM now, SIGKILL after
//    kill_after;
//  - a signal to conch (TERM, INT, HUP, QUIT): forwarded to the group, then
//    SIGKILL after kill_after; USR1/USR2 are forwarded only;
//  - a timeout (hooks): SIGKILL to the group.
//
// Thread contract: owner thread only; blocks until the process is reaped.
#pragma once

#include <optional>
#include <string>

#include "base/clock.h"
#include "base/signals.h"
#include "supervisor/spawn.h"

namespace conch::supervisor {

// What the loop needs from a hold (election, semaphore, cron claim).
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

RunOutcome RunUnderHold(Child& child, Hold* hold, SignalFd& signals,
                        const RunOptions& options);

// True for the signals that ask conch to stop (TERM, INT, HUP, QUIT).
bool IsStopSignal(int sig);

}  // namespace conch::supervisor
