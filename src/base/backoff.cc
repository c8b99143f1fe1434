#include "base/backoff.h"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <random>
#include <string>
#include <utility>

namespace conch {
namespace {

using std::chrono::nanoseconds;

// Calls the source and forces the result into [0, 1). NaN counts as 0.
double Draw(const Uniform01& uniform01) {
  const double u = uniform01();
  if (!(u >= 0.0)) return 0.0;
  if (u >= 1.0) return std::nextafter(1.0, 0.0);
  return u;
}

double ToDouble(Duration d) { return static_cast<double>(d.count()); }

}  // namespace

Uniform01 SeededUniform01(uint64_t seed) {
  return [engine = std::mt19937_64(seed)]() mutable {
    // The top 53 bits scaled by 2^-53 are uniform on a grid in [0, 1).
    // std::generate_canonical is avoided because it can return 1.0
    // (LWG 2524).
    return static_cast<double>(engine() >> 11) * 0x1.0p-53;
  };
}

Uniform01 RandomUniform01() {
  // getrandom(2) rather than std::random_device, whose constructor and
  // operator() report failure by throwing. GRND_NONBLOCK: at early boot a
  // weak seed beats a supervisor that hangs; jitter is not a secret.
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed)) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    seed = static_cast<uint64_t>(now.count()) ^
           (static_cast<uint64_t>(getpid()) << 32);
  }
  return SeededUniform01(seed);
}

Status ValidateBackoffOptions(const BackoffOptions& options) {
  if (options.initial < nanoseconds(0)) {
    return Error(Code::kInvalidArgument, "backoff initial delay is negative");
  }
  if (options.cap < options.initial) {
    const std::string message = "backoff cap " + FormatDuration(options.cap) +
                                " is below the initial delay " +
                                FormatDuration(options.initial);
    return Error(Code::kInvalidArgument, message);
  }
  if (options.reset_after < nanoseconds(0)) {
    return Error(Code::kInvalidArgument, "backoff reset_after is negative");
  }
  if (!std::isfinite(options.multiplier) || options.multiplier < 1.0) {
    return Error(Code::kInvalidArgument,
                 "backoff multiplier must be a finite number >= 1");
  }
  return Status::Ok();
}

RestartBackoff::RestartBackoff(BackoffOptions options, Uniform01 uniform01)
    : options_(options),
      uniform01_(uniform01 ? std::move(uniform01) : RandomUniform01()) {
  CONCH_CHECK(ValidateBackoffOptions(options_).ok());
}

Duration RestartBackoff::Next(Duration last_run_length) {
  if (last_run_length >= options_.reset_after) Reset();
  Duration delay = options_.initial;
  if (has_previous_) {
    // Decorrelated jitter, computed in double because multiplier x previous
    // may exceed int64 when the options are extreme.
    const double initial = ToDouble(options_.initial);
    const double upper = ToDouble(previous_) * options_.multiplier;
    const double drawn = initial + Draw(uniform01_) * (upper - initial);
    if (drawn >= ToDouble(options_.cap)) {
      delay = options_.cap;
    } else if (upper > initial) {
      // drawn < cap <= INT64_MAX here, so the conversion is defined.
      delay = Duration(static_cast<int64_t>(drawn));
      // Rounding can land a draw just under `upper` on it; keep the range
      // half-open.
      if (ToDouble(delay) >= upper) delay -= nanoseconds(1);
      delay = std::clamp(delay, options_.initial, options_.cap);
    }
  }
  has_previous_ = true;
  previous_ = delay;
  return delay;
}

void RestartBackoff::Reset() {
  has_previous_ = false;
  previous_ = nanoseconds(0);
}

Status ValidateRetryBackoffOptions(const RetryBackoffOptions& options) {
  if (options.base < nanoseconds(0)) {
    return Error(Code::kInvalidArgument, "retry backoff base is negative");
  }
  if (options.cap < options.base) {
    return Error(Code::kInvalidArgument,
                 "retry backoff cap " + FormatDuration(options.cap) +
                     " is below the base " + FormatDuration(options.base));
  }
  return Status::Ok();
}

RetryBackoff::RetryBackoff(RetryBackoffOptions options, Uniform01 uniform01)
    : options_(options),
      uniform01_(uniform01 ? std::move(uniform01) : RandomUniform01()),
      ceiling_(options.base) {
  CONCH_CHECK(ValidateRetryBackoffOptions(options_).ok());
}

Duration RetryBackoff::Next() {
  // u < 1, so u x ceiling < ceiling <= INT64_MAX before rounding; the clamp
  // undoes rounding up onto the ceiling.
  Duration delay(static_cast<int64_t>(Draw(uniform01_) * ToDouble(ceiling_)));
  if (delay >= ceiling_ && ceiling_ > nanoseconds(0)) {
    delay = ceiling_ - nanoseconds(1);
  }
  // Double the ceiling without overflowing: compare against what is left.
  ceiling_ = ceiling_ > options_.cap - ceiling_ ? options_.cap : ceiling_ * 2;
  if (attempts_ < INT_MAX) ++attempts_;
  return delay;
}

void RetryBackoff::Reset() {
  attempts_ = 0;
  ceiling_ = options_.base;
}

}  // namespace conch
