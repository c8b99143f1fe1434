#include "primitives/hold_deadline.h"

#include "backend/renewal.h"
#include "base/duration.h"

namespace conch::primitives {

using std::chrono::milliseconds;
using std::chrono::seconds;

Duration SafetyMargin(Duration ttl) {
  return std::clamp<Duration>(ttl / 20, milliseconds(100), seconds(1));
}

namespace {

// What kill-after plus the margin must stay below: a proof of life may be
// MaxProofAge old when the next is due, and that one may take ProofSlack to
// arrive.
Duration Budget(Duration ttl) {
  return ttl - backend::MaxProofAge(ttl) - backend::ProofSlack(ttl);
}

}  // namespace

Duration MaxKillAfter(Duration ttl) {
  Duration below = Budget(ttl) - SafetyMargin(ttl);
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
  Duration budget = Budget(ttl);
  // Written so that a huge --kill-after cannot overflow the sum.
  if (kill_after >= budget - margin) {
    return Error(
        Code::kInvalidArgument,
        "--kill-after " + FormatDuration(kill_after) + " with --ttl " +
            FormatDuration(ttl) + " cannot fail closed: kill-after plus the " +
            FormatDuration(margin) + " safety margin must stay below " +
            FormatDuration(budget) +
            " (the ttl less a third of it for the renewal interval and " +
            FormatDuration(backend::ProofSlack(ttl)) +
            " for its answer); raise --ttl or lower --kill-after");
  }
  return Status::Ok();
}

}  // namespace conch::primitives
