#include "base/event_loop.h"

#include <vector>

#include "base/signals.h"

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
  std::vector<int> fds;
  std::vector<uint64_t> ids;
  std::optional<MonoTime> deadline = wake;
  for (const auto& [id, e] : entries_) {
    if (e.when && (!deadline || *e.when < *deadline)) deadline = e.when;
    if (e.fd >= 0) {
      fds.push_back(e.fd);
      ids.push_back(id);
    }
  }
  // The lowest ready index is the ready fd registered first.
  Result<int> ready = WaitReadable(fds, deadline, clock_);
  if (!ready.ok()) return ready.status();
  if (*ready >= 0) {
    auto it = entries_.find(ids[*ready]);
    if (it != entries_.end()) {
      // A copy: the handler may remove its own registration.
      Handler handler = it->second.handler;
      handler();
    }
  }
  RunDueTimers();
  return Status::Ok();
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
