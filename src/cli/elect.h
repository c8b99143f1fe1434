// `conch elect`: the read-only modes --who, --watch and --assert
// (elect_inspect.cc), and the reporting shared by every command's front
// end (elect.cc). The flags themselves are parsed in elect_flags.h.
//
// Thread contract: owner thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "cli/elect_flags.h"
#include "cli/run_claim.h"
#include "config/global.h"

namespace conch::cli {

int ElectWho(const ElectFlags& flags, backend::Backend& backend);
int ElectWatch(const ElectFlags& flags, backend::Backend& backend);
int ElectAssert(const ElectFlags& flags, backend::Backend& backend);

// Opens the backend --endpoints names, or prints why not. The backend lives
// until the process exits (main skips teardown): closing a gRPC channel
// joins its threads and only delays the exit.
backend::Backend* OpenBackendOrReport(const config::GlobalConfig& global);

// Prints "conch: <message>" for a store error at start and returns 69 for
// an unreachable store (naming the endpoints and the dial timeout).
int ReportStartError(const Status& status, const config::GlobalConfig& global);

// Prints "conch <cmd>: <why> (see conch <cmd> --help)" for a usage error on
// stderr and returns 64.
int ReportUsageError(const std::string& cmd, const Status& status);

// Prints a command's usage text on stdout and returns 0.
int PrintUsage(const std::string& usage);

// With --quiet, logs only warnings and errors, unless CONCH_DEBUG asks for
// every step.
void ApplyQuiet(const config::GlobalConfig& global);

}  // namespace conch::cli
