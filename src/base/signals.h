// Signals as file descriptors, and a poll over the owner thread's fds.
//
// BlockSignals() must run in main before any thread starts, so that no
// thread (gRPC's included) ever receives SIGTERM & co. asynchronously; the
// owner thread reads them from a SignalFd inside its poll loop instead.
// Children are spawned with an empty mask (supervisor/spawn.cc).
//
// Thread contract: owner thread only.
#pragma once

#include <signal.h>

#include <optional>
#include <span>

#include "base/clock.h"
#include "base/status.h"
#include "base/unique_fd.h"

namespace conch {

// The signals conch handles itself: TERM, INT, HUP, QUIT, USR1, USR2, and
// CHLD (to reap orphaned descendants re-parented to it).
// Also ignores SIGPIPE (a dead store connection must be an error, not death).
void BlockSignals();
sigset_t HandledSignals();

class SignalFd {
 public:
  // Opens a non-blocking, close-on-exec signalfd for HandledSignals().
  static Result<SignalFd> Open();

  int fd() const { return fd_.get(); }
  // Returns the next pending signal number, or nullopt if none is pending.
  std::optional<int> Read();

 private:
  explicit SignalFd(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// Waits until one of `fds` is readable (fds < 0 are skipped) or `deadline`
// on `clock` passes (never, when nullopt). Returns the lowest ready index,
// so callers list fds in priority order; returns -1 on timeout. EINTR is
// retried.
Result<int> WaitReadable(std::span<const int> fds,
                         std::optional<MonoTime> deadline, const Clock& clock);

}  // namespace conch
