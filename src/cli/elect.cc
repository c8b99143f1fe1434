// `conch elect <office> [flags] -- cmd...`: campaign, run the command while
// leader, release. The driver reads as the steps of one round; --restart
// repeats rounds with the original's backoff.
#include "cli/elect.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "base/backoff.h"
#include "base/duration.h"
#include "base/log.h"
#include "base/signals.h"
#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "primitives/election.h"
#include "primitives/holder.h"
#include "primitives/keys.h"
#include "supervisor/run.h"

extern char** environ;

namespace conch::cli {

namespace {

using primitives::Election;
using supervisor::RunOutcome;

const char* kElectUsage =
    "usage: conch elect <office> [flags] -- cmd...\n"
    "       conch elect <office> --who | --watch | --assert [--json] "
    "[--min-rev N]\n\n"
    "Campaigns for <office> and runs cmd only while this process is the "
    "leader.\n"
    "Candidates queue in arrival order; when the leader exits, the next "
    "starts.\n"
    "If leadership cannot be renewed in time, cmd's process group gets "
    "SIGTERM\n"
    "and then SIGKILL before the store could elect anyone else.";

// Parses `conch elect` arguments. Returns the exit code to use on failure
// or help, or -1 to go on.
int ParseElect(const std::vector<std::string>& args, ElectFlags* f) {
  config::FlagSet flags(kElectUsage);
  Status env = config::RegisterGlobalFlags(flags, &f->global);
  flags.Bool("restart", &f->restart, "campaign again after the command exits");
  flags.Duration("kill-after", &f->kill_after,
                 "SIGKILL this long after SIGTERM");
  flags.Duration("wait", &f->wait,
                 "give up (exit 75) if not leader after this; 0 = forever");
  flags.Bool("nonblock", &f->nonblock, "exit 75 at once if the office is held");
  flags.String("on-acquire", &f->on_acquire,
               "shell command run on winning, before cmd; failure = exit 75",
               "CMD");
  flags.String("on-lose", &f->on_lose, "shell command run after cmd stops",
               "CMD");
  flags.Duration("hook-timeout", &f->hook_timeout,
                 "SIGKILL a hook that runs longer than this");
  flags.Bool("who", &f->who, "print the leader and exit (1 if vacant)");
  flags.Bool("watch", &f->watch, "print the leader now and at every change");
  flags.Bool("assert", &f->assert_held,
             "exit 0 if this host is the leader, else 1");
  flags.Int("min-rev", &f->min_rev, "with --assert: also require rev >= N");
  flags.Bool("json", &f->json, "JSON output for --who, --watch, --assert");

  Status s = flags.Parse(args, 1);
  if (flags.help_requested()) {
    std::fputs(flags.Usage().c_str(), stdout);
    return kExitOk;
  }
  if (s.ok()) s = env;
  if (s.ok()) s = config::ValidateGlobal(f->global);
  if (s.ok() && flags.positionals().empty()) {
    s = Error(Code::kInvalidArgument, "office name is required");
  }
  if (s.ok()) {
    f->office = flags.positionals()[0];
    s = primitives::ValidateName("office", f->office);
  }
  bool inspect = f->who || f->watch || f->assert_held;
  if (s.ok() && !inspect) {
    f->command = flags.command();
    if (f->command.empty()) {
      s = Error(Code::kInvalidArgument,
                "no command given: conch elect <office> [flags] -- cmd...");
    }
  }
  if (s.ok() && !inspect) {
    s = primitives::ValidateHoldTiming(f->global.ttl, f->kill_after);
  }
  if (s.ok() && f->hook_timeout <= Duration::zero()) {
    s = Error(Code::kInvalidArgument, "--hook-timeout must be positive");
  }
  if (s.ok() && f->nonblock && f->restart) {
    s = Error(Code::kInvalidArgument,
              "--nonblock and --restart exclude each other");
  }
  if (!s.ok()) {
    std::fprintf(stderr, "conch elect: %s (see conch elect --help)\n",
                 s.message().c_str());
    return kExitUsage;
  }
  if (f->global.quiet && std::getenv("CONCH_DEBUG") == nullptr) {
    SetLogLevel(LogLevel::kWarn);
  }
  return -1;
}

// The environment for the command and hooks: ours, plus the fencing
// variables, which replace any inherited ones.
std::vector<std::string> ChildEnvironment(const Election& e) {
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
  env.push_back("CONCH_NAME=" + e.office());
  env.push_back("CONCH_REV=" + std::to_string(e.revision()));
  env.push_back("CONCH_LEASE=" + primitives::LeaseHex(e.lease_id()));
  return env;
}

// Adapts an Election to what the supervisor's run loop needs.
class ElectionHold final : public supervisor::Hold {
 public:
  explicit ElectionHold(Election& e) : e_(e) {}
  int fd() const override { return e_.fd(); }
  void Pump() override {
    Status s = e_.Pump();
    if (!s.ok()) LogWarn(s.ToString());
  }
  bool lost() const override { return e_.state() == Election::State::kLost; }
  std::string loss() const override { return e_.loss().ToString(); }
  MonoTime term_at() const override { return e_.deadline().term_at(); }
  MonoTime kill_at() const override { return e_.deadline().kill_at(); }

 private:
  Election& e_;
};

// How one round ended.
struct Round {
  int exit_code = 0;
  bool final = false;  // end the process even under --restart
  Duration run_length{0};
};

Round Final(int code) { return {code, true, Duration::zero()}; }
Round Retry(int code) { return {code, false, Duration::zero()}; }

// Waits until `e` leads, is lost, or the wait ends. Returns nullopt once
// leader, otherwise the round's end. The caller resigns.
std::optional<Round> AwaitLeadership(Election& e, SignalFd& signals,
                                     const ElectFlags& f) {
  if (e.state() == Election::State::kWaiting) {
    if (f.nonblock) {
      LogInfo("office \"" + f.office + "\" is held; not waiting (--nonblock)");
      return Final(kExitNotAcquired);
    }
    LogInfo("waiting for office \"" + f.office + "\"");
  }
  std::optional<MonoTime> give_up;
  if (f.wait > Duration::zero()) give_up = MonoNow() + f.wait;
  while (e.state() == Election::State::kWaiting) {
    std::optional<MonoTime> wake = give_up;
    if (e.needs_retry()) {
      MonoTime retry = MonoNow() + std::chrono::milliseconds(200);
      wake = wake ? std::min(*wake, retry) : retry;
    }
    std::array<int, 2> fds = {signals.fd(), e.fd()};
    Result<int> ready = WaitReadable(fds, wake);
    if (!ready.ok()) {
      LogError(ready.status().ToString());
      return Final(kExitNotAcquired);
    }
    if (*ready == 0) {
      std::optional<int> sig = signals.Read();
      if (sig && supervisor::IsStopSignal(*sig)) {
        LogInfo("signal " + std::to_string(*sig) +
                " while waiting; withdrawing the candidacy");
        return Final(ExitCodeForSignal(*sig));
      }
      continue;
    }
    if (*ready == -1 && give_up && MonoNow() >= *give_up) {
      LogInfo("not leader of \"" + f.office + "\" after " +
              FormatDuration(f.wait) + " (--wait); giving up");
      return Final(kExitNotAcquired);
    }
    Status s = e.Pump();
    if (!s.ok()) LogWarn(s.ToString());
  }
  if (e.state() == Election::State::kLost) {
    LogWarn("candidacy lost while waiting: " + e.loss().ToString());
    return Retry(kExitNotAcquired);
  }
  return std::nullopt;
}

// Runs a hook (sh -c CMD) under the hold if it is still valid.
RunOutcome RunHook(const std::string& what, const std::string& cmd, Election& e,
                   SignalFd& signals, const ElectFlags& f, bool under_hold) {
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
  ElectionHold hold(e);
  supervisor::RunOptions ro;
  ro.what = what;
  ro.kill_after = f.kill_after;
  ro.timeout = f.hook_timeout;
  RunOutcome out = supervisor::RunUnderHold(*hook, under_hold ? &hold : nullptr,
                                            signals, ro);
  if (out.end != RunOutcome::End::kExited || out.wait_status != 0) {
    LogWarn(what +
            " failed: " + supervisor::DescribeWaitStatus(out.wait_status));
  }
  return out;
}

// One round: campaign, wait, run, release.
Round RunRound(backend::Backend& backend, SignalFd& signals,
               const ElectFlags& f, const std::string& holder,
               bool first_round) {
  primitives::ElectionOptions eo;
  eo.office = f.office;
  eo.value = holder;
  eo.ttl = f.global.ttl;
  eo.kill_after = f.kill_after;
  eo.request_timeout = f.global.dial_timeout;
  Election e(&backend, eo);

  // 1. Queue for the office.
  Status s = e.Campaign();
  if (!s.ok()) {
    int code =
        ReportStartError(s.With("campaign for \"" + f.office + "\""), f.global);
    return {code, first_round || code == kExitUsage, Duration::zero()};
  }
  // 2. Wait our turn.
  if (std::optional<Round> r = AwaitLeadership(e, signals, f)) return *r;
  LogInfo("leader of \"" + f.office + "\" (rev " +
          std::to_string(e.revision()) + ", lease " +
          primitives::LeaseHex(e.lease_id()) + ")");
  if (!e.deadline().Usable(MonoNow())) {
    LogWarn("leadership came too late to renew in time; not starting");
    return Retry(kExitNotAcquired);
  }
  // 3. The acquire hook runs only while the hold is valid.
  if (!f.on_acquire.empty()) {
    RunOutcome h =
        RunHook("--on-acquire hook", f.on_acquire, e, signals, f, true);
    if (h.end == RunOutcome::End::kSignaled) {
      return Final(ExitCodeForSignal(h.signal));
    }
    if (h.end != RunOutcome::End::kExited || h.wait_status != 0 ||
        e.state() != Election::State::kLeader) {
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
  MonoTime started = MonoNow();
  LogDebug("command started, pid " + std::to_string(child->pid()));
  ElectionHold hold(e);
  supervisor::RunOptions ro;
  ro.kill_after = f.kill_after;
  RunOutcome out = supervisor::RunUnderHold(*child, &hold, signals, ro);
  Round round;
  round.run_length = MonoNow() - started;
  round.exit_code = supervisor::ExitCodeFromWaitStatus(out.wait_status);
  LogDebug("command reaped");
  if (out.end == RunOutcome::End::kHoldLost) {
    LogError("leadership of \"" + f.office + "\" lost: " + out.reason +
             "; command " + supervisor::DescribeWaitStatus(out.wait_status));
    round.exit_code = kExitHoldLost;
  } else {
    LogInfo("command " + supervisor::DescribeWaitStatus(out.wait_status));
  }
  round.final = out.end == RunOutcome::End::kSignaled;
  // 5. The lose hook; still under the hold when it is intact.
  if (!f.on_lose.empty()) {
    bool intact =
        e.state() == Election::State::kLeader && e.deadline().Usable(MonoNow());
    RunOutcome h = RunHook("--on-lose hook", f.on_lose, e, signals, f, intact);
    if (h.end == RunOutcome::End::kSignaled) round.final = true;
  }
  // 6. Release at once so the next candidate starts now, not after a TTL.
  if (Status r = e.Resign(); !r.ok()) LogWarn(r.ToString());
  LogDebug("released");
  return round;
}

}  // namespace

std::unique_ptr<backend::Backend> OpenBackendOrReport(
    const config::GlobalConfig& global) {
  backend::BackendOptions bo;
  bo.endpoints = global.EndpointList();
  bo.dial_timeout = global.dial_timeout;
  Result<std::unique_ptr<backend::Backend>> b = backend::OpenEtcd(bo);
  if (!b.ok()) {
    std::fprintf(stderr, "conch: %s\n", b.status().message().c_str());
    return nullptr;
  }
  return std::move(b).value();
}

int ReportStartError(const Status& status, const config::GlobalConfig& global) {
  int code = ExitCodeForStartError(status);
  if (code == kExitUnavailable) {
    LogError("etcd unreachable at " + global.endpoints + " within " +
             FormatDuration(global.dial_timeout) + ": " + status.ToString());
  } else {
    LogError(status.ToString());
  }
  return code;
}

int RunElect(const std::vector<std::string>& args) {
  ElectFlags f;
  if (int code = ParseElect(args, &f); code >= 0) return code;
  std::unique_ptr<backend::Backend> owned = OpenBackendOrReport(f.global);
  if (!owned) return kExitUsage;
  // The connection lives until the process exits (main skips teardown):
  // closing a gRPC channel joins its threads and only delays the exit.
  backend::Backend* backend = owned.release();
  if (f.assert_held) return ElectAssert(f, *backend);
  if (f.who) return ElectWho(f, *backend);
  if (f.watch) return ElectWatch(f, *backend);

  Result<SignalFd> signals = SignalFd::Open();
  if (!signals.ok()) {
    LogError(signals.status().ToString());
    return kExitNotAcquired;
  }
  primitives::Holder holder;
  holder.host = primitives::LocalHostname();
  holder.pid = ::getpid();
  holder.started = UtcNowRfc3339();
  holder.cmd = primitives::JoinCommand(f.command);
  std::string value = primitives::EncodeHolder(holder);

  RestartBackoff backoff;
  for (bool first = true;; first = false) {
    Round r = RunRound(*backend, *signals, f, value, first);
    if (!f.restart || r.final) return r.exit_code;
    // --restart: back off, measured from when the command started.
    Duration delay = backoff.Next(r.run_length);
    LogInfo("campaigning again in " + FormatDuration(delay) + " (--restart)");
    std::array<int, 1> fds = {signals->fd()};
    MonoTime until = MonoNow() + delay;
    while (MonoNow() < until) {
      Result<int> ready = WaitReadable(fds, until);
      if (!ready.ok() || *ready != 0) continue;
      std::optional<int> sig = signals->Read();
      if (sig && supervisor::IsStopSignal(*sig)) return ExitCodeForSignal(*sig);
    }
  }
}

}  // namespace conch::cli
