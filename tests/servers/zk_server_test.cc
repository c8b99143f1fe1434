// Proves the ZooKeeper harness itself: a standalone server and an ensemble
// start and serve, ensembles elect a leader and survive a killed or frozen
// member, killed members restart, and nothing is left behind.
#include "servers/zk_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace conch::testing {
namespace {

using std::chrono::seconds;

bool ProcessGone(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

// How many processes have `text` in their command line: every member's
// zoo.cfg path contains the ensemble's dir.
int ProcessesMentioning(const std::string& text) {
  int count = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string path = entry.path().string() + "/cmdline";
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    std::array<char, 4096> buf{};
    const ssize_t n = read(fd, buf.data(), buf.size());
    close(fd);
    if (n > 0 && std::string(buf.data(), static_cast<size_t>(n)).find(text) !=
                     std::string::npos) {
      ++count;
    }
  }
  return count;
}

// Polls `done` every 100 ms until it holds (true) or `limit` passes.
bool WaitFor(const std::function<bool()>& done, seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

// True when exactly the members in `up` serve, one as leader and the rest
// as followers.
bool ServesWithOneLeader(const ZkEnsemble& ensemble,
                         const std::vector<int>& up) {
  int leaders = 0;
  for (int i : up) {
    const std::string mode = ensemble.Mode(i);
    if (mode == "leader") {
      ++leaders;
    } else if (mode != "follower") {
      return false;
    }
  }
  return leaders == 1;
}

TEST(ZkEnsembleTest, StandaloneServesAndLeavesNothingBehind) {
  CONCH_REQUIRE_ZK();
  ZkStart started = ZkEnsemble::Start(1);
  ASSERT_TRUE(started.ok()) << started.error;
  ZkEnsemble& zk = *started.ensemble;
  ASSERT_EQ(zk.size(), 1);
  EXPECT_EQ(zk.hosts(), zk.endpoint(0));
  EXPECT_EQ(zk.url(), "zk://" + zk.endpoint(0));
  EXPECT_EQ(zk.FourLetter(0, "ruok"), "imok");
  EXPECT_NE(zk.FourLetter(0, "srvr").find("Mode: standalone\n"),
            std::string::npos);
  EXPECT_NE(zk.FourLetter(0, "mntr").find("zk_server_state\tstandalone"),
            std::string::npos);
  EXPECT_EQ(zk.Mode(0), "standalone");
  EXPECT_EQ(zk.Leader(), -1);
  const std::string conf = zk.FourLetter(0, "conf");
  EXPECT_NE(conf.find("minSessionTimeout=1000\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("maxSessionTimeout=120000\n"), std::string::npos);
  EXPECT_NE(conf.find("maxClientCnxns=0\n"), std::string::npos);

  const pid_t pid = zk.pid(0);
  const std::string dir = zk.dir();
  ASSERT_TRUE(std::filesystem::is_directory(dir));
  EXPECT_EQ(ProcessesMentioning(dir), 1);
  started.ensemble.reset();
  EXPECT_TRUE(ProcessGone(pid));
  EXPECT_EQ(ProcessesMentioning(dir), 0);
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(ZkEnsembleTest, FrozenStandaloneAnswersNothingUntilThawed) {
  CONCH_REQUIRE_ZK();
  ZkStart started = ZkEnsemble::Start(1);
  ASSERT_TRUE(started.ok()) << started.error;
  ZkEnsemble& zk = *started.ensemble;

  ASSERT_TRUE(zk.Freeze(0));
  EXPECT_EQ(zk.FourLetter(0, "ruok"), "");
  ASSERT_TRUE(zk.Thaw(0));
  EXPECT_EQ(zk.FourLetter(0, "ruok"), "imok");
  EXPECT_EQ(zk.Mode(0), "standalone");
}

TEST(ZkEnsembleTest, KilledStandaloneRestartsOnTheSamePort) {
  CONCH_REQUIRE_ZK();
  ZkStart started = ZkEnsemble::Start(1);
  ASSERT_TRUE(started.ok()) << started.error;
  ZkEnsemble& zk = *started.ensemble;
  const std::string endpoint = zk.endpoint(0);

  const pid_t old_pid = zk.pid(0);
  ASSERT_TRUE(zk.Kill(0));
  EXPECT_TRUE(ProcessGone(old_pid));
  EXPECT_EQ(zk.pid(0), -1);
  EXPECT_FALSE(zk.Kill(0));
  EXPECT_EQ(zk.FourLetter(0, "ruok"), "");

  ASSERT_EQ(zk.Restart(0), "");
  EXPECT_GT(zk.pid(0), 0);
  EXPECT_EQ(zk.endpoint(0), endpoint);
  EXPECT_EQ(zk.Mode(0), "standalone");
  EXPECT_NE(zk.Restart(0), "");  // still running
}

TEST(ZkEnsembleTest, EnsembleSurvivesAKilledLeaderWhichRestartsAsFollower) {
  CONCH_REQUIRE_ZK();
  ZkStart started = ZkEnsemble::Start(3);
  ASSERT_TRUE(started.ok()) << started.error;
  ZkEnsemble& zk = *started.ensemble;
  ASSERT_EQ(zk.size(), 3);
  EXPECT_EQ(zk.hosts(),
            zk.endpoint(0) + "," + zk.endpoint(1) + "," + zk.endpoint(2));
  EXPECT_EQ(zk.url(), "zk://" + zk.hosts());
  EXPECT_TRUE(ServesWithOneLeader(zk, {0, 1, 2}));
  const int leader = zk.Leader();
  ASSERT_GE(leader, 0);

  const pid_t leader_pid = zk.pid(leader);
  ASSERT_TRUE(zk.Kill(leader));
  EXPECT_TRUE(ProcessGone(leader_pid));
  const int a = (leader + 1) % 3;
  const int b = (leader + 2) % 3;
  EXPECT_TRUE(WaitFor(
      [&] {
        return ServesWithOneLeader(zk, {a, b});
      },
      seconds(30)))
      << zk.FourLetter(a, "srvr") << zk.FourLetter(b, "srvr");

  ASSERT_EQ(zk.Restart(leader), "");
  EXPECT_EQ(zk.Mode(leader), "follower");
  EXPECT_TRUE(ServesWithOneLeader(zk, {0, 1, 2}));
}

TEST(ZkEnsembleTest, FrozenLeaderIsReplacedAndFollowsWhenThawed) {
  CONCH_REQUIRE_ZK();
  ZkStart started = ZkEnsemble::Start(3);
  ASSERT_TRUE(started.ok()) << started.error;
  ZkEnsemble& zk = *started.ensemble;
  const int leader = zk.Leader();
  ASSERT_GE(leader, 0);
  const int a = (leader + 1) % 3;
  const int b = (leader + 2) % 3;

  ASSERT_TRUE(zk.Freeze(leader));
  EXPECT_EQ(zk.FourLetter(leader, "ruok"), "");
  // The followers give up on a silent leader after syncLimit (3 s).
  EXPECT_TRUE(WaitFor(
      [&] {
        return ServesWithOneLeader(zk, {a, b});
      },
      seconds(30)))
      << zk.FourLetter(a, "srvr") << zk.FourLetter(b, "srvr");

  ASSERT_TRUE(zk.Thaw(leader));
  // The old leader reports leader until it notices it lost its followers.
  EXPECT_TRUE(
      WaitFor([&] { return zk.Mode(leader) == "follower"; }, seconds(30)))
      << zk.FourLetter(leader, "srvr");
  EXPECT_TRUE(ServesWithOneLeader(zk, {0, 1, 2}));
}

TEST(ZkEnsembleTest, DestructorStopsFrozenAndKilledMembers) {
  CONCH_REQUIRE_ZK();
  ZkStart started = ZkEnsemble::Start(3);
  ASSERT_TRUE(started.ok()) << started.error;
  const std::string dir = started.ensemble->dir();
  const std::array<pid_t, 3> pids = {started.ensemble->pid(0),
                                     started.ensemble->pid(1),
                                     started.ensemble->pid(2)};
  EXPECT_EQ(ProcessesMentioning(dir), 3);
  ASSERT_TRUE(started.ensemble->Kill(0));
  ASSERT_TRUE(started.ensemble->Freeze(1));

  started.ensemble.reset();
  for (pid_t pid : pids) EXPECT_TRUE(ProcessGone(pid)) << pid;
  EXPECT_EQ(ProcessesMentioning(dir), 0);
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(ZkEnsembleTest, EnsemblesStartedTogetherShareNothing) {
  CONCH_REQUIRE_ZK();
  ZkStart a = ZkEnsemble::Start(1);
  ZkStart b = ZkEnsemble::Start(1);
  ASSERT_TRUE(a.ok()) << a.error;
  ASSERT_TRUE(b.ok()) << b.error;
  EXPECT_NE(a.ensemble->endpoint(0), b.ensemble->endpoint(0));
  EXPECT_NE(a.ensemble->dir(), b.ensemble->dir());
  EXPECT_EQ(a.ensemble->Mode(0), "standalone");
  EXPECT_EQ(b.ensemble->Mode(0), "standalone");
}

}  // namespace
}  // namespace conch::testing
