#include "primitives/hold_deadline.h"

#include "backend/renewal.h"
#include "base/duration.h"

namespace conch::primitives {

using std::chrono::milliseconds;
using std::chrono::seconds;

Duration SafetyMargin(Duration ttl) {
  return std::clamp<Duration>(ttl / 20, milliseconds(100), seconds(1));
}

Duration MaxKillAfter(Duration ttl) {
  Duration below = ttl - backend::MaxProofAge(ttl) - SafetyMargin(ttl);
  // Strictly below: the largest whole millisecond under the bound.
  Duration most = std::chrono::floor<milliseconds>(below - Duration(1));
  return std::max(most, Duration::zero());
}

Status ValidateHoldTiming(Duration ttl, Duration kill_after) {
  if (ttl <= Duration::zero()) {
    return Error(Code::kInvalidArgument,
                 "--ttl " + FormatDuration(ttl) + " is not positive");
  }
  if (kill_after < Duration::zero()) {
    return Error(Code::kInvalidArgument,
                 "--kill-after " + FormatDuration(kill_after) + " is negative");
  }
  Duration margin = SafetyMargin(ttl);
  Duration budget = ttl - backend::MaxProofAge(ttl);
  // Written so that a huge --kill-after cannot overflow the sum.
  if (kill_after >= budget - margin) {
    return Error(
        Code::kInvalidArgument,
        "--kill-after " + FormatDuration(kill_after) + " with --ttl " +
            FormatDuration(ttl) + " cannot fail closed: kill-after plus the " +
            FormatDuration(margin) + " safety margin must stay below " +
            FormatDuration(budget) +
            " (two thirds of the ttl); raise --ttl or lower --kill-after");
  }
  return Status::Ok();
}

}  // namespace conch::primitives
