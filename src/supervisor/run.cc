#include "supervisor/run.h"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <array>

#include "base/duration.h"
#include "base/log.h"

namespace conch::supervisor {

bool IsStopSignal(int sig) {
  return sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT;
}

namespace {

std::string SigName(int sig) {
  const char* name = sigabbrev_np(sig);
  return std::string("SIG") + (name ? name : "?");
}

// The loop's state: what has been sent, and when SIGKILL is due.
struct Shutdown {
  bool term_sent = false;
  bool kill_sent = false;
  std::optional<MonoTime> kill_due;  // graceful escalation

  void Escalate(MonoTime due) {
    kill_due = kill_due ? std::min(*kill_due, due) : due;
  }
};

}  // namespace

RunOutcome RunUnderHold(Child& child, Hold* hold, SignalFd& signals,
                        const RunOptions& options) {
  RunOutcome out;
  Shutdown sd;
  bool hold_failed = false;
  std::optional<MonoTime> timeout_at;
  if (options.timeout) timeout_at = MonoNow() + *options.timeout;

  for (;;) {
    if (std::optional<int> status = child.TryReap()) {
      // Descendants that left the group (setsid) and were re-parented to
      // us go too: nothing of the command outlives it.
      KillOrphans(-1);
      out.wait_status = *status;
      if (hold_failed) out.end = RunOutcome::End::kHoldLost;
      return out;
    }
    MonoTime now = MonoNow();
    // Fail-closed deadlines come from the hold and may move forward with
    // each renewal until the first signal has gone out.
    if (hold != nullptr && !sd.kill_sent && now >= hold->kill_at()) {
      LogWarn(options.what + ": hold deadline reached; SIGKILL to group");
      child.SignalGroup(SIGKILL);
      sd.kill_sent = true;
      if (!hold_failed) {
        hold_failed = true;
        out.reason = "the hold could not be renewed in time";
      }
    } else if (hold != nullptr && !sd.term_sent && now >= hold->term_at()) {
      LogWarn(options.what +
              ": hold could not be renewed; SIGTERM to group, "
              "SIGKILL in " +
              FormatDuration(hold->kill_at() - now));
      child.SignalGroup(SIGTERM);
      sd.term_sent = true;
      hold_failed = true;
      out.reason = "the hold could not be renewed in time";
    }
    if (!sd.kill_sent && sd.kill_due && now >= *sd.kill_due) {
      LogWarn(options.what + ": still running after " +
              FormatDuration(options.kill_after) + "; SIGKILL to group");
      child.SignalGroup(SIGKILL);
      sd.kill_sent = true;
    }
    if (!sd.kill_sent && timeout_at && now >= *timeout_at) {
      LogWarn(options.what + ": timed out after " +
              FormatDuration(*options.timeout) + "; SIGKILL to group");
      child.SignalGroup(SIGKILL);
      sd.kill_sent = true;
      if (out.end == RunOutcome::End::kExited) {
        out.end = RunOutcome::End::kTimedOut;
      }
    }

    std::optional<MonoTime> wake;
    auto consider = [&wake](MonoTime t) {
      wake = wake ? std::min(*wake, t) : t;
    };
    if (!sd.kill_sent) {
      if (hold != nullptr)
        consider(sd.term_sent ? hold->kill_at() : hold->term_at());
      if (sd.kill_due) consider(*sd.kill_due);
      if (timeout_at) consider(*timeout_at);
    }
    std::array<int, 3> fds = {child.fd(), signals.fd(),
                              hold != nullptr ? hold->fd() : -1};
    Result<int> ready = WaitReadable(fds, wake);
    if (!ready.ok()) {
      // Cannot wait any more: fail closed.
      LogError(ready.status().ToString());
      child.SignalGroup(SIGKILL);
      sd.kill_sent = true;
      continue;
    }
    if (*ready == 1) {
      while (std::optional<int> sig = signals.Read()) {
        if (*sig == SIGCHLD) {
          ReapOrphans(child.pid());
          continue;
        }
        child.SignalGroup(*sig);
        if (!IsStopSignal(*sig)) continue;
        LogInfo("received " + SigName(*sig) + "; passed it to the " +
                options.what);
        if (out.signal == 0) out.signal = *sig;
        if (out.end == RunOutcome::End::kExited) {
          out.end = RunOutcome::End::kSignaled;
        }
        sd.term_sent = true;
        sd.Escalate(MonoNow() + options.kill_after);
      }
    } else if (*ready == 2) {
      hold->Pump();
      if (hold->lost() && !hold_failed) {
        hold_failed = true;
        out.reason = hold->loss();
        LogWarn("hold lost: " + out.reason + "; SIGTERM to " + options.what +
                " group");
        child.SignalGroup(SIGTERM);
        sd.term_sent = true;
        sd.Escalate(MonoNow() + options.kill_after);
      }
    }
  }
}

}  // namespace conch::supervisor
