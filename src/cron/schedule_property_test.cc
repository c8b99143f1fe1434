// Property tests of Schedule::Next over random expressions, zones and
// instants: every tick is after its starting point and matches the
// expression, and a brute-force scan, minute by minute, finds no tick that
// Next skipped. The scan decides what a tick is from the wall clock alone
// (schedule.h's rules), independently of Next's stretch-by-stretch search.
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cron/schedule.h"

namespace conch::cron {
namespace {

// Zones with the shapes of shift that matter: one-hour, 30-minute (Lord
// Howe), negative DST (Dublin), two-hour (Troll), a fall-back across
// midnight (Sao Paulo before 2019), Ramadan shifts (Casablanca), a whole
// skipped day (Apia, 2011-12-30), odd offsets (Kathmandu, St Johns).
const std::vector<std::string> kZones = {
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Europe/Dublin",
    "Antarctica/Troll",
    "America/Sao_Paulo",
    "Africa/Casablanca",
    "Pacific/Apia",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Asia/Tehran",
};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  int Uniform(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  bool OneIn(int n) { return Uniform(1, n) == 1; }

  // One field: a list of 1..3 items over [lo, hi].
  std::string Field(int lo, int hi) {
    std::string out;
    const int items = OneIn(2) ? 1 : Uniform(2, 3);
    for (int i = 0; i < items; ++i) {
      if (i > 0) out += ",";
      out += Item(lo, hi);
    }
    return out;
  }

  std::string Item(int lo, int hi) {
    const int a = Uniform(lo, hi);
    const int b = Uniform(a, hi);
    const std::string step = std::to_string(Uniform(1, (hi - lo) / 2 + 1));
    switch (Uniform(0, 6)) {
      case 0:
        return "*";
      case 1:
        return "*/" + step;
      case 2:
        return std::to_string(a) + "-" + std::to_string(b);
      case 3:
        return std::to_string(a) + "-" + std::to_string(b) + "/" + step;
      case 4:
        return std::to_string(a) + "/" + step;
      default:
        return std::to_string(a);
    }
  }

  // Hours are often fixed and minutes often sparse, so that both kinds and
  // DST-sensitive hours (0..3) come up often.
  std::string Expression() {
    const std::string minute = OneIn(3) ? Field(0, 59) : Item(0, 59);
    std::string hour;
    switch (Uniform(0, 3)) {
      case 0:
        hour = "*";
        break;
      case 1:
        hour = std::to_string(Uniform(0, 3));
        break;
      default:
        hour = Field(0, 23);
    }
    const std::string dom = OneIn(2) ? "*" : Field(1, 31);
    const std::string month = OneIn(2) ? "*" : Field(1, 12);
    const std::string dow = OneIn(2) ? "*" : Field(0, 6);
    return minute + " " + hour + " " + dom + " " + month + " " + dow;
  }

  const std::string& Zone() {
    return kZones[static_cast<size_t>(
        Uniform(0, static_cast<int>(kZones.size()) - 1))];
  }

  // Mostly near one of the zone's offset changes between 1990 and 2035.
  absl::Time Instant(const absl::TimeZone& zone) {
    const absl::Time start = absl::FromCivil(
        absl::CivilSecond(Uniform(1990, 2035), Uniform(1, 12), 1, 0, 0, 0),
        absl::UTCTimeZone());
    absl::TimeZone::CivilTransition shift;
    absl::Time near = start;
    if (!OneIn(4) && zone.NextTransition(start, &shift)) {
      near = zone.At(shift.to).trans;
    }
    return near + absl::Seconds(Uniform(-2 * 86400, 86400));
  }

 private:
  std::mt19937 rng_;
};

// What a minute-by-minute scan of real time expects, from the wall clock
// alone. Offsets in the scanned years are whole minutes, so every tick lies
// on a whole UTC minute.
class Scan {
 public:
  Scan(const Schedule& s, absl::Time start) : s_(s), t_(start) {
    // Start the high-water mark three days back, as no shift is longer.
    for (absl::Time t = start - absl::Hours(72); t <= start;
         t += absl::Minutes(1)) {
      high_ = std::max(high_, Wall(t));
    }
  }

  // Moves to the next whole minute and says whether it is a tick.
  bool Step() {
    t_ += absl::Minutes(1);
    const absl::CivilSecond wall = Wall(t_);
    bool tick = false;
    if (s_.kind() == Schedule::Kind::kRealTime) {
      tick = s_.MatchesLocal(wall);
    } else {
      // Fixed hour: some matching minute in (high-water, wall] was first
      // reached now.
      for (absl::CivilMinute m = absl::CivilMinute(high_) + 1;
           absl::CivilSecond(m) <= wall && !tick; ++m) {
        tick = s_.MatchesLocal(m);
      }
    }
    high_ = std::max(high_, wall);
    return tick;
  }
  absl::Time time() const { return t_; }

 private:
  absl::CivilSecond Wall(absl::Time t) const { return s_.zone().At(t).cs; }

  const Schedule& s_;
  absl::Time t_;
  absl::CivilSecond high_ = absl::CivilSecond::min();
};

absl::Time MinuteFloor(absl::Time t) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(t) / 60 * 60 -
                               (absl::ToUnixSeconds(t) % 60 < 0 ? 60 : 0));
}

std::string Describe(const Schedule& s, absl::Time after) {
  return s.zone_name() + " \"" + s.expression() + "\" after " +
         absl::FormatTime(after, absl::UTCTimeZone());
}

std::string Local(const Schedule& s, absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, s.zone());
}

// Next moves forward, ticks, is found again from the second before, and,
// for real-time jobs, matches the wall clock.
::testing::AssertionResult TicksAreSound(const Schedule& s, absl::Time after,
                                         const std::vector<absl::Time>& ticks) {
  absl::Time previous = after;
  for (absl::Time tick : ticks) {
    const bool matches = s.kind() != Schedule::Kind::kRealTime ||
                         s.MatchesLocal(s.zone().At(tick).cs);
    if (tick <= previous || !s.IsTick(tick) ||
        s.Next(tick - absl::Seconds(1)) != tick || !matches) {
      return ::testing::AssertionFailure()
             << Describe(s, after) << ": bad tick " << Local(s, tick);
    }
    previous = tick;
  }
  return ::testing::AssertionSuccess();
}

// No tick between `after` and the first one, nor among the rest, was
// skipped: the scan, up to two days, finds exactly `ticks`.
::testing::AssertionResult ScanAgrees(const Schedule& s, absl::Time after,
                                      const std::vector<absl::Time>& ticks) {
  Scan scan(s, MinuteFloor(after));
  size_t next = 0;
  const absl::Time end = std::min(ticks.back(), after + absl::Hours(48));
  while (scan.time() < end) {
    const bool tick = scan.Step();
    if (scan.time() <= after) continue;
    const bool is_next = next < ticks.size() && ticks[next] == scan.time();
    if (tick != is_next) {
      return ::testing::AssertionFailure()
             << Describe(s, after) << ": the scan and Next differ at "
             << Local(s, scan.time());
    }
    if (is_next) ++next;
  }
  return ::testing::AssertionSuccess();
}

TEST(SchedulePropertyTest, NextMatchesAndSkipsNothing) {
  Generator gen(20240331);
  int parsed = 0;
  for (int round = 0; round < 1500; ++round) {
    ParseOptions options;
    options.default_zone = gen.Zone();
    Result<Schedule> s = Schedule::Parse(gen.Expression(), options);
    if (!s.ok()) continue;  // unsatisfiable day and month combinations
    ++parsed;
    const absl::Time after = gen.Instant(s->zone());
    const std::vector<absl::Time> ticks = s->NextN(after, 12);
    ASSERT_EQ(ticks.size(), 12U) << Describe(*s, after);
    ASSERT_TRUE(TicksAreSound(*s, after, ticks));
    ASSERT_TRUE(ScanAgrees(*s, after, ticks));
  }
  EXPECT_GT(parsed, 1000);
}

// @every: the next tick is the first anchor + k * period after both `after`
// and the anchor.
::testing::AssertionResult NextIsTheFollowingMultiple(const Schedule& s,
                                                      absl::Time after) {
  const absl::Time next = s.Next(after);
  const bool ok = next > after && next > s.anchor() &&
                  next - std::max(after, s.anchor()) <= s.period() &&
                  (next - s.anchor()) % s.period() == absl::ZeroDuration() &&
                  s.IsTick(next);
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << s.expression() << " anchored at " << s.anchor() << ": after "
         << after << " comes " << next;
}

TEST(SchedulePropertyTest, EveryTicksAreAnchoredMultiples) {
  Generator gen(90);
  for (int round = 0; round < 500; ++round) {
    ParseOptions options;
    options.every_anchor =
        absl::FromUnixSeconds(gen.Uniform(0, 2'000'000'000)) +
        absl::Milliseconds(gen.Uniform(0, 999));
    const int period =
        gen.OneIn(2) ? gen.Uniform(1, 120) : gen.Uniform(1, 100'000'000);
    Result<Schedule> s =
        Schedule::Parse("@every " + std::to_string(period) + "s", options);
    ASSERT_TRUE(s.ok());
    const absl::Time after =
        absl::FromUnixSeconds(gen.Uniform(0, 2'100'000'000)) +
        absl::Milliseconds(gen.Uniform(0, 999));
    ASSERT_TRUE(NextIsTheFollowingMultiple(*s, after));
  }
}

TEST(SchedulePropertyTest, FarFromNowStillMovesForwardAndMatches) {
  // Without the scan: years far from the present, where zones run on their
  // last rule (or, before 1900, on local mean time).
  Generator gen(7);
  for (int round = 0; round < 400; ++round) {
    ParseOptions options;
    options.default_zone = gen.Zone();
    Result<Schedule> s = Schedule::Parse(gen.Expression(), options);
    if (!s.ok()) continue;
    const int year =
        gen.OneIn(2) ? gen.Uniform(1700, 1950) : gen.Uniform(2040, 2390);
    const absl::Time after = absl::FromCivil(
        absl::CivilSecond(year, gen.Uniform(1, 12), gen.Uniform(1, 28),
                          gen.Uniform(0, 23), gen.Uniform(0, 59), 0),
        absl::UTCTimeZone());
    const std::vector<absl::Time> ticks = s->NextN(after, 5);
    ASSERT_EQ(ticks.size(), 5U) << Describe(*s, after);
    ASSERT_TRUE(TicksAreSound(*s, after, ticks));
  }
}

}  // namespace
}  // namespace conch::cron
