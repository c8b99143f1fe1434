#include "supervisor/run.h"

#include <signal.h>

namespace conch::supervisor {

RunOutcome RunUnderHold(EventLoop& loop, Child& child, Hold* hold,
                        SignalFd& signals, const RunOptions& options) {
  const Clock& clock = loop.clock();
  KillSchedule schedule(child, hold, options, clock.Now());
  // Registered in priority order: the child's exit is seen before a signal
  // that came with it, and both before store events. The exit itself is
  // handled at the top of each turn, by TryReap.
  EventLoop::Registration exited = loop.OnReadable(child.fd(), [] {});
  EventLoop::Registration signalled = loop.OnReadable(signals.fd(), [&] {
    while (std::optional<int> sig = signals.Read()) {
      if (*sig == SIGCHLD) {
        ReapOrphans();
      } else {
        schedule.OnSignal(*sig, clock.Now());
      }
    }
  });
  // The next Tick() applies what the events changed.
  EventLoop::Registration store;
  if (hold != nullptr) {
    store = loop.OnReadable(hold->fd(), [hold] { hold->Pump(); });
  }
  for (;;) {
    if (std::optional<int> status = child.TryReap()) {
      // Descendants that left the group (setsid) and were re-parented to
      // us go too: nothing of the command outlives it.
      KillOrphans();
      return schedule.Finish(*status);
    }
    schedule.Tick(clock.Now());
    Status waited = loop.RunOnce(schedule.NextWake());
    if (!waited.ok()) {
      // Cannot wait any more: fail closed.
      schedule.KillNow(waited.ToString());
    }
  }
}

}  // namespace conch::supervisor
