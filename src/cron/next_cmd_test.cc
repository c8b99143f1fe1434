#include "cron/next_cmd.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/clean_env_test.h"

namespace conch::cron {
namespace {

// No CONCH_* variable from the environment running the tests.
class CronNextTest : public config::CleanEnvTest {};

const HostZone kBerlin = {"Europe/Berlin", ""};

absl::Time At(const std::string& rfc3339) {
  Result<absl::Time> t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : absl::UnixEpoch();
}

CommandResult RunNext(const std::vector<std::string>& args,
                      const HostZone& host = kBerlin,
                      const std::string& now = "2024-03-30T23:00:00Z") {
  return CronNextWithSchedule(args, At(now), host);
}

TEST_F(CronNextTest, PrintsOneTickByDefault) {
  const CommandResult r = RunNext({"--schedule", "30 2 * * *"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "2024-03-31T03:00:00+02:00\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(CronNextTest, CountAndFromInEveryFlagSpelling) {
  const std::string want =
      "2024-11-03T01:00:00-04:00\n"
      "2024-11-03T01:30:00-04:00\n"
      "2024-11-03T01:00:00-05:00\n"
      "2024-11-03T01:30:00-05:00\n";
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"--schedule", "*/30 * * * *", "--tz", "America/New_York", "--count",
            "4", "--from", "2024-11-03T04:45:00Z"},
           {"-schedule=*/30 * * * *", "-tz=America/New_York", "-count=4",
            "-from=2024-11-03T00:45:00-04:00"},
           {"--count=4", "--from", "2024-11-03T04:45:00.999Z", "--schedule",
            "CRON_TZ=America/New_York */30 * * * *"}}) {
    const CommandResult r = RunNext(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, want);
  }
}

TEST_F(CronNextTest, UtcPrintsZ) {
  const CommandResult r =
      RunNext({"--schedule", "0 0 29 2 *", "--tz", "UTC", "--count", "2"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "2028-02-29T00:00:00Z\n2032-02-29T00:00:00Z\n");
}

TEST_F(CronNextTest, PrefixWinsOverTz) {
  const CommandResult r =
      RunNext({"--schedule", "TZ=Asia/Tokyo 0 9 * * *", "--tz", "UTC"});
  EXPECT_EQ(r.out, "2024-03-31T09:00:00+09:00\n");
}

TEST_F(CronNextTest, EveryIsAnchoredAtFrom) {
  const CommandResult r =
      RunNext({"--schedule", "@every 90s", "--count", "2", "--from",
               "2024-01-01T00:00:00.5Z", "--tz", "UTC"});
  EXPECT_EQ(r.out, "2024-01-01T00:01:30Z\n2024-01-01T00:03:00Z\n");
}

TEST_F(CronNextTest, HostZoneNoteGoesToStderr) {
  const HostZone fallback = {"UTC", "no zone here; using UTC"};
  CommandResult r = RunNext({"--schedule", "0 0 * * *"}, fallback);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "2024-03-31T00:00:00Z\n");
  EXPECT_EQ(r.err, "conch cron next: note: no zone here; using UTC\n");
  // Not when the zone came from elsewhere.
  EXPECT_EQ(RunNext({"--schedule", "TZ=UTC 0 0 * * *"}, fallback).err, "");
  EXPECT_EQ(RunNext({"--schedule", "0 0 * * *", "--tz", "UTC"}, fallback).err,
            "");
}

TEST_F(CronNextTest, GlobalFlagsAreAccepted) {
  const CommandResult r =
      RunNext({"--endpoints", "a:1", "--quiet", "--schedule", "@daily",
               "--ttl=5s", "--dial-timeout", "1s"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "2024-04-01T00:00:00+02:00\n");
}

TEST_F(CronNextTest, Help) {
  const CommandResult r = RunNext({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("usage: conch cron next --schedule EXPR"),
            std::string::npos);
  EXPECT_NE(r.out.find("--count N"), std::string::npos);
  EXPECT_NE(r.out.find("(default 1)"), std::string::npos);
}

struct ErrorCase {
  std::vector<std::string> args;
  std::string message;
};

TEST_F(CronNextTest, ErrorsAreOneLineAndExit64) {
  const std::string see = " (see conch cron next --help)\n";
  const std::vector<ErrorCase> cases = {
      {{}, "a job <name> or --schedule EXPR is required"},
      {{"--schedule"}, "flag --schedule needs a value"},
      {{"--bogus", "1"}, R"(unknown flag "--bogus")"},
      {{"job", "--schedule", "@daily"},
       "give a job <name> or --schedule EXPR, not both"},
      {{"a", "b"}, R"(unexpected argument "b" (put the command after "--"))"},
      {{"job", "--tz", "UTC"},
       "--tz applies to --schedule only; a job's zone is stored with it"},
      {{"--schedule", "@daily", "--", "echo"},
       R"(cron next takes no command after "--")"},
      {{"--schedule", "@daily", "--count", "0"},
       "--count 0 must be between 1 and 10000"},
      {{"--schedule", "@daily", "--count", "10001"},
       "--count 10001 must be between 1 and 10000"},
      {{"--schedule", "@daily", "--count", "x"},
       R"(flag --count: "x" is not an integer)"},
      {{"--schedule", "@daily", "--from", "yesterday"},
       R"(flag --from: "yesterday" is not an RFC 3339 time like )"
       "2026-03-29T01:30:00Z"},
      {{"--schedule", "@daily", "--tz", "Mars/Base"},
       R"(flag --tz: unknown time zone "Mars/Base")"},
      {{"--schedule", "0 0 30 2 *"},
       R"(schedule "0 0 30 2 *": day of month (field 3) "30" never falls in )"
       R"(month (field 4) "2")"},
      {{"--schedule", "TZ=Mars/Base * * * * *"},
       R"(schedule "TZ=Mars/Base * * * * *": unknown time zone )"
       R"("Mars/Base")"},
      {{"--schedule", "@every 100ms"},
       R"(schedule "@every 100ms": @every 100ms is below the minimum of 1s)"},
      {{"job"},
       R"(cron next "job" reads the job from the store, which this build )"
       "cannot do yet; use --schedule EXPR"},
      {{"--schedule", "0 0 1 1 *", "--from", "2397-06-01T00:00:00Z", "--tz",
        "UTC", "--count", "4"},
       R"(schedule "0 0 1 1 *" has only 2 ticks before 2400-01-01)"},
  };
  for (const ErrorCase& c : cases) {
    const CommandResult r = RunNext(c.args);
    EXPECT_EQ(r.exit_code, 64) << c.message;
    EXPECT_EQ(r.out, "") << c.message;
    EXPECT_EQ(r.err, "conch cron next: " + c.message + see);
  }
}

TEST_F(CronNextTest, MalformedEnvironmentDoesNotStopTheStoreFreeForm) {
  setenv("CONCH_TTL", "soon", 1);  // NOLINT(concurrency-mt-unsafe)
  Result<CronNextFlags> f = ParseCronNextFlags({"--schedule", "@daily"});
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->env_status.ok());
  EXPECT_EQ(RunNext({"--schedule", "@daily"}).exit_code, 0);
}

TEST(FormatTickTest, OffsetsZAndLocalMeanTime) {
  absl::TimeZone berlin;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin));
  EXPECT_EQ(FormatTick(At("2024-07-01T12:00:00Z"), berlin),
            "2024-07-01T14:00:00+02:00");
  EXPECT_EQ(FormatTick(At("2024-07-01T12:00:00Z"), absl::UTCTimeZone()),
            "2024-07-01T12:00:00Z");
  absl::TimeZone lord_howe;
  ASSERT_TRUE(absl::LoadTimeZone("Australia/Lord_Howe", &lord_howe));
  EXPECT_EQ(FormatTick(At("2024-07-01T12:00:00Z"), lord_howe),
            "2024-07-01T22:30:00+10:30");
  // Berlin's local mean time was +00:53:28: not writable in RFC 3339.
  EXPECT_EQ(FormatTick(At("1890-01-01T00:00:00Z"), berlin),
            "1890-01-01T00:00:00Z");
  EXPECT_EQ(FormatTick(At("0002-01-01T00:00:00Z"), absl::UTCTimeZone()),
            "0002-01-01T00:00:00Z");
}

TEST(ParseRfc3339Test, FormsAndErrors) {
  EXPECT_EQ(At("2024-03-31T01:30:00+02:00"), At("2024-03-30T23:30:00Z"));
  EXPECT_EQ(At("2024-03-31t01:30:00z"), At("2024-03-31T01:30:00Z"));
  for (const char* bad : {"", "2024-03-31", "2024-03-31T01:30:00",
                          "2024-03-31T01:30Z", "1711848600"}) {
    Result<absl::Time> t = ParseRfc3339(bad);
    EXPECT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace conch::cron
