// Reading the cron records back from the store, for `conch cron ls`,
// `cron history`, conchd's GET /cron, and conchd itself: the jobs, and
// each job's claimed ticks with what became of them.
//
// Thread contract: owner thread of the Backend passed in (its calls block,
// each bounded by `deadline`).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "backend/backend.h"
#include "cron/job.h"

namespace conch::cron {

struct Jobs {
  std::vector<Job> good;    // sorted by name
  std::vector<Status> bad;  // one per record that does not decode
};

// Every job under job/, sorted by name. Records that do not decode are
// left out of `good` and reported in `bad` (a job written by hand).
Result<Jobs> ReadJobs(backend::Backend& backend, MonoTime deadline);

// One job; nullopt if there is no such record. A record that does not
// decode is an error (kInvalidArgument from DecodeJob).
Result<std::optional<Job>> ReadJob(backend::Backend& backend,
                                   const std::string& name, MonoTime deadline);

// A claimed tick and what became of it.
struct TickRecord {
  absl::Time tick;
  std::optional<Claimer> claimer;   // from fire/<name>/<tick>, if present
  std::optional<RunResult> result;  // from result/<name>/<tick>, if present
  // What the records say: a result's outcome name; without a result,
  // "running" while the claimer's conchd is alive, "lost" once it is gone,
  // and "?" for a claim of the original's conchd (which names no session).
  std::string state;
};

// The ticks of `name` that have a fire or a result record, oldest first.
Result<std::vector<TickRecord>> ReadHistory(backend::Backend& backend,
                                            const std::string& name,
                                            MonoTime deadline);

// The original's "last" of `cron ls --last`: the newest claimed tick with
// its claimer's host, overridden by the newest result when that result's
// tick is not older. nullopt when the job never fired.
struct Last {
  absl::Time tick;
  std::string node;
  std::optional<int> exit;  // nullopt: "?" (claimed, no exit yet or ever)
  std::string duration;     // "%.1fs", or empty when unknown
};
std::optional<Last> LastOf(const std::vector<TickRecord>& history);

}  // namespace conch::cron
