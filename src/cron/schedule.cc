#include "cron/schedule.h"

#include <algorithm>
#include <optional>

#include "base/duration.h"
#include "base/strings.h"
#include "cron/zone.h"

namespace conch::cron {

namespace {

// The range ends at 2400 because absl lists a zone's offset changes
// (NextTransition) only up to about 2437, 400 years past the zone file's
// last explicit year, although the offsets go on changing by the file's
// closing rule; the stretch-by-stretch search needs the list. The start is
// far enough from absl's and int64's limits that no sum below overflows.
constexpr int64_t kRangeStart = kRangeStartUnix;
constexpr int64_t kRangeEnd = kRangeEndUnix;

// A zone's offset never moves by more than about a day (Samoa's 2011 jump,
// the Alaska purchase), so no wall-clock time more than three days back
// can be ahead of the wall clock now.
constexpr absl::Duration kLookBack = absl::Hours(72);

// Bounds on loops that end far sooner for every real zone; they keep a
// broken zone file from hanging a daemon.
constexpr int kMaxSegments = 1000;
constexpr int kMaxRetries = 8;

constexpr std::string_view kSpace = " \t\r\n\v\f";

std::string_view TrimSpace(std::string_view text) {
  size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  size_t last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

// "0  0\t* * *" -> "0 0 * * *".
std::string CollapseSpace(std::string_view text) {
  std::string out;
  size_t pos = text.find_first_not_of(kSpace);
  while (pos != std::string_view::npos) {
    size_t end = text.find_first_of(kSpace, pos);
    if (!out.empty()) out += ' ';
    out += text.substr(pos, end - pos);
    pos = text.find_first_not_of(kSpace, end);
  }
  return out;
}

struct Prefix {
  std::optional<std::string_view> zone;  // set when there is a prefix
  std::string_view body;
};

// Splits "TZ=Zone rest" or "CRON_TZ=Zone rest"; other text is all body.
Result<Prefix> SplitPrefix(std::string_view text) {
  for (std::string_view key : {"TZ=", "CRON_TZ="}) {
    if (!text.starts_with(key)) continue;
    const size_t space = text.find_first_of(kSpace);
    std::string_view zone = text.substr(key.size(), space - key.size());
    if (space == std::string_view::npos) {
      return Error(Code::kInvalidArgument,
                   "nothing after the time zone " + Quote(zone));
    }
    return Prefix{zone, TrimSpace(text.substr(space))};
  }
  return Prefix{std::nullopt, text};
}

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; });
}

// The period of "@every <text>": Go duration syntax, at least 1s, whole
// seconds.
Result<absl::Duration> ParseEvery(std::string_view text) {
  if (text.empty()) {
    return Error(Code::kInvalidArgument,
                 "@every needs a duration, like \"@every 1m30s\"");
  }
  // base/duration.h reads a bare number as seconds; Go, robfig and so the
  // original's conchd refuse it, so a job that one node runs every node runs.
  if (AllDigits(text)) {
    return Error(Code::kInvalidArgument, "@every " + Quote(text) +
                                             " needs a unit, like \"@every " +
                                             std::string(text) + "s\"");
  }
  Result<Duration> duration = ParseDuration(text);
  if (!duration.ok()) return duration.status();
  if (*duration < std::chrono::seconds(1)) {
    return Error(Code::kInvalidArgument,
                 "@every " + std::string(text) + " is below the minimum of 1s");
  }
  return absl::Seconds(
      std::chrono::duration_cast<std::chrono::seconds>(*duration).count());
}

bool InRange(absl::Time t) {
  return t >= absl::FromUnixSeconds(kRangeStart) &&
         t <= absl::FromUnixSeconds(kRangeEnd);
}

}  // namespace

Result<Schedule> Schedule::Parse(std::string_view expression,
                                 const ParseOptions& options) {
  const std::string_view text = TrimSpace(expression);
  const std::string context = "schedule " + Quote(text);
  if (text.empty()) return Error(Code::kInvalidArgument, context + ": empty");

  // 1. The zone: the prefix's, else the caller's default.
  Result<Prefix> prefix = SplitPrefix(text);
  if (!prefix.ok()) return prefix.status().With(context);
  Schedule s;
  s.expression_ = std::string(text);
  s.body_ = CollapseSpace(prefix->body);
  s.zone_from_prefix_ = prefix->zone.has_value();
  s.zone_name_ = std::string(prefix->zone.value_or(options.default_zone));
  Result<absl::TimeZone> zone = LoadZone(s.zone_name_);
  if (!zone.ok()) {
    return zone.status().With(s.zone_from_prefix_ ? context
                                                  : "default time zone");
  }
  s.zone_ = *zone;

  // 2. @every: a period and an anchor.
  const std::string_view body = prefix->body;
  if (body == "@every" || (body.starts_with("@every") &&
                           kSpace.find(body[6]) != std::string_view::npos)) {
    Result<absl::Duration> period = ParseEvery(TrimSpace(body.substr(6)));
    if (!period.ok()) return period.status().With(context);
    if (!InRange(options.every_anchor)) {
      return Error(Code::kInvalidArgument,
                   context + ": the @every anchor " +
                       absl::FormatTime(options.every_anchor) +
                       " is outside 0001..2399");
    }
    s.kind_ = Kind::kEvery;
    s.period_ = *period;
    s.anchor_ =
        absl::FromUnixSeconds(absl::ToUnixSeconds(options.every_anchor));
    return s;
  }

  // 3. A descriptor or five fields.
  if (body.starts_with('@')) {
    std::optional<CronFields> fields = DescriptorFields(body);
    if (!fields) {
      return Error(Code::kInvalidArgument,
                   context + ": unknown descriptor " + Quote(body) +
                       " (use @yearly, @annually, @monthly, @weekly, @daily, "
                       "@midnight, @hourly or @every <duration>)");
    }
    s.fields_ = *fields;
  } else {
    Result<CronFields> fields = ParseCronFields(body);
    if (!fields.ok()) return fields.status().With(context);
    s.fields_ = *fields;
  }
  s.kind_ = s.fields_.fixed_hour ? Kind::kFixedHour : Kind::kRealTime;
  return s;
}

std::string Schedule::Canonical() const {
  return "CRON_TZ=" + zone_name_ + " " + body_;
}

absl::Time Schedule::Next(absl::Time after) const {
  const absl::Time end = absl::FromUnixSeconds(kRangeEnd);
  if (after >= end) return absl::InfiniteFuture();
  // Ticks are whole seconds, so the first tick after `after` is the first
  // after its whole second.
  const int64_t second = std::max(absl::ToUnixSeconds(after), kRangeStart);
  absl::Time tick = absl::InfiniteFuture();
  switch (kind_) {
    case Kind::kEvery:
      tick = NextEvery(second);
      break;
    case Kind::kRealTime:
      tick = NextRealTime(second);
      break;
    case Kind::kFixedHour:
      tick = NextFixedHour(second);
      break;
  }
  return tick < end ? tick : absl::InfiniteFuture();
}

std::vector<absl::Time> Schedule::NextN(absl::Time after, size_t n) const {
  std::vector<absl::Time> ticks;
  for (size_t i = 0; i < n; ++i) {
    after = Next(after);
    if (after == absl::InfiniteFuture()) break;
    ticks.push_back(after);
  }
  return ticks;
}

bool Schedule::MatchesLocal(absl::CivilSecond local) const {
  return kind_ != Kind::kEvery && Matches(fields_, local);
}

bool Schedule::IsTick(absl::Time t) const {
  // Next() returns only ticks in (start, end).
  if (t <= absl::FromUnixSeconds(kRangeStart) ||
      t >= absl::FromUnixSeconds(kRangeEnd)) {
    return false;
  }
  const int64_t second = absl::ToUnixSeconds(t);
  if (absl::FromUnixSeconds(second) != t) return false;
  switch (kind_) {
    case Kind::kEvery: {
      const int64_t since = second - absl::ToUnixSeconds(anchor_);
      return since > 0 && since % absl::ToInt64Seconds(period_) == 0;
    }
    case Kind::kRealTime:
      return MatchesLocal(zone_.At(t).cs);
    case Kind::kFixedHour: {
      // t ticks for a matching time c when the wall clock first reaches c
      // at t: it stood below c at every earlier second and at c or past it
      // at t.
      std::optional<absl::CivilMinute> c =
          NextMatch(fields_, HighWater(second - 1));
      return c && absl::CivilSecond(*c) <= zone_.At(t).cs;
    }
  }
  return false;
}

absl::Time Schedule::NextEvery(int64_t after) const {
  const int64_t anchor = absl::ToUnixSeconds(anchor_);
  const int64_t period = absl::ToInt64Seconds(period_);
  // Both terms are bounded by the range (about 3.2e11 s) plus one period
  // (at most about 9.2e9 s), far from int64's limit.
  const int64_t k = after < anchor ? 1 : (after - anchor) / period + 1;
  return absl::FromUnixSeconds(anchor + k * period);
}

// Real time: within a stretch between two offset changes, wall time and
// real time move together, so the first matching wall-clock minute in the
// stretch is the first tick in it. If that minute lies past the stretch's
// end, the local times up to the end had no match and the next stretch is
// searched from its own wall-clock start, which skips a spring-forward gap
// and revisits a fall-back's repeated hour.
absl::Time Schedule::NextRealTime(int64_t after) const {
  absl::Time from = absl::FromUnixSeconds(after + 1);
  for (int i = 0; i < kMaxSegments; ++i) {
    const absl::CivilSecond local = zone_.At(from).cs;
    std::optional<absl::CivilMinute> match = NextMatch(fields_, local - 1);
    if (!match) return absl::InfiniteFuture();
    const absl::Time tick =
        from + absl::Seconds(absl::CivilSecond(*match) - local);
    absl::TimeZone::CivilTransition shift;
    if (!zone_.NextTransition(from, &shift)) return tick;
    const absl::Time shift_time = zone_.At(shift.to).trans;
    if (tick < shift_time) return tick;
    from = shift_time;
  }
  return absl::InfiniteFuture();
}

// Fixed hour: a matching local time c ticks at the first instant the wall
// clock reaches or passes c. Those instants grow with c, and c has already
// ticked by `after` exactly when the wall clock has been at or past c by
// then, so the next tick is that of the first matching time beyond the
// highest wall-clock reading up to `after`.
absl::Time Schedule::NextFixedHour(int64_t after) const {
  const absl::Time after_time = absl::FromUnixSeconds(after);
  absl::CivilSecond high = HighWater(after);
  for (int i = 0; i < kMaxRetries; ++i) {
    std::optional<absl::CivilMinute> match = NextMatch(fields_, high);
    if (!match) return absl::InfiniteFuture();
    const absl::Time tick = FirstReach(*match);
    if (tick > after_time) return tick;
    // Unreachable by the argument above; a zone file with overlapping
    // shifts must still not make Next() go backwards.
    high = *match;
  }
  return absl::InfiniteFuture();
}

// The highest wall-clock time shown at any whole second up to `at`. It
// exceeds the wall clock at `at` only after a fall-back: the clock stood at
// just under the shift's "from" time one second before the shift.
absl::CivilSecond Schedule::HighWater(int64_t at) const {
  const absl::Time at_time = absl::FromUnixSeconds(at);
  absl::CivilSecond high = zone_.At(at_time).cs;
  absl::Time cursor = at_time + absl::Seconds(1);
  absl::TimeZone::CivilTransition shift;
  while (zone_.PrevTransition(cursor, &shift)) {
    const absl::Time shift_time = zone_.At(shift.to).trans;
    if (shift_time >= cursor || shift_time < at_time - kLookBack) break;
    high = std::max(high, shift.from - 1);
    cursor = shift_time;
  }
  return high;
}

// The first instant at which the wall clock shows `local` or later: the
// instant itself when it occurs once, its first occurrence when a fall-back
// repeats it, and the end of the gap when a spring-forward skips it.
absl::Time Schedule::FirstReach(absl::CivilSecond local) const {
  const absl::TimeZone::TimeInfo info = zone_.At(local);
  if (info.kind == absl::TimeZone::TimeInfo::SKIPPED) return info.trans;
  return info.pre;
}

}  // namespace conch::cron
