// Fail-closed arithmetic: until when a hold is certainly ours, and when the
// child must be signalled so that it is dead before the store could give
// the hold to anyone else.
//
// The store renews a session for `ttl` from the moment it handles a renewal,
// which is after we sent it. So a renewal sent at S and acknowledged with
// TTL T proves the session lives at least until S + T. That is valid_until.
// The child gets SIGTERM at valid_until - kill_after - margin and SIGKILL at
// valid_until - margin, on the monotonic clock. The margin absorbs clock-rate
// difference between us and the store, and our own scheduling delay.
//
// Thread contract: a value type for the owner thread.
#pragma once

#include <algorithm>

#include "base/clock.h"
#include "base/status.h"

namespace conch::primitives {

// max(100 ms, ttl/20), at most 1 s.
Duration SafetyMargin(Duration ttl);

// Refuses settings under which the child would be signalled before a
// renewal could ever land: a ttl that is not positive, a negative
// kill-after, or kill_after + margin >=
// ttl - backend::MaxProofAge(ttl) - backend::ProofSlack(ttl). A proof of
// life counts from a send up to MaxProofAge old when the next is due, and
// that next one takes up to ProofSlack to arrive, so a child must be able
// to run that long past a proof. What TTLs a store can grant at all is the
// backend's rule (backend::CheckTtl).
Status ValidateHoldTiming(Duration ttl, Duration kill_after);

// The largest kill-after that ValidateHoldTiming accepts with `ttl`, in
// whole milliseconds: what --kill-after becomes when it was not given and
// its default cannot fail closed. Zero if no kill-after is.
Duration MaxKillAfter(Duration ttl);

class HoldDeadline {
 public:
  HoldDeadline(Duration kill_after, Duration margin)
      : kill_after_(kill_after), margin_(margin) {}

  // A renewal sent at `sent` was granted `ttl`. Deadlines only move forward.
  void Renewed(MonoTime sent, Duration ttl) {
    valid_until_ = std::max(valid_until_, sent + ttl);
  }
  // The store said the hold is gone: every deadline is now in the past.
  void Void() { valid_until_ = MonoTime::min() + kill_after_ + margin_; }

  MonoTime valid_until() const { return valid_until_; }
  MonoTime term_at() const { return valid_until_ - kill_after_ - margin_; }
  MonoTime kill_at() const { return valid_until_ - margin_; }
  // Whether a child may still be started: true strictly before term_at(),
  // when it would not be signalled at once.
  bool Usable(MonoTime now) const { return now < term_at(); }

  Duration kill_after() const { return kill_after_; }
  Duration margin() const { return margin_; }

 private:
  Duration kill_after_;
  Duration margin_;
  MonoTime valid_until_ = MonoTime::min() + std::chrono::hours(24 * 365);
};

}  // namespace conch::primitives
