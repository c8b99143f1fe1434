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

std::string Errno(std::string_view what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// One proxied connection: fds[0] is the client's socket, fds[1] the
// server's; pending[d] holds bytes read but not yet written towards d.
struct Conn {
  std::array<int, 2> fds{-1, -1};
  std::array<std::string, 2> pending;

  void Close() {
    for (int& fd : fds) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }
};

// Index of the socket bytes towards `d` are read from, and written to.
int Source(int d) { return d == 0 ? 0 : 1; }
int Sink(int d) { return d == 0 ? 1 : 0; }

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

  std::vector<Conn> conns;  // the proxy thread's only

  void Wake() const {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd, &one, sizeof(one));
  }
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

// The proxy thread: one poll over the wake-up fd, the listening socket and
// both sockets of every connection. A direction that is held is neither
// read nor written, so its bytes wait in the kernel and in `pending`.
void TcpProxy::Run() {
  State& s = *state_;
  for (;;) {
    std::array<bool, 2> held;
    bool cut;
    {
      MutexLock lock(s.mu);
      if (s.stop) return;
      held = s.held;
      cut = s.cut;
      s.cut = false;
    }
    if (cut) {
      for (Conn& c : s.conns) {
        // RST rather than FIN: the client sees a broken connection at once.
        linger hard{1, 0};
        for (int fd : c.fds) {
          ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
        }
        c.Close();
      }
    }
    // Drop closed connections.
    std::erase_if(s.conns, [](const Conn& c) { return c.fds[0] < 0; });

    std::vector<pollfd> pfds = {{s.wake_fd, POLLIN, 0},
                                {s.listen_fd, POLLIN, 0}};
    for (const Conn& c : s.conns) {
      std::array<short, 2> events{0, 0};  // per socket
      for (int d = 0; d < 2; ++d) {
        if (held[d]) continue;
        if (c.pending[d].empty()) {
          events[Source(d)] |= POLLIN;
        } else {
          events[Sink(d)] |= POLLOUT;
        }
      }
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
    for (size_t i = 0; i < s.conns.size(); ++i) {
      Conn& c = s.conns[i];
      const pollfd* p = &pfds[2 + 2 * i];
      bool broken = false;
      for (int d = 0; d < 2 && !broken; ++d) {
        if (held[d]) continue;
        short src = p[Source(d)].revents;
        short dst = p[Sink(d)].revents;
        if (c.pending[d].empty() && (src & (POLLIN | POLLHUP | POLLERR))) {
          char buf[kChunk];
          ssize_t n = ::recv(c.fds[Source(d)], buf, sizeof(buf), MSG_DONTWAIT);
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            broken = true;
          } else if (n > 0) {
            c.pending[d].assign(buf, n);
          }
        } else if (!c.pending[d].empty() && (dst & (POLLOUT | POLLERR))) {
          // Stamped before the write, so that whoever receives the bytes
          // already sees the stamp.
          {
            MutexLock lock(s.mu);
            s.last[d] = std::chrono::steady_clock::now();
            s.last_wall[d] = std::chrono::system_clock::now();
          }
          ssize_t n = ::send(c.fds[Sink(d)], c.pending[d].data(),
                             c.pending[d].size(), MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n < 0 && errno != EAGAIN && errno != EINTR) {
            broken = true;
          } else if (n > 0) {
            c.pending[d].erase(0, n);
          }
          s.forwarded.NotifyAll();
        }
      }
      if (broken) c.Close();
    }
    if (pfds[1].revents & POLLIN) {
      int client = ::accept4(s.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (server < 0 ||
          ::connect(server, reinterpret_cast<const sockaddr*>(&s.target),
                    sizeof(s.target)) != 0) {
        if (server >= 0) ::close(server);
        ::close(client);
        continue;
      }
      int one = 1;
      ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      Conn c;
      c.fds = {client, server};
      s.conns.push_back(std::move(c));
      MutexLock lock(s.mu);
      ++s.accepted;
    }
  }
}

}  // namespace conch::testing
