// RunUnderHold: supervises one spawned process (the command, or a hook)
// while a cluster-wide hold is valid, and fails closed.
//
// It turns the owner thread's EventLoop, with handlers registered in
// priority order: the process's exit, conch's signals, and the hold's
// store events, and leaves every decision about signals to a KillSchedule
// (supervisor/kill_schedule.h); the registrations end with the call. It ends
// only when the process has been reaped, so no path leaves it running. When the
// process exits, any group members left behind are SIGKILLed, and so are
// descendants that left the group and were re-parented to conch (a
// subreaper, see BecomeSubreaper()).
//
// Thread contract: owner thread only; blocks until the process is reaped.
#pragma once

#include "base/clock.h"
#include "base/event_loop.h"
#include "base/signals.h"
#include "supervisor/kill_schedule.h"
#include "supervisor/spawn.h"

namespace conch::supervisor {

// `hold` may be null (a hook run outside the hold). Deadlines are on the
// loop's clock.
RunOutcome RunUnderHold(EventLoop& loop, Child& child, Hold* hold,
                        SignalFd& signals, const RunOptions& options);

}  // namespace conch::supervisor
