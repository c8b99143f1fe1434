#include "base/signals.h"

#include <errno.h>
#include <poll.h>
#include <sys/signalfd.h>

#include <vector>

namespace conch {

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig :
       {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD}) {
    sigaddset(&set, sig);
  }
  return set;
}

void BlockSignals() {
  sigset_t set = HandledSignals();
  CONCH_CHECK(pthread_sigmask(SIG_BLOCK, &set, nullptr) == 0);
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  CONCH_CHECK(sigaction(SIGPIPE, &ignore, nullptr) == 0);
}

Result<SignalFd> SignalFd::Open() {
  sigset_t set = HandledSignals();
  int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return FromErrno("signalfd", errno);
  return SignalFd(UniqueFd(fd));
}

std::optional<int> SignalFd::Read() {
  struct signalfd_siginfo info;
  ssize_t n = ::read(fd_.get(), &info, sizeof(info));
  if (n != sizeof(info)) return std::nullopt;
  return static_cast<int>(info.ssi_signo);
}

Result<int> WaitReadable(std::span<const int> fds,
                         std::optional<MonoTime> deadline, const Clock& clock) {
  std::vector<struct pollfd> pfds;
  std::vector<int> index;
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i] < 0) continue;
    pfds.push_back({fds[i], POLLIN, 0});
    index.push_back(static_cast<int>(i));
  }
  for (;;) {
    struct timespec ts;
    struct timespec* tsp = nullptr;
    if (deadline) {
      Duration left = *deadline - clock.Now();
      if (left < Duration::zero()) left = Duration::zero();
      ts.tv_sec =
          std::chrono::duration_cast<std::chrono::seconds>(left).count();
      ts.tv_nsec = (left - std::chrono::seconds(ts.tv_sec)).count();
      tsp = &ts;
    }
    int n = ::ppoll(pfds.data(), pfds.size(), tsp, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      return FromErrno("poll", errno);
    }
    if (n == 0) return -1;
    for (size_t i = 0; i < pfds.size(); ++i) {
      if (pfds[i].revents != 0) return index[i];
    }
  }
}

}  // namespace conch
