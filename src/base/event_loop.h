// EventLoop: the owner thread's one loop. Every wait of the owner thread is
// a turn of it: one poll over the fds that handlers registered (the
// signalfd, child pidfds, the eventfds of EventQueues) and the earliest
// timer, then one handler of what is ready.
//
// A turn (RunOnce) runs at most one fd handler: the ready fd registered
// first, so registration order is priority order (a child's exit before
// conch's signals before store events, as the supervisor registers them).
// Other ready fds are served by the next turns, at once. Due timers run in
// the same turn, after the fd handler. Handlers may register and remove
// registrations, their own included.
//
// The clock is injected: with a FakeClock, a timer that is due fires on the
// next turn without waiting, so deadline logic is tested without sleeping.
//
// Thread contract: owner thread only. Registrations must not outlive the
// loop; the fds they name must stay open while registered.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>

#include "base/clock.h"
#include "base/status.h"

namespace conch {

class EventLoop {
 public:
  using Handler = std::function<void()>;

  // Removes its registration when destroyed (or reset()).
  class Registration {
   public:
    Registration() = default;
    Registration(Registration&& other) noexcept { *this = std::move(other); }
    Registration& operator=(Registration&& other) noexcept;
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() { reset(); }
    void reset();
    bool active() const { return loop_ != nullptr; }

   private:
    friend class EventLoop;
    Registration(EventLoop* loop, uint64_t id) : loop_(loop), id_(id) {}
    EventLoop* loop_ = nullptr;
    uint64_t id_ = 0;
  };

  explicit EventLoop(const Clock& clock) : clock_(clock) {}
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  const Clock& clock() const { return clock_; }

  // Runs `handler` on each turn in which `fd` is readable (and no fd
  // registered earlier is). A negative fd is never ready.
  [[nodiscard]] Registration OnReadable(int fd, Handler handler);
  // Runs `handler` once, on the first turn at or after `when`.
  [[nodiscard]] Registration At(MonoTime when, Handler handler);

  // One turn: waits until a registered fd is readable, a timer is due, or
  // `wake` passes (nullopt: no limit but the timers), and runs what is
  // ready. Returns without running anything if `wake` came first. An error
  // only if the poll itself fails.
  Status RunOnce(std::optional<MonoTime> wake = std::nullopt);

  // Turns until `done()` (checked before each turn) or `until` passes.
  // Returns whether done() holds.
  Result<bool> RunUntil(const std::function<bool()>& done,
                        std::optional<MonoTime> until = std::nullopt);

 private:
  struct Entry {
    int fd = -1;                   // an fd registration; -1 for a timer
    std::optional<MonoTime> when;  // a timer's time
    Handler handler;
  };

  void Remove(uint64_t id) { entries_.erase(id); }
  void RunDueTimers();

  const Clock& clock_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Entry> entries_;  // by id: registration order
};

}  // namespace conch
