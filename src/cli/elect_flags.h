// The arguments of `conch elect`: its flag table, its usage text and the
// checks that turn argv into ElectFlags. Pure parsing: no store, no
// processes and no output, so the flags fuzzer compiles this very code.
//
// Thread contract: owner thread only (reads CONCH_* from the environment).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "cli/run_flags.h"

namespace conch::cli {

struct ElectFlags {
  RunFlags run;
  std::string office;
  bool who = false;
  bool watch = false;
  bool assert_held = false;
  bool json = false;
  int64_t min_rev = 0;
  bool help = false;  // -h/--help: print ElectUsage(); nothing else was read
};

// Parses the arguments after `conch elect`. Returns the flags, or with
// -h/--help only `help` set. kInvalidArgument, with a one-line message for
// exit 64, for: an unknown flag, a missing or bad value, a malformed CONCH_*
// variable, a missing or invalid office name, and, unless --who, --watch or
// --assert is given, a missing command or run flags that ValidateRunFlags
// refuses; then for global flags that config::ValidateGlobal refuses.
Result<ElectFlags> ParseElectFlags(const std::vector<std::string>& args);

// The usage line and one line per flag with its default, for --help.
std::string ElectUsage();

}  // namespace conch::cli
