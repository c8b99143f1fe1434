#include "base/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/unique_fd.h"

namespace conch {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// An eventfd that can be made readable and drained.
struct Ready {
  Ready() : fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  void Set() {
    uint64_t one = 1;
    ASSERT_EQ(::write(fd.get(), &one, sizeof(one)), 8);
  }
  void Drain() {
    uint64_t n = 0;
    ASSERT_EQ(::read(fd.get(), &n, sizeof(n)), 8);
  }
  UniqueFd fd;
};

TEST(EventLoopTest, OneFdHandlerPerTurnInRegistrationOrder) {
  FakeClock clock;
  EventLoop loop(clock);
  Ready a, b;
  std::vector<std::string> ran;
  auto ra = loop.OnReadable(a.fd.get(), [&] {
    ran.push_back("a");
    a.Drain();
  });
  auto rb = loop.OnReadable(b.fd.get(), [&] {
    ran.push_back("b");
    b.Drain();
  });
  b.Set();
  a.Set();
  ASSERT_TRUE(loop.RunOnce().ok());
  EXPECT_EQ(ran, (std::vector<std::string>{"a"}));
  ASSERT_TRUE(loop.RunOnce().ok());
  EXPECT_EQ(ran, (std::vector<std::string>{"a", "b"}));
}

TEST(EventLoopTest, TimersFireOnceAtTheirTimeOnTheInjectedClock) {
  FakeClock clock;
  EventLoop loop(clock);
  int fired = 0;
  auto t = loop.At(clock.Now() + seconds(5), [&] { ++fired; });
  // Not due: a turn bounded by `wake` returns without firing it.
  ASSERT_TRUE(loop.RunOnce(clock.Now()).ok());
  EXPECT_EQ(fired, 0);
  clock.Advance(seconds(5) - std::chrono::nanoseconds(1));
  ASSERT_TRUE(loop.RunOnce(clock.Now()).ok());
  EXPECT_EQ(fired, 0);
  clock.Advance(std::chrono::nanoseconds(1));
  ASSERT_TRUE(loop.RunOnce().ok());  // due: no wait
  EXPECT_EQ(fired, 1);
  ASSERT_TRUE(loop.RunOnce(clock.Now()).ok());
  EXPECT_EQ(fired, 1);
}

TEST(EventLoopTest, ADestroyedRegistrationNeverRuns) {
  FakeClock clock;
  EventLoop loop(clock);
  Ready a;
  int ran = 0;
  {
    auto r = loop.OnReadable(a.fd.get(), [&] { ++ran; });
    auto t = loop.At(clock.Now(), [&] { ++ran; });
  }
  a.Set();
  ASSERT_TRUE(loop.RunOnce(clock.Now()).ok());
  EXPECT_EQ(ran, 0);
}

TEST(EventLoopTest, AHandlerMayRemoveItselfAndRegisterAnother) {
  FakeClock clock;
  EventLoop loop(clock);
  Ready a;
  int first = 0, second = 0;
  EventLoop::Registration r, next;
  r = loop.OnReadable(a.fd.get(), [&] {
    ++first;
    r.reset();
    next = loop.OnReadable(a.fd.get(), [&] {
      ++second;
      a.Drain();
    });
  });
  a.Set();
  ASSERT_TRUE(loop.RunOnce().ok());
  ASSERT_TRUE(loop.RunOnce().ok());
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
}

TEST(EventLoopTest, RunUntilStopsWhenDoneOrAtItsDeadline) {
  FakeClock clock;
  EventLoop loop(clock);
  int ticks = 0;
  auto tick = loop.At(clock.Now(), [&] { ++ticks; });
  Result<bool> done = loop.RunUntil([&] { return ticks >= 1; });
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(*done);
  // Nothing ever makes it done: it stops at its deadline, which a timer
  // moving the fake clock past it brings.
  const MonoTime until = clock.Now() + milliseconds(1);
  auto later = loop.At(clock.Now(), [&] { clock.AdvanceTo(until); });
  Result<bool> timed_out = loop.RunUntil([] { return false; }, until);
  ASSERT_TRUE(timed_out.ok());
  EXPECT_FALSE(*timed_out);
  EXPECT_EQ(clock.Now(), until);
}

}  // namespace
}  // namespace conch
