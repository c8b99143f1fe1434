#include "primitives/claim.h"

#include <algorithm>

#include "base/log.h"
#include "primitives/keys.h"

namespace conch::primitives {

Session::Session(backend::Backend* backend, SessionOptions options)
    : backend_(backend),
      options_(options),
      deadline_(options.kill_after, SafetyMargin(options.ttl)) {}

Status Session::Open() {
  MonoTime sent = options_.clock->Now();
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

Claim::Claim(backend::Backend* backend, const SessionOptions& options)
    : backend_(backend),
      session_(backend, options),
      watch_tag_(kKeepAliveTag) {}

Claim::~Claim() {
  if (state_ != State::kReleased && session_.open()) {
    Status s = Release();
    if (!s.ok()) LogWarn(s.ToString());
  }
}

int Claim::fd() const { return session_.fd(); }
const HoldDeadline& Claim::deadline() const { return session_.deadline(); }
int64_t Claim::lease_id() const { return session_.lease_id(); }

Result<backend::Contender> Claim::Enqueue(const std::string& prefix,
                                          const std::string& value) {
  CONCH_RETURN_IF_ERROR(session_.Open());
  std::string key = prefix + LeaseHex(session_.lease_id());
  Result<backend::Contender> c = backend_->CreateContender(
      prefix, key, value, session_.lease_id(), session_.RequestDeadline());
  if (!c.ok()) {
    Status s = Release();
    (void)s;  // the queueing error is the one worth reporting
    return c.status();
  }
  self_ = c->self;
  state_ = State::kWaiting;
  LogDebug("key " + self_.key + " created at rev " +
           std::to_string(self_.create_revision));
  return c;
}

void Claim::StartWatch(std::vector<backend::WatchSpec> specs) {
  watch_.reset();
  pending_live_ = std::count_if(
      specs.begin(), specs.end(),
      [](const backend::WatchSpec& w) { return w.start_revision == 0; });
  watch_ =
      backend_->StartWatch(std::move(specs), &session_.sink(), ++watch_tag_);
}

bool Claim::DrainEvents(
    const std::function<void(size_t, const backend::Event::Change&)>&
        on_change) {
  bool created = false;
  for (backend::Event& e : session_.sink().Drain()) {
    if (Done()) break;
    if (std::optional<Status> lost = session_.Apply(e)) Lose(*lost);
    if (e.tag != watch_tag_) continue;  // keep-alive, or a replaced watch
    switch (e.kind) {
      case backend::Event::Kind::kWatchFailed:
        Lose(e.status.With("watch " + self_.key));
        break;
      case backend::Event::Kind::kWatchCreated:
        created = true;
        if (pending_live_ > 0) --pending_live_;
        break;
      case backend::Event::Kind::kWatch:
        seen_revision_ = std::max(seen_revision_, e.revision);
        for (const backend::Event::Change& c : e.changes) {
          if (c.kv.key == self_.key) {
            if (std::optional<Status> lost = CheckOwnKey(c, self_)) Lose(*lost);
          } else {
            ++changes_seen_;
            on_change(e.spec, c);
          }
        }
        break;
      default:
        break;
    }
  }
  return created;
}

void Claim::Lose(Status why) {
  if (Done()) return;
  state_ = State::kLost;
  loss_ = std::move(why);
}

Status Claim::Release() {
  state_ = State::kReleased;
  Status s = session_.Revoke();
  watch_.reset();
  return s.ok() ? s : s.With("release " + self_.key);
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
