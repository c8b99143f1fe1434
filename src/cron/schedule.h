// Schedule: a parsed cron expression with its time zone (and, for
// `@every`, its anchor), and the instants at which it ticks. Every node that
// parses the same expression with the same zone and anchor computes the same
// ticks, whatever its own local zone; a tick is identified by its instant
// (its unix second), so ticks that fall on the same instant are one tick.
//
// Syntax: robfig/cron v3's ParseStandard, which the original conch used.
//   [TZ=Zone | CRON_TZ=Zone] <fields or descriptor>
//   - five fields "minute hour day-of-month month day-of-week" (fields.h);
//   - @yearly @annually @monthly @weekly @daily @midnight @hourly: their
//     five-field equivalents (fields.h), ticking exactly as those do;
//   - @every <duration>: Go duration syntax ("90s", "1h30m"), at least 1s;
//     a fraction of a second is dropped ("1.5s" ticks every 1s), as robfig
//     drops it. A bare number without a unit is refused, as Go refuses it.
//   - a prefix "TZ=Zone " or "CRON_TZ=Zone " names the zone (zone.h); the
//     prefix ends at the first space or tab.
// Leading and trailing white space is ignored.
//
// Ticks. Five-field schedules read the wall clock in their zone:
//   - Real-time jobs: the hour field is "*" or has a step ("*/2", "8-18/2",
//     "*/1", "?", or a list with any of these), and @hourly. They tick at
//     every instant whose local time is a matching minute: a local time
//     skipped by a spring-forward never ticks, and a local time repeated by
//     a fall-back ticks at each of its instants. "*/30 * * * *" in New York
//     ticks 01:00 EDT, 01:30 EDT, 01:00 EST, 01:30 EST, 02:00 EST on the
//     fall-back night and skips 02:00 and 02:30 on the spring-forward one.
//   - Fixed-hour jobs: the hour field lists hours (numbers, ranges and
//     lists, like "2", "1,13" or "9-17"), and the other descriptors. Each
//     matching local time ticks once, at the first instant the wall clock
//     reaches or passes it. So a local time skipped by a spring-forward
//     ticks at the end of the gap (the instant of the shift), and one
//     repeated by a fall-back ticks at its first occurrence only.
//     "30 2 * * *" in Berlin ticks at 03:00 CEST on the spring-forward day
//     and at 02:30 CEST (not again at 02:30 CET) on the fall-back day.
//   - Minutes follow the same rule in both kinds, minute by minute: in
//     Lord Howe, where 02:00-02:29 is skipped in October and 01:30-01:59
//     repeated in April, "0 2 * * *" ticks at 02:30 on the spring-forward
//     day while "30 2 * * *" is untouched by either shift; "0 * * * *" has
//     no 02:00 tick in October (90 minutes from 01:00 to 03:00 local), and
//     "*/30 * * * *" ticks twice at 01:30 in April.
//   - Several skipped local times of one gap, and a skipped time whose
//     shift lands on another matching time ("0 2,3 * * *" on the US
//     spring-forward night), all tick at the same instant: once.
// @every D ticks at anchor + k*D for k = 1, 2, ...: the first tick is one
// period after the anchor (robfig's first run is one period after its
// scheduler starts), and nothing ticks at or before the anchor. The anchor
// is stored with the job (its add time), not taken from each daemon.
//
// Range: ticks lie strictly between 0001-01-01 and 2400-01-01 UTC (absl
// lists zones' offset changes only up to about 2437). Next() from before the
// start counts from the start; when the next tick would be at or past the
// end it returns InfiniteFuture().
//
// Thread contract: immutable after Parse(); safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/status.h"
#include "cron/fields.h"

namespace conch::cron {

// The range above as unix seconds: 0001-01-01T00:00:00Z and
// 2400-01-01T00:00:00Z.
inline constexpr int64_t kRangeStartUnix = -62135596800;
inline constexpr int64_t kRangeEndUnix = 13569465600;

struct ParseOptions {
  // The zone of an expression without a TZ=/CRON_TZ= prefix (a prefix
  // wins): the job's stored zone, `--tz`, or the adding host's zone from
  // ResolveHostZone(). Never a daemon's own local zone.
  std::string default_zone = "UTC";
  // The anchor of @every (ignored by other schedules): the job's add time.
  // Truncated to a whole second.
  absl::Time every_anchor = absl::UnixEpoch();
};

class Schedule {
 public:
  enum class Kind {
    kFixedHour,  // five fields (or a descriptor) with a fixed hour field
    kRealTime,   // five fields (or @hourly) with a "*" or step hour field
    kEvery,      // @every <duration>
  };

  // Parses `expression` (see the top of this file). kInvalidArgument with
  // one line that starts `schedule "<expression>": ` and names the problem:
  // an empty expression, a bad field (fields.h), a day of month that never
  // falls in the listed months (`schedule "0 0 30 2 *": day of month (field
  // 3) "30" never falls in month (field 4) "2"`), an unknown descriptor, a
  // bad or too short @every duration (`@every 500ms is below the minimum of
  // 1s`), an unknown or invalid zone in the prefix (zone.h) or nothing after
  // the prefix. An unknown options.default_zone is reported, when the
  // expression has no prefix, as `default time zone: unknown time zone
  // "..."`; an @every anchor outside the supported range is refused too.
  // Every accepted schedule has a tick within 8 years of any instant.
  static Result<Schedule> Parse(std::string_view expression,
                                const ParseOptions& options = {});

  Kind kind() const { return kind_; }
  // The expression as given, without surrounding white space.
  const std::string& expression() const { return expression_; }
  // The zone's name: the prefix's, else ParseOptions::default_zone.
  const std::string& zone_name() const { return zone_name_; }
  const absl::TimeZone& zone() const { return zone_; }
  bool zone_from_prefix() const { return zone_from_prefix_; }
  // kEvery: the period (whole seconds, >= 1s) and the anchor (a whole
  // second). Zero and the Unix epoch for the other kinds.
  absl::Duration period() const { return period_; }
  absl::Time anchor() const { return anchor_; }
  // The five fields (descriptors expanded); all zero for kEvery.
  const CronFields& fields() const { return fields_; }

  // The expression with its zone written out as a CRON_TZ= prefix and
  // runs of white space collapsed: "CRON_TZ=Europe/Berlin 30 2 * * *". It
  // parses to the same schedule with any default zone, and robfig (the
  // original's conchd) reads the same zone from it.
  std::string Canonical() const;

  // The first tick strictly after `after`. Ticks are whole seconds. Never
  // blocks; a few zone lookups and at most a few thousand bit tests.
  // absl::InfiniteFuture() when that tick is at or past the end of the
  // range.
  absl::Time Next(absl::Time after) const;

  // The first `n` ticks after `after`, in increasing order: Next(after),
  // Next(that), ... Shorter only where Next() returns InfiniteFuture().
  std::vector<absl::Time> NextN(absl::Time after, size_t n) const;

  // Whether `local`, a wall-clock time in the zone, is a whole minute that
  // matches the five fields. Always false for kEvery.
  bool MatchesLocal(absl::CivilSecond local) const;

  // Whether `t` is a tick, decided from the wall clock at and before `t`
  // by the rules above rather than by Next()'s search; for whole-second t
  // in range, Next(t - 1s) == t exactly when IsTick(t).
  bool IsTick(absl::Time t) const;

 private:
  Schedule() = default;

  absl::Time NextRealTime(int64_t after) const;
  absl::Time NextFixedHour(int64_t after) const;
  absl::Time NextEvery(int64_t after) const;
  absl::CivilSecond HighWater(int64_t at) const;
  absl::Time FirstReach(absl::CivilSecond local) const;

  Kind kind_ = Kind::kRealTime;
  std::string expression_;
  std::string body_;  // the expression after the prefix, white space tidied
  std::string zone_name_;
  absl::TimeZone zone_;
  bool zone_from_prefix_ = false;
  CronFields fields_;
  absl::Duration period_;
  absl::Time anchor_ = absl::UnixEpoch();
};

}  // namespace conch::cron
