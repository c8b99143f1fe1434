#include "base/mutex.h"

#include <chrono>
#include <stop_token>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace conch {
namespace {

using std::chrono::milliseconds;

// State shared by the threads of a test, as the rest of conch shares it.
struct Shared {
  Mutex mu;
  CondVar cv;
  int count GUARDED_BY(mu) = 0;
  bool go GUARDED_BY(mu) = false;
};

TEST(MutexTest, MutexLockExcludesOtherThreads) {
  Shared s;
  constexpr int kThreads = 4;
  constexpr int kAdds = 10000;
  {
    std::vector<std::jthread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&s] {
        for (int i = 0; i < kAdds; ++i) {
          MutexLock lock(s.mu);
          // A read and a write apart: an unlocked race would lose adds.
          const int seen = s.count;
          s.count = seen + 1;
        }
      });
    }
  }
  MutexLock lock(s.mu);
  EXPECT_EQ(s.count, kThreads * kAdds);
}

TEST(MutexTest, LockAndUnlockPairUp) {
  Shared s;
  s.mu.Lock();
  s.count = 1;
  s.mu.Unlock();
  // Taken again at once: Unlock let go of it.
  MutexLock lock(s.mu);
  EXPECT_EQ(s.count, 1);
}

TEST(CondVarTest, WaitReturnsWithTheMutexHeldOncePredicateHolds) {
  Shared s;
  std::jthread setter([&s] {
    MutexLock lock(s.mu);
    s.go = true;
    s.count = 7;
    s.cv.NotifyAll();
  });
  MutexLock lock(s.mu);
  s.cv.Wait(s.mu, [&]() REQUIRES(s.mu) { return s.go; });
  EXPECT_EQ(s.count, 7);
  // Still held: a write here is ours alone.
  s.count = 8;
  EXPECT_EQ(s.count, 8);
}

TEST(CondVarTest, WaitForReturnsFalseWhenTheTimeoutPasses) {
  Shared s;
  MutexLock lock(s.mu);
  EXPECT_FALSE(s.cv.WaitFor(s.mu, milliseconds(1),
                            [&]() REQUIRES(s.mu) { return s.go; }));
  s.go = true;
  EXPECT_TRUE(s.cv.WaitFor(s.mu, milliseconds(0),
                           [&]() REQUIRES(s.mu) { return s.go; }));
}

TEST(CondVarTest, WaitUntilReturnsFalseWhenTheDeadlinePasses) {
  Shared s;
  MutexLock lock(s.mu);
  EXPECT_FALSE(s.cv.WaitUntil(s.mu, std::chrono::steady_clock::now(),
                              [&]() REQUIRES(s.mu) { return s.go; }));
}

TEST(CondVarTest, StopRequestEndsAWait) {
  Shared s;
  std::stop_source stop;
  std::jthread stopper([&stop] { stop.request_stop(); });
  MutexLock lock(s.mu);
  // Returns pred(), which is still false: it was the stop that woke it.
  EXPECT_FALSE(
      s.cv.Wait(s.mu, stop.get_token(), [&]() REQUIRES(s.mu) { return s.go; }));
  EXPECT_TRUE(stop.stop_requested());
}

TEST(CondVarTest, StopRequestEndsATimedWait) {
  Shared s;
  std::stop_source stop;
  stop.request_stop();
  MutexLock lock(s.mu);
  EXPECT_FALSE(s.cv.WaitFor(s.mu, stop.get_token(), std::chrono::hours(1),
                            [&]() REQUIRES(s.mu) { return s.go; }));
}

}  // namespace
}  // namespace conch
