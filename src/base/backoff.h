// Backoff: how long to wait before trying again, for the two places conch
// retries.
//   - RestartBackoff: the delay before `--restart` starts a child again; the
//     original tool's policy (1s, then decorrelated jitter up to 30s, reset by
//     a run of a minute or more).
//   - RetryBackoff: short retries of a store call (capped exponential with
//     full jitter, e.g. 50ms up to 1s).
// Both only compute delays; callers wait through their own timer (the owner
// thread's timerfd), so nothing here sleeps or reads a clock.
//
// Thread contract: each object belongs to one thread (normally the owner
// thread); no internal locking. The random source is called from that thread.
#pragma once

#include <cstdint>
#include <functional>

#include "base/duration.h"
#include "base/status.h"

namespace conch {

// A source of doubles uniform in [0, 1). Values outside that range are
// clamped into it, so a careless fake cannot push a delay out of bounds.
using Uniform01 = std::function<double()>;

// A deterministic Uniform01 from a std::mt19937_64 seeded with `seed`. Each
// call to the returned function advances its own generator.
Uniform01 SeededUniform01(uint64_t seed);

// A Uniform01 seeded from the kernel's random pool (getrandom(2)), falling
// back to the time and pid if that fails. Never blocks, never throws.
Uniform01 RandomUniform01();

struct BackoffOptions {
  Duration initial = std::chrono::seconds(1);  // first delay, and the floor
  Duration cap = std::chrono::seconds(30);     // no delay exceeds this
  // A child that ran at least this long restarts the sequence at `initial`.
  Duration reset_after = std::chrono::seconds(60);
  double multiplier = 3.0;  // a delay is drawn below multiplier x previous
};

// kInvalidArgument (naming the field) unless 0 <= initial <= cap,
// reset_after >= 0 and 1 <= multiplier <= 1000. For options built from user
// input; RestartBackoff's constructor treats invalid options as a bug.
Status ValidateBackoffOptions(const BackoffOptions& options);

// Decorrelated jitter: the first delay is `initial`; each later one is drawn
// uniformly from [initial, multiplier x previous delay) and then capped at
// `cap`. Delays spread out instead of marching in lock step, grow roughly
// geometrically, and always lie in [initial, cap].
class RestartBackoff {
 public:
  // Aborts (CONCH_CHECK) if ValidateBackoffOptions(options) fails. An empty
  // `uniform01` means RandomUniform01().
  explicit RestartBackoff(BackoffOptions options = {},
                          Uniform01 uniform01 = nullptr);

  // The delay before the next start, given how long the child just ran. A run
  // of at least `reset_after` counts as healthy and resets the sequence first,
  // so the result is `initial`.
  Duration Next(Duration last_run_length);

  // Forgets history: the next delay is `initial`.
  void Reset();

  const BackoffOptions& options() const { return options_; }

 private:
  BackoffOptions options_;
  Uniform01 uniform01_;
  bool has_previous_ = false;
  Duration previous_{0};
};

struct RetryBackoffOptions {
  Duration base = std::chrono::milliseconds(50);  // ceiling of the first delay
  Duration cap = std::chrono::seconds(1);         // no ceiling exceeds this
};

// kInvalidArgument unless 0 <= base <= cap.
Status ValidateRetryBackoffOptions(const RetryBackoffOptions& options);

// Capped exponential backoff with full jitter: attempt n (from 0) waits a
// delay drawn uniformly from [0, min(cap, base x 2^n)). Full jitter spreads
// retries from many clients across the whole window, at the price that any
// single delay may be near zero; the growing window still keeps the average
// rate of retries falling.
class RetryBackoff {
 public:
  // Aborts (CONCH_CHECK) if ValidateRetryBackoffOptions(options) fails. An
  // empty `uniform01` means RandomUniform01().
  explicit RetryBackoff(RetryBackoffOptions options = {},
                        Uniform01 uniform01 = nullptr);

  // The delay before the next attempt; advances the attempt count.
  Duration Next();

  // Back to attempt 0, e.g. after a success.
  void Reset();

  // How many delays Next() has returned since construction or Reset(), for
  // callers that give up after some number of attempts.
  int attempts() const { return attempts_; }

 private:
  RetryBackoffOptions options_;
  Uniform01 uniform01_;
  int attempts_ = 0;
  Duration ceiling_{0};  // min(cap, base x 2^attempts_)
};

}  // namespace conch
