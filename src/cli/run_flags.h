// The run-mode flags shared by every claim kind (elect, sema): the command,
// --restart, --kill-after, --wait, --nonblock and the hooks, with their
// validation. Pure parsing: no store, no processes, so the fuzzers can
// compile it in.
//
// Thread contract: owner thread only.
#pragma once

#include <string>
#include <vector>

#include "base/clock.h"
#include "config/flags.h"
#include "config/global.h"

namespace conch::cli {

// The run-mode flags shared by every claim kind.
struct RunFlags {
  config::GlobalConfig global;
  std::vector<std::string> command;
  bool restart = false;
  Duration kill_after = std::chrono::seconds(5);
  Duration wait{0};  // > 0: give up (exit 75) after this long
  bool nonblock = false;
  std::string on_acquire;
  std::string on_lose;
  Duration hook_timeout = std::chrono::seconds(30);
  // --kill-after was not given and its default could not fail closed with
  // --ttl, so it was lowered (AdaptKillAfter).
  bool kill_after_adapted = false;
};

// Registers the run-mode flags shared by every claim kind.
void RegisterRunFlags(config::FlagSet& flags, RunFlags* f);

// When --kill-after was not `given` and its default cannot fail closed with
// --ttl, lowers it to the largest that can (primitives::MaxKillAfter) and
// sets kill_after_adapted: a TTL alone, such as CONCH_TTL=5s, then works as
// it does with the original tool. A value the user gave is left for
// ValidateRunFlags to refuse, and so is a TTL that is itself refused.
void AdaptKillAfter(RunFlags* f, bool given);

// Checks run-mode flags after parsing: a command, fail-closed timing,
// hook timeout, and that --nonblock and --restart are not both given.
Status ValidateRunFlags(const RunFlags& f, const std::string& usage_hint);

// The first steps of every command's parser: parses `args` with `flags`
// (one positional, the name), stops there if -h/--help was given (returns
// true), else reports `env` (a malformed CONCH_* variable) and a missing or
// invalid name, which names a `kind` ("office", "semaphore"), and stores
// the name in *name.
Result<bool> ParseNamed(config::FlagSet& flags, const Status& env,
                        const std::vector<std::string>& args,
                        const std::string& kind, std::string* name);

}  // namespace conch::cli
