#include "base/event_loop.h"

#include <errno.h>
#include <poll.h>

#include <vector>

namespace conch {

EventLoop::Registration& EventLoop::Registration::operator=(
    Registration&& other) noexcept {
  if (this != &other) {
    reset();
    loop_ = other.loop_;
    id_ = other.id_;
    other.loop_ = nullptr;
  }
  return *this;
}

void EventLoop::Registration::reset() {
  if (loop_ != nullptr) loop_->Remove(id_);
  loop_ = nullptr;
}

EventLoop::Registration EventLoop::OnReadable(int fd, Handler handler) {
  uint64_t id = next_id_++;
  entries_[id] = Entry{fd, std::nullopt, std::move(handler)};
  return Registration(this, id);
}

EventLoop::Registration EventLoop::At(MonoTime when, Handler handler) {
  uint64_t id = next_id_++;
  entries_[id] = Entry{-1, when, std::move(handler)};
  return Registration(this, id);
}

void EventLoop::RunDueTimers() {
  const MonoTime now = clock_.Now();
  std::vector<uint64_t> due;
  for (const auto& [id, e] : entries_) {
    if (e.when && *e.when <= now) due.push_back(id);
  }
  for (uint64_t id : due) {
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;  // removed by an earlier handler
    // A timer fires once: it is spent before its handler runs, which may
    // then register a new one.
    it->second.when.reset();
    Handler handler = it->second.handler;
    handler();
  }
}

Status EventLoop::RunOnce(std::optional<MonoTime> wake) {
  std::vector<struct pollfd> pfds;
  std::vector<uint64_t> ids;
  std::optional<MonoTime> deadline = wake;
  for (const auto& [id, e] : entries_) {
    if (e.when && (!deadline || *e.when < *deadline)) deadline = e.when;
    if (e.fd >= 0) {
      pfds.push_back({e.fd, POLLIN, 0});
      ids.push_back(id);
    }
  }
  for (;;) {
    struct timespec ts;
    struct timespec* tsp = nullptr;
    if (deadline) {
      Duration left = *deadline - clock_.Now();
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
    if (n > 0) {
      for (size_t i = 0; i < pfds.size(); ++i) {
        if (pfds[i].revents == 0) continue;
        auto it = entries_.find(ids[i]);
        if (it == entries_.end()) continue;
        // A copy: the handler may remove its own registration.
        Handler handler = it->second.handler;
        handler();
        break;
      }
    }
    RunDueTimers();
    return Status::Ok();
  }
}

Result<bool> EventLoop::RunUntil(const std::function<bool()>& done,
                                 std::optional<MonoTime> until) {
  while (!done()) {
    if (until && clock_.Now() >= *until) return false;
    CONCH_RETURN_IF_ERROR(RunOnce(until));
  }
  return true;
}

}  // namespace conch
