// `switchman ARGS` (and `conch switchman ARGS`): one run of the drop-in
// replacement for the Perl tool, from its command line to its exit status.
//
// A run, in the original's order (reference §2.3), with ZooKeeper's nodes in
// the original's layout (switchman/layout.h), so Perl and conch clients
// share locks, queues and leases:
//   1. parse the options, evaluate the leases, read the config: any error is
//      one line and exit 64, before ZooKeeper is touched;
//   2. connect (exit 69 when unreachable) and, with -g or leases, read the
//      prefix data: not in the group -> the "did not run" status;
//   3. with leases: the lock pre-check (arming the lock watch), the
//      unknown-resources check, then one queue entry per resource (a task of
//      that lock name already queued -> "did not run");
//   4. per resource, in the prefix's order: wait for the head of its queue
//      (a watch on the entry ahead), then take a lease under the
//      semaphore's mutex (the predecessor recipe), waiting on a watch of
//      the leases when the resource is full;
//   5. leave the queues, create the lock (held -> "did not run"), and run
//      CMD under conch's supervisor while the lock, the session and the
//      group are watched.
// Every wait is event-driven (no polling) and also ends at once for a stop
// signal (exit 128+N), the lock appearing ("did not run"), the session's
// loss or resources_wait_timeout (exit 75). Whatever ends the run, ending
// the ZooKeeper session removes every node it made in one step.
//
// Exit statuses: see kExit* below and the README's table.
//
// Thread contract: main's thread only; blocks until CMD has been reaped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace conch::switchman {

inline constexpr int kExitUsage = 64;           // options, config, prefix data
inline constexpr int kExitTotalsMismatch = 65;  // holders disagree on TOTAL
inline constexpr int kExitUnavailable = 69;     // ZooKeeper unreachable
inline constexpr int kExitHoldLost = 70;        // lock or session lost
inline constexpr int kExitTempFail = 75;        // wait timed out or lost
inline constexpr int kExitCannotExec = 126;
inline constexpr int kExitNotFound = 127;

// One run; `args` are the words after the program name, `prog` the name
// for messages ("switchman"). Returns the exit status.
int RunSwitchman(const std::vector<std::string>& args, std::string_view prog);

// `conch switchman ...`: "ls", "check-groups" and "check-hosts" as the
// first word select the inspection commands (switchman/inspect.h);
// anything else is a run ("conch switchman -- ls" runs ls). The switchman
// binary itself calls RunSwitchman, so that "switchman ls" keeps running
// ls, as it did with the original.
int ConchSwitchman(const std::vector<std::string>& args);

}  // namespace conch::switchman
