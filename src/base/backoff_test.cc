#include "base/backoff.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace conch {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// A child that crashed at once: never long enough to reset the sequence.
constexpr Duration kShortRun = milliseconds(10);

// Returns the given values in order, then repeats the last one.
Uniform01 Sequence(std::vector<double> values) {
  return [values = std::move(values), next = size_t{0}]() mutable {
    const double u = values[std::min(next, values.size() - 1)];
    ++next;
    return u;
  };
}

Uniform01 Constant(double u) { return Sequence({u}); }

const double kAlmostOne = std::nextafter(1.0, 0.0);

TEST(RestartBackoffTest, FirstDelayIsInitial) {
  RestartBackoff backoff({}, Constant(0.9));
  EXPECT_EQ(backoff.Next(kShortRun), seconds(1));
}

TEST(RestartBackoffTest, DefaultsMatchTheOriginalTool) {
  const BackoffOptions options;
  EXPECT_EQ(options.initial, seconds(1));
  EXPECT_EQ(options.cap, seconds(30));
  EXPECT_EQ(options.reset_after, seconds(60));
  EXPECT_EQ(options.multiplier, 3.0);
}

TEST(RestartBackoffTest, LaterDelaysAreUniformBetweenInitialAndTriplePrevious) {
  // previous 1s: [1s, 3s); previous 2s: [1s, 6s); previous 3.5s: [1s, 10.5s).
  RestartBackoff backoff({}, Sequence({0.5, 0.5, 0.0}));
  EXPECT_EQ(backoff.Next(kShortRun), seconds(1));
  EXPECT_EQ(backoff.Next(kShortRun), seconds(2));          // 1 + 0.5 x 2
  EXPECT_EQ(backoff.Next(kShortRun), milliseconds(3500));  // 1 + 0.5 x 5
  EXPECT_EQ(backoff.Next(kShortRun), seconds(1));          // 1 + 0 x 9.5
}

TEST(RestartBackoffTest, UpperBoundIsExclusive) {
  RestartBackoff backoff({}, Constant(kAlmostOne));
  EXPECT_EQ(backoff.Next(kShortRun), seconds(1));
  const Duration second = backoff.Next(kShortRun);
  EXPECT_LT(second, seconds(3));
  EXPECT_GE(second, seconds(3) - milliseconds(1));
}

TEST(RestartBackoffTest, GrowsToTheCapAndStaysThere) {
  RestartBackoff backoff({}, Constant(kAlmostOne));
  std::vector<Duration> delays;
  delays.reserve(8);
  for (int i = 0; i < 8; ++i) delays.push_back(backoff.Next(kShortRun));
  // 1s, ~3s, ~9s, ~27s, then 30s (capped) from there on.
  EXPECT_EQ(delays[0], seconds(1));
  EXPECT_GT(delays[3], seconds(26));
  EXPECT_LT(delays[3], seconds(27));
  for (size_t i = 4; i < delays.size(); ++i) EXPECT_EQ(delays[i], seconds(30));
}

// Checks 200 delays from one seeded source against the contract: the first
// is 1s, and each later one lies in [1s, 3 x previous), or in [1s, 30s] once
// 3 x previous exceeds the cap.
testing::AssertionResult DelaysWithinBounds(uint64_t seed) {
  RestartBackoff backoff({}, SeededUniform01(seed));
  Duration previous = backoff.Next(kShortRun);
  if (previous != seconds(1)) return testing::AssertionFailure() << "first";
  for (int i = 0; i < 200; ++i) {
    const Duration delay = backoff.Next(kShortRun);
    const bool in_range = previous * 3 > seconds(30)
                              ? delay >= seconds(1) && delay <= seconds(30)
                              : delay >= seconds(1) && delay < previous * 3;
    if (!in_range) {
      return testing::AssertionFailure()
             << "step " << i << ": " << FormatDuration(delay) << " after "
             << FormatDuration(previous);
    }
    previous = delay;
  }
  return testing::AssertionSuccess();
}

TEST(RestartBackoffTest, DelaysStayWithinInitialAndCap) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    EXPECT_TRUE(DelaysWithinBounds(seed)) << "seed " << seed;
  }
}

TEST(RestartBackoffTest, LongRunResetsTheSequence) {
  RestartBackoff backoff({}, Constant(kAlmostOne));
  for (int i = 0; i < 6; ++i) (void)backoff.Next(kShortRun);
  EXPECT_EQ(backoff.Next(kShortRun), seconds(30));
  EXPECT_EQ(backoff.Next(seconds(60)), seconds(1));  // exactly reset_after
  EXPECT_GT(backoff.Next(kShortRun), seconds(2));    // growing again
  EXPECT_EQ(backoff.Next(std::chrono::hours(5)), seconds(1));
}

TEST(RestartBackoffTest, RunJustUnderResetAfterDoesNotReset) {
  RestartBackoff backoff({}, Constant(kAlmostOne));
  EXPECT_EQ(backoff.Next(kShortRun), seconds(1));
  EXPECT_GT(backoff.Next(seconds(60) - nanoseconds(1)), seconds(2));
}

TEST(RestartBackoffTest, ResetMakesTheNextDelayInitial) {
  RestartBackoff backoff({}, Constant(kAlmostOne));
  (void)backoff.Next(kShortRun);
  (void)backoff.Next(kShortRun);
  backoff.Reset();
  EXPECT_EQ(backoff.Next(kShortRun), seconds(1));
}

TEST(RestartBackoffTest, SameSeedGivesSameSequence) {
  RestartBackoff a({}, SeededUniform01(42));
  RestartBackoff b({}, SeededUniform01(42));
  RestartBackoff c({}, SeededUniform01(43));
  bool differs_from_other_seed = false;
  for (int i = 0; i < 20; ++i) {
    const Duration delay = a.Next(kShortRun);
    EXPECT_EQ(delay, b.Next(kShortRun));
    if (delay != c.Next(kShortRun)) differs_from_other_seed = true;
  }
  EXPECT_TRUE(differs_from_other_seed);
}

TEST(RestartBackoffTest, OutOfRangeRandomValuesAreClamped) {
  // The first delay draws nothing.
  RestartBackoff backoff({}, Sequence({-1.0, 7.0, std::nan("")}));
  EXPECT_EQ(backoff.Next(kShortRun), seconds(1));
  EXPECT_EQ(backoff.Next(kShortRun), seconds(1));  // -1 -> 0
  const Duration high = backoff.Next(kShortRun);   // 7 -> just under 1
  EXPECT_LT(high, seconds(3));
  EXPECT_GT(high, seconds(3) - milliseconds(1));
  EXPECT_EQ(backoff.Next(kShortRun), seconds(1));  // NaN -> 0
}

TEST(RestartBackoffTest, MultiplierOneNeverGrows) {
  BackoffOptions options;
  options.multiplier = 1.0;
  RestartBackoff backoff(options, Constant(kAlmostOne));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(backoff.Next(kShortRun), seconds(1));
}

TEST(RestartBackoffTest, ExtremeOptionsDoNotOverflow) {
  BackoffOptions options;
  options.initial = Duration::max() / 2;
  options.cap = Duration::max();
  options.reset_after = Duration::max();
  options.multiplier = 1e300;
  RestartBackoff backoff(options, Constant(kAlmostOne));
  EXPECT_EQ(backoff.Next(kShortRun), Duration::max() / 2);
  EXPECT_EQ(backoff.Next(kShortRun), Duration::max());
  EXPECT_EQ(backoff.Next(kShortRun), Duration::max());
}

TEST(RestartBackoffTest, DefaultRandomSourceStaysInBounds) {
  RestartBackoff backoff;
  EXPECT_EQ(backoff.Next(kShortRun), seconds(1));
  for (int i = 0; i < 100; ++i) {
    const Duration delay = backoff.Next(kShortRun);
    EXPECT_GE(delay, seconds(1));
    EXPECT_LE(delay, seconds(30));
  }
}

struct InvalidOptionsCase {
  BackoffOptions options;
  const char* why;
};

TEST(ValidateBackoffOptionsTest, RejectsNonsense) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<InvalidOptionsCase> cases = {
      {{.initial = seconds(-1)}, "negative initial"},
      {{.initial = seconds(10), .cap = seconds(5)}, "cap below initial"},
      {{.reset_after = seconds(-1)}, "negative reset_after"},
      {{.multiplier = 0.5}, "shrinking multiplier"},
      {{.multiplier = inf}, "infinite multiplier"},
      {{.multiplier = std::nan("")}, "NaN multiplier"},
  };
  EXPECT_TRUE(ValidateBackoffOptions({}).ok());
  for (const InvalidOptionsCase& c : cases) {
    const Status status = ValidateBackoffOptions(c.options);
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << c.why;
  }
  EXPECT_EQ(ValidateBackoffOptions({.initial = seconds(10), .cap = seconds(5)})
                .message(),
            "backoff cap 5s is below the initial delay 10s");
}

TEST(RestartBackoffDeathTest, InvalidOptionsAreABug) {
  EXPECT_DEATH(RestartBackoff({.multiplier = 0.5}, Constant(0.5)),
               "check failed");
}

TEST(RetryBackoffTest, FullJitterBelowADoublingCeiling) {
  // Ceilings 50, 100, 200, 400, 800, 1000 (capped), 1000 ms.
  RetryBackoff backoff({}, Constant(0.5));
  const std::vector<Duration> expected = {milliseconds(25),  milliseconds(50),
                                          milliseconds(100), milliseconds(200),
                                          milliseconds(400), milliseconds(500),
                                          milliseconds(500)};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(backoff.Next(), expected[i]) << "attempt " << i;
    EXPECT_EQ(backoff.attempts(), static_cast<int>(i) + 1);
  }
}

TEST(RetryBackoffTest, DelaysLieInZeroToCeiling) {
  RetryBackoff zero({}, Constant(0.0));
  EXPECT_EQ(zero.Next(), nanoseconds(0));
  RetryBackoff high({}, Constant(kAlmostOne));
  EXPECT_LT(high.Next(), milliseconds(50));
  EXPECT_LT(high.Next(), milliseconds(100));
  for (int i = 0; i < 100; ++i) EXPECT_LT(high.Next(), seconds(1));
}

TEST(RetryBackoffTest, NeverExceedsCapWithRandomSource) {
  RetryBackoff backoff({}, SeededUniform01(7));
  for (int i = 0; i < 1000; ++i) {
    const Duration delay = backoff.Next();
    ASSERT_GE(delay, nanoseconds(0));
    ASSERT_LT(delay, seconds(1));
  }
}

TEST(RetryBackoffTest, ResetStartsOverAtBase) {
  RetryBackoff backoff({}, Constant(kAlmostOne));
  for (int i = 0; i < 5; ++i) (void)backoff.Next();
  backoff.Reset();
  EXPECT_EQ(backoff.attempts(), 0);
  const Duration delay = backoff.Next();
  EXPECT_LT(delay, milliseconds(50));
  EXPECT_GT(delay, milliseconds(49));
}

TEST(RetryBackoffTest, HugeCapDoesNotOverflow) {
  RetryBackoff backoff({.base = seconds(1), .cap = Duration::max()},
                       Constant(kAlmostOne));
  Duration previous{0};
  for (int i = 0; i < 100; ++i) {
    const Duration delay = backoff.Next();
    ASSERT_GE(delay, previous) << "attempt " << i;
    ASSERT_LT(delay, Duration::max());
    previous = delay;
  }
  EXPECT_GT(previous, Duration::max() / 2);
}

TEST(ValidateRetryBackoffOptionsTest, RejectsNonsense) {
  EXPECT_TRUE(ValidateRetryBackoffOptions({}).ok());
  EXPECT_EQ(ValidateRetryBackoffOptions({.base = milliseconds(-1)}).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(ValidateRetryBackoffOptions({.base = seconds(2), .cap = seconds(1)})
                .code(),
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace conch
