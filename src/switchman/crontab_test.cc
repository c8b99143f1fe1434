#include "switchman/crontab.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace conch::switchman {
namespace {

using Kind = ShellToken::Kind;

// --- shell words -----------------------------------------------------------

TEST(ShellTest, SplitsWordsLikeSh) {
  Result<std::vector<std::string>> words =
      SplitShellWords(R"(a 'b c' "d \"e\" \x $f" g\ h 'i'"j"k "" '')");
  ASSERT_TRUE(words.ok()) << words.status().message();
  EXPECT_EQ(*words, (std::vector<std::string>{"a", "b c", R"(d "e" \x $f)",
                                              "g h", "ijk", "", ""}));
  EXPECT_EQ(*SplitShellWords("a b;c"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*SplitShellWords("a b # c"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*SplitShellWords("a b#c"), (std::vector<std::string>{"a", "b#c"}));
  EXPECT_EQ(*SplitShellWords("a 'x;y' \\; z"),
            (std::vector<std::string>{"a", "x;y", ";", "z"}));
  EXPECT_FALSE(SplitShellWords("a 'b").ok());
  EXPECT_FALSE(SplitShellWords("a \"b").ok());
}

TEST(ShellTest, TokenizesOperatorsAndIoNumbers) {
  Result<std::vector<ShellToken>> t =
      TokenizeShell("x >/dev/null 2>&1 && y|z; w & '2'>f");
  ASSERT_TRUE(t.ok());
  std::vector<std::pair<Kind, std::string>> got;
  for (const ShellToken& tok : *t) got.emplace_back(tok.kind, tok.text);
  EXPECT_EQ(got, (std::vector<std::pair<Kind, std::string>>{
                     {Kind::kWord, "x"},
                     {Kind::kOperator, ">"},
                     {Kind::kWord, "/dev/null"},
                     {Kind::kOperator, "2>&"},
                     {Kind::kWord, "1"},
                     {Kind::kOperator, "&&"},
                     {Kind::kWord, "y"},
                     {Kind::kOperator, "|"},
                     {Kind::kWord, "z"},
                     {Kind::kOperator, ";"},
                     {Kind::kWord, "w"},
                     {Kind::kOperator, "&"},
                     {Kind::kWord, "2"},  // quoted: a word, not an IO number
                     {Kind::kOperator, ">"},
                     {Kind::kWord, "f"},
                 }));
  EXPECT_EQ((*t)[2].begin, 3U);
  EXPECT_EQ((*t)[2].end, 12U);
}

// --- crontabs --------------------------------------------------------------

TEST(CrontabTest, ParsesJobsAndSkipsTheRest) {
  const std::string text =
      "# m h dom mon dow command\n"
      "\n"
      "   \t\n"
      "MAILTO=ops@example.com\n"
      "PATH = /usr/bin:/bin\n"
      "\"QUOTED\"=1\n"
      "*/5 * * * * /usr/local/bin/switchman -g web -- backup\n"
      "0 3 1-15,20 jan-mar mon-fri  run --flag \n"
      "@daily conch switchman -- report % line2\\%\n"
      "@reboot echo 50\\% done\r\n";
  Result<std::vector<CronJob>> jobs = ParseCrontab(text, CrontabKind::kAuto);
  ASSERT_TRUE(jobs.ok()) << jobs.status().message();
  ASSERT_EQ(jobs->size(), 4U);
  EXPECT_EQ((*jobs)[0].line, 7);
  EXPECT_EQ((*jobs)[0].schedule, "*/5 * * * *");
  EXPECT_EQ((*jobs)[0].command, "/usr/local/bin/switchman -g web -- backup");
  EXPECT_EQ((*jobs)[1].schedule, "0 3 1-15,20 jan-mar mon-fri");
  EXPECT_EQ((*jobs)[1].command, "run --flag ");
  EXPECT_EQ((*jobs)[2].schedule, "@daily");
  EXPECT_EQ((*jobs)[2].command, "conch switchman -- report ");
  EXPECT_EQ((*jobs)[3].command, "echo 50% done");
  EXPECT_FALSE((*jobs)[0].posixly_correct);
}

TEST(CrontabTest, SystemCrontabsHaveAUser) {
  Result<std::vector<CronJob>> jobs = ParseCrontab(
      "17 * * * * root cd / && run-parts --report /etc/cron.hourly\n",
      CrontabKind::kSystem);
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->front().user, "root");
  EXPECT_EQ(jobs->front().command,
            "cd / && run-parts --report /etc/cron.hourly");
  EXPECT_FALSE(ParseCrontab("17 * * * * root\n", CrontabKind::kSystem).ok());
  EXPECT_EQ(CrontabKindForPath("/etc/crontab"), CrontabKind::kSystem);
  EXPECT_EQ(CrontabKindForPath("/etc/cron.d/switchman"), CrontabKind::kSystem);
  EXPECT_EQ(CrontabKindForPath("/var/spool/cron/crontabs/me"),
            CrontabKind::kAuto);
}

TEST(CrontabTest, RefusesBadLines) {
  const std::map<std::string, std::string> cases = {
      {"60 * * * * x", "line 1: bad minute field \"60\""},
      {"* 24 * * * x", "line 1: bad hour field \"24\""},
      {"* * 0 * * x", "line 1: bad day of month field \"0\""},
      {"* * * foo * x", "line 1: bad month field \"foo\""},
      {"* * * * 8 x", "line 1: bad day of week field \"8\""},
      {"*/0 * * * * x", "line 1: bad minute field \"*/0\""},
      {"* * * *", "line 1: missing day of week field"},
      {"* * * * *", "line 1: no command"},
      {"@sometimes x", "line 1: unknown schedule \"@sometimes\""},
      {"just words",
       "line 1: not a job, comment or NAME=value: \"just words\""},
  };
  for (const auto& [line, message] : cases) {
    Result<std::vector<CronJob>> jobs = ParseCrontab(line, CrontabKind::kAuto);
    ASSERT_FALSE(jobs.ok()) << line;
    EXPECT_EQ(jobs.status().message(), message);
  }
  EXPECT_TRUE(
      ParseCrontab("1,2-3/2 0 * DEC sun-sat x", CrontabKind::kAuto).ok());
}

TEST(CrontabTest, PosixlyCorrectCarriesToLaterJobs) {
  Result<std::vector<CronJob>> jobs = ParseCrontab(
      "@hourly a\nPOSIXLY_CORRECT=\n@hourly b\n", CrontabKind::kAuto);
  ASSERT_TRUE(jobs.ok());
  EXPECT_FALSE((*jobs)[0].posixly_correct);
  EXPECT_TRUE((*jobs)[1].posixly_correct);
}

std::vector<SwitchmanCall> Calls(const std::string& command,
                                 CrontabKind kind = CrontabKind::kAuto) {
  CronJob job;
  job.line = 3;
  job.command = command;
  return FindSwitchmanCalls(job, kind);
}

TEST(SwitchmanCallTest, FindsTheInvocationAndItsArguments) {
  std::vector<SwitchmanCall> calls = Calls(
      "/usr/local/bin/switchman -g web --lockname 'my job' -- backup "
      "--all >/dev/null 2>&1; echo done");
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0].line, 3);
  EXPECT_EQ(calls[0].text,
            "/usr/local/bin/switchman -g web --lockname 'my job' -- backup "
            "--all");
  EXPECT_EQ(calls[0].args,
            (std::vector<std::string>{"-g", "web", "--lockname", "my job", "--",
                                      "backup", "--all"}));

  calls = Calls("cd /srv && /opt/bin/conch switchman -g db -- x | logger");
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0].text, "/opt/bin/conch switchman -g db -- x");
  EXPECT_EQ(calls[0].args, (std::vector<std::string>{"-g", "db", "--", "x"}));

  calls = Calls("switchman -g a -- x; switchman -g b -- y # comment");
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_EQ(calls[1].text, "switchman -g b -- y");

  EXPECT_TRUE(Calls("backup --all; echo switchman-done").empty());
}

TEST(SwitchmanCallTest, PassesOverAUserField) {
  // A user field that is not "switchman" is simply not an invocation.
  std::vector<SwitchmanCall> calls =
      Calls("root /usr/bin/switchman -g web -- x");
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0].args.front(), "-g");
  // A user named "switchman", told apart by the invocation after it.
  calls = Calls("switchman /usr/bin/switchman -g web -- x");
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0].text, "/usr/bin/switchman -g web -- x");
  // ParseCrontab removed the user already.
  calls = Calls("switchman -g web -- x", CrontabKind::kSystem);
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0].text, "switchman -g web -- x");
}

TEST(SwitchmanCallTest, UnsplittableCommandIsOneUnparsableCall) {
  std::vector<SwitchmanCall> calls = Calls("switchman -g 'web -- x");
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_TRUE(calls[0].unparsable);
  EXPECT_EQ(calls[0].text, "switchman -g 'web -- x");
  EXPECT_TRUE(Calls("echo 'unrelated").empty());
}

}  // namespace
}  // namespace conch::switchman
