// The test proxy itself, against a plain TCP server in the test: bytes pass
// both ways, a held direction keeps them back until released, a cut resets
// the client's connection, and under RefuseContainers a container create
// gets a ZooKeeper 3.4 server's answer while every other frame passes.
#include "servers/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
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

// A proxy and one connection through it; with `refuse_containers`, the
// connection is accepted under RefuseContainers(true).
Pair Through(bool refuse_containers = false) {
  Pair p;
  int port = 0;
  p.listener = Listen(&port);
  std::string error;
  p.proxy = TcpProxy::Start("127.0.0.1:" + std::to_string(port), &error);
  EXPECT_NE(p.proxy, nullptr) << error;
  p.proxy->RefuseContainers(refuse_containers);
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

// --- RefuseContainers: ZooKeeper frames --------------------------------

constexpr int32_t kCreate2 = 15;
constexpr int32_t kCreateContainer = 19;

std::string Be(uint64_t v, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>(v >> (8 * i)));
  }
  return out;
}

// A frame: the body's length, big-endian, then the body.
std::string Frame(const std::string& body) { return Be(body.size(), 4) + body; }

// A request: RequestHeader {xid, type}, then a body that stands for the
// request's record.
std::string Request(int32_t xid, int32_t type, const std::string& body) {
  return Frame(Be(static_cast<uint32_t>(xid), 4) +
               Be(static_cast<uint32_t>(type), 4) + body);
}

// A reply: ReplyHeader {xid, zxid, err}, then a body.
std::string Reply(int32_t xid, int64_t zxid, int32_t err,
                  const std::string& body = "") {
  return Frame(Be(static_cast<uint32_t>(xid), 4) +
               Be(static_cast<uint64_t>(zxid), 8) +
               Be(static_cast<uint32_t>(err), 4) + body);
}

// The handshake frames; their bodies are opaque to the proxy, and a
// ConnectRequest's bytes at the offset of a request type say 19 (after
// protocolVersion 0, the lastZxidSeen's high word), which must not count.
const std::string kConnectRequest =
    Frame(Be(0, 4) + Be(19ULL << 32, 8) + Be(30000, 4) + Be(0, 8) + Be(16, 4) +
          std::string(16, '\0') + std::string(1, '\0'));
const std::string kConnectResponse =
    Frame(Be(0, 4) + Be(30000, 4) + Be(0x1234, 8) + Be(16, 4) +
          std::string(16, 'p') + std::string(1, '\0'));

void WriteAll(int fd, const std::string& bytes) {
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()),
            static_cast<ssize_t>(bytes.size()));
}

// Reads exactly `n` bytes within 10 s; fewer if the peer closes or the
// time runs out.
std::string ReadExactly(int fd, size_t n) {
  std::string got;
  while (got.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) break;
    char buf[256];
    ssize_t r = read(fd, buf, std::min(sizeof(buf), n - got.size()));
    if (r <= 0) break;
    got.append(buf, r);
  }
  return got;
}

// The handshake both ways, checked to pass unchanged.
void Handshake(Pair& p) {
  WriteAll(p.client.get(), kConnectRequest);
  EXPECT_EQ(ReadExactly(p.server.get(), kConnectRequest.size()),
            kConnectRequest);
  WriteAll(p.server.get(), kConnectResponse);
  EXPECT_EQ(ReadExactly(p.client.get(), kConnectResponse.size()),
            kConnectResponse);
}

TEST(TcpProxyTest, ARefusedContainerCreateGetsUnimplementedAndACloseAfterIt) {
  Pair p = Through(/*refuse_containers=*/true);
  Handshake(p);
  // Other requests and their replies pass unchanged.
  const std::string create = Request(1, kCreate2, "/a");
  WriteAll(p.client.get(), create);
  EXPECT_EQ(ReadExactly(p.server.get(), create.size()), create);
  const std::string replies = Reply(1, 0x500, 0, "/a") + Reply(-2, 0x4ff, 0);
  WriteAll(p.server.get(), replies);
  EXPECT_EQ(ReadExactly(p.client.get(), replies.size()), replies);

  WriteAll(p.client.get(), Request(2, kCreateContainer, "/b"));
  EXPECT_EQ(ReadExactly(p.client.get(), 20), Reply(2, -1, -6));
  EXPECT_EQ(ReadWithin(p.client.get(), 10000), "<eof>");
  // The server never saw the create: it sees the connection closed.
  EXPECT_EQ(ReadWithin(p.server.get(), 10000), "<eof>");
  EXPECT_EQ(p.proxy->refused_containers(), 1);
  // The next connection is served, and refused in the same way.
  Socket again = Connect(p.proxy->port());
  p.server = Socket(accept(p.listener.get(), nullptr, nullptr));
  p.client = std::move(again);
  Handshake(p);
  WriteAll(p.client.get(), Request(7, kCreateContainer, "/b"));
  EXPECT_EQ(ReadExactly(p.client.get(), 20), Reply(7, -1, -6));
  EXPECT_EQ(p.proxy->refused_containers(), 2);
}

TEST(TcpProxyTest, FramesSplitAcrossReadsAreJoinedBeforeTheyAreJudged) {
  Pair p = Through(/*refuse_containers=*/true);
  const std::string reply = Reply(1, 0x77, 0, "ok");
  const std::string container = Request(2, kCreateContainer, "/c");
  // The client's bytes: the handshake, a create2, the container create.
  // Each write below ends inside a frame, and completes the one before it,
  // whose arrival proves that the proxy has read that write on its own.
  std::string up = kConnectRequest + Request(1, kCreate2, "/a") + container;
  const size_t create2_end =
      kConnectRequest.size() + Request(1, kCreate2, "/a").size();
  const size_t cuts[] = {2, kConnectRequest.size() + 6, create2_end + 6};
  WriteAll(p.client.get(), up.substr(0, cuts[0]));  // inside a length
  WriteAll(p.client.get(), up.substr(cuts[0], cuts[1] - cuts[0]));
  EXPECT_EQ(ReadExactly(p.server.get(), kConnectRequest.size()),
            kConnectRequest);
  WriteAll(p.server.get(), kConnectResponse + reply.substr(0, 5));
  EXPECT_EQ(ReadExactly(p.client.get(), kConnectResponse.size()),
            kConnectResponse);
  WriteAll(p.server.get(), reply.substr(5));
  EXPECT_EQ(ReadExactly(p.client.get(), reply.size()), reply);
  // Inside the container create's header: its type comes in the last write.
  WriteAll(p.client.get(), up.substr(cuts[1], cuts[2] - cuts[1]));
  EXPECT_EQ(ReadExactly(p.server.get(), create2_end - kConnectRequest.size()),
            Request(1, kCreate2, "/a"));
  WriteAll(p.client.get(), up.substr(cuts[2]));
  EXPECT_EQ(ReadExactly(p.client.get(), 20), Reply(2, -1, -6));
  EXPECT_EQ(ReadWithin(p.server.get(), 10000), "<eof>");
  EXPECT_EQ(p.proxy->refused_containers(), 1);
}

TEST(TcpProxyTest, WhatCameBeforeARefusedCreateReachesTheServer) {
  Pair p = Through(/*refuse_containers=*/true);
  Handshake(p);
  // One write: a create2, the container create, and a request after it.
  const std::string create = Request(1, kCreate2, "/a");
  WriteAll(p.client.get(), create + Request(2, kCreateContainer, "/b") +
                               Request(3, kCreate2, "/c"));
  EXPECT_EQ(ReadExactly(p.server.get(), create.size() + 1), create);
  EXPECT_EQ(ReadExactly(p.client.get(), 21), Reply(2, -1, -6));
}

TEST(TcpProxyTest, WithoutTheModeAContainerCreatePasses) {
  Pair p = Through();
  Handshake(p);
  const std::string container = Request(2, kCreateContainer, "/c");
  WriteAll(p.client.get(), container);
  EXPECT_EQ(ReadExactly(p.server.get(), container.size()), container);
  // A connection open when the mode is turned on keeps passing it.
  p.proxy->RefuseContainers(true);
  WriteAll(p.client.get(), container);
  EXPECT_EQ(ReadExactly(p.server.get(), container.size()), container);
  EXPECT_EQ(p.proxy->refused_containers(), 0);
}

TEST(TcpProxyTest, BytesThatAreNotZooKeepersPassUnderTheMode) {
  Pair p = Through(/*refuse_containers=*/true);
  // The length of an HTTP/2 preface read as a frame: far too long.
  const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  WriteAll(p.client.get(), preface);
  EXPECT_EQ(ReadExactly(p.server.get(), preface.size()), preface);
  // From then on nothing is judged, not even what looks like a create.
  const std::string container = Request(2, kCreateContainer, "/c");
  WriteAll(p.client.get(), container);
  EXPECT_EQ(ReadExactly(p.server.get(), container.size()), container);
  EXPECT_EQ(p.proxy->refused_containers(), 0);
}

}  // namespace
}  // namespace conch::testing
