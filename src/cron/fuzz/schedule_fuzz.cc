// libFuzzer target for cron::Schedule: the input is a schedule expression,
// parsed with Europe/Berlin as the default zone (so that daylight-saving
// shifts are in play without a prefix) and a fixed @every anchor. Beyond
// "no crash, no sanitizer report, no hang", it checks the contract in
// cron/schedule.h:
//   - Every error is kInvalidArgument with a one-line message that starts
//     with the schedule it refuses.
//   - Canonical() parses, under another default zone, to a schedule with
//     the same zone and the same ticks.
//   - From a few instants (around shifts, and one chosen by the input),
//     NextN gives ticks that are strictly increasing, after the start,
//     whole seconds, IsTick(), and found again by Next(tick - 1s); the
//     second before the first tick is not a tick.
//   - Each tick matches the expression: a real-time tick's wall-clock time
//     matches the fields; a fixed-hour tick's does, or it is the instant of
//     a forward shift (the end of a gap); an @every tick is a whole number
//     of periods after the anchor.
// A broken contract aborts through CONCH_CHECK, which libFuzzer reports as a
// crash and saves the input. Zone names that absl fails to load stay in its
// cache, a few bytes each, which bounds what a long run can use.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/fuzz/fuzz_util.h"
#include "base/status.h"
#include "cron/schedule.h"

namespace conch {
namespace {

using cron::Schedule;

constexpr size_t kTicks = 16;

absl::Time Utc(int year, int month, int day, int hour, int minute) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0),
                         absl::UTCTimeZone());
}

// An instant between 1900 and 2100 picked by the input's bytes (FNV-1a).
absl::Time FromInput(std::string_view input) {
  uint64_t hash = 14695981039346656037U;
  for (char c : input) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211U;
  }
  const int64_t start = -2208988800;  // 1900-01-01T00:00:00Z
  const int64_t span = 6311433600;    // two hundred years
  return absl::FromUnixSeconds(start + static_cast<int64_t>(hash % span));
}

bool IsForwardShift(const absl::TimeZone& zone, absl::Time t) {
  return zone.At(t - absl::Seconds(1)).cs + 1 != zone.At(t).cs;
}

void CheckTickMatches(const Schedule& s, absl::Time tick) {
  const absl::CivilSecond wall = s.zone().At(tick).cs;
  switch (s.kind()) {
    case Schedule::Kind::kRealTime:
      CONCH_CHECK(s.MatchesLocal(wall));
      break;
    case Schedule::Kind::kFixedHour:
      CONCH_CHECK(s.MatchesLocal(wall) || IsForwardShift(s.zone(), tick));
      break;
    case Schedule::Kind::kEvery:
      CONCH_CHECK((tick - s.anchor()) % s.period() == absl::ZeroDuration());
      CONCH_CHECK(tick > s.anchor());
      break;
  }
}

void CheckTicksFrom(const Schedule& s, absl::Time after) {
  const std::vector<absl::Time> ticks = s.NextN(after, kTicks);
  // Fewer only when the next tick would pass the end of the range (a long
  // @every period, or a leap day near it).
  if (ticks.size() < kTicks) {
    const absl::Time last = ticks.empty() ? after : ticks.back();
    CONCH_CHECK(s.Next(last) == absl::InfiniteFuture());
    if (ticks.empty()) return;
  }
  absl::Time previous = after;
  for (absl::Time tick : ticks) {
    CONCH_CHECK(tick > previous);
    CONCH_CHECK(absl::FromUnixSeconds(absl::ToUnixSeconds(tick)) == tick);
    CONCH_CHECK(s.IsTick(tick));
    CONCH_CHECK(s.Next(tick - absl::Seconds(1)) == tick);
    CheckTickMatches(s, tick);
    previous = tick;
  }
  const absl::Time before_first = ticks[0] - absl::Seconds(1);
  if (before_first > after) CONCH_CHECK(!s.IsTick(before_first));
}

void CheckSchedule(std::string_view input) {
  cron::ParseOptions options;
  options.default_zone = "Europe/Berlin";
  options.every_anchor = absl::FromUnixMillis(1711846770500);  // 00:59:30.5Z
  Result<Schedule> s = Schedule::Parse(input, options);
  if (!s.ok()) {
    fuzz::CheckUserError(s.status());
    CONCH_CHECK(s.status().message().starts_with("schedule \""));
    return;
  }

  // The canonical form keeps the zone and the ticks.
  options.default_zone = "Asia/Tokyo";
  Result<Schedule> again = Schedule::Parse(s->Canonical(), options);
  CONCH_CHECK(again.ok());
  CONCH_CHECK(again->zone_name() == s->zone_name());
  CONCH_CHECK(again->kind() == s->kind());
  const absl::Time start = Utc(2024, 3, 30, 12, 0);
  CONCH_CHECK(again->NextN(start, 4) == s->NextN(start, 4));

  // Ticks from around the 2024 shifts of Berlin, New York and Lord Howe,
  // from before the anchor, and from an instant the input picks.
  for (absl::Time after :
       {start, Utc(2024, 10, 26, 23, 59), Utc(2024, 3, 10, 6, 30),
        Utc(2024, 11, 3, 5, 0), Utc(2024, 10, 5, 15, 0),
        Utc(2024, 4, 6, 14, 45), Utc(1999, 12, 31, 23, 59), FromInput(input)}) {
    CheckTicksFrom(*s, after);
  }
}

}  // namespace
}  // namespace conch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  conch::CheckSchedule(conch::fuzz::AsText(data, size));
  return 0;
}
