// Monotonic time for deadlines, and wall time for holder records.
// Fail-closed arithmetic uses MonoTime only: wall clocks jump, leases don't.
//
// Every component that reads the monotonic clock takes a `const Clock&`, so
// that unit tests can drive deadlines, kill schedules and renewals with a
// FakeClock and check them to the nanosecond. Production code passes
// SystemClock::Get().
//
// Thread contract: SystemClock is safe from any thread; a FakeClock belongs
// to the test that owns it (read it from one thread at a time).
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
  // The one process-wide instance; it holds no state.
  static const Clock& Get();
  MonoTime Now() const override { return std::chrono::steady_clock::now(); }
};

// A clock that moves only when told to. Starts at an arbitrary positive
// time, so that `Now() - d` stays representable in tests.
class FakeClock final : public Clock {
 public:
  MonoTime Now() const override { return now_; }
  void Advance(Duration d) { now_ += d; }
  // Moves to `t`; never backwards (CONCH_CHECK in clock.cc).
  void AdvanceTo(MonoTime t);

 private:
  MonoTime now_{std::chrono::seconds(1000)};
};

// The current UTC time as RFC 3339 with second precision,
// "2026-11-22T07:28:36Z".
std::string UtcNowRfc3339();

}  // namespace conch
