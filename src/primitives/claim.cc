#include "primitives/claim.h"

#include <algorithm>

#include "base/duration.h"
#include "base/log.h"
#include "primitives/keys.h"

namespace conch::primitives {

Session::Session(backend::Backend* backend, SessionOptions options)
    : backend_(backend),
      options_(options),
      deadline_(options.kill_after, SafetyMargin(options.ttl)) {}

Status Session::Open() {
  MonoTime sent = options_.clock->Now();
  Result<std::unique_ptr<backend::Session>> session = backend_->OpenSession(
      options_.ttl, sent + options_.request_timeout, &sink_, kKeepAliveTag);
  if (!session.ok()) return session.status();
  session_ = std::move(session).value();
  Duration granted = session_->ttl();
  LogDebug(std::string(backend_->name()) + " session " +
           LeaseHex(session_->id()) + " granted " + FormatDuration(granted));
  // The store may grant another TTL than asked (ZooKeeper clamps it to the
  // server's bounds): the hold must fail closed with the one it got.
  Status timing = ValidateHoldTiming(granted, options_.kill_after);
  if (!timing.ok()) {
    Status ended = Revoke();
    (void)ended;  // the timing error is the one worth reporting
    return Error(Code::kInvalidArgument,
                 "the store granted a ttl of " + FormatDuration(granted) +
                     " instead of " + FormatDuration(options_.ttl) + ": " +
                     timing.message());
  }
  deadline_ = HoldDeadline(options_.kill_after, SafetyMargin(granted));
  deadline_.Renewed(sent, granted);
  return Status::Ok();
}

Status Session::Revoke() {
  if (session_ == nullptr || revoked_) return Status::Ok();
  revoked_ = true;
  deadline_.Void();
  // End first: whoever is next waits on it.
  Status s = session_->End(RequestDeadline());
  LogDebug("session ended");
  if (s.code() == Code::kNotFound) return Status::Ok();  // already gone
  return s.With("end session " + LeaseHex(session_->id()));
}

std::optional<Status> Session::Apply(const backend::Event& e) {
  if (revoked_) return std::nullopt;
  if (e.kind == backend::Event::Kind::kRenewed) {
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

Result<backend::Contender> Claim::Enqueue(const std::string& prefix,
                                          const std::string& value) {
  CONCH_RETURN_IF_ERROR(session_.Open());
  Result<backend::Contender> c = backend_->CreateContender(
      session_.store_session(), prefix, value, session_.HoldRequestDeadline());
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
  pending_live_ = specs.size();
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
      case backend::Event::Kind::kWatchLive:
        created = true;
        if (pending_live_ > 0) --pending_live_;
        break;
      case backend::Event::Kind::kWatch:
        if (e.change.key == self_.key) {
          if (std::optional<Status> lost = CheckOwnKey(e.change, self_)) {
            Lose(*lost);
          }
        } else {
          ++changes_seen_;
          last_change_key_ = e.change.key;
          on_change(e.spec, e.change);
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

Status Claim::VerifyOwnKey() {
  Result<std::optional<backend::KeyValue>> own =
      backend_->Get(self_.key, session_.HoldRequestDeadline());
  requery_ = !own.ok();
  if (!own.ok()) return own.status().With("read " + self_.key);
  if (!*own) {
    Lose(Error(Code::kSessionLost, "our key " + self_.key + " was deleted"));
  } else if ((*own)->create_revision != self_.create_revision) {
    Lose(Error(Code::kSessionLost, "our key " + self_.key + " was replaced"));
  }
  return Status::Ok();
}

Status Claim::Release() {
  state_ = State::kReleased;
  // The watch goes first: ending the session deletes our key, and a watch
  // still running would only answer that with reads of its own.
  watch_.reset();
  Status s = session_.Revoke();
  return s.ok() ? s : s.With("release " + self_.key);
}

std::optional<Status> CheckOwnKey(const backend::Event::Change& change,
                                  const backend::KeyValue& self) {
  if (change.deleted) {
    return Error(Code::kSessionLost, "our key " + self.key + " was deleted");
  }
  if (change.kv && (change.kv->session != self.session ||
                    change.kv->create_revision != self.create_revision)) {
    return Error(Code::kSessionLost, "our key " + self.key + " was replaced");
  }
  return std::nullopt;
}

}  // namespace conch::primitives
