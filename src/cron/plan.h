// What conchd does about a job's ticks when it looks at the clock: which
// tick to claim and run now, which missed ticks to record, and when to look
// again. Free of I/O and clocks, so that the missed-tick rules are
// unit-tested with plain times.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/time/time.h"
#include "base/duration.h"
#include "cron/job.h"
#include "cron/schedule.h"

namespace conch::cron {

// A tick is on time while the daemon reaches it within this much: it is
// then claimed and run as usual, however the daemon came to be late (a
// loaded machine, a start just after the tick).
inline constexpr absl::Duration kOnTimeGrace = absl::Seconds(5);

struct DuePlan {
  // The tick to claim and run now, if any.
  std::optional<absl::Time> run;
  bool catch_up = false;  // run-once: `run` stands for `missed` ticks
  // The tick to claim in order to record missed ticks, if any: the newest
  // missed one, older than `run`. Claim it before `run`.
  std::optional<absl::Time> record_missed;
  int64_t missed = 0;  // how many ticks were missed (recorded or caught up)
  // The first tick after `now`: when to look again.
  absl::Time next = absl::InfiniteFuture();
};

// The plan for the ticks in (last, now]. `last` is the newest tick known to
// be dealt with: the newest claimed one in the store, else when the job was
// added or resumed.
//   - The newest due tick, when now is within kOnTimeGrace of it, runs as
//     usual; the due ticks before it are missed: recorded under
//     Missed::kSkip, while under kRunOnce this run stands for them
//     (catch_up, with their count).
//   - Otherwise every due tick is missed. Under Missed::kRunOnce the newest
//     missed tick runs once, late, if now is within `starting_deadline` of
//     it (0: no limit); the others are counted with it. Otherwise they are
//     recorded on the newest missed tick.
// Never more than one run and one record per call, however many ticks were
// missed; counting stops after about a year of @every 1s ticks (the count
// is then a lower bound).
DuePlan PlanDue(const Schedule& schedule, absl::Time last, absl::Time now,
                Missed policy, Duration starting_deadline);

}  // namespace conch::cron
