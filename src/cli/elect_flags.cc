#include "cli/elect_flags.h"

#include "config/flags.h"
#include "config/global.h"

namespace conch::cli {

namespace {

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

// Registers the whole flag table of `conch elect`, writing into *f. Returns
// the error of a malformed CONCH_* variable, if any (the table is complete
// all the same).
Status RegisterElectFlags(config::FlagSet& flags, ElectFlags* f) {
  Status env = config::RegisterGlobalFlags(flags, &f->run.global);
  RegisterRunFlags(flags, &f->run);
  flags.Duration("wait", &f->run.wait,
                 "give up (exit 75) if not leader after this; 0 = forever");
  flags.Bool("who", &f->who, "print the leader and exit (1 if vacant)");
  flags.Bool("watch", &f->watch, "print the leader now and at every change");
  flags.Bool("assert", &f->assert_held,
             "exit 0 if this host is the leader, else 1");
  flags.Int("min-rev", &f->min_rev, "with --assert: also require rev >= N");
  flags.Bool("json", &f->json, "JSON output for --who, --watch, --assert");
  return env;
}

}  // namespace

Result<ElectFlags> ParseElectFlags(const std::vector<std::string>& args) {
  ElectFlags f;
  config::FlagSet flags(kElectUsage);
  const Status env = RegisterElectFlags(flags, &f);
  Result<bool> help = ParseNamed(flags, env, args, "office", &f.office);
  if (!help.ok()) return help.status();
  if (*help) {
    ElectFlags only_help;
    only_help.help = true;
    return only_help;
  }
  if (!(f.who || f.watch || f.assert_held)) {
    f.run.command = flags.command();
    AdaptKillAfter(&f.run, flags.IsSet("kill-after"));
    CONCH_RETURN_IF_ERROR(
        ValidateRunFlags(f.run, "conch elect <office> [flags] -- cmd..."));
  }
  CONCH_RETURN_IF_ERROR(config::ValidateGlobal(f.run.global));
  return f;
}

std::string ElectUsage() {
  ElectFlags f;
  config::FlagSet flags(kElectUsage);
  (void)RegisterElectFlags(flags, &f);
  return flags.Usage();
}

}  // namespace conch::cli
