#include "cli/cli.h"

#include <gtest/gtest.h>

namespace conch::cli {
namespace {

using Args = std::vector<std::string>;

TEST(HoistGlobalFlagsTest, GlobalFlagsBeforeTheCommandMoveAfterIt) {
  struct Case {
    Args in, out;
  } cases[] = {
      {{"--endpoints", "a:1", "elect", "o", "--", "true"},
       {"elect", "--endpoints", "a:1", "o", "--", "true"}},
      {{"-endpoints=a:1", "--ttl", "5s", "--quiet", "sema", "s", "--max", "2"},
       {"sema", "-endpoints=a:1", "--ttl", "5s", "--quiet", "s", "--max", "2"}},
      {{"--dial-timeout=2s", "--quiet=false", "elect", "o", "--who"},
       {"elect", "--dial-timeout=2s", "--quiet=false", "o", "--who"}},
  };
  for (const Case& c : cases) {
    Result<Args> got = HoistGlobalFlags(c.in);
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(*got, c.out);
  }
}

TEST(HoistGlobalFlagsTest, ArgumentsWithoutLeadingFlagsAreUnchanged) {
  Args in = {"elect", "o", "--endpoints", "a:1", "--", "true"};
  Result<Args> got = HoistGlobalFlags(in);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, in);
}

TEST(HoistGlobalFlagsTest, HelpAndVersionDropTheFlags) {
  EXPECT_EQ(HoistGlobalFlags({"--ttl", "5s", "help", "elect"}).value(),
            (Args{"help", "elect"}));
  EXPECT_EQ(HoistGlobalFlags({"--ttl", "5s", "version"}).value(),
            (Args{"version"}));
  EXPECT_EQ(HoistGlobalFlags({"--ttl", "5s", "--help", "elect"}).value(),
            (Args{"help"}));
  EXPECT_EQ(HoistGlobalFlags({"--quiet", "-version"}).value(),
            (Args{"version"}));
}

TEST(HoistGlobalFlagsTest, MistakesAreOneLineErrors) {
  struct Case {
    Args in;
    const char* says;
  } cases[] = {
      {{"--bogus", "elect", "o"},
       "unknown flag \"--bogus\" before the command"},
      {{"--max", "2", "sema", "s"},
       "unknown flag \"--max\" before the command"},
      {{"--ttl"}, "flag --ttl needs a value"},
      {{"--endpoints", "a:1"}, "no command after the global flags"},
  };
  for (const Case& c : cases) {
    Result<Args> got = HoistGlobalFlags(c.in);
    ASSERT_FALSE(got.ok()) << c.says;
    EXPECT_EQ(got.status().code(), Code::kInvalidArgument);
    EXPECT_NE(got.status().message().find(c.says), std::string::npos)
        << got.status().message();
    EXPECT_EQ(got.status().message().find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace conch::cli
