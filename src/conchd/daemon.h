// conchd: the daemon of the distributed cron. Every node runs the same
// daemon; each tick of each job is claimed by exactly one of them and run
// there (docs/design.md "The tick protocol").
//
// One owner thread turns one EventLoop over: the signalfd, each running
// job's pidfd and output pipes, the store events (the daemon's one session,
// the job watch, the run holds' watches), and one timer per job at its next
// tick. Store calls are made from the loop, each bounded by the request
// timeout. The HTTP status server runs on threads of its own with its own
// Backend (a Backend belongs to one thread) and reads only the store and
// the thread-safe metrics and health flag.
//
// Thread contract: Run() on the owner thread (main's), once.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "backend/backend.h"
#include "base/duration.h"
#include "config/global.h"

namespace conch::conchd {

struct DaemonOptions {
  config::GlobalConfig global;  // endpoints, dial timeout, session TTL
  std::string status_addr;      // "" = no HTTP server
  std::map<std::string, std::string> tags;  // this daemon's --tag k=v
  int64_t history = 20;  // fire and result records kept per job
  std::string node;      // this host's name, for --hosts and the records
  // Fail-closed margin of runs: SIGTERM this long before the session could
  // expire, SIGKILL at the margin (primitives/hold_deadline.h).
  Duration kill_after = std::chrono::seconds(5);
};

// Runs the daemon until SIGTERM or SIGINT; returns the exit code: 0 after a
// clean stop, 69 if the store cannot be reached at start, 64 for options
// the store refuses (a TTL it cannot grant).
int RunDaemon(const DaemonOptions& options);

}  // namespace conch::conchd
