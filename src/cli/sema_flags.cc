#include "cli/sema_flags.h"

#include "config/flags.h"
#include "config/global.h"

namespace conch::cli {

namespace {

const char* kSemaUsage =
    "usage: conch sema <name> --max N [flags] -- cmd...\n"
    "       conch sema <name> --max N --who [--json]\n\n"
    "Runs cmd while holding --weight of the N units of semaphore <name>.\n"
    "Claims are served in arrival order; a heavy claim at the head of the\n"
    "line holds back lighter ones behind it. With --spread, at most one\n"
    "claim per host holds at a time.";

// Registers the whole flag table of `conch sema`, writing into *f. Returns
// the error of a malformed CONCH_* variable, if any (the table is complete
// all the same).
Status RegisterSemaFlags(config::FlagSet& flags, SemaFlags* f) {
  Status env = config::RegisterGlobalFlags(flags, &f->run.global);
  flags.Int("max", &f->max, "units in the semaphore (required, at least 1)");
  flags.Int("weight", &f->weight, "units this claim takes, 1..max");
  flags.Bool("spread", &f->spread, "at most one claim per host holds");
  RegisterRunFlags(flags, &f->run);
  // The original's sema: --wait 0 means do not wait; negative, forever.
  f->run.wait = Duration(-1);
  flags.Duration("wait", &f->run.wait,
                 "give up (exit 75) if not admitted after this; 0 = do not "
                 "wait, negative = forever");
  flags.Bool("who", &f->who, "list holders and waiters, then exit");
  flags.Bool("json", &f->json, "NDJSON output for --who");
  return env;
}

// The semaphore's own rules, after the name: --max, --weight, --spread.
Status ValidateUnits(const SemaFlags& f) {
  if (f.max < 1) {
    return Error(Code::kInvalidArgument, "--max N is required and at least 1");
  }
  if (f.weight < 1 || f.weight > f.max) {
    return Error(Code::kInvalidArgument,
                 "--weight " + std::to_string(f.weight) +
                     " must be between 1 and --max " + std::to_string(f.max));
  }
  if (f.spread && f.weight != 1) {
    return Error(Code::kInvalidArgument,
                 "--spread claims take one unit; drop --weight");
  }
  return Status::Ok();
}

}  // namespace

Result<SemaFlags> ParseSemaFlags(const std::vector<std::string>& args) {
  SemaFlags f;
  config::FlagSet flags(kSemaUsage);
  const Status env = RegisterSemaFlags(flags, &f);
  Result<bool> help = ParseNamed(flags, env, args, "semaphore", &f.name);
  if (!help.ok()) return help.status();
  if (*help) {
    SemaFlags only_help;
    only_help.help = true;
    return only_help;
  }
  CONCH_RETURN_IF_ERROR(ValidateUnits(f));
  if (!f.who) {
    if (f.run.wait == Duration::zero()) f.run.nonblock = true;
    f.run.command = flags.command();
    AdaptKillAfter(&f.run, flags.IsSet("kill-after"));
    CONCH_RETURN_IF_ERROR(
        ValidateRunFlags(f.run, "conch sema <name> --max N [flags] -- cmd..."));
  }
  CONCH_RETURN_IF_ERROR(config::ValidateGlobal(f.run.global));
  return f;
}

std::string SemaUsage() {
  SemaFlags f;
  config::FlagSet flags(kSemaUsage);
  (void)RegisterSemaFlags(flags, &f);
  return flags.Usage();
}

}  // namespace conch::cli
