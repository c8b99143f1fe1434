#include "switchman/probe.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <memory>
#include <string_view>
#include <utility>

#include "base/strings.h"
#include "base/unique_fd.h"

namespace conch::switchman {

namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
}

// A connect in flight.
struct Attempt {
  std::string host;
  UniqueFd fd;
};

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};

// Resolves `host` and starts a non-blocking connect to each address. Adds
// `host` to `up` if a connect completes or is refused at once; the others
// still in flight go to `pending`.
void StartProbe(const std::string& host, const std::string& service,
                std::set<std::string>& up, std::vector<Attempt>& pending) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* raw = nullptr;
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &raw) != 0) return;
  std::unique_ptr<addrinfo, AddrInfoDeleter> list(raw);
  for (addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(socket(ai->ai_family,
                       ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       ai->ai_protocol));
    if (!fd.valid()) continue;
    if (connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0 ||
        errno == ECONNREFUSED) {
      up.insert(host);  // Net::Ping: a refusal is an answer
      return;
    }
    if (errno == EINPROGRESS) pending.push_back({host, std::move(fd)});
  }
}

// Waits for the connects in `pending` until `deadline`, adding the hosts
// that answer to `up`.
void FinishProbes(std::vector<Attempt> pending, MonoTime deadline,
                  std::set<std::string>& up) {
  for (;;) {
    std::erase_if(pending,
                  [&](const Attempt& a) { return up.contains(a.host); });
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (pending.empty() || left.count() <= 0) return;
    std::vector<pollfd> fds;
    fds.reserve(pending.size());
    for (const Attempt& a : pending) fds.push_back({a.fd.get(), POLLOUT, 0});
    const int n = poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // timed out (or poll failed): the rest are down
    std::vector<Attempt> still;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) {
        still.push_back(std::move(pending[i]));
        continue;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      if (getsockopt(fds[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
          (err == 0 || err == ECONNREFUSED)) {
        up.insert(pending[i].host);
      }
    }
    pending = std::move(still);
  }
}

}  // namespace

std::set<std::string> ProbeHosts(const std::vector<std::string>& hosts,
                                 uint16_t port, Duration timeout) {
  const MonoTime deadline = std::chrono::steady_clock::now() + timeout;
  const std::string service = std::to_string(port);
  std::set<std::string> up;
  std::set<std::string> started;
  std::vector<Attempt> pending;
  for (const std::string& host : hosts) {
    if (started.insert(host).second) StartProbe(host, service, up, pending);
  }
  FinishProbes(std::move(pending), deadline, up);
  return up;
}

Result<uint16_t> ProbePortFromEnv(const char* env_value) {
  if (env_value == nullptr) return kDefaultProbePort;
  std::string_view text(env_value);
  unsigned port = 0;
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), port);
  if (!AllDigits(text) || ec != std::errc() ||
      ptr != text.data() + text.size() || port < 1 || port > 65535) {
    return Error(Code::kInvalidArgument, std::string(kProbePortEnv) + "=" +
                                             Quote(text) +
                                             ": not a port from 1 to 65535");
  }
  return static_cast<uint16_t>(port);
}

}  // namespace conch::switchman
