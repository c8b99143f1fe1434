#include "switchman/probe.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "base/unique_fd.h"

namespace conch::switchman {
namespace {

// A TCP socket on 127.0.0.1 with a port the kernel picked; listening or
// merely bound (then connects to it are refused).
struct LocalPort {
  UniqueFd fd;
  uint16_t port = 0;
};

LocalPort BindLoopback(bool listen_on_it) {
  LocalPort out;
  out.fd.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  EXPECT_EQ(bind(out.fd.get(), sa, len), 0);
  EXPECT_EQ(getsockname(out.fd.get(), sa, &len), 0);
  out.port = ntohs(addr.sin_port);
  if (listen_on_it) {
    EXPECT_EQ(listen(out.fd.get(), 8), 0);
  }
  return out;
}

TEST(ProbeTest, ListeningOrRefusingHostIsUp) {
  LocalPort listening = BindLoopback(true);
  std::set<std::string> up = ProbeHosts(
      {"127.0.0.1", "127.0.0.1"}, listening.port, std::chrono::seconds(5));
  EXPECT_EQ(up, std::set<std::string>{"127.0.0.1"});

  LocalPort closed = BindLoopback(false);  // bound, not listening: refused
  up = ProbeHosts({"127.0.0.1", "localhost"}, closed.port,
                  std::chrono::seconds(5));
  EXPECT_EQ(up, (std::set<std::string>{"127.0.0.1", "localhost"}));
}

TEST(ProbeTest, UnresolvableHostIsDown) {
  LocalPort listening = BindLoopback(true);
  std::set<std::string> up = ProbeHosts(
      {"host.invalid", "127.0.0.1"}, listening.port, std::chrono::seconds(5));
  EXPECT_EQ(up, std::set<std::string>{"127.0.0.1"});
}

TEST(ProbeTest, PortComesFromTheEnvironment) {
  EXPECT_EQ(*ProbePortFromEnv(nullptr), 7);
  EXPECT_EQ(*ProbePortFromEnv("2181"), 2181);
  for (const char* bad : {"", "0", "65536", "12x", "-1", " 1"}) {
    EXPECT_FALSE(ProbePortFromEnv(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace conch::switchman
