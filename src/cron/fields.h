// The five fields of a cron expression (minute hour day-of-month month
// day-of-week) as sets, with robfig/cron v3's standard-parser syntax, and
// the civil-time arithmetic on them: which local times match, and the next
// local time that does. Nothing here knows about time zones or instants;
// schedule.h turns local times into ticks.
//
// Thread contract: pure functions on values; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/time/civil_time.h"
#include "base/status.h"

namespace conch::cron {

// Bit v of a set is value v: minute 0..59, hour 0..23, day of month 1..31,
// month 1..12, day of week 0 (Sunday)..6.
struct CronFields {
  uint64_t minutes = 0;
  uint32_t hours = 0;
  uint32_t days_of_month = 0;
  uint16_t months = 0;
  uint8_t days_of_week = 0;

  // robfig's "star bit": the field has an item "*" or "?" without a step
  // or with step 1 ("*/1"). When either day field has it, a day must match
  // both day fields; when neither has it, either may match, as in cron.
  // ("*/2" is restricted, so "0 0 */2 * MON" runs on odd days and Mondays.)
  bool dom_star = false;
  bool dow_star = false;

  // The hour field lists hours rather than a pattern: none of its items
  // has "*", "?" or a step "/". Such a job keeps local-day semantics across
  // daylight-saving shifts (schedule.h); "*" and steps follow real time.
  bool fixed_hour = false;

  friend bool operator==(const CronFields&, const CronFields&) = default;
};

// Parses the five space-separated fields, e.g. "*/15 9-17 * * MON-FRI".
// Syntax per field, as robfig/cron v3's ParseStandard:
//   - a comma-separated list of items;
//   - an item is "*" or "?" (the whole range; "?" is accepted in every
//     field, as robfig does), a value "v", a range "a-b", or any of these
//     followed by a step "/n" (n >= 1): "*/n" and "a-b/n" take every n-th
//     value from the start, and "a/n" means "a-<max>/n";
//   - values are decimal numbers (leading zeros and a "+" sign allowed, as
//     Go's strconv.Atoi allows), or in the month and day-of-week fields the
//     three-letter English names JAN..DEC and SUN..SAT in any case;
//   - day of week is 0..6 with 0 = Sunday; 7 is refused, as robfig does.
// Stricter than robfig, which accepts these silently: an empty list item
// ("1,,2" or ",5") and a range starting at "*" ("*-5", which robfig reads
// as "*") are errors.
// kInvalidArgument with one line naming the field, e.g.
//   `day of week (field 5) "1-7": 7 is above the maximum 6 (use 0 or SUN
//   for Sunday)`,
// for a wrong number of fields, a bad number or name, a value out of range,
// a range that runs backwards, a step of 0, and a day of month that no
// listed month has:
//   `day of month (field 3) "30" never falls in month (field 4) "2"`.
Result<CronFields> ParseCronFields(std::string_view text);

// The fields of a descriptor: @yearly and @annually ("0 0 1 1 *"),
// @monthly ("0 0 1 * *"), @weekly ("0 0 * * 0"), @daily and @midnight
// ("0 0 * * *"), @hourly ("0 * * * *"). Names are case-sensitive, as in
// robfig. std::nullopt for any other text (including "@every ...").
std::optional<CronFields> DescriptorFields(std::string_view descriptor);

// Whether the local date `day` passes the month and day rules.
bool DayMatches(const CronFields& fields, absl::CivilDay day);

// Whether `local` is a whole minute that matches all five fields.
bool Matches(const CronFields& fields, absl::CivilSecond local);

// The first whole minute strictly after `after` that Matches(). Searches up
// to 10 years ahead, which covers every set ParseCronFields and
// DescriptorFields return (the longest wait is 8 years, for February 29
// across a century year that is not a leap year), so for those it never
// returns std::nullopt; for hand-made fields that match no day it does.
std::optional<absl::CivilMinute> NextMatch(const CronFields& fields,
                                           absl::CivilSecond after);

}  // namespace conch::cron
