#include "supervisor/run.h"

#include <signal.h>

#include <array>

namespace conch::supervisor {

RunOutcome RunUnderHold(Child& child, Hold* hold, SignalFd& signals,
                        const RunOptions& options, const Clock& clock) {
  KillSchedule schedule(child, hold, options, clock.Now());
  for (;;) {
    if (std::optional<int> status = child.TryReap()) {
      // Descendants that left the group (setsid) and were re-parented to
      // us go too: nothing of the command outlives it.
      KillOrphans(-1);
      return schedule.Finish(*status);
    }
    schedule.Tick(clock.Now());
    std::array<int, 3> fds = {child.fd(), signals.fd(),
                              hold != nullptr ? hold->fd() : -1};
    Result<int> ready = WaitReadable(fds, schedule.NextWake(), clock);
    if (!ready.ok()) {
      // Cannot wait any more: fail closed.
      schedule.KillNow(ready.status().ToString());
      continue;
    }
    if (*ready == 1) {
      while (std::optional<int> sig = signals.Read()) {
        if (*sig == SIGCHLD) {
          ReapOrphans(child.pid());
        } else {
          schedule.OnSignal(*sig, clock.Now());
        }
      }
    } else if (*ready == 2) {
      // The next Tick() applies what the events changed.
      hold->Pump();
    }
  }
}

}  // namespace conch::supervisor
