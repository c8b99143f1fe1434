// The arguments of `conch sema`: its flag table, its usage text and the
// checks that turn argv into SemaFlags. Pure parsing: no store, no
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

struct SemaFlags {
  RunFlags run;  // run.wait: 0 = do not wait (sets run.nonblock), < 0 = forever
  std::string name;
  int64_t max = 0;
  int64_t weight = 1;
  bool spread = false;
  bool who = false;
  bool json = false;
  bool help = false;  // -h/--help: print SemaUsage(); nothing else was read
};

// Parses the arguments after `conch sema`. Returns the flags, or with
// -h/--help only `help` set. On success 1 <= weight <= max, and --spread
// means weight 1. kInvalidArgument, with a one-line message for exit 64,
// for: an unknown flag, a missing or bad value, a malformed CONCH_*
// variable, a missing or invalid name, --max missing or below 1, --weight
// outside 1..max, --spread with another weight, and, unless --who is given,
// a missing command or run flags that ValidateRunFlags refuses; then for
// global flags that config::ValidateGlobal refuses.
Result<SemaFlags> ParseSemaFlags(const std::vector<std::string>& args);

// The usage line and one line per flag with its default, for --help.
std::string SemaUsage();

}  // namespace conch::cli
