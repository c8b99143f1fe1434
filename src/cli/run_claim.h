// Running a command under a Claim: the shared driver of `conch elect` and
// `conch sema`. One round queues, waits, runs the acquire hook, the command
// and the lose hook under the hold, and releases; --restart repeats rounds
// with the original's backoff.
//
// Thread contract: owner thread only (main's: children are spawned here).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/global.h"
#include "primitives/claim.h"
#include "primitives/holder.h"

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
};

// Builds a fresh, idle claim for each round.
using MakeClaim = std::function<std::unique_ptr<primitives::Claim>()>;

// Runs rounds until one ends the process, and returns the exit code.
// `what` names the hold in logs: "office \"db\"", "semaphore \"jobs\"".
int RunClaimLoop(const RunFlags& flags, const MakeClaim& make_claim,
                 const std::string& what);

// Registers the run-mode flags shared by every claim kind.
void RegisterRunFlags(config::FlagSet& flags, RunFlags* f);

// Checks run-mode flags after parsing: a command, fail-closed timing,
// hook timeout, and that --nonblock and --restart are not both given.
Status ValidateRunFlags(const RunFlags& f, const std::string& usage_hint);

// The session settings the run flags ask for: --ttl, --kill-after, and
// --dial-timeout as the bound of every store request.
primitives::SessionOptions SessionFor(const RunFlags& flags);

// The holder record for this process running `command`.
primitives::Holder MakeHolder(const std::vector<std::string>& command);

}  // namespace conch::cli
