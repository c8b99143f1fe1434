#include "backend/renewal.h"

#include <algorithm>

namespace conch::backend {

Duration RenewInterval(Duration ttl) { return ttl / 3; }

Duration MaxProofAge(Duration ttl) { return ttl / 3; }

Duration ProofSlack(Duration ttl) {
  return std::min<Duration>(ttl / 6, std::chrono::seconds(1));
}

Duration RetryAfter(Duration ttl) {
  return std::min<Duration>(RenewInterval(ttl) / 2, std::chrono::seconds(1));
}

RenewalSchedule::RenewalSchedule(Duration ttl)
    : interval_(RenewInterval(ttl)), retry_after_(RetryAfter(ttl)) {}

RenewalSchedule::RenewalSchedule(Every every)
    : interval_(every.interval),
      retry_after_(
          std::min<Duration>(every.interval / 2, std::chrono::seconds(1))) {}

void RenewalSchedule::Reset(MonoTime now) {
  outstanding_.clear();
  next_send_ = now;
}

bool RenewalSchedule::Send(MonoTime now) {
  if (outstanding_.size() >= kMaxUnanswered) return false;
  outstanding_.push_back(now);
  next_send_ = now + retry_after_;
  return true;
}

std::optional<MonoTime> RenewalSchedule::Answered() {
  if (outstanding_.empty()) return std::nullopt;
  MonoTime sent = outstanding_.front();
  outstanding_.pop_front();
  // Once every send is answered, the next renewal is an interval after the
  // one just acknowledged; while others are outstanding the retry timer
  // set by the latest send stands.
  if (outstanding_.empty()) next_send_ = sent + interval_;
  return sent;
}

}  // namespace conch::backend
