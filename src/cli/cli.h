// The conch command line: a table of subcommands, each parsed with
// config::FlagSet and run on the owner (main) thread.
//
// Thread contract: owner thread only; main() calls RunCli once.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "base/version.h"

namespace conch::cli {

// `conch [global flags] <command> ...`: moves global flags (--endpoints,
// --dial-timeout, --ttl, --quiet, in any of their spellings) given before
// the command to just after it, where the command's parser reads them, as
// etcdctl and consul take them. Arguments that do not start with a flag
// come back unchanged; before `help` or `version`, or followed by -h/--help
// or -v/--version, the flags are dropped and that is what runs.
// kInvalidArgument for any other flag before the command, a global flag
// without its value, or no command after the flags.
Result<std::vector<std::string>> HoistGlobalFlags(
    const std::vector<std::string>& args);

// Runs `conch <args...>` and returns the process exit code.
int RunCli(const std::vector<std::string>& args);

// Subcommands, one file each.
int RunElect(const std::vector<std::string>& args);
int RunSema(const std::vector<std::string>& args);
int RunCron(const std::vector<std::string>& args);

inline constexpr const char* kVersion = kConchVersion;

}  // namespace conch::cli
