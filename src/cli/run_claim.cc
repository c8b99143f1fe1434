#include "cli/run_claim.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "base/backoff.h"
#include "base/duration.h"
#include "base/log.h"
#include "base/signals.h"
#include "cli/elect.h"
#include "cli/exit_codes.h"
#include "cli/rounds.h"
#include "primitives/hold_deadline.h"
#include "primitives/holder.h"
#include "primitives/keys.h"
#include "supervisor/run.h"

extern char** environ;

namespace conch::cli {

namespace {

using primitives::Claim;
using supervisor::RunOutcome;

// The environment for the command and hooks: ours, plus the fencing
// variables, which replace any inherited ones.
std::vector<std::string> ChildEnvironment(const Claim& e) {
  std::vector<std::string> env;
  for (char** p = environ; *p != nullptr; ++p) {
    std::string entry = *p;
    if (entry.rfind("CONCH_NAME=", 0) == 0 ||
        entry.rfind("CONCH_REV=", 0) == 0 ||
        entry.rfind("CONCH_LEASE=", 0) == 0) {
      continue;
    }
    env.push_back(std::move(entry));
  }
  env.push_back("CONCH_NAME=" + e.name());
  env.push_back("CONCH_REV=" + std::to_string(e.revision()));
  env.push_back("CONCH_LEASE=" + primitives::LeaseHex(e.session_id()));
  return env;
}

// Adapts a Claim to what the supervisor's run loop needs.
class ClaimHold final : public supervisor::Hold {
 public:
  explicit ClaimHold(Claim& e) : e_(e) {}
  int fd() const override { return e_.fd(); }
  void Pump() override {
    Status s = e_.Pump();
    if (!s.ok()) LogWarn(s.ToString());
  }
  bool lost() const override { return e_.state() == Claim::State::kLost; }
  std::string loss() const override { return e_.loss().ToString(); }
  MonoTime term_at() const override { return e_.deadline().term_at(); }
  MonoTime kill_at() const override { return e_.deadline().kill_at(); }

 private:
  Claim& e_;
};

Round Final(int code) { return {code, true, Duration::zero()}; }
Round Retry(int code) { return {code, false, Duration::zero()}; }

// How one wait of a claim that runs nothing ended.
struct Woken {
  std::optional<Round> end;  // a stop signal, or the wait failed
  bool timed_out = false;    // `wake` came first
};

// Waits until `wake` for conch's signals and the claim's store events, and
// pumps the events. A stop signal ends the round with 128+N, logged as
// "signal N <doing>".
Woken WaitOnClaim(EventLoop& loop, Claim& e, SignalFd& signals,
                  std::optional<MonoTime> wake, const std::string& doing) {
  Woken out;
  bool woke = false;
  // Signals first: a stop signal wins over store events that came with it.
  EventLoop::Registration signalled = loop.OnReadable(signals.fd(), [&] {
    woke = true;
    std::optional<int> sig = signals.Read();
    if (sig && supervisor::IsStopSignal(*sig)) {
      LogInfo("signal " + std::to_string(*sig) + " " + doing);
      out.end = Final(ExitCodeForSignal(*sig));
    }
  });
  EventLoop::Registration store = loop.OnReadable(e.fd(), [&] {
    woke = true;
    Status s = e.Pump();
    if (!s.ok()) LogWarn(s.ToString());
  });
  Status waited = loop.RunOnce(wake);
  if (!waited.ok()) {
    LogError(waited.ToString());
    return {Final(kExitNotAcquired)};
  }
  out.timed_out = !woke;
  return out;
}

// Waits until `e` holds, is lost, or the wait ends. Returns nullopt once
// held, otherwise the round's end. The caller releases.
std::optional<Round> AwaitHold(EventLoop& loop, Claim& e, SignalFd& signals,
                               const RunFlags& f, const std::string& what) {
  if (e.state() == Claim::State::kWaiting) {
    if (f.nonblock) {
      LogInfo(what + " is taken; not waiting (--nonblock)");
      return Final(kExitNotAcquired);
    }
    LogInfo("waiting for " + what);
  }
  const Clock& clock = e.clock();
  std::optional<MonoTime> give_up;
  if (f.wait > Duration::zero()) give_up = clock.Now() + f.wait;
  while (e.state() == Claim::State::kWaiting) {
    // A waiter whose session could have expired has lost its place in
    // line (a partitioned store expired the lease; a frozen one may never
    // answer): give up rather than hang.
    if (clock.Now() >= e.deadline().valid_until()) {
      LogWarn(
          "candidacy lost while waiting: the session could not be "
          "renewed within its TTL");
      return Retry(kExitNotAcquired);
    }
    std::optional<MonoTime> wake = e.deadline().valid_until();
    if (give_up) wake = std::min(*wake, *give_up);
    if (e.needs_retry()) {
      wake = std::min(*wake, clock.Now() + std::chrono::milliseconds(200));
    }
    Woken w = WaitOnClaim(loop, e, signals, wake,
                          "while waiting; withdrawing the candidacy");
    if (w.end) return w.end;
    if (!w.timed_out) continue;
    if (give_up && clock.Now() >= *give_up) {
      LogInfo("not holding " + what + " after " + FormatDuration(f.wait) +
              " (--wait); giving up");
      return Final(kExitNotAcquired);
    }
    // The read retry timer: read the queue again.
    Status s = e.Pump();
    if (!s.ok()) LogWarn(s.ToString());
  }
  if (e.state() == Claim::State::kLost) {
    LogWarn("candidacy lost while waiting: " + e.loss().ToString());
    return Retry(kExitNotAcquired);
  }
  return std::nullopt;
}

// Runs a hook (sh -c CMD) under the hold if it is still valid.
RunOutcome RunHook(EventLoop& loop, const std::string& what,
                   const std::string& cmd, Claim& e, SignalFd& signals,
                   const RunFlags& f, bool under_hold) {
  RunOutcome failed;
  failed.end = RunOutcome::End::kExited;
  failed.wait_status = 127 << 8;
  supervisor::SpawnOptions opts;
  opts.argv = {"/bin/sh", "-c", cmd};
  opts.env = ChildEnvironment(e);
  opts.stdin_null = true;
  Result<supervisor::Child> hook = supervisor::Child::Spawn(opts);
  if (!hook.ok()) {
    LogError(what + ": " + hook.status().ToString());
    return failed;
  }
  ClaimHold hold(e);
  supervisor::RunOptions ro;
  ro.what = what;
  ro.kill_after = f.kill_after;
  ro.timeout = f.hook_timeout;
  RunOutcome out = supervisor::RunUnderHold(
      loop, *hook, under_hold ? &hold : nullptr, signals, ro);
  if (out.end != RunOutcome::End::kExited || out.wait_status != 0) {
    LogWarn(what +
            " failed: " + supervisor::DescribeWaitStatus(out.wait_status));
  }
  return out;
}

// One round: queue, wait, run, release.
Round RunRound(EventLoop& loop, const MakeClaim& make_claim, SignalFd& signals,
               const RunFlags& f, const std::string& what, bool first_round) {
  std::unique_ptr<Claim> claim = make_claim();
  Claim& e = *claim;

  // 1. Queue.
  Status s = e.Acquire();
  if (!s.ok()) {
    int code = ReportStartError(s.With("queue for " + what), f.global);
    return {code, first_round || code == kExitUsage, Duration::zero()};
  }
  // 2. Wait our turn.
  if (std::optional<Round> r = AwaitHold(loop, e, signals, f, what)) {
    return *r;
  }
  LogInfo("holding " + what + " (rev " + std::to_string(e.revision()) +
          ", lease " + primitives::LeaseHex(e.session_id()) + ")");
  // A command starts only with at least kill-after and the margin left.
  if (std::optional<Round> r = AwaitUsable(loop, e, signals)) return *r;
  const Clock& clock = e.clock();
  // 3. The acquire hook runs only while the hold is valid.
  if (!f.on_acquire.empty()) {
    RunOutcome h =
        RunHook(loop, "--on-acquire hook", f.on_acquire, e, signals, f, true);
    if (h.end == RunOutcome::End::kSignaled) {
      return Final(ExitCodeForSignal(h.signal));
    }
    if (h.end != RunOutcome::End::kExited || h.wait_status != 0 ||
        e.state() != Claim::State::kHeld) {
      return Retry(kExitNotAcquired);
    }
  }
  // 4. Run the command under the hold.
  supervisor::SpawnOptions so;
  so.argv = f.command;
  so.env = ChildEnvironment(e);
  Result<supervisor::Child> child = supervisor::Child::Spawn(so);
  if (!child.ok()) {
    LogError(child.status().ToString());
    return Final(child.status().code() == Code::kNotFound ? kExitNotFound
                                                          : kExitCannotExec);
  }
  MonoTime started = clock.Now();
  LogDebug("command started, pid " + std::to_string(child->pid()));
  ClaimHold hold(e);
  supervisor::RunOptions ro;
  ro.kill_after = f.kill_after;
  RunOutcome out = supervisor::RunUnderHold(loop, *child, &hold, signals, ro);
  Round round;
  round.run_length = clock.Now() - started;
  round.exit_code = supervisor::ExitCodeFromWaitStatus(out.wait_status);
  LogDebug("command reaped");
  if (out.end == RunOutcome::End::kHoldLost) {
    LogError(what + " lost: " + out.reason + "; command " +
             supervisor::DescribeWaitStatus(out.wait_status));
    round.exit_code = kExitHoldLost;
  } else {
    LogInfo("command " + supervisor::DescribeWaitStatus(out.wait_status));
  }
  round.final = out.end == RunOutcome::End::kSignaled;
  // 5. The lose hook; still under the hold when it is intact.
  if (!f.on_lose.empty()) {
    bool intact =
        e.state() == Claim::State::kHeld && e.deadline().Usable(clock.Now());
    RunOutcome h =
        RunHook(loop, "--on-lose hook", f.on_lose, e, signals, f, intact);
    if (h.end == RunOutcome::End::kSignaled) round.final = true;
  }
  // 6. Release at once so the next candidate starts now, not after a TTL.
  if (Status r = e.Release(); !r.ok()) LogWarn(r.ToString());
  LogDebug("released");
  return round;
}

// Waits `delay` between rounds. Returns the exit code if a stop signal
// came meanwhile.
std::optional<int> PauseUnlessStopped(EventLoop& loop, SignalFd& signals,
                                      Duration delay) {
  std::optional<int> stopped;
  EventLoop::Registration signalled = loop.OnReadable(signals.fd(), [&] {
    while (std::optional<int> sig = signals.Read()) {
      if (supervisor::IsStopSignal(*sig)) {
        stopped = ExitCodeForSignal(*sig);
        return;
      }
    }
  });
  const MonoTime until = loop.clock().Now() + delay;
  while (!stopped && loop.clock().Now() < until) {
    Result<bool> done =
        loop.RunUntil([&] { return stopped.has_value(); }, until);
    if (!done.ok()) LogWarn(done.status().ToString());
  }
  return stopped;
}

}  // namespace

std::optional<Round> AwaitUsable(EventLoop& loop, Claim& e, SignalFd& signals) {
  const Clock& clock = e.clock();
  while (!e.deadline().Usable(clock.Now())) {
    if (e.state() != Claim::State::kHeld) {
      LogWarn("hold lost before the command started: " + e.loss().ToString());
      return Retry(kExitNotAcquired);
    }
    MonoTime valid_until = e.deadline().valid_until();
    if (clock.Now() >= valid_until) {
      LogWarn("the hold could not be renewed in time; not starting");
      return Retry(kExitNotAcquired);
    }
    Woken w = WaitOnClaim(loop, e, signals, valid_until,
                          "before the command started; releasing");
    if (w.end) return w.end;
  }
  return std::nullopt;
}

primitives::SessionOptions SessionFor(const RunFlags& flags) {
  primitives::SessionOptions o;
  o.ttl = flags.global.ttl;
  o.kill_after = flags.kill_after;
  o.request_timeout = flags.global.dial_timeout;
  return o;
}

primitives::Holder MakeHolder(const std::vector<std::string>& command) {
  primitives::Holder holder;
  holder.host = primitives::LocalHostname();
  holder.pid = ::getpid();
  holder.started = UtcNowRfc3339();
  holder.cmd = primitives::JoinCommand(command);
  return holder;
}

int RunClaimLoop(const RunFlags& f, const MakeClaim& make_claim,
                 const std::string& what, const Clock& clock) {
  Result<SignalFd> signals = SignalFd::Open();
  if (!signals.ok()) {
    LogError(signals.status().ToString());
    return kExitNotAcquired;
  }
  // Orphaned descendants of the command are re-parented to us, not init,
  // so that they can be killed with it.
  if (Status s = supervisor::BecomeSubreaper(); !s.ok()) LogWarn(s.ToString());
  if (f.kill_after_adapted) {
    LogDebug(
        "--kill-after not given; its default cannot fail closed with "
        "--ttl " +
        FormatDuration(f.global.ttl) + ", so it is " +
        FormatDuration(f.kill_after));
  }
  EventLoop loop(clock);
  RestartBackoff backoff;
  return RunRounds(
      f.restart, backoff,
      [&](bool first) {
        return RunRound(loop, make_claim, *signals, f, what, first);
      },
      [&](Duration delay) {
        return PauseUnlessStopped(loop, *signals, delay);
      });
}

}  // namespace conch::cli
