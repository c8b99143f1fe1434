#include "cron/job.h"

#include <gtest/gtest.h>

namespace conch::cron {
namespace {

TEST(JobTest, KeysFollowTheOriginalLayout) {
  EXPECT_EQ(JobKey("nightly"), "/conch/v1/cron/job/nightly");
  EXPECT_EQ(FireDir("nightly"), "/conch/v1/cron/fire/nightly/");
  EXPECT_EQ(ResultDir("nightly"), "/conch/v1/cron/result/nightly/");
  EXPECT_EQ(TickName(absl::FromUnixSeconds(1764471600)), "1764471600");
  EXPECT_EQ(ParseTickName("1764471600"), absl::FromUnixSeconds(1764471600));
  EXPECT_FALSE(ParseTickName("0764471600"));
  EXPECT_FALSE(ParseTickName("176447160"));
  EXPECT_FALSE(ParseTickName("17644716x0"));
  EXPECT_EQ(LastSegment("/a/b/c"), "c");
}

TEST(JobTest, NamesAreOnePathSegment) {
  EXPECT_TRUE(ValidateJobName("db-backup.v2").ok());
  EXPECT_EQ(ValidateJobName("a/b").code(), Code::kInvalidArgument);
  EXPECT_EQ(ValidateJobName("..").code(), Code::kInvalidArgument);
  EXPECT_EQ(ValidateJobName("").code(), Code::kInvalidArgument);
  EXPECT_EQ(ValidateJobName("a b").code(), Code::kInvalidArgument);
}

TEST(JobTest, TheOriginalsJobDecodesWithEveryDefault) {
  Result<Job> job = DecodeJob(
      "j1",
      R"({"schedule":"*/5 * * * *","cmd":["echo","hi"],"run_ttl":"10m0s",)"
      R"("added_by":"root@h1","added_at":"2026-11-30T03:00:00Z"})");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->name, "j1");
  EXPECT_EQ(job->cmd, (std::vector<std::string>{"echo", "hi"}));
  EXPECT_EQ(job->overlap, Overlap::kForbid);
  EXPECT_EQ(job->missed, Missed::kSkip);
  EXPECT_EQ(job->kill_after, std::chrono::seconds(5));
  EXPECT_FALSE(job->paused);
  Result<Duration> ttl = JobRunTtl(*job);
  ASSERT_TRUE(ttl.ok());
  EXPECT_EQ(*ttl, std::chrono::minutes(10));
  Result<Schedule> s = JobSchedule(*job);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->zone_name(), "UTC");  // no prefix: UTC, never a local zone
}

TEST(JobTest, OursRoundTripsAndWritesOnlyWhatDiffers) {
  Job job;
  job.name = "n";
  job.schedule = "CRON_TZ=Europe/Berlin 30 2 * * *";
  job.cmd = {"true"};
  job.added_by = "u@h";
  job.added_at = "2026-11-30T03:00:00Z";
  EXPECT_EQ(
      EncodeJob(job),
      R"({"schedule":"CRON_TZ=Europe/Berlin 30 2 * * *","cmd":["true"],)"
      R"("run_ttl":"10m","added_by":"u@h","added_at":"2026-11-30T03:00:00Z"})");
  job.overlap = Overlap::kReplace;
  job.missed = Missed::kRunOnce;
  job.starting_deadline = std::chrono::minutes(5);
  job.kill_after = std::chrono::seconds(2);
  job.tags = {{"dc", "eu"}, {"role", "db"}};
  job.hosts = {"h1", "h2"};
  job.paused = true;
  Result<Job> back = DecodeJob("n", EncodeJob(job));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->overlap, Overlap::kReplace);
  EXPECT_EQ(back->missed, Missed::kRunOnce);
  EXPECT_EQ(back->starting_deadline, std::chrono::minutes(5));
  EXPECT_EQ(back->kill_after, std::chrono::seconds(2));
  EXPECT_EQ(back->tags, job.tags);
  EXPECT_EQ(back->hosts, job.hosts);
  EXPECT_TRUE(back->paused);
}

TEST(JobTest, BadJobsAreRefusedWithTheirName) {
  for (const char* bad :
       {"", "[]", "{}", R"({"schedule":"* * * * *"})",
        R"({"schedule":"* * * * *","cmd":[]})",
        R"({"schedule":"0 0 30 2 *","cmd":["x"]})",
        R"({"schedule":"TZ=X","cmd":["x"]})",
        R"({"schedule":"* * * * *","cmd":["x"],"run_ttl":"-1s"})",
        R"({"schedule":"* * * * *","cmd":["x"],"overlap":"sometimes"})",
        R"({"schedule":"* * * * *","cmd":[1]})",
        R"({"schedule":"@every 10ms","cmd":["x"]})"}) {
    Result<Job> job = DecodeJob("bad1", bad);
    ASSERT_FALSE(job.ok()) << bad;
    EXPECT_EQ(job.status().code(), Code::kInvalidArgument);
    EXPECT_NE(job.status().message().find("job \"bad1\""), std::string::npos)
        << job.status().message();
  }
}

TEST(JobTest, ResultsKeepTheOriginalsFieldsFirst) {
  RunResult r;
  r.node = "h1";
  r.exit = 0;
  r.started = "2026-11-30T03:00:00Z";
  r.duration_seconds = 1.26;
  r.tick = "2026-11-30T03:00:00Z";
  r.rev = 42;
  EXPECT_EQ(
      EncodeResult(r),
      R"({"node":"h1","exit":0,"started":"2026-11-30T03:00:00Z",)"
      R"("duration":"1.3s","outcome":"ran","tick":"2026-11-30T03:00:00Z",)"
      R"("rev":42})");
  RunResult skipped;
  skipped.outcome = Outcome::kSkipped;
  std::optional<RunResult> back = DecodeResult(EncodeResult(skipped));
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->exit);
  EXPECT_EQ(back->outcome, Outcome::kSkipped);
  // The original's result: no outcome means it ran.
  std::optional<RunResult> original =
      DecodeResult(R"({"node":"n","exit":3,"started":"x","duration":"0.5s"})");
  ASSERT_TRUE(original);
  EXPECT_EQ(original->outcome, Outcome::kRan);
  EXPECT_EQ(original->exit, 3);
  EXPECT_DOUBLE_EQ(original->duration_seconds, 0.5);
  EXPECT_FALSE(DecodeResult("nope"));
}

TEST(JobTest, ClaimsCarryTheSession) {
  std::string v =
      EncodeClaim("h1", 12, "2026-11-30T03:00:00Z", "sleep 1", 0xabc);
  EXPECT_EQ(v, R"({"host":"h1","pid":12,"started":"2026-11-30T03:00:00Z",)"
               R"("cmd":"sleep 1","session":"abc"})");
  std::optional<Claimer> c = DecodeClaim(v);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "h1");
  EXPECT_EQ(c->session, 0xabc);
  std::optional<Claimer> original = DecodeClaim(R"({"host":"h2","pid":1})");
  ASSERT_TRUE(original);
  EXPECT_EQ(original->session, 0);
}

}  // namespace
}  // namespace conch::cron
