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

#include "cli/run_flags.h"
#include "primitives/claim.h"
#include "primitives/holder.h"

namespace conch::cli {

// Builds a fresh, idle claim for each round.
using MakeClaim = std::function<std::unique_ptr<primitives::Claim>()>;

// Runs rounds until one ends the process, and returns the exit code.
// `what` names the hold in logs: "office \"db\"", "semaphore \"jobs\"".
int RunClaimLoop(const RunFlags& flags, const MakeClaim& make_claim,
                 const std::string& what, const Clock& clock);

// The session settings the run flags ask for: --ttl, --kill-after, and
// --dial-timeout as the bound of every store request.
primitives::SessionOptions SessionFor(const RunFlags& flags);

// The holder record for this process running `command`.
primitives::Holder MakeHolder(const std::vector<std::string>& command);

}  // namespace conch::cli
