// EventQueue<T>: how I/O threads hand events to the owner thread.
// Producers Push() and return at once; the owner thread polls fd() and
// calls Drain(). The fd is an eventfd, so the owner's poll loop wakes for
// queued events exactly as it does for signals and child exits.
//
// Thread contract: Push() is safe from any thread; fd() and Drain() belong to
// the owner thread.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <deque>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/unique_fd.h"

namespace conch {

template <typename T>
class EventQueue {
 public:
  EventQueue() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    CONCH_CHECK(fd_.valid());
  }
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  void Push(T event) EXCLUDES(mu_) {
    {
      MutexLock lock(mu_);
      items_.push_back(std::move(event));
    }
    uint64_t one = 1;
    // A full counter (2^64-2 wakes) cannot happen; a failed write would
    // only lose a wake-up that the pending counter already guarantees.
    [[maybe_unused]] ssize_t n = ::write(fd_.get(), &one, sizeof(one));
  }

  int fd() const { return fd_.get(); }

  // Returns every queued event in push order and clears the wake-up.
  std::vector<T> Drain() EXCLUDES(mu_) {
    uint64_t count;
    [[maybe_unused]] ssize_t n = ::read(fd_.get(), &count, sizeof(count));
    MutexLock lock(mu_);
    std::vector<T> out(std::make_move_iterator(items_.begin()),
                       std::make_move_iterator(items_.end()));
    items_.clear();
    return out;
  }

 private:
  UniqueFd fd_;
  Mutex mu_;
  std::deque<T> items_ GUARDED_BY(mu_);
};

}  // namespace conch
