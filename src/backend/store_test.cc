#include "backend/store.h"

#include <gtest/gtest.h>

namespace conch::backend {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(StoreAddressTest, PlainAndEtcdFormsNameEtcd) {
  for (const char* in : {"127.0.0.1:2379", "http://a:2379,http://b:2379",
                         "etcd://a:1,b:2", "localhost", "a:1,,b:2"}) {
    Result<StoreAddress> a = ParseStoreAddress(in);
    ASSERT_TRUE(a.ok()) << in << ": " << a.status().ToString();
    EXPECT_EQ(a->kind, StoreKind::kEtcd) << in;
    EXPECT_TRUE(a->chroot.empty());
  }
  Result<StoreAddress> a = ParseStoreAddress("a:1, ,b:2");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->members, (std::vector<std::string>{"a:1", "b:2"}));
}

TEST(StoreAddressTest, ZkSchemeNamesZooKeeperWithDefaultPortAndChroot) {
  Result<StoreAddress> a = ParseStoreAddress("zk://h1:2182,h2/app/conch");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->kind, StoreKind::kZooKeeper);
  EXPECT_EQ(a->members, (std::vector<std::string>{"h1:2182", "h2:2181"}));
  EXPECT_EQ(a->chroot, "/app/conch");

  a = ParseStoreAddress("zk://127.0.0.1:1,zk://[::1]:2");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->members, (std::vector<std::string>{"127.0.0.1:1", "[::1]:2"}));
  EXPECT_TRUE(a->chroot.empty());
}

TEST(StoreAddressTest, RefusesMixedSchemesAndBadChroots) {
  struct Case {
    const char* in;
    const char* says;
  } cases[] = {
      {"zk://a:1,http://b:2", "mix"},
      {"zk://a:1,etcd://b:2", "mix"},
      {"a:2379,zk://b:2181", "mix"},
      {"zk://a:1/x,b:2", "chroot follows the last host"},
      {"zk://a:1/", "want /path"},
      {"zk://a:1/x/", "ends with '/'"},
      {"zk://a:1/x//y", "empty path component"},
      {"zk://a:1/x/../y", "relative"},
      {"zk://a:0", "bad port"},
      {"zk://", "want host:port"},
      {"", "empty"},
      {",", "empty"},
      {"https://a:2379", "TLS"},
  };
  for (const Case& c : cases) {
    Result<StoreAddress> a = ParseStoreAddress(c.in);
    ASSERT_FALSE(a.ok()) << c.in;
    EXPECT_EQ(a.status().code(), Code::kInvalidArgument) << c.in;
    EXPECT_NE(a.status().message().find(c.says), std::string::npos)
        << c.in << ": " << a.status().message();
    EXPECT_EQ(a.status().message().find('\n'), std::string::npos);
  }
}

TEST(CheckTtlTest, EtcdWantsWholeSecondsZooKeeperWholeMilliseconds) {
  EXPECT_TRUE(CheckTtl(StoreKind::kEtcd, seconds(1)).ok());
  EXPECT_FALSE(CheckTtl(StoreKind::kEtcd, seconds(1) - nanoseconds(1)).ok());
  EXPECT_FALSE(CheckTtl(StoreKind::kEtcd, seconds(1) + nanoseconds(1)).ok());
  EXPECT_FALSE(CheckTtl(StoreKind::kEtcd, milliseconds(2500)).ok());

  EXPECT_TRUE(CheckTtl(StoreKind::kZooKeeper, seconds(1)).ok());
  EXPECT_TRUE(CheckTtl(StoreKind::kZooKeeper, milliseconds(2500)).ok());
  EXPECT_FALSE(
      CheckTtl(StoreKind::kZooKeeper, seconds(1) - nanoseconds(1)).ok());
  EXPECT_FALSE(
      CheckTtl(StoreKind::kZooKeeper, milliseconds(2500) + nanoseconds(1))
          .ok());
  EXPECT_TRUE(CheckTtl(StoreKind::kZooKeeper, std::chrono::hours(24)).ok());
  EXPECT_FALSE(
      CheckTtl(StoreKind::kZooKeeper, std::chrono::hours(24) + milliseconds(1))
          .ok());
  for (StoreKind k : {StoreKind::kEtcd, StoreKind::kZooKeeper}) {
    Status s = CheckTtl(k, Duration::zero());
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_NE(s.message().find("--ttl"), std::string::npos);
  }
}

}  // namespace
}  // namespace conch::backend
