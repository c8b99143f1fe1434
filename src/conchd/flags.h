// The flags of `conchd` (and `conch conchd`), parsed without a store so
// that the flags fuzzer runs them as they are.
//
//   conchd [--status-addr ADDR] [--tag k=v]... [--history K] [--node NAME]
//          [--kill-after D] [global flags]
//
// --status-addr falls back to $CONCH_STATUS_ADDR, as in the original;
// --node to $CONCH_NODE, then the host name.
//
// Thread contract: owner thread only (reads the environment).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "conchd/daemon.h"

namespace conch::conchd {

struct ConchdFlags {
  DaemonOptions options;
  bool help = false;
};

// kInvalidArgument with one line for an unknown flag, a bad value, a
// positional argument or a command, a --tag that is not k=v, a --history
// below 1, a TTL the fail-closed margin cannot work with.
Result<ConchdFlags> ParseConchdFlags(const std::vector<std::string>& args);

std::string ConchdUsage();

}  // namespace conch::conchd
