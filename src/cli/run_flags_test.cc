#include "cli/run_flags.h"

#include <gtest/gtest.h>

#include "primitives/hold_deadline.h"

namespace conch::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

RunFlags WithTtl(Duration ttl) {
  RunFlags f;
  f.global.ttl = ttl;
  f.command = {"true"};
  return f;
}

TEST(AdaptKillAfterTest, ADefaultThatFitsIsKept) {
  RunFlags f = WithTtl(seconds(10));
  AdaptKillAfter(&f, false);
  EXPECT_EQ(f.kill_after, seconds(5));
  EXPECT_FALSE(f.kill_after_adapted);
}

TEST(AdaptKillAfterTest, ADefaultThatCannotFailClosedBecomesTheLargestThatCan) {
  struct Case {
    Duration ttl, kill_after;
  } cases[] = {
      {seconds(1), milliseconds(400)},   // budget 500 ms + 1 ns, margin 100 ms
      {seconds(3), milliseconds(1349)},  // budget 1.5 s, margin 150 ms
      {seconds(5), milliseconds(2250)},  // budget 2.5 s + 1 ns, margin 250 ms
      {seconds(7), milliseconds(3316)},  // budget 3.667 s, margin 350 ms
  };
  for (const Case& c : cases) {
    RunFlags f = WithTtl(c.ttl);
    AdaptKillAfter(&f, false);
    EXPECT_EQ(f.kill_after, c.kill_after) << c.ttl.count();
    EXPECT_TRUE(f.kill_after_adapted);
    EXPECT_TRUE(ValidateRunFlags(f, "usage").ok());
    // One millisecond more would not fail closed.
    EXPECT_FALSE(
        primitives::ValidateHoldTiming(c.ttl, c.kill_after + milliseconds(1))
            .ok());
  }
}

TEST(AdaptKillAfterTest, AValueTheUserGaveIsLeftToBeRefused) {
  RunFlags f = WithTtl(seconds(3));
  f.kill_after = seconds(2);
  AdaptKillAfter(&f, true);
  EXPECT_EQ(f.kill_after, seconds(2));
  EXPECT_FALSE(f.kill_after_adapted);
  EXPECT_FALSE(ValidateRunFlags(f, "usage").ok());
}

TEST(AdaptKillAfterTest, ARefusedTtlIsLeftToBeRefused) {
  for (Duration ttl : {milliseconds(500), milliseconds(2500)}) {
    RunFlags f = WithTtl(ttl);
    AdaptKillAfter(&f, false);
    EXPECT_EQ(f.kill_after, seconds(5));
    EXPECT_FALSE(f.kill_after_adapted);
    EXPECT_FALSE(ValidateRunFlags(f, "usage").ok());
  }
}

}  // namespace
}  // namespace conch::cli
