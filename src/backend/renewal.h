// RenewalSchedule: when a session's next renewal goes out, and which send an
// answer acknowledges. Store-neutral and pure (it reads no clock and does no
// I/O), so that the keep-alive thread of every backend follows one tested
// rule and unit tests can check it to the nanosecond with a FakeClock.
//
// The rule:
//  - A renewal is sent every RenewInterval(ttl), counted from the send time
//    of the last answered renewal.
//  - A renewal unanswered for RetryAfter(ttl) is followed at once by
//    another, so one lost answer costs at most RetryAfter, not an interval.
//  - After kMaxUnanswered renewals in a row go unanswered, the stream is
//    presumed dead and the caller replaces it (Reset on the new one).
//  - The stream answers renewals in order, so an answer acknowledges the
//    oldest unanswered send; that send time, not the arrival time, is what
//    the fail-closed deadline counts from (primitives/hold_deadline.h).
//
// Thread contract: a value type; its owner (a keep-alive thread) guards it.
#pragma once

#include <deque>
#include <optional>

#include "base/clock.h"

namespace conch::backend {

// How often an etcd session with this TTL is renewed: ttl/3.
Duration RenewInterval(Duration ttl);

// How old, at most, the send time a session's proof of life counts from
// is right before the next proof is due: ttl/3 on every store. On etcd each
// answered renewal proves the session from its own send, and renewals go
// every ttl/3. On ZooKeeper an answered heartbeat proves the session from
// the send of the previous one, and heartbeats go every ttl/6. The
// fail-closed arithmetic (primitives/hold_deadline.h) budgets for this age.
Duration MaxProofAge(Duration ttl);

// How long after it is due a fresh proof may take to arrive: the round
// trip of the renewal that carries it, or of the retry after one lost
// answer. min(ttl/6, 1s) on every store; the fail-closed arithmetic
// budgets for it on top of MaxProofAge.
Duration ProofSlack(Duration ttl);

// How long a renewal may go unanswered before the next is sent:
// min(RenewInterval(ttl)/2, 1s).
Duration RetryAfter(Duration ttl);

class RenewalSchedule {
 public:
  static constexpr int kMaxUnanswered = 4;

  // The etcd rule: every RenewInterval(ttl), retried after RetryAfter(ttl).
  explicit RenewalSchedule(Duration ttl);
  // Any other interval, retried after min(interval/2, 1s).
  struct Every {
    Duration interval;
  };
  explicit RenewalSchedule(Every every);

  // A new stream starts at `now`: nothing is outstanding and the first
  // renewal is due at once.
  void Reset(MonoTime now);

  // When the next renewal is due.
  MonoTime next_send() const { return next_send_; }

  // Called when next_send() has come, before sending. Returns false, and
  // records nothing, if kMaxUnanswered renewals are already unanswered: the
  // stream is presumed dead. Otherwise records a send at `now`.
  bool Send(MonoTime now);

  // An answer arrived. Returns the send time of the renewal it
  // acknowledges; nullopt if no renewal was outstanding (the store answered
  // something we did not ask, which proves nothing about our deadline).
  std::optional<MonoTime> Answered();

  size_t outstanding() const { return outstanding_.size(); }

 private:
  Duration interval_;
  Duration retry_after_;
  std::deque<MonoTime> outstanding_;
  MonoTime next_send_{};
};

}  // namespace conch::backend
