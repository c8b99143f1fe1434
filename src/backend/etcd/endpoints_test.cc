#include "backend/etcd/endpoints.h"

#include <gtest/gtest.h>

namespace conch::backend {
namespace {

TEST(EndpointsTest, ParsesTheOriginalsForms) {
  struct Case {
    const char* in;
    const char* host;
    int port;
  } cases[] = {
      {"127.0.0.1:2379", "127.0.0.1", 2379},
      {"http://127.0.0.1:22379", "127.0.0.1", 22379},
      {"http://localhost:2379/", "localhost", 2379},
      {"etcd-1", "etcd-1", 2379},
      {"[::1]:2379", "::1", 2379},
  };
  for (const Case& c : cases) {
    Result<HostPort> hp = ParseEndpoint(c.in);
    ASSERT_TRUE(hp.ok()) << c.in << ": " << hp.status().ToString();
    EXPECT_EQ(hp->host, c.host) << c.in;
    EXPECT_EQ(hp->port, c.port) << c.in;
  }
}

TEST(EndpointsTest, RefusesMalformedEndpoints) {
  for (const char* in :
       {"", ":2379", "host:", "host:0", "host:70000", "host:abc",
        "https://h:2379", "unix://sock", "::1:2379", "[::1", "[[a]:1", "]:1"}) {
    Result<HostPort> hp = ParseEndpoint(in);
    EXPECT_FALSE(hp.ok()) << in;
    if (!hp.ok()) {
      EXPECT_EQ(hp.status().code(), Code::kInvalidArgument);
      EXPECT_EQ(hp.status().message().find('\n'), std::string::npos);
    }
  }
}

TEST(EndpointsTest, ResolveTargetListsEveryMember) {
  Result<std::string> t = ResolveTarget(
      {"127.0.0.1:2379", "http://127.0.0.2:2380", "127.0.0.1:2379"});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, "ipv4:127.0.0.1:2379,127.0.0.2:2380");
}

TEST(EndpointsTest, ResolveTargetUsesIpv6WhenOnlyIpv6) {
  Result<std::string> t = ResolveTarget({"[::1]:2379"});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, "ipv6:[::1]:2379");
}

}  // namespace
}  // namespace conch::backend
