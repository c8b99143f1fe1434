// `conch elect <office> [flags] -- cmd...`: campaign for an office and run
// the command only while leader (cli/run_claim.cc drives the rounds).
#include "cli/elect.h"

#include <cstdio>
#include <cstdlib>

#include "backend/store.h"
#include "base/duration.h"
#include "base/log.h"
#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "primitives/election.h"
#include "primitives/holder.h"

namespace conch::cli {

backend::Backend* OpenBackendOrReport(const config::GlobalConfig& global) {
  backend::BackendOptions bo;
  bo.endpoints = global.endpoints;
  bo.dial_timeout = global.dial_timeout;
  Result<std::unique_ptr<backend::Backend>> b = backend::OpenBackend(bo);
  if (!b.ok()) {
    std::fprintf(stderr, "conch: %s\n", b.status().message().c_str());
    return nullptr;
  }
  return std::move(b).value().release();
}

int ReportStartError(const Status& status, const config::GlobalConfig& global) {
  int code = ExitCodeForStartError(status);
  if (code == kExitUnavailable) {
    LogError("store unreachable at " + global.endpoints + " within " +
             FormatDuration(global.dial_timeout) + ": " + status.ToString());
  } else {
    LogError(status.ToString());
  }
  return code;
}

int ReportUsageError(const std::string& cmd, const Status& status) {
  std::fprintf(stderr, "conch %s: %s (see conch %s --help)\n", cmd.c_str(),
               status.message().c_str(), cmd.c_str());
  return kExitUsage;
}

int PrintUsage(const std::string& usage) {
  std::fputs(usage.c_str(), stdout);
  return kExitOk;
}

void ApplyQuiet(const config::GlobalConfig& global) {
  if (global.quiet && std::getenv("CONCH_DEBUG") == nullptr) {
    SetLogLevel(LogLevel::kWarn);
  }
}

int RunElect(const std::vector<std::string>& args) {
  Result<ElectFlags> parsed = ParseElectFlags(args);
  if (!parsed.ok()) return ReportUsageError("elect", parsed.status());
  const ElectFlags& f = *parsed;
  if (f.help) return PrintUsage(ElectUsage());
  ApplyQuiet(f.run.global);
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
