#include "cli/run_flags.h"

#include "backend/store.h"
#include "primitives/hold_deadline.h"
#include "primitives/keys.h"

namespace conch::cli {

void RegisterRunFlags(config::FlagSet& flags, RunFlags* f) {
  flags.Bool("restart", &f->restart,
             "run again after the command exits, with backoff");
  flags.Duration("kill-after", &f->kill_after,
                 "SIGKILL this long after SIGTERM");
  flags.Bool("nonblock", &f->nonblock, "exit 75 at once if not admitted");
  flags.String("on-acquire", &f->on_acquire,
               "shell command run on acquiring, before cmd; failure = exit 75",
               "CMD");
  flags.String("on-lose", &f->on_lose, "shell command run after cmd stops",
               "CMD");
  flags.Duration("hook-timeout", &f->hook_timeout,
                 "SIGKILL a hook that runs longer than this");
}

namespace {

// The TTL must be one the store can grant; which depends on the store the
// endpoints name.
Status CheckStoreTtl(const config::GlobalConfig& global) {
  Result<backend::StoreAddress> address =
      backend::ParseStoreAddress(global.endpoints);
  if (!address.ok()) return address.status();
  return backend::CheckTtl(address->kind, global.ttl);
}

}  // namespace

void AdaptKillAfter(RunFlags* f, bool given) {
  const Duration ttl = f->global.ttl;
  if (given || !CheckStoreTtl(f->global).ok() ||
      primitives::ValidateHoldTiming(ttl, f->kill_after).ok()) {
    return;
  }
  f->kill_after = primitives::MaxKillAfter(ttl);
  f->kill_after_adapted = true;
}

Status ValidateRunFlags(const RunFlags& f, const std::string& usage_hint) {
  if (f.command.empty()) {
    return Error(Code::kInvalidArgument, "no command given: " + usage_hint);
  }
  CONCH_RETURN_IF_ERROR(CheckStoreTtl(f.global));
  CONCH_RETURN_IF_ERROR(
      primitives::ValidateHoldTiming(f.global.ttl, f.kill_after));
  if (f.hook_timeout <= Duration::zero()) {
    return Error(Code::kInvalidArgument, "--hook-timeout must be positive");
  }
  if (f.nonblock && f.restart) {
    return Error(Code::kInvalidArgument,
                 "--nonblock and --restart exclude each other");
  }
  return Status::Ok();
}

Result<bool> ParseNamed(config::FlagSet& flags, const Status& env,
                        const std::vector<std::string>& args,
                        const std::string& kind, std::string* name) {
  CONCH_RETURN_IF_ERROR(flags.Parse(args, 1));
  if (flags.help_requested()) return true;
  CONCH_RETURN_IF_ERROR(env);
  if (flags.positionals().empty()) {
    return Error(Code::kInvalidArgument, kind + " name is required");
  }
  *name = flags.positionals()[0];
  CONCH_RETURN_IF_ERROR(primitives::ValidateName(kind, *name));
  return false;
}

}  // namespace conch::cli
