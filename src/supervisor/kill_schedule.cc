#include "supervisor/kill_schedule.h"

#include <signal.h>
#include <string.h>

#include <algorithm>

#include "base/duration.h"
#include "base/log.h"

namespace conch::supervisor {

namespace {

constexpr const char* kNotRenewed = "the hold could not be renewed in time";

std::string SigName(int sig) {
  const char* name = sigabbrev_np(sig);
  return std::string("SIG") + (name ? name : "?");
}

}  // namespace

bool IsStopSignal(int sig) {
  return sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT;
}

KillSchedule::KillSchedule(SignalTarget& target, const Hold* hold,
                           const RunOptions& options, MonoTime start)
    : target_(target), hold_(hold), options_(options) {
  if (options_.timeout) timeout_at_ = start + *options_.timeout;
}

void KillSchedule::Send(int sig) {
  target_.SignalGroup(sig);
  if (sig == SIGKILL) kill_sent_ = true;
  if (sig == SIGTERM) term_sent_ = true;
}

void KillSchedule::EscalateBy(MonoTime due) {
  kill_due_ = kill_due_ ? std::min(*kill_due_, due) : due;
}

void KillSchedule::HoldFailed(const std::string& reason) {
  if (hold_failed_) return;
  hold_failed_ = true;
  outcome_.reason = reason;
}

void KillSchedule::Tick(MonoTime now) {
  if (kill_sent_) return;
  // 1. The deadlines: nothing may run once the hold could have expired.
  if (hold_ != nullptr && now >= hold_->kill_at()) {
    LogWarn(options_.what + ": hold deadline reached; SIGKILL to group");
    Send(SIGKILL);
    HoldFailed(kNotRenewed);
    return;
  }
  if (hold_ != nullptr && !term_sent_ && now >= hold_->term_at()) {
    LogWarn(options_.what + ": hold could not be renewed; SIGTERM to group, " +
            "SIGKILL in " + FormatDuration(hold_->kill_at() - now));
    Send(SIGTERM);
    HoldFailed(kNotRenewed);
    EscalateBy(now + options_.kill_after);
  }
  // 2. The store ended the hold.
  if (hold_ != nullptr && !loss_seen_ && hold_->lost()) {
    loss_seen_ = true;
    if (!hold_failed_) {
      HoldFailed(hold_->loss());
      LogWarn("hold lost: " + outcome_.reason + "; SIGTERM to " +
              options_.what + " group");
      Send(SIGTERM);
      EscalateBy(now + options_.kill_after);
    }
  }
  // 3. SIGTERM was not enough.
  if (kill_due_ && now >= *kill_due_) {
    LogWarn(options_.what + ": still running " +
            FormatDuration(options_.kill_after) +
            " after SIGTERM; SIGKILL to group");
    Send(SIGKILL);
    return;
  }
  // 4. A hook ran too long.
  if (timeout_at_ && now >= *timeout_at_) {
    LogWarn(options_.what + ": timed out after " +
            FormatDuration(*options_.timeout) + "; SIGKILL to group");
    Send(SIGKILL);
    if (outcome_.end == RunOutcome::End::kExited) {
      outcome_.end = RunOutcome::End::kTimedOut;
    }
  }
}

void KillSchedule::OnSignal(int sig, MonoTime now) {
  target_.SignalGroup(sig);
  if (!IsStopSignal(sig)) return;
  LogInfo("received " + SigName(sig) + "; passed it to the " + options_.what);
  if (outcome_.signal == 0) outcome_.signal = sig;
  if (outcome_.end == RunOutcome::End::kExited) {
    outcome_.end = RunOutcome::End::kSignaled;
  }
  // The group has been asked to stop: the deadline's SIGTERM would add
  // nothing, and SIGKILL follows the first stop signal.
  term_sent_ = true;
  if (!kill_sent_) EscalateBy(now + options_.kill_after);
}

void KillSchedule::KillNow(const std::string& why) {
  LogError(why);
  if (!kill_sent_) Send(SIGKILL);
}

std::optional<MonoTime> KillSchedule::NextWake() const {
  if (kill_sent_) return std::nullopt;
  std::optional<MonoTime> wake;
  auto consider = [&wake](MonoTime t) { wake = wake ? std::min(*wake, t) : t; };
  if (hold_ != nullptr)
    consider(term_sent_ ? hold_->kill_at() : hold_->term_at());
  if (kill_due_) consider(*kill_due_);
  if (timeout_at_) consider(*timeout_at_);
  return wake;
}

RunOutcome KillSchedule::Finish(int wait_status) const {
  RunOutcome out = outcome_;
  out.wait_status = wait_status;
  if (hold_failed_) out.end = RunOutcome::End::kHoldLost;
  return out;
}

}  // namespace conch::supervisor
