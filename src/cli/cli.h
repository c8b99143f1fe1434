// The conch command line: a table of subcommands, each parsed with
// config::FlagSet and run on the owner (main) thread.
//
// Thread contract: owner thread only; main() calls RunCli once.
#pragma once

#include <string>
#include <vector>

namespace conch::cli {

// Runs `conch <args...>` and returns the process exit code.
int RunCli(const std::vector<std::string>& args);

// Subcommands, one file each.
int RunElect(const std::vector<std::string>& args);
int RunSema(const std::vector<std::string>& args);

inline constexpr const char* kVersion = "0.1.0";

}  // namespace conch::cli
