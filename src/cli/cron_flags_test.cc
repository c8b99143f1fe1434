#include "cli/cron_flags.h"

#include <gtest/gtest.h>

#include "config/clean_env_test.h"

namespace conch::cli {
namespace {

using CronFlagsTest = config::CleanEnvTest;

Result<CronFlags> Parse(std::vector<std::string> args) {
  return ParseCronFlags(args);
}

TEST_F(CronFlagsTest, AddTakesEveryJobSetting) {
  Result<CronFlags> f = Parse({"add",
                               "nightly",
                               "--schedule",
                               "30 2 * * *",
                               "--tz",
                               "Europe/Berlin",
                               "--run-ttl",
                               "1h",
                               "--overlap",
                               "replace",
                               "--missed",
                               "run-once",
                               "--starting-deadline",
                               "10m",
                               "--kill-after",
                               "2s",
                               "--tag",
                               "role=db",
                               "--tag",
                               "dc=eu",
                               "--hosts",
                               "h1,h2",
                               "--",
                               "backup",
                               "--full"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->action, "add");
  EXPECT_EQ(f->name, "nightly");
  EXPECT_EQ(f->schedule, "30 2 * * *");
  EXPECT_EQ(f->tz, "Europe/Berlin");
  EXPECT_EQ(f->run_ttl, "1h");
  EXPECT_EQ(f->overlap, cron::Overlap::kReplace);
  EXPECT_EQ(f->missed, cron::Missed::kRunOnce);
  EXPECT_EQ(f->starting_deadline, std::chrono::minutes(10));
  EXPECT_EQ(f->kill_after, std::chrono::seconds(2));
  EXPECT_EQ(f->tags.at("role"), "db");
  EXPECT_EQ(f->tags.at("dc"), "eu");
  EXPECT_EQ(f->hosts, (std::vector<std::string>{"h1", "h2"}));
  EXPECT_EQ(f->command, (std::vector<std::string>{"backup", "--full"}));
}

TEST_F(CronFlagsTest, TheOriginalsFormsParse) {
  Result<CronFlags> add =
      Parse({"add", "j", "-schedule=@every 1m", "-run-ttl", "", "--", "true"});
  ASSERT_TRUE(add.ok()) << add.status().ToString();
  EXPECT_EQ(add->run_ttl, "10m");  // empty means the default
  Result<CronFlags> ls = Parse({"ls", "--last", "--json"});
  ASSERT_TRUE(ls.ok());
  EXPECT_TRUE(ls->last && ls->json);
  EXPECT_TRUE(Parse({"rm", "j"}).ok());
  EXPECT_TRUE(Parse({"history", "j", "--output"}).ok());
}

TEST_F(CronFlagsTest, BadInputIsOneLineNamingIt) {
  struct Case {
    std::vector<std::string> args;
    const char* says;
  } cases[] = {
      {{}, "an action is required"},
      {{"frobnicate"}, "unknown action"},
      {{"add"}, "job name is required"},
      {{"add", "a/b", "--schedule", "* * * * *", "--", "x"}, "contains '/'"},
      {{"add", "j", "--", "x"}, "--schedule is required"},
      {{"add", "j", "--schedule", "* * * * *"}, "a command is required"},
      {{"add", "j", "--schedule", "* * * * *", "--tz", "Mars/Base", "--", "x"},
       "unknown time zone"},
      {{"add", "j", "--schedule", "* * * * *", "--run-ttl", "-1s", "--", "x"},
       "negative"},
      {{"add", "j", "--schedule", "* * * * *", "--overlap", "sometimes", "--",
        "x"},
       "forbid, allow or replace"},
      {{"add", "j", "--schedule", "* * * * *", "--tag", "novalue", "--", "x"},
       "is not k=v"},
      {{"add", "j", "--schedule", "* * * * *", "--hosts", "a,,b", "--", "x"},
       "empty host"},
      {{"ls", "--schedule", "x"}, "does not take --schedule"},
      {{"rm", "j", "--", "x"}, "takes no command"},
  };
  for (const Case& c : cases) {
    Result<CronFlags> f = Parse(c.args);
    ASSERT_FALSE(f.ok()) << c.says;
    EXPECT_EQ(f.status().code(), Code::kInvalidArgument);
    EXPECT_NE(f.status().message().find(c.says), std::string::npos)
        << f.status().message();
    EXPECT_EQ(f.status().message().find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace conch::cli
