#include "servers/tcp_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

#include "base/mutex.h"

namespace conch::testing {

namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr int kToServer = 0;
constexpr int kToClient = 1;

// ZooKeeper's client protocol, for RefuseContainers.
constexpr int32_t kCreateContainerOp = 19;
constexpr int32_t kUnimplemented = -6;
// Far above any real frame (the server's jute.maxbuffer is 1 MiB by
// default), and below what a stream that is not ZooKeeper's would likely
// read as a length.
constexpr int64_t kMaxFrame = 16 << 20;

std::string Errno(std::string_view what) {
  return std::string(what) + ": " + std::strerror(errno);
}

int32_t Be32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return static_cast<int32_t>(v);
}

void AppendBe(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out->push_back(static_cast<char>(v >> (8 * i)));
  }
}

// What a ZooKeeper 3.4 server (3.4.6 on) answers a request type it does not
// know: a reply frame of the header alone. Its zxid is the request's, -1,
// as one never given a zxid (that happens later in the server's pipeline,
// which an unknown type never enters); the C client keeps no zxid <= 0.
std::string UnimplementedReply(int32_t xid) {
  std::string reply;
  AppendBe(&reply, 16, 4);
  AppendBe(&reply, static_cast<uint32_t>(xid), 4);
  AppendBe(&reply, static_cast<uint64_t>(int64_t{-1}), 8);
  AppendBe(&reply, static_cast<uint32_t>(kUnimplemented), 4);
  return reply;
}

// One direction of a connection read as ZooKeeper frames.
struct Framing {
  std::string partial;    // the start of a frame not complete yet
  bool handshake = true;  // the next frame is ConnectRequest/Response
};

// One proxied connection: fds[0] is the client's socket, fds[1] the
// server's; pending[d] holds bytes read but not yet written towards d.
struct Conn {
  std::array<int, 2> fds{-1, -1};
  std::array<std::string, 2> pending;
  // Set when accepted under RefuseContainers; reset if the bytes turn out
  // not to be ZooKeeper's.
  std::optional<std::array<Framing, 2>> zk;
  // A container create was refused: nothing more is read from the server,
  // and each socket is closed once what is pending towards it is written.
  bool refused = false;

  static void CloseFd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  void Close() {
    for (int& fd : fds) CloseFd(fd);
  }
};

// Index of the socket bytes towards `d` are read from, and written to.
int Source(int d) { return d == kToServer ? 0 : 1; }
int Sink(int d) { return d == kToServer ? 1 : 0; }

// The stream is not ZooKeeper's: what was held back as partial frames
// passes on, and so does everything after it.
void Unframe(Conn& c) {
  for (int d = 0; d < 2; ++d) c.pending[d] += (*c.zk)[d].partial;
  c.zk.reset();
}

// Answers the container create `xid` as a 3.4 server does: after the
// complete replies already read from the server, and before the
// connection closes. What the client sent after it is dropped; what it
// sent before still goes to the server.
void Refuse(Conn& c, int32_t xid) {
  c.pending[kToClient] += UnimplementedReply(xid);
  for (Framing& f : *c.zk) f.partial.clear();
  c.refused = true;
}

// Moves the complete frames read towards `d` on to pending[d], keeping an
// incomplete one back; refuses a container create. Returns how many it
// refused (0 or 1).
int Split(Conn& c, int d) {
  Framing& f = (*c.zk)[d];
  size_t at = 0;
  while (f.partial.size() - at >= 4) {
    const int64_t len = Be32(f.partial.data() + at);
    if (len < 0 || len > kMaxFrame) {
      f.partial.erase(0, at);
      Unframe(c);
      return 0;
    }
    if (f.partial.size() - at - 4 < static_cast<size_t>(len)) break;
    std::string_view frame(f.partial.data() + at, 4 + len);
    at += frame.size();
    if (f.handshake) {
      f.handshake = false;
    } else if (d == kToServer && len >= 8 &&
               Be32(frame.data() + 8) == kCreateContainerOp) {
      Refuse(c, Be32(frame.data() + 4));
      return 1;
    }
    c.pending[d] += frame;
  }
  f.partial.erase(0, at);
  return 0;
}

// Takes bytes read towards `d`. Returns how many container creates it
// refused.
int Take(Conn& c, int d, std::string_view bytes) {
  if (c.refused) return 0;  // the client's, after the refusal
  if (!c.zk) {
    c.pending[d] += bytes;
    return 0;
  }
  (*c.zk)[d].partial += bytes;
  return Split(c, d);
}

// The poll events each socket of `c` waits for. A held direction waits for
// nothing: its bytes stay in the kernel and in `pending`.
std::array<short, 2> Interest(const Conn& c, const std::array<bool, 2>& held) {
  std::array<short, 2> events{0, 0};
  for (int d = 0; d < 2; ++d) {
    if (held[d]) continue;
    if (!c.pending[d].empty()) {
      events[Sink(d)] |= POLLOUT;
    } else if (!(c.refused && d == kToClient)) {
      events[Source(d)] |= POLLIN;
    }
  }
  return events;
}

}  // namespace

struct TcpProxy::State {
  int listen_fd = -1;
  int wake_fd = -1;
  sockaddr_in target{};
  // Joined by ~TcpProxy, before the sockets it polls are closed.
  std::jthread thread;

  mutable Mutex mu;
  mutable CondVar forwarded;
  bool stop GUARDED_BY(mu) = false;
  bool cut GUARDED_BY(mu) = false;
  std::array<bool, 2> held GUARDED_BY(mu){false, false};
  std::array<std::optional<Time>, 2> last GUARDED_BY(mu);
  std::array<std::optional<WallTime>, 2> last_wall GUARDED_BY(mu);
  int accepted GUARDED_BY(mu) = 0;
  bool refuse_containers GUARDED_BY(mu) = false;
  int refused GUARDED_BY(mu) = 0;

  std::vector<Conn> conns;  // the proxy thread's only

  void Wake() const {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd, &one, sizeof(one));
  }

  // The proxy thread's steps, below Run.
  void CutAll();
  void Serve(Conn& c, const pollfd* p, const std::array<bool, 2>& held_now);
  bool Receive(Conn& c, int d);
  bool Send(Conn& c, int d);
  void AcceptOne();
};

std::unique_ptr<TcpProxy> TcpProxy::Start(const std::string& target,
                                          std::string* error) {
  auto state = std::make_unique<State>();
  size_t colon = target.rfind(':');
  if (colon == std::string::npos) {
    *error = "target \"" + target + "\" is not host:port";
    return nullptr;
  }
  state->target.sin_family = AF_INET;
  state->target.sin_port =
      htons(static_cast<uint16_t>(std::atoi(target.c_str() + colon + 1)));
  if (::inet_pton(AF_INET, target.substr(0, colon).c_str(),
                  &state->target.sin_addr) != 1) {
    *error = "target \"" + target + "\" is not an IPv4 address and port";
    return nullptr;
  }
  state->listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  state->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (state->listen_fd < 0 || state->wake_fd < 0) {
    *error = Errno("socket");
    return nullptr;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(state->listen_fd, reinterpret_cast<sockaddr*>(&addr),
             sizeof(addr)) != 0 ||
      ::listen(state->listen_fd, 64) != 0 ||
      ::getsockname(state->listen_fd, reinterpret_cast<sockaddr*>(&addr),
                    &len) != 0) {
    *error = Errno("listen on 127.0.0.1");
    return nullptr;
  }
  std::unique_ptr<TcpProxy> proxy(
      new TcpProxy(ntohs(addr.sin_port), std::move(state)));
  proxy->state_->thread = std::jthread([p = proxy.get()] { p->Run(); });
  return proxy;
}

TcpProxy::TcpProxy(int port, std::unique_ptr<State> state)
    : port_(port), state_(std::move(state)) {}

TcpProxy::~TcpProxy() {
  {
    MutexLock lock(state_->mu);
    state_->stop = true;
  }
  state_->Wake();
  if (state_->thread.joinable()) state_->thread.join();
  for (Conn& c : state_->conns) c.Close();
  ::close(state_->listen_fd);
  ::close(state_->wake_fd);
}

std::string TcpProxy::endpoint() const {
  return "127.0.0.1:" + std::to_string(port_);
}

void TcpProxy::Hold(Direction d) {
  MutexLock lock(state_->mu);
  state_->held[static_cast<int>(d)] = true;
  state_->Wake();
}

void TcpProxy::Release(Direction d) {
  MutexLock lock(state_->mu);
  state_->held[static_cast<int>(d)] = false;
  state_->Wake();
}

void TcpProxy::CutAll() {
  MutexLock lock(state_->mu);
  state_->cut = true;
  state_->Wake();
}

std::optional<TcpProxy::Time> TcpProxy::LastForward(Direction d) const {
  MutexLock lock(state_->mu);
  return state_->last[static_cast<int>(d)];
}

std::optional<TcpProxy::WallTime> TcpProxy::LastForwardWall(Direction d) const {
  MutexLock lock(state_->mu);
  return state_->last_wall[static_cast<int>(d)];
}

std::optional<TcpProxy::Time> TcpProxy::AwaitForward(
    Direction d, Time after, std::chrono::milliseconds timeout) const {
  MutexLock lock(state_->mu);
  const int i = static_cast<int>(d);
  if (!state_->forwarded.WaitFor(
          state_->mu, timeout, [&]() REQUIRES(state_->mu) {
            return state_->last[i].has_value() && *state_->last[i] >= after;
          })) {
    return std::nullopt;
  }
  return state_->last[i];
}

int TcpProxy::accepted() const {
  MutexLock lock(state_->mu);
  return state_->accepted;
}

void TcpProxy::RefuseContainers(bool on) {
  MutexLock lock(state_->mu);
  state_->refuse_containers = on;
}

int TcpProxy::refused_containers() const {
  MutexLock lock(state_->mu);
  return state_->refused;
}

// The proxy thread: one poll over the wake-up fd, the listening socket and
// both sockets of every connection.
void TcpProxy::Run() {
  State& s = *state_;
  for (;;) {
    // Take the orders given since the last round.
    std::array<bool, 2> held;
    bool cut;
    {
      MutexLock lock(s.mu);
      if (s.stop) return;
      held = s.held;
      cut = s.cut;
      s.cut = false;
    }
    if (cut) s.CutAll();
    // Drop closed connections.
    std::erase_if(s.conns,
                  [](const Conn& c) { return c.fds[0] < 0 && c.fds[1] < 0; });

    // Wait for the sockets.
    std::vector<pollfd> pfds = {{s.wake_fd, POLLIN, 0},
                                {s.listen_fd, POLLIN, 0}};
    for (const Conn& c : s.conns) {
      std::array<short, 2> events = Interest(c, held);
      pfds.push_back({c.fds[0], events[0], 0});
      pfds.push_back({c.fds[1], events[1], 0});
    }
    if (::poll(pfds.data(), pfds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (pfds[0].revents != 0) {
      uint64_t count;
      [[maybe_unused]] ssize_t n = ::read(s.wake_fd, &count, sizeof(count));
    }

    // Move bytes, then take a new connection.
    for (size_t i = 0; i < s.conns.size(); ++i) {
      s.Serve(s.conns[i], &pfds[2 + 2 * i], held);
    }
    if (pfds[1].revents & POLLIN) s.AcceptOne();
  }
}

void TcpProxy::State::CutAll() {
  for (Conn& c : conns) {
    // RST rather than FIN: the client sees a broken connection at once.
    linger hard{1, 0};
    for (int fd : c.fds) {
      if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    }
    c.Close();
  }
}

// One round of connection `c`, whose sockets' poll results are p[0] (the
// client's) and p[1] (the server's): at most one read or one write each
// way. After a refusal nothing more is read from the server, and each
// socket is closed once nothing is pending towards it.
void TcpProxy::State::Serve(Conn& c, const pollfd* p,
                            const std::array<bool, 2>& held_now) {
  for (int d = 0; d < 2; ++d) {
    if (held_now[d]) continue;
    const bool readable =
        (p[Source(d)].revents & (POLLIN | POLLHUP | POLLERR)) &&
        !(c.refused && d == kToClient);
    const bool writable = p[Sink(d)].revents & (POLLOUT | POLLERR);
    bool ok = true;
    if (c.pending[d].empty() && readable) {
      ok = Receive(c, d);
    } else if (!c.pending[d].empty() && writable) {
      ok = Send(c, d);
    }
    if (!ok) {
      c.Close();
      return;
    }
  }
  if (c.refused) {
    if (c.pending[kToServer].empty()) Conn::CloseFd(c.fds[1]);
    if (c.pending[kToClient].empty() && c.fds[0] >= 0) {
      // Read what the client sent meanwhile, so that the close is a FIN
      // after the reply and not a reset (unread data makes close() reset).
      char buf[kChunk];
      while (::recv(c.fds[0], buf, sizeof(buf), MSG_DONTWAIT) > 0) {
      }
      Conn::CloseFd(c.fds[0]);
    }
  }
}

// Reads what has come towards `d`. False when its source is closed or
// broken.
bool TcpProxy::State::Receive(Conn& c, int d) {
  char buf[kChunk];
  ssize_t n = ::recv(c.fds[Source(d)], buf, sizeof(buf), MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return false;
  if (n > 0 && Take(c, d, std::string_view(buf, n)) > 0) {
    MutexLock lock(mu);
    ++refused;
  }
  return true;
}

// Writes what is pending towards `d`. False when its sink is broken.
bool TcpProxy::State::Send(Conn& c, int d) {
  // Stamped before the write, so that whoever receives the bytes already
  // sees the stamp.
  {
    MutexLock lock(mu);
    last[d] = std::chrono::steady_clock::now();
    last_wall[d] = std::chrono::system_clock::now();
  }
  ssize_t n = ::send(c.fds[Sink(d)], c.pending[d].data(), c.pending[d].size(),
                     MSG_NOSIGNAL | MSG_DONTWAIT);
  forwarded.NotifyAll();
  if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
  if (n > 0) c.pending[d].erase(0, n);
  return true;
}

// Accepts one client and connects it to the target; on failure the client
// is closed.
void TcpProxy::State::AcceptOne() {
  int client = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) return;
  int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (server < 0 ||
      ::connect(server, reinterpret_cast<const sockaddr*>(&target),
                sizeof(target)) != 0) {
    if (server >= 0) ::close(server);
    ::close(client);
    return;
  }
  int one = 1;
  ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  Conn c;
  c.fds = {client, server};
  MutexLock lock(mu);
  ++accepted;
  if (refuse_containers) c.zk.emplace();
  conns.push_back(std::move(c));
}

}  // namespace conch::testing
