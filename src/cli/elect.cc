// `conch elect <office> [flags] -- cmd...`: campaign for an office and run
// the command only while leader (cli/run_claim.cc drives the rounds).
#include "cli/elect.h"

#include <cstdio>
#include <cstdlib>

#include "base/duration.h"
#include "base/log.h"
#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "primitives/election.h"
#include "primitives/holder.h"
#include "primitives/keys.h"

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

// Parses `conch elect` arguments. Returns the exit code to use on failure
// or help, or -1 to go on.
int ParseElect(const std::vector<std::string>& args, ElectFlags* f) {
  config::FlagSet flags(kElectUsage);
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

  Status s = flags.Parse(args, 1);
  if (s.ok()) s = env;
  if (s.ok() && flags.positionals().empty()) {
    s = Error(Code::kInvalidArgument, "office name is required");
  }
  if (s.ok()) {
    f->office = flags.positionals()[0];
    s = primitives::ValidateName("office", f->office);
  }
  if (s.ok() && !(f->who || f->watch || f->assert_held)) {
    f->run.command = flags.command();
    s = ValidateRunFlags(f->run, "conch elect <office> [flags] -- cmd...");
  }
  return FinishParse(flags, s, "elect", f->run.global);
}

}  // namespace

backend::Backend* OpenBackendOrReport(const config::GlobalConfig& global) {
  backend::BackendOptions bo;
  bo.endpoints = global.EndpointList();
  bo.dial_timeout = global.dial_timeout;
  Result<std::unique_ptr<backend::Backend>> b = backend::OpenEtcd(bo);
  if (!b.ok()) {
    std::fprintf(stderr, "conch: %s\n", b.status().message().c_str());
    return nullptr;
  }
  return std::move(b).value().release();
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

int FinishParse(config::FlagSet& flags, Status status, const std::string& cmd,
                const config::GlobalConfig& global) {
  if (flags.help_requested()) {
    std::fputs(flags.Usage().c_str(), stdout);
    return kExitOk;
  }
  if (status.ok()) status = config::ValidateGlobal(global);
  if (!status.ok()) {
    std::fprintf(stderr, "conch %s: %s (see conch %s --help)\n", cmd.c_str(),
                 status.message().c_str(), cmd.c_str());
    return kExitUsage;
  }
  if (global.quiet && std::getenv("CONCH_DEBUG") == nullptr) {
    SetLogLevel(LogLevel::kWarn);
  }
  return -1;
}

int RunElect(const std::vector<std::string>& args) {
  ElectFlags f;
  if (int code = ParseElect(args, &f); code >= 0) return code;
  backend::Backend* backend = OpenBackendOrReport(f.run.global);
  if (backend == nullptr) return kExitUsage;
  if (f.assert_held) return ElectAssert(f, *backend);
  if (f.who) return ElectWho(f, *backend);
  if (f.watch) return ElectWatch(f, *backend);

  primitives::ElectionOptions eo;
  eo.office = f.office;
  eo.value = primitives::EncodeHolder(MakeHolder(f.run.command));
  eo.session = SessionFor(f.run);
  return RunClaimLoop(
      f.run,
      [&] { return std::make_unique<primitives::Election>(backend, eo); },
      "office \"" + f.office + "\"", SystemClock::Get());
}

}  // namespace conch::cli
