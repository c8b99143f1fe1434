#include "config/flags.h"

#include <gtest/gtest.h>

namespace conch::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Fixture {
  bool restart = false;
  std::string on_acquire;
  Duration kill_after = seconds(5);
  int64_t min_rev = 0;
  FlagSet flags{"usage: test"};
  Fixture() {
    flags.Bool("restart", &restart, "r");
    flags.String("on-acquire", &on_acquire, "a");
    flags.Duration("kill-after", &kill_after, "k");
    flags.Int("min-rev", &min_rev, "m");
  }
};

TEST(FlagsTest, GoStyleSpellingsAreEquivalent) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"-kill-after", "2s"},
        std::vector<std::string>{"--kill-after", "2s"},
        std::vector<std::string>{"-kill-after=2s"},
        std::vector<std::string>{"--kill-after=2s"}}) {
    Fixture f;
    ASSERT_TRUE(f.flags.Parse(args, 0).ok());
    EXPECT_EQ(f.kill_after, seconds(2));
    EXPECT_TRUE(f.flags.IsSet("kill-after"));
  }
}

TEST(FlagsTest, BoolsTakeNoValueButAcceptExplicitOnes) {
  Fixture f;
  ASSERT_TRUE(f.flags.Parse({"--restart"}, 0).ok());
  EXPECT_TRUE(f.restart);
  Fixture g;
  g.restart = true;
  ASSERT_TRUE(g.flags.Parse({"--restart=false"}, 0).ok());
  EXPECT_FALSE(g.restart);
  Fixture h;
  EXPECT_FALSE(h.flags.Parse({"--restart=maybe"}, 0).ok());
}

TEST(FlagsTest, PositionalsAndCommand) {
  Fixture f;
  ASSERT_TRUE(f.flags
                  .Parse({"office", "--min-rev", "7", "--", "sh", "-c",
                          "echo --restart"},
                         1)
                  .ok());
  EXPECT_EQ(f.flags.positionals(), std::vector<std::string>{"office"});
  EXPECT_EQ(f.min_rev, 7);
  EXPECT_FALSE(f.restart);  // after "--" it belongs to the command
  EXPECT_EQ(f.flags.command(),
            (std::vector<std::string>{"sh", "-c", "echo --restart"}));
  EXPECT_TRUE(f.flags.has_command_separator());
}

TEST(FlagsTest, ErrorsAreOneClearLine) {
  struct Case {
    std::vector<std::string> args;
    const char* says;
  } cases[] = {
      {{"--bogus"}, "unknown flag \"--bogus\""},
      {{"office", "x\nfoo"}, "unexpected argument \"x\\x0afoo\""},
      {{"--kill-after"}, "needs a value"},
      {{"--kill-after", "5x"}, "flag --kill-after"},
      {{"--min-rev", "seven"}, "not an integer"},
      {{"office", "extra"}, "unexpected argument \"extra\""},
  };
  for (const Case& c : cases) {
    Fixture f;
    Status s = f.flags.Parse(c.args, 1);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos);
  }
}

TEST(FlagsTest, HelpStopsParsing) {
  Fixture f;
  ASSERT_TRUE(f.flags.Parse({"office", "-h", "--bogus"}, 1).ok());
  EXPECT_TRUE(f.flags.help_requested());
  std::string usage = f.flags.Usage();
  EXPECT_NE(usage.find("--kill-after D"), std::string::npos);
  EXPECT_NE(usage.find("(default 5s)"), std::string::npos);
}

}  // namespace
}  // namespace conch::config
