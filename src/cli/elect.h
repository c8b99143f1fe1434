// `conch elect`: flags shared by the run mode (elect.cc) and the read-only
// modes --who, --watch and --assert (elect_inspect.cc).
//
// Thread contract: owner thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "cli/run_claim.h"
#include "config/global.h"

namespace conch::cli {

struct ElectFlags {
  RunFlags run;
  std::string office;
  bool who = false;
  bool watch = false;
  bool assert_held = false;
  bool json = false;
  int64_t min_rev = 0;
};

int ElectWho(const ElectFlags& flags, backend::Backend& backend);
int ElectWatch(const ElectFlags& flags, backend::Backend& backend);
int ElectAssert(const ElectFlags& flags, backend::Backend& backend);

// Opens the etcd backend for `global`, or prints why not. The backend lives
// until the process exits (main skips teardown): closing a gRPC channel
// joins its threads and only delays the exit.
backend::Backend* OpenBackendOrReport(const config::GlobalConfig& global);

// Prints "conch: <message>" for a store error at start and returns 69 for
// an unreachable store (naming the endpoints and the dial timeout).
int ReportStartError(const Status& status, const config::GlobalConfig& global);

// Parses a command's flags; on failure prints "conch <cmd>: <why> (see conch
// <cmd> --help)" and returns 64; on --help prints usage and returns 0;
// returns -1 to go on.
int FinishParse(config::FlagSet& flags, Status status, const std::string& cmd,
                const config::GlobalConfig& global);

}  // namespace conch::cli
