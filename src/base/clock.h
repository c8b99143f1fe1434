// Monotonic time for deadlines, and wall time for holder records.
// Fail-closed arithmetic uses MonoTime only: wall clocks jump, leases don't.
//
// Thread contract: SystemClock is safe from any thread; FakeClock belongs to
// the test that owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace conch {

using Duration = std::chrono::nanoseconds;
using MonoTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  MonoTime Now() const override { return std::chrono::steady_clock::now(); }
};

class FakeClock final : public Clock {
 public:
  MonoTime Now() const override { return now_; }
  void Advance(Duration d) { now_ += d; }

 private:
  MonoTime now_{std::chrono::seconds(1000)};
};

inline MonoTime MonoNow() { return std::chrono::steady_clock::now(); }

// The current UTC time as RFC 3339 with second precision,
// "2026-11-22T07:28:36Z".
std::string UtcNowRfc3339();

}  // namespace conch
