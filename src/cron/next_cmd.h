// `conch cron next`: prints a schedule's next tick times, one RFC 3339 time
// per line and nothing else on stdout, so that a schedule can be checked
// before `conch cron add`. This is the store-free form,
//   conch cron next --schedule EXPR [--tz ZONE] [--count N] [--from TIME]
// and the flag parsing shared with the form that reads job <name> from the
// store (not here: it needs the backend).
//   - --count N: how many ticks, 1..10000; default 1 (the next tick, as the
//     command's name says; pass --count for a list).
//   - --from TIME: RFC 3339 ("2026-03-29T01:30:00Z", "...+01:00", fractions
//     allowed); ticks are strictly after it. Default: now.
//   - --tz ZONE: the zone of an expression without a TZ=/CRON_TZ= prefix
//     (the prefix wins, as it does at `cron add`). Default: this host's
//     zone (zone.h ResolveHostZone); if that falls back to UTC, a note goes
//     to stderr.
//   - @every is anchored at --from (or now), as `cron add` now would anchor
//     it: the first tick is one period later.
// Times print in the schedule's zone offset ("2026-03-29T03:00:00+02:00"),
// or with "Z" when that offset is zero, or in UTC when the offset is not a
// whole minute (local mean time before 1900), which RFC 3339 cannot write.
// The original's global flags (--endpoints, --dial-timeout, --ttl, --quiet)
// are accepted and unused. Exit codes: 0; 64 with one line on stderr for a
// bad flag or schedule.
//
// Thread contract: owner thread only (reads $TZ and CONCH_* variables).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "base/status.h"
#include "config/global.h"
#include "cron/schedule.h"
#include "cron/zone.h"

namespace conch::cron {

inline constexpr int64_t kMaxNextCount = 10000;

struct CronNextFlags {
  config::GlobalConfig global;  // for the store form
  Status env_status;     // a malformed CONCH_* variable; the store form's error
  std::string name;      // the <name> positional, or empty
  std::string schedule;  // --schedule, or empty
  std::string tz;        // --tz, or empty
  int64_t count = 1;     // --count
  std::optional<absl::Time> from;  // --from; empty means now
  bool help = false;  // -h/--help: print CronNextUsage(); nothing else read
};

// Parses the arguments after `conch cron next`. kInvalidArgument with one
// line for: an unknown flag or a missing or bad value, words after "--",
// more than one <name>, both or neither of <name> and --schedule, --tz with
// <name> (a job's zone is stored with it), --count outside 1..10000, a
// --from that is not RFC 3339, and an unknown --tz zone. The schedule
// itself is not parsed here.
Result<CronNextFlags> ParseCronNextFlags(const std::vector<std::string>& args);

// The usage lines and one line per flag, for --help.
std::string CronNextUsage();

// RFC 3339 as the original's --from-like flags take it: date, "T", time
// with optional fraction, and "Z" or a "+hh:mm" offset. kInvalidArgument
// otherwise.
Result<absl::Time> ParseRfc3339(std::string_view text);

// A tick as `cron next` prints it (see the top of this file).
std::string FormatTick(absl::Time tick, const absl::TimeZone& zone);

// The output of `cron next` for a parsed schedule: `count` ticks after
// `from`, one per line. kInvalidArgument if the schedule has fewer ticks
// before 2400-01-01 (schedule.h).
Result<std::string> TickLines(const Schedule& schedule, absl::Time from,
                              int64_t count);

// What a run of the command printed and returned.
struct CommandResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

// The store-free command with its inputs made explicit: `now` is the
// default --from and @every anchor, `host_zone` the default zone. A <name>
// without --schedule is a usage error (64) until the store form exists.
CommandResult CronNextWithSchedule(const std::vector<std::string>& args,
                                   absl::Time now, const HostZone& host_zone);

// The same with the clock and ResolveHostZone(), printing to stdout and
// stderr; returns the exit code.
int RunCronNextWithSchedule(const std::vector<std::string>& args);

}  // namespace conch::cron
