// Proves the integration-test harness itself: clusters start, serve, lose
// members, freeze and thaw, and leave nothing behind.
#include "servers/etcd_server.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace conch::testing {
namespace {

// The value of `key` as read through `endpoints`, or "" if no read
// succeeds within 30 s. A read fails while the cluster elects a new leader
// (after a member is killed, and longer on a loaded machine), so failed
// reads are repeated until one is answered.
std::string Get(const std::string& endpoints, const std::string& key) {
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    EtcdctlResult got =
        RunEtcdctl(endpoints, {"get", "--print-value-only", key});
    if (got.exit_code == 0) {
      while (!got.output.empty() && got.output.back() == '\n')
        got.output.pop_back();
      return got.output;
    }
    if (std::chrono::steady_clock::now() >= until) return "";
  }
}

bool ProcessGone(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

TEST(EtcdClusterTest, TwoMembersServeAfterTheThirdIsKilled) {
  CONCH_REQUIRE_ETCD();
  EtcdStart started = EtcdCluster::Start(3);
  ASSERT_TRUE(started.ok()) << started.error;
  EtcdCluster& cluster = *started.cluster;
  ASSERT_EQ(cluster.size(), 3);
  EXPECT_EQ(cluster.endpoints(), cluster.endpoint(0) + "," +
                                     cluster.endpoint(1) + "," +
                                     cluster.endpoint(2));
  ASSERT_EQ(
      RunEtcdctl(cluster.endpoints(), {"put", "/harness/k", "v1"}).exit_code,
      0);

  const pid_t m0 = cluster.pid(0);
  ASSERT_TRUE(cluster.Kill(0));
  EXPECT_TRUE(ProcessGone(m0));
  EXPECT_EQ(cluster.pid(0), -1);
  EXPECT_FALSE(cluster.Kill(0));

  EXPECT_EQ(Get(cluster.endpoint(1), "/harness/k"), "v1");
  EXPECT_EQ(Get(cluster.endpoint(2), "/harness/k"), "v1");
  EXPECT_EQ(
      RunEtcdctl(cluster.endpoint(1), {"put", "/harness/k", "v2"}).exit_code,
      0);
  EXPECT_EQ(Get(cluster.endpoint(2), "/harness/k"), "v2");
  EXPECT_NE(RunEtcdctl(cluster.endpoint(0), {"get", "/harness/k"}).exit_code,
            0);
}

TEST(EtcdClusterTest, FrozenMemberAnswersNothingUntilThawed) {
  CONCH_REQUIRE_ETCD();
  EtcdStart started = EtcdCluster::Start(1);
  ASSERT_TRUE(started.ok()) << started.error;
  EtcdCluster& cluster = *started.cluster;
  ASSERT_EQ(
      RunEtcdctl(cluster.endpoints(), {"put", "/harness/f", "x"}).exit_code, 0);

  ASSERT_TRUE(cluster.Freeze(0));
  EXPECT_NE(RunEtcdctl(cluster.endpoints(), {"get", "/harness/f"}).exit_code,
            0);
  ASSERT_TRUE(cluster.Thaw(0));
  EXPECT_EQ(Get(cluster.endpoints(), "/harness/f"), "x");
}

TEST(EtcdClusterTest, DestructorStopsFrozenServersAndRemovesTheDir) {
  CONCH_REQUIRE_ETCD();
  EtcdStart started = EtcdCluster::Start(1);
  ASSERT_TRUE(started.ok()) << started.error;
  const pid_t pid = started.cluster->pid(0);
  const std::string dir = started.cluster->dir();
  ASSERT_TRUE(std::filesystem::is_directory(dir));
  ASSERT_TRUE(started.cluster->Freeze(0));

  started.cluster.reset();
  EXPECT_TRUE(ProcessGone(pid));
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(EtcdClusterTest, ClustersStartedTogetherShareNothing) {
  CONCH_REQUIRE_ETCD();
  EtcdStart a = EtcdCluster::Start(1);
  EtcdStart b = EtcdCluster::Start(1);
  ASSERT_TRUE(a.ok()) << a.error;
  ASSERT_TRUE(b.ok()) << b.error;
  EXPECT_NE(a.cluster->endpoint(0), b.cluster->endpoint(0));
  EXPECT_NE(a.cluster->dir(), b.cluster->dir());
  ASSERT_EQ(RunEtcdctl(a.cluster->endpoints(), {"put", "/harness/own", "a"})
                .exit_code,
            0);
  EXPECT_EQ(Get(b.cluster->endpoints(), "/harness/own"), "");
}

TEST(ServersRequiredTest, FollowsTheEnvironment) {
  const char* saved = getenv("CONCH_REQUIRE_SERVERS");
  const std::string saved_value = saved != nullptr ? saved : "";
  setenv("CONCH_REQUIRE_SERVERS", "1", 1);
  EXPECT_TRUE(ServersRequired());
  setenv("CONCH_REQUIRE_SERVERS", "0", 1);
  EXPECT_FALSE(ServersRequired());
  unsetenv("CONCH_REQUIRE_SERVERS");
  EXPECT_FALSE(ServersRequired());
  if (saved != nullptr) setenv("CONCH_REQUIRE_SERVERS", saved_value.c_str(), 1);
}

}  // namespace
}  // namespace conch::testing
