#include "switchman/inspect.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/unique_fd.h"

namespace conch::switchman {
namespace {

PrefixData Prefix(const std::string& json) {
  Result<PrefixData> data = ParsePrefixData(json, json.size());
  EXPECT_TRUE(data.ok()) << data.status().message();
  return data.ok() ? *data : PrefixData{};
}

// Renders local times in UTC, so that expected text is fixed.
class UtcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);  // NOLINT(concurrency-mt-unsafe)
    tzset();
  }
};

// --- arguments -------------------------------------------------------------

TEST(InspectArgsTest, EachSubcommandTakesItsOwnFlags) {
  Result<InspectArgs> ls = ParseInspectArgs("ls", {"-c", "/x.conf", "--json"});
  ASSERT_TRUE(ls.ok()) << ls.status().message();
  EXPECT_EQ(ls->config, "/x.conf");
  EXPECT_TRUE(ls->json);
  EXPECT_EQ(ParseInspectArgs("ls", {"--config=/y"})->config, "/y");
  EXPECT_EQ(ParseInspectArgs("ls", {"-c/z"})->config, "/z");
  EXPECT_FALSE(ParseInspectArgs("ls", {"--system"}).ok());
  EXPECT_FALSE(ParseInspectArgs("ls", {"extra"}).ok());
  EXPECT_FALSE(ParseInspectArgs("ls", {"-c"}).ok());
  EXPECT_FALSE(ParseInspectArgs("ls", {"--bogus", "-h"}).ok());
  EXPECT_TRUE(ParseInspectArgs("ls", {"-h", "--bogus"})->help);

  Result<InspectArgs> groups =
      ParseInspectArgs("check-groups", {"/etc/crontab", "--system", "-v"});
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(groups->positionals, std::vector<std::string>{"/etc/crontab"});
  EXPECT_TRUE(groups->system);
  EXPECT_TRUE(groups->verbose);
  EXPECT_FALSE(ParseInspectArgs("check-groups", {}).ok());
  EXPECT_FALSE(ParseInspectArgs("check-groups", {"a", "b"}).ok());
  EXPECT_FALSE(ParseInspectArgs("check-groups", {"a", "--json"}).ok());

  EXPECT_TRUE(ParseInspectArgs("check-hosts", {}).ok());
  EXPECT_EQ(ParseInspectArgs("check-hosts", {"/c"})->positionals.size(), 1U);
  EXPECT_FALSE(ParseInspectArgs("check-hosts", {"-c", "/c", "/d"}).ok());
  Result<InspectArgs> bad = ParseInspectArgs("check-hosts", {"--what"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "check-hosts: unknown option \"--what\"");
}

// --- ls --------------------------------------------------------------------

TEST(HolderDataTest, ParsesFqdnAndPid) {
  EXPECT_EQ(ParseHolderData("db1.example.com 4242"),
            (NodeHolder{"db1.example.com", 4242}));
  for (const char* bad : {"", "0", "host", " 12", "host x", "host 0", "host -1",
                          "a b 12", "host 12 "}) {
    EXPECT_FALSE(ParseHolderData(bad)) << bad;
  }
}

TEST(ResourceTemplateTest, MacrosMatchWhatTheyExpandTo) {
  EXPECT_TRUE(MatchesResourceTemplate("rr", "rr"));
  EXPECT_FALSE(MatchesResourceTemplate("rr", "rr2"));
  EXPECT_TRUE(MatchesResourceTemplate("FQDN_mem", "db1.example.com_mem"));
  EXPECT_FALSE(MatchesResourceTemplate("FQDN_mem", "_mem"));
  EXPECT_TRUE(MatchesResourceTemplate("cpuCPU", "cpu16"));
  EXPECT_FALSE(MatchesResourceTemplate("cpuCPU", "cpux"));
  EXPECT_TRUE(MatchesResourceTemplate("MYCPUS", "MY8S"));
  EXPECT_TRUE(MatchesResourceTemplate("FQDN-MEMMB", "h-1-2048"));
  EXPECT_FALSE(MatchesResourceTemplate("FQDN-MEMMB", "h-1-2048x"));
}

// A tree with a lock, a queue of two plus a foreign item, and resources
// listed, unlisted, from a template, disagreeing and never used.
RawTree SampleTree() {
  RawTree tree;
  tree.locks = {{"report", "db2.example 17", 1714532401000},
                {"backup", "db1.example 4242", 1714532400000}};
  tree.queues["rr"] = {{"report-0000000008", "db2.example 17", 1714532402000},
                       {"backup-0000000007", "db1.example 4242", 1714532401500},
                       {"junk", "", 0}};
  tree.queues["idle"] = {};
  tree.semaphores["rr"] = {
      {"1_1_0000000003", "db1.example 4242", 1714532403000}};
  tree.semaphores["db1.example_mem"] = {
      {"2_8_0000000001", "db1.example 99", 1714532404000},
      {"1_4_0000000002", "not a holder", 1714532405000}};
  tree.semaphores["old"] = {};
  tree.listed = {"rr", "FQDN_mem", "never", "CPU_cpu"};
  return tree;
}

TEST(AssembleSnapshotTest, OrdersAndSums) {
  Snapshot s = AssembleSnapshot(SampleTree());
  ASSERT_EQ(s.locks.size(), 2U);
  EXPECT_EQ(s.locks[0].name, "backup");

  ASSERT_EQ(s.queues.size(), 2U);
  EXPECT_EQ(s.queues[0].resource, "idle");
  const QueueInfo& rr = s.queues[1];
  ASSERT_EQ(rr.entries.size(), 2U);
  EXPECT_EQ(rr.entries[0].position, 1);
  EXPECT_EQ(rr.entries[0].lockname, "backup");
  EXPECT_EQ(rr.entries[0].seq, 7);
  EXPECT_EQ(rr.entries[1].lockname, "report");
  EXPECT_EQ(rr.unexpected, std::vector<std::string>{"junk"});

  ASSERT_EQ(s.resources.size(), 5U);
  EXPECT_EQ(s.resources[0].name, "rr");
  EXPECT_EQ(s.resources[0].used, 1);
  EXPECT_EQ(s.resources[0].total(), 1);
  EXPECT_EQ(s.resources[1].name, "db1.example_mem");
  EXPECT_EQ(s.resources[1].listed_as, "FQDN_mem");
  EXPECT_EQ(s.resources[1].used, 3);
  EXPECT_EQ(s.resources[1].totals, (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(s.resources[1].total(), std::nullopt);
  EXPECT_EQ(s.resources[2].name, "never");
  EXPECT_FALSE(s.resources[2].in_store);
  EXPECT_EQ(s.resources[3].name, "CPU_cpu");
  EXPECT_EQ(s.resources[4].name, "old");
  EXPECT_TRUE(s.resources[4].in_store);
  EXPECT_EQ(s.resources[4].listed_as, std::nullopt);
}

TEST_F(UtcTest, FormatsTimes) {
  EXPECT_EQ(FormatLocalTime(1714532401999), "2024-05-01 03:00:01");
  EXPECT_EQ(FormatUtcRfc3339(1714532401999), "2024-05-01T03:00:01Z");
}

TEST_F(UtcTest, FormatsLsForHumans) {
  const std::string expected =
      "LOCKS\n"
      "NAME    HOST         PID   SINCE\n"
      "backup  db1.example  4242  2024-05-01 03:00:00\n"
      "report  db2.example  17    2024-05-01 03:00:01\n"
      "\n"
      "QUEUES\n"
      "RESOURCE  POS  LOCKNAME  HOST         PID   SINCE\n"
      "rr        1    backup    db1.example  4242  2024-05-01 03:00:01\n"
      "rr        2    report    db2.example  17    2024-05-01 03:00:02\n"
      "rr        -    junk\n"
      "\n"
      "RESOURCES\n"
      "RESOURCE         USED  HOLDER          HOST          PID   SINCE"
      "                NOTE\n"
      "rr               1/1   1_1_0000000003  db1.example   4242  "
      "2024-05-01 03:00:03\n"
      "db1.example_mem  3/?   2_8_0000000001  db1.example   99    "
      "2024-05-01 03:00:04  totals disagree: 4, 8\n"
      "                       1_4_0000000002  not a holder  -     "
      "2024-05-01 03:00:05\n"
      "never            0/?\n"
      "CPU_cpu          0/?" +
      std::string(60, ' ') +
      "template, nothing matches\n"
      "old              0/?" +
      std::string(60, ' ') + "not in the prefix resources\n";
  EXPECT_EQ(FormatLs(AssembleSnapshot(SampleTree())), expected);
}

TEST_F(UtcTest, FormatsEmptyLsAndOddData) {
  EXPECT_EQ(FormatLs(Snapshot{}),
            "LOCKS\n(none)\n\nQUEUES\n(none)\n\nRESOURCES\n(none)\n");
  Snapshot s;
  s.locks = {{"x", "line\nbreak", 0}, {"y", "", 0}};
  const std::string locks =
      "LOCKS\n"
      "NAME  HOST           PID  SINCE\n"
      "x     line\\x0abreak  -    1970-01-01 00:00:00\n"
      "y     -              -    1970-01-01 00:00:00\n\n";
  EXPECT_EQ(FormatLs(s).substr(0, locks.size()), locks);
}

TEST_F(UtcTest, FormatsLsAsJson) {
  const std::string text = FormatLsJson(AssembleSnapshot(SampleTree()));
  ASSERT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1);  // one line
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["locks"][0],
            nlohmann::json::parse(R"({"name":"backup","host":"db1.example",
              "pid":4242,"data":"db1.example 4242",
              "since":"2024-05-01T03:00:00Z","since_ms":1714532400000})"));
  EXPECT_EQ(j["queues"][1]["resource"], "rr");
  EXPECT_EQ(j["queues"][1]["unexpected"], nlohmann::json::array({"junk"}));
  EXPECT_EQ(j["queues"][1]["entries"][1],
            nlohmann::json::parse(R"({"position":2,"lockname":"report",
              "seq":8,"node":"report-0000000008","host":"db2.example",
              "pid":17,"data":"db2.example 17",
              "since":"2024-05-01T03:00:02Z","since_ms":1714532402000})"));
  const nlohmann::json& mem = j["resources"][1];
  EXPECT_EQ(mem["name"], "db1.example_mem");
  EXPECT_EQ(mem["listed_as"], "FQDN_mem");
  EXPECT_EQ(mem["in_store"], true);
  EXPECT_EQ(mem["used"], 3);
  EXPECT_TRUE(mem["total"].is_null());
  EXPECT_EQ(mem["totals"], nlohmann::json::array({4, 8}));
  EXPECT_EQ(mem["holders"][1]["node"], "1_4_0000000002");
  EXPECT_EQ(mem["holders"][1]["count"], 1);
  EXPECT_TRUE(mem["holders"][1]["host"].is_null());
  EXPECT_TRUE(mem["holders"][1]["pid"].is_null());
  EXPECT_EQ(mem["holders"][1]["data"], "not a holder");
  EXPECT_EQ(j["resources"][0]["total"], 1);
  EXPECT_TRUE(j["resources"][4]["listed_as"].is_null());
  EXPECT_EQ(j["resources"][2]["in_store"], false);
  // The key order is part of the format.
  EXPECT_EQ(text.substr(0, 18), R"({"locks":[{"name":)");
}

TEST_F(UtcTest, UnreadablePrefixDataListsNothingAsUnlisted) {
  RawTree tree;
  tree.semaphores["rr"] = {};
  tree.prefix_problem = "Could not decode data: ...";
  Snapshot s = AssembleSnapshot(tree);
  EXPECT_FALSE(s.listing_known);
  EXPECT_EQ(FormatLs(s).substr(FormatLs(s).find("RESOURCES")),
            "RESOURCES\n"
            "RESOURCE  USED  HOLDER  HOST  PID  SINCE  NOTE\n"
            "rr        0/?\n");
}

TEST(FormatLsJsonTest, BadUtf8IsReplacedNotThrown) {
  Snapshot s;
  s.locks = {{"x", "\xff\xfe 1", 0}};
  nlohmann::json j = nlohmann::json::parse(FormatLsJson(s), nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["locks"][0]["data"], "\xEF\xBF\xBD\xEF\xBF\xBD 1");
}

// --- check-groups judgement -------------------------------------------------

SwitchmanCall Call(std::vector<std::string> args, std::string text = "cmd") {
  SwitchmanCall call;
  call.text = std::move(text);
  call.args = std::move(args);
  return call;
}

TEST(JudgeTest, ResolvesNestedGroupsAndFailsMissingOnes) {
  const PrefixData data = Prefix(
      R"({"groups":{"web":["w1","w2"],"all":["web","db1"],"off":null}})");
  std::map<std::string, int> loads;
  PrefixLoader load = [&](const std::string& path) -> Result<PrefixData> {
    ++loads[path];
    return data;
  };
  Result<std::vector<FailedCall>> failed = JudgeSwitchmanCalls(
      {Call({"-g", "all", "--", "x"}, "ok-nested"),
       Call({"--", "x"}, "ok-no-group"),
       Call({"-g", "nosuch", "--", "x"}, "missing"),
       Call({"-g", "off", "--", "x"}, "false-group"),
       Call({"-g", "web"}, "no-command"), Call({"-h"}, "help")},
      "", load);
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 4U);
  EXPECT_EQ((*failed)[0].call.text, "missing");
  EXPECT_EQ((*failed)[0].reason, "Group <nosuch> is not described");
  EXPECT_EQ((*failed)[1].call.text, "false-group");
  EXPECT_EQ((*failed)[2].call.text, "no-command");
  EXPECT_EQ((*failed)[3].call.text, "help");
  EXPECT_EQ(loads, (std::map<std::string, int>{{"/etc/switchman.conf", 1}}));
  EXPECT_EQ(FormatGroupsVerdict("/etc/cron.d/x", *failed),
            "/etc/cron.d/x: missing, false-group, no-command, help");
  EXPECT_EQ(FormatGroupsVerdict("/etc/cron.d/x", {}), "OK");
}

TEST(JudgeTest, PicksEachCallsConfig) {
  std::vector<std::string> paths;
  PrefixLoader load = [&](const std::string& path) -> Result<PrefixData> {
    paths.push_back(path);
    if (path == "/bad.conf") {
      return Error(Code::kInvalidArgument,
                   "prefix is not defined in /bad.conf");
    }
    return Prefix(R"({"groups":{"g":"h"}})");
  };
  Result<std::vector<FailedCall>> failed = JudgeSwitchmanCalls(
      {Call({"-c", "/own.conf", "-g", "g", "--", "x"}),
       Call({"-g", "g", "--", "x"}), Call({"-c", "/bad.conf", "-g", "g", "x"})},
      "/fallback.conf", load);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(paths, (std::vector<std::string>{"/own.conf", "/fallback.conf",
                                             "/bad.conf"}));
  ASSERT_EQ(failed->size(), 1U);
  EXPECT_EQ((*failed)[0].reason, "prefix is not defined in /bad.conf");
}

TEST(JudgeTest, UnreachableZooKeeperStopsTheCheck) {
  PrefixLoader load = [](const std::string&) -> Result<PrefixData> {
    return Error(Code::kUnavailable, "zookeeper unreachable at h:1 within 5s");
  };
  Result<std::vector<FailedCall>> failed =
      JudgeSwitchmanCalls({Call({"-g", "g", "--", "x"})}, "", load);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kUnavailable);
  // Without -g nothing is loaded, so nothing can fail.
  EXPECT_TRUE(JudgeSwitchmanCalls({Call({"--", "x"})}, "", load).ok());
}

TEST(JudgeTest, UnparsableCallFails) {
  SwitchmanCall call = Call({}, "switchman 'x");
  call.unparsable = true;
  Result<std::vector<FailedCall>> failed = JudgeSwitchmanCalls(
      {call}, "", [](const std::string&) { return PrefixData{}; });
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->size(), 1U);
}

TEST(CheckGroupsTest, RunsWithoutZooKeeperWhenNoJobHasAGroup) {
  std::array<char, 32> buf{};
  const std::string templ = "/tmp/inspect_test_cronXXXXXX";
  std::copy(templ.begin(), templ.end(), buf.begin());
  char* path = buf.data();
  UniqueFd fd(mkostemp(path, O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  const std::string text =
      "MAILTO=x\n@daily /usr/bin/switchman --lockname j -- job; echo\n";
  ASSERT_EQ(write(fd.get(), text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
  testing::internal::CaptureStdout();
  EXPECT_EQ(RunCheckGroups({path}), 0);
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "OK\n");

  const std::string bad = "oops\n";
  ASSERT_EQ(pwrite(fd.get(), bad.data(), bad.size(), 0),
            static_cast<ssize_t>(bad.size()));
  ASSERT_EQ(ftruncate(fd.get(), static_cast<off_t>(bad.size())), 0);
  testing::internal::CaptureStdout();
  EXPECT_EQ(RunCheckGroups({path}), kNagiosCritical);
  EXPECT_EQ(testing::internal::GetCapturedStdout(),
            "invalid crontab " + std::string(path) +
                ": line 1: not a job, comment or NAME=value: \"oops\"\n");
  unlink(path);

  testing::internal::CaptureStdout();
  EXPECT_EQ(RunCheckGroups({"/nonexistent/crontab"}), kNagiosCritical);
  EXPECT_EQ(testing::internal::GetCapturedStdout().rfind(
                "cannot read crontab /nonexistent/crontab: ", 0),
            0U);
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunCheckGroups({}), kInspectExitUsage);
  testing::internal::GetCapturedStderr();
}

// --- check-hosts -----------------------------------------------------------

TEST(HostsTest, DeadGroupsResolveSubgroups) {
  const PrefixData data = Prefix(
      R"({"groups":{"web":["w1","w2"],"all":["web","db1"],"db":"db1",
                    "empty":[],"broken":["nosuchgroup-host","ghost"],
                    "nested_bad":["web","off"],"off":null}})");
  std::vector<std::string> hosts = HostsToProbe(data);
  std::sort(hosts.begin(), hosts.end());
  EXPECT_EQ(hosts, (std::vector<std::string>{"db1", "ghost", "nosuchgroup-host",
                                             "w1", "w2"}));
  auto up = [](const std::string& host) { return host == "w2"; };
  EXPECT_EQ(
      DeadGroups(data, up),
      (std::vector<std::string>{"broken", "db", "empty", "nested_bad", "off"}));
  EXPECT_EQ(FormatHostsVerdict(DeadGroups(data, up)),
            "groups: broken, db, empty, nested_bad, off");
  EXPECT_EQ(FormatHostsVerdict({}), "OK");
}

TEST(CheckHostsTest, MissingConfigIsCritical) {
  testing::internal::CaptureStdout();
  EXPECT_EQ(RunCheckHosts({"/nonexistent/switchman.conf"}), kNagiosCritical);
  EXPECT_EQ(testing::internal::GetCapturedStdout().rfind(
                "Failed to open /nonexistent/switchman.conf", 0),
            0U);
}

}  // namespace
}  // namespace conch::switchman
