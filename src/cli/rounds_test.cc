#include "cli/rounds.h"

#include <algorithm>
#include <deque>
#include <vector>

#include <gtest/gtest.h>

namespace conch::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Rounds that end as scripted, and a pause that records what it was asked.
struct Script {
  std::deque<Round> rounds;
  std::vector<bool> firsts;
  std::vector<Duration> pauses;
  std::optional<int> signal_on_pause;  // 1-based pause that gets a signal
  int signal_code = 143;

  int Run(bool restart, RestartBackoff& backoff) {
    return RunRounds(
        restart, backoff,
        [this](bool first) {
          firsts.push_back(first);
          Round r = rounds.front();
          rounds.pop_front();
          return r;
        },
        [this](Duration d) -> std::optional<int> {
          pauses.push_back(d);
          if (signal_on_pause && *signal_on_pause == int(pauses.size())) {
            return signal_code;
          }
          return std::nullopt;
        });
  }
};

Round Ran(int code, Duration length) { return {code, false, length}; }

TEST(RunRoundsTest, WithoutRestartTheFirstRoundDecides) {
  RestartBackoff backoff({}, SeededUniform01(1));
  Script s;
  s.rounds = {Ran(3, seconds(5)), Ran(0, seconds(5))};
  EXPECT_EQ(s.Run(false, backoff), 3);
  EXPECT_EQ(s.firsts, std::vector<bool>{true});
  EXPECT_TRUE(s.pauses.empty());
}

TEST(RunRoundsTest, AFinalRoundEndsTheRestartLoop) {
  RestartBackoff backoff({}, SeededUniform01(1));
  Script s;
  s.rounds = {Ran(1, seconds(1)), Round{130, true, seconds(1)}};
  EXPECT_EQ(s.Run(true, backoff), 130);
  EXPECT_EQ(s.firsts, (std::vector<bool>{true, false}));
  EXPECT_EQ(s.pauses.size(), 1u);
}

TEST(RunRoundsTest, PausesGrowFromOneSecondWithinThreeTimesThePrevious) {
  RestartBackoff backoff({}, SeededUniform01(7));
  Script s;
  for (int i = 0; i < 8; ++i) s.rounds.push_back(Ran(1, milliseconds(10)));
  s.rounds.push_back(Round{2, true, milliseconds(10)});
  EXPECT_EQ(s.Run(true, backoff), 2);
  ASSERT_EQ(s.pauses.size(), 8u);
  EXPECT_EQ(s.pauses[0], seconds(1));
  for (size_t i = 1; i < s.pauses.size(); ++i) {
    EXPECT_GE(s.pauses[i], seconds(1)) << i;
    EXPECT_LT(s.pauses[i], 3 * s.pauses[i - 1]) << i;
    EXPECT_LE(s.pauses[i], seconds(30)) << i;
  }
  // With this seed the sequence grows well past its start.
  EXPECT_GT(*std::max_element(s.pauses.begin(), s.pauses.end()), seconds(4));
}

TEST(RunRoundsTest, ARunOfAMinuteResetsThePause) {
  RestartBackoff backoff({}, SeededUniform01(7));
  Script s;
  for (int i = 0; i < 6; ++i) s.rounds.push_back(Ran(1, milliseconds(10)));
  s.rounds.push_back(Ran(0, seconds(60)));  // exactly reset_after
  s.rounds.push_back(Ran(1, milliseconds(10)));
  s.rounds.push_back(Round{2, true, Duration::zero()});
  s.Run(true, backoff);
  ASSERT_EQ(s.pauses.size(), 8u);
  EXPECT_GT(s.pauses[5], seconds(1));
  EXPECT_EQ(s.pauses[6], seconds(1));  // after the long run
  EXPECT_GE(s.pauses[7], seconds(1));
}

TEST(RunRoundsTest, ARunJustUnderAMinuteDoesNotReset) {
  RestartBackoff backoff({}, SeededUniform01(7));
  Script s;
  for (int i = 0; i < 6; ++i) s.rounds.push_back(Ran(1, milliseconds(10)));
  s.rounds.push_back(Ran(0, seconds(60) - std::chrono::nanoseconds(1)));
  s.rounds.push_back(Round{2, true, Duration::zero()});
  s.Run(true, backoff);
  ASSERT_EQ(s.pauses.size(), 7u);
  EXPECT_GT(s.pauses[6], seconds(1));
}

TEST(RunRoundsTest, AStopSignalDuringThePauseEndsWithItsCode) {
  RestartBackoff backoff({}, SeededUniform01(3));
  Script s;
  for (int i = 0; i < 5; ++i) s.rounds.push_back(Ran(1, milliseconds(10)));
  s.signal_on_pause = 2;
  s.signal_code = 130;
  EXPECT_EQ(s.Run(true, backoff), 130);
  EXPECT_EQ(s.firsts.size(), 2u);  // no round after the signal
  EXPECT_EQ(s.rounds.size(), 3u);
}

}  // namespace
}  // namespace conch::cli
