// conch's exit codes: public API, documented in the README. Only cli/ turns
// a Status into one of these, and only main() exits.
#pragma once

#include "base/status.h"

namespace conch::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNegative = 1;  // --who/--assert: no / vacant
inline constexpr int kExitUsage = 64;    // EX_USAGE: bad flags or input
inline constexpr int kExitUnavailable =
    69;  // EX_UNAVAILABLE: store unreachable
inline constexpr int kExitHoldLost =
    70;  // EX_SOFTWARE: hold lost, child killed
inline constexpr int kExitNotAcquired = 75;  // EX_TEMPFAIL: --nonblock/--wait
inline constexpr int kExitCannotExec = 126;  // command found but not executable
inline constexpr int kExitNotFound = 127;    // command not found

// Exit code for a failure to reach or use the store before holding anything:
// kUnavailable/kDeadlineExceeded -> 69, kInvalidArgument -> 64, else 75.
int ExitCodeForStartError(const Status& status);

// 128 + signal number, as shells report a signal death.
inline int ExitCodeForSignal(int sig) { return 128 + sig; }

}  // namespace conch::cli
