#include "cli/elect_flags.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include "config/clean_env_test.h"

namespace conch::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using ElectFlagsTest = config::CleanEnvTest;

TEST_F(ElectFlagsTest, RunModeTakesOfficeFlagsAndCommand) {
  Result<ElectFlags> f =
      ParseElectFlags({"db", "-ttl=3s", "--kill-after", "1s", "--nonblock",
                       "--on-lose", "echo bye", "--", "sleep", "--", "1"});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->office, "db");
  EXPECT_EQ(f->run.global.ttl, seconds(3));
  EXPECT_EQ(f->run.kill_after, seconds(1));
  EXPECT_TRUE(f->run.nonblock);
  EXPECT_EQ(f->run.on_lose, "echo bye");
  EXPECT_EQ(f->run.command, (std::vector<std::string>{"sleep", "--", "1"}));
  EXPECT_EQ(f->run.wait, Duration::zero());  // forever
  EXPECT_FALSE(f->help);
}

TEST_F(ElectFlagsTest, InspectModesNeedNoCommand) {
  for (const char* mode : {"--who", "--watch", "--assert"}) {
    Result<ElectFlags> f = ParseElectFlags({"db", mode, "--json"});
    ASSERT_TRUE(f.ok()) << mode << ": " << f.status().message();
    EXPECT_TRUE(f->run.command.empty()) << mode;
    EXPECT_TRUE(f->json) << mode;
  }
}

TEST_F(ElectFlagsTest, AssertTakesAMinimumRevision) {
  Result<ElectFlags> f = ParseElectFlags({"db", "--assert", "--min-rev", "7"});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->assert_held);
  EXPECT_EQ(f->min_rev, 7);
}

TEST_F(ElectFlagsTest, HelpWinsOverEveryLaterError) {
  const std::vector<std::vector<std::string>> lines = {
      {"--help"}, {"-h", "--bogus"}, {"a/b", "-help"}};
  for (const std::vector<std::string>& args : lines) {
    Result<ElectFlags> f = ParseElectFlags(args);
    EXPECT_TRUE(f.ok() && f->help) << args[0];
  }
}

TEST_F(ElectFlagsTest, HelpWinsOverAMalformedEnvironment) {
  setenv("CONCH_TTL", "soon", 1);
  Result<ElectFlags> f = ParseElectFlags({"-h"});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->help);
}

TEST_F(ElectFlagsTest, UsageErrorsSayWhatIsWrong) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{}, "office name is required"},
      {{"--", "true"}, "office name is required"},
      {{"db"}, "no command given: conch elect <office> [flags] -- cmd..."},
      {{"db", "--"}, "no command given"},
      {{"db", "--bogus", "--", "true"}, "unknown flag \"--bogus\""},
      {{"a/b", "--", "true"}, "office name \"a/b\" contains '/'"},
      {{"db", "--ttl", "3s", "--kill-after", "5s", "--", "true"},
       "cannot fail closed"},
      {{"db", "--ttl", "500ms", "--kill-after", "0s", "--", "true"},
       "--ttl 500ms is too short"},
      {{"db", "--hook-timeout", "0s", "--", "true"},
       "--hook-timeout must be positive"},
      {{"db", "--nonblock", "--restart", "--", "true"},
       "--nonblock and --restart exclude each other"},
      {{"db", "--endpoints", " , ", "--", "true"}, "--endpoints is empty"},
      {{"db", "--dial-timeout", "-1s", "--", "true"},
       "--dial-timeout -1s must be positive"},
      {{"db", "--assert", "--min-rev", "abc"},
       "flag --min-rev: \"abc\" is not an integer"},
  };
  for (const Case& c : cases) {
    Result<ElectFlags> f = ParseElectFlags(c.args);
    ASSERT_FALSE(f.ok()) << c.message;
    EXPECT_EQ(f.status().code(), Code::kInvalidArgument);
    EXPECT_NE(f.status().message().find(c.message), std::string::npos)
        << "want \"" << c.message << "\" in \"" << f.status().message() << "\"";
  }
}

TEST_F(ElectFlagsTest, EnvironmentGivesDefaultsAndFlagsWin) {
  setenv("CONCH_TTL", "3s", 1);
  setenv("CONCH_ENDPOINTS", "a:1", 1);
  Result<ElectFlags> f =
      ParseElectFlags({"db", "--kill-after", "500ms", "--", "true"});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->run.global.ttl, seconds(3));
  EXPECT_EQ(f->run.kill_after, milliseconds(500));
  EXPECT_EQ(f->run.global.endpoints, "a:1");

  f = ParseElectFlags({"db", "--ttl", "20s", "--", "true"});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->run.global.ttl, seconds(20));
}

TEST_F(ElectFlagsTest, ATtlAloneLowersTheDefaultKillAfter) {
  setenv("CONCH_TTL", "5s", 1);
  Result<ElectFlags> f = ParseElectFlags({"db", "--", "true"});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->run.kill_after, milliseconds(2250));
  EXPECT_TRUE(f->run.kill_after_adapted);
  // Given explicitly, the same value that fits is kept as it is.
  f = ParseElectFlags({"db", "-kill-after=5s", "--ttl", "10s", "--", "true"});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->run.kill_after, seconds(5));
  EXPECT_FALSE(f->run.kill_after_adapted);
}

TEST_F(ElectFlagsTest, MalformedEnvironmentIsAnError) {
  setenv("CONCH_DIAL_TIMEOUT", "soon", 1);
  Result<ElectFlags> f = ParseElectFlags({"db", "--", "true"});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("CONCH_DIAL_TIMEOUT"), std::string::npos);
}

TEST_F(ElectFlagsTest, UsageListsEveryFlagWithItsDefault) {
  const std::string usage = ElectUsage();
  for (const char* flag :
       {"--endpoints LIST", "--dial-timeout D", "--ttl D", "--quiet",
        "--restart", "--kill-after D", "--nonblock", "--on-acquire CMD",
        "--on-lose CMD", "--hook-timeout D", "--wait D", "--who", "--watch",
        "--assert", "--min-rev N", "--json"}) {
    EXPECT_NE(usage.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(usage.find("(default 5s)"), std::string::npos);
  EXPECT_TRUE(usage.starts_with("usage: conch elect <office>"));
}

}  // namespace
}  // namespace conch::cli
