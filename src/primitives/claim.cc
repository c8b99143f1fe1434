#include "primitives/claim.h"

#include "base/log.h"
#include "primitives/keys.h"

namespace conch::primitives {

const char* StateName(Claim::State state) {
  switch (state) {
    case Claim::State::kIdle:
      return "idle";
    case Claim::State::kWaiting:
      return "waiting";
    case Claim::State::kHeld:
      return "held";
    case Claim::State::kLost:
      return "lost";
    case Claim::State::kReleased:
      return "released";
  }
  return "?";
}

Session::Session(backend::Backend* backend, SessionOptions options)
    : backend_(backend),
      options_(options),
      deadline_(options.kill_after, SafetyMargin(options.ttl)) {}

Status Session::Open() {
  MonoTime sent = MonoNow();
  Result<backend::Lease> lease =
      backend_->GrantLease(options_.ttl, sent + options_.request_timeout);
  if (!lease.ok()) return lease.status();
  lease_ = *lease;
  LogDebug("lease " + LeaseHex(lease_.id) + " granted");
  deadline_.Renewed(sent, lease_.ttl);
  keepalive_ = backend_->StartKeepAlive(lease_, &sink_, kKeepAliveTag);
  return Status::Ok();
}

Status Session::Revoke() {
  if (lease_.id == 0 || revoked_) return Status::Ok();
  revoked_ = true;
  deadline_.Void();
  // Revoke first: whoever is next waits on it. The keep-alive is stopped
  // afterwards; what it reports meanwhile is ignored.
  Status s = backend_->RevokeLease(lease_.id, RequestDeadline());
  LogDebug("lease revoked");
  keepalive_.reset();
  if (s.code() == Code::kNotFound) return Status::Ok();  // already gone
  return s.With("revoke lease " + LeaseHex(lease_.id));
}

std::optional<Status> Session::Apply(const backend::Event& e) {
  if (revoked_) return std::nullopt;
  if (e.kind == backend::Event::Kind::kKeepAliveAck) {
    deadline_.Renewed(e.sent, e.ttl);
  } else if (e.kind == backend::Event::Kind::kSessionLost) {
    return e.status;
  }
  return std::nullopt;
}

std::optional<Status> CheckOwnKey(const backend::Event::Change& change,
                                  const backend::KeyValue& self) {
  if (change.deleted) {
    return Error(Code::kSessionLost, "our key " + self.key + " was deleted");
  }
  if (change.kv.lease != self.lease ||
      change.kv.create_revision != self.create_revision) {
    return Error(Code::kSessionLost, "our key " + self.key + " was replaced");
  }
  return std::nullopt;
}

}  // namespace conch::primitives
