#include "cli/sema_flags.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include "config/clean_env_test.h"

namespace conch::cli {
namespace {

using std::chrono::seconds;

using SemaFlagsTest = config::CleanEnvTest;

TEST_F(SemaFlagsTest, RunModeTakesNameUnitsAndCommand) {
  Result<SemaFlags> f = ParseSemaFlags(
      {"jobs", "--max=3", "-weight", "2", "--wait", "5s", "--", "make"});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->name, "jobs");
  EXPECT_EQ(f->max, 3);
  EXPECT_EQ(f->weight, 2);
  EXPECT_FALSE(f->spread);
  EXPECT_EQ(f->run.wait, seconds(5));
  EXPECT_FALSE(f->run.nonblock);
  EXPECT_EQ(f->run.command, std::vector<std::string>{"make"});
}

TEST_F(SemaFlagsTest, WaitDefaultsToForeverAndZeroMeansNonblock) {
  Result<SemaFlags> f = ParseSemaFlags({"jobs", "--max", "1", "--", "true"});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_LT(f->run.wait, Duration::zero());
  EXPECT_FALSE(f->run.nonblock);

  f = ParseSemaFlags({"jobs", "--max", "1", "--wait", "0", "--", "true"});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_TRUE(f->run.nonblock);
}

TEST_F(SemaFlagsTest, WhoNeedsNoCommand) {
  Result<SemaFlags> f = ParseSemaFlags({"jobs", "--max", "2", "--who"});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_TRUE(f->who);
  EXPECT_TRUE(f->run.command.empty());
}

TEST_F(SemaFlagsTest, SpreadTakesOneUnit) {
  Result<SemaFlags> f =
      ParseSemaFlags({"jobs", "--max", "4", "--spread", "--", "true"});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_TRUE(f->spread);
  EXPECT_EQ(f->weight, 1);
}

TEST_F(SemaFlagsTest, UsageErrorsSayWhatIsWrong) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{}, "semaphore name is required"},
      {{"--max", "2", "--", "true"}, "semaphore name is required"},
      {{"jobs", "--", "true"}, "--max N is required and at least 1"},
      {{"jobs", "--max", "0", "--", "true"}, "--max N is required"},
      {{"jobs", "--max", "-1", "--", "true"}, "--max N is required"},
      {{"jobs", "--max"}, "flag --max needs a value"},
      {{"jobs", "--max", "3", "--weight", "4", "--", "true"},
       "--weight 4 must be between 1 and --max 3"},
      {{"jobs", "--max", "3", "--weight", "0", "--", "true"},
       "--weight 0 must be between 1 and --max 3"},
      {{"jobs", "--max", "3", "--spread", "--weight", "2", "--", "true"},
       "--spread claims take one unit; drop --weight"},
      {{"a/b", "--max", "2", "--", "true"},
       "semaphore name \"a/b\" contains '/'"},
      {{"jobs", "--max", "2"}, "no command given"},
      {{"jobs", "--max", "2", "--ttl", "3s", "--kill-after", "5s", "--",
        "true"},
       "cannot fail closed"},
      {{"jobs", "--max", "2", "--wait", "0", "--restart", "--", "true"},
       "--nonblock and --restart exclude each other"},
      {{"jobs", "--max", "2", "--wait", "abc", "--", "true"},
       "flag --wait: invalid duration \"abc\""},
  };
  for (const Case& c : cases) {
    Result<SemaFlags> f = ParseSemaFlags(c.args);
    ASSERT_FALSE(f.ok()) << c.message;
    EXPECT_EQ(f.status().code(), Code::kInvalidArgument);
    EXPECT_NE(f.status().message().find(c.message), std::string::npos)
        << "want \"" << c.message << "\" in \"" << f.status().message() << "\"";
  }
}

TEST_F(SemaFlagsTest, HelpWinsOverEveryLaterError) {
  Result<SemaFlags> f = ParseSemaFlags({"jobs", "--max", "0", "--help"});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->help);
}

TEST_F(SemaFlagsTest, UsageListsTheSemaphoreFlags) {
  const std::string usage = SemaUsage();
  for (const char* flag : {"--max N", "--weight N", "--spread", "--wait D",
                           "--who", "--json", "--ttl D", "--kill-after D"}) {
    EXPECT_NE(usage.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(usage.find("(default 1)"), std::string::npos);  // --weight
  EXPECT_TRUE(usage.starts_with("usage: conch sema <name> --max N"));
}

}  // namespace
}  // namespace conch::cli
