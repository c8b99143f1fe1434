#include "cron/plan.h"

#include "absl/time/clock.h"

namespace conch::cron {

namespace {

constexpr int64_t kMaxCounted = 40'000'000;  // > a year of @every 1s

// The due ticks in (last, now]: how many, the newest and the one before it.
struct Due {
  int64_t count = 0;
  std::optional<absl::Time> newest;
  std::optional<absl::Time> before_newest;
};

Due CountDue(const Schedule& schedule, absl::Time last, absl::Time now) {
  Due due;
  absl::Time t = schedule.Next(last);
  while (t <= now) {
    due.before_newest = due.newest;
    due.newest = t;
    if (++due.count >= kMaxCounted) {
      // Too many to walk: the count stays a lower bound, and the newest
      // two are found from a day before now.
      Due tail = CountDue(schedule, now - absl::Hours(24), now);
      due.newest = tail.newest;
      due.before_newest = tail.before_newest;
      due.count += tail.count;
      return due;
    }
    t = schedule.Next(t);
  }
  return due;
}

absl::Duration ToAbsl(Duration d) { return absl::FromChrono(d); }

}  // namespace

DuePlan PlanDue(const Schedule& schedule, absl::Time last, absl::Time now,
                Missed policy, Duration starting_deadline) {
  DuePlan plan;
  plan.next = schedule.Next(now);
  Due due = CountDue(schedule, last, now);
  if (due.count == 0) return plan;
  if (now - *due.newest <= kOnTimeGrace) {
    plan.run = due.newest;
    if (due.count > 1) {
      plan.missed = due.count - 1;
      if (policy == Missed::kRunOnce) {
        plan.catch_up = true;  // this run is the one run for the misses
      } else {
        plan.record_missed = due.before_newest;
      }
    }
    return plan;
  }
  plan.missed = due.count;
  const bool in_time = starting_deadline.count() == 0 ||
                       now - *due.newest <= ToAbsl(starting_deadline);
  if (policy == Missed::kRunOnce && in_time) {
    plan.run = due.newest;
    plan.catch_up = true;
  } else {
    plan.record_missed = due.newest;
  }
  return plan;
}

}  // namespace conch::cron
