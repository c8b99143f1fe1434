// The test proxy itself, against a plain TCP server in the test: bytes pass
// both ways, a held direction keeps them back until released, and a cut
// resets the client's connection.
#include "servers/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include <gtest/gtest.h>

namespace conch::testing {
namespace {

using std::chrono::milliseconds;
using Direction = TcpProxy::Direction;

class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Socket Listen(int* port) {
  Socket s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(listen(s.get(), 4), 0);
  getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return s;
}

Socket Connect(int port) {
  Socket s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  return s;
}

// Reads what arrives within `ms` ("" on timeout, "<eof>" or "<error>").
std::string ReadWithin(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, ms) != 1) return "";
  char buf[256];
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n == 0) return "<eof>";
  if (n < 0) return "<error>";
  return std::string(buf, n);
}

struct Pair {
  Socket listener, client, server;
  std::unique_ptr<TcpProxy> proxy;
};

Pair Through() {
  Pair p;
  int port = 0;
  p.listener = Listen(&port);
  std::string error;
  p.proxy = TcpProxy::Start("127.0.0.1:" + std::to_string(port), &error);
  EXPECT_NE(p.proxy, nullptr) << error;
  p.client = Connect(p.proxy->port());
  p.server = Socket(accept(p.listener.get(), nullptr, nullptr));
  return p;
}

TEST(TcpProxyTest, ForwardsBothWaysAndStampsEach) {
  Pair p = Through();
  TcpProxy::Time before = std::chrono::steady_clock::now();
  ASSERT_EQ(write(p.client.get(), "ping", 4), 4);
  EXPECT_EQ(ReadWithin(p.server.get(), 10000), "ping");
  ASSERT_TRUE(p.proxy->LastForward(Direction::kToServer));
  EXPECT_GE(*p.proxy->LastForward(Direction::kToServer), before);
  EXPECT_FALSE(p.proxy->LastForward(Direction::kToClient));
  ASSERT_EQ(write(p.server.get(), "pong", 4), 4);
  EXPECT_EQ(ReadWithin(p.client.get(), 10000), "pong");
  EXPECT_TRUE(p.proxy->LastForward(Direction::kToClient));
  EXPECT_EQ(p.proxy->accepted(), 1);
}

TEST(TcpProxyTest, AHeldDirectionKeepsBytesBackUntilReleased) {
  Pair p = Through();
  p.proxy->Hold(Direction::kToClient);
  TcpProxy::Time held = std::chrono::steady_clock::now();
  ASSERT_EQ(write(p.client.get(), "ask", 3), 3);
  // The request still goes through: proof that the proxy is running and
  // has looked at this connection since the hold.
  ASSERT_TRUE(
      p.proxy->AwaitForward(Direction::kToServer, held, milliseconds(10000)));
  EXPECT_EQ(ReadWithin(p.server.get(), 10000), "ask");
  ASSERT_EQ(write(p.server.get(), "answer", 6), 6);
  // Send more upstream, twice, and see each arrive: the proxy has been
  // round its loop since the answer was written, and still holds it.
  for (const char* more : {"more", "again"}) {
    ASSERT_EQ(write(p.client.get(), more, strlen(more)),
              static_cast<ssize_t>(strlen(more)));
    EXPECT_EQ(ReadWithin(p.server.get(), 10000), more);
  }
  EXPECT_EQ(ReadWithin(p.client.get(), 0), "");
  EXPECT_FALSE(p.proxy->LastForward(Direction::kToClient));
  TcpProxy::Time released = std::chrono::steady_clock::now();
  p.proxy->Release(Direction::kToClient);
  EXPECT_EQ(ReadWithin(p.client.get(), 10000), "answer");
  ASSERT_TRUE(p.proxy->LastForward(Direction::kToClient));
  EXPECT_GE(*p.proxy->LastForward(Direction::kToClient), released);
}

TEST(TcpProxyTest, CutResetsTheClientsConnection) {
  Pair p = Through();
  ASSERT_EQ(write(p.client.get(), "x", 1), 1);
  EXPECT_EQ(ReadWithin(p.server.get(), 10000), "x");
  p.proxy->CutAll();
  std::string got = ReadWithin(p.client.get(), 10000);
  EXPECT_TRUE(got == "<error>" || got == "<eof>") << got;
  // New connections are still served.
  Socket again = Connect(p.proxy->port());
  Socket server(accept(p.listener.get(), nullptr, nullptr));
  ASSERT_EQ(write(again.get(), "y", 1), 1);
  EXPECT_EQ(ReadWithin(server.get(), 10000), "y");
  EXPECT_EQ(p.proxy->accepted(), 2);
}

TEST(TcpProxyTest, AwaitForwardTimesOutWhenNothingPasses) {
  Pair p = Through();
  EXPECT_FALSE(p.proxy->AwaitForward(Direction::kToServer,
                                     std::chrono::steady_clock::now(),
                                     milliseconds(50)));
}

}  // namespace
}  // namespace conch::testing
