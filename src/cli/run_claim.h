// Running a command under a Claim: the shared driver of `conch elect` and
// `conch sema`. One round queues, waits, runs the acquire hook, the command
// and the lose hook under the hold, and releases; --restart repeats rounds
// with the original's backoff.
//
// Thread contract: owner thread only (main's: children are spawned here).
// Every wait is a turn of the one EventLoop that RunClaimLoop creates.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/signals.h"
#include "cli/rounds.h"
#include "cli/run_flags.h"
#include "primitives/claim.h"
#include "primitives/holder.h"

namespace conch::cli {

// Builds a fresh, idle claim for each round.
using MakeClaim = std::function<std::unique_ptr<primitives::Claim>()>;

// Waits, once `claim` holds, until its deadline leaves room to start a
// command (HoldDeadline::Usable). Until a renewal has been applied, the
// deadline counts from the grant; after a slow start (a loaded machine, a
// slow store) that can already be too close although renewals are on their
// way, so they are awaited, until the session could have expired. Returns
// nullopt once usable; otherwise how the round ends: 75 (not usable in
// time, or lost), or 128+N for a stop signal N. Blocks at most until the
// session's valid_until.
std::optional<Round> AwaitUsable(EventLoop& loop, primitives::Claim& claim,
                                 SignalFd& signals);

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
