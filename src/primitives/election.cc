#include "primitives/election.h"

#include "base/log.h"
#include "primitives/keys.h"

namespace conch::primitives {

namespace {
constexpr uint64_t kKeepAliveTag = 1;
}  // namespace

const char* StateName(Election::State state) {
  switch (state) {
    case Election::State::kIdle:
      return "idle";
    case Election::State::kWaiting:
      return "waiting";
    case Election::State::kLeader:
      return "leader";
    case Election::State::kLost:
      return "lost";
    case Election::State::kResigned:
      return "resigned";
  }
  return "?";
}

Election::Election(backend::Backend* backend, ElectionOptions options)
    : backend_(backend),
      options_(std::move(options)),
      prefix_(ElectPrefix(options_.office)),
      deadline_(options_.kill_after, SafetyMargin(options_.ttl)) {}

Election::~Election() {
  if (state_ != State::kResigned && lease_.id != 0) {
    Status s = Resign();
    if (!s.ok()) LogWarn(s.ToString());
  }
}

MonoTime Election::RequestDeadline() const {
  return MonoNow() + options_.request_timeout;
}

Status Election::Campaign() {
  // The session's validity counts from before the grant was sent.
  MonoTime sent = MonoNow();
  Result<backend::Lease> lease =
      backend_->GrantLease(options_.ttl, sent + options_.request_timeout);
  if (!lease.ok()) return lease.status();
  lease_ = *lease;
  LogDebug("lease " + LeaseHex(lease_.id) + " granted");
  deadline_.Renewed(sent, lease_.ttl);
  keepalive_ = backend_->StartKeepAlive(lease_, &sink_, kKeepAliveTag);

  std::string key = ElectKey(options_.office, lease_.id);
  Result<backend::Contender> c = backend_->CreateContender(
      prefix_, key, options_.value, lease_.id, RequestDeadline());
  if (!c.ok()) {
    Status s = Resign();
    (void)s;  // the campaign's error is the one worth reporting
    return c.status();
  }
  self_ = c->self;
  state_ = State::kWaiting;
  LogDebug("candidate key created at rev " +
           std::to_string(self_.create_revision));
  if (c->first && c->first->key == self_.key) {
    WatchFrom(std::nullopt, c->revision + 1);
    BecomeLeader();
    return Status::Ok();
  }
  return FollowQueue();
}

// Finds the candidate just ahead of us and watches it (and our own key).
Status Election::FollowQueue() {
  Result<backend::Predecessor> p = backend_->FindPredecessor(
      prefix_, self_.create_revision, RequestDeadline());
  // On failure the next Pump() reads again; the old watch stays meanwhile.
  requery_ = !p.ok();
  if (!p.ok()) return p.status();
  if (!p->previous) {
    WatchFrom(std::nullopt, p->revision + 1);
    BecomeLeader();
    return Status::Ok();
  }
  predecessor_is_first_ = p->first && p->first->key == p->previous->key;
  WatchFrom(p->previous, p->revision + 1);
  LogDebug("queued behind " + p->previous->key);
  return Status::Ok();
}

void Election::WatchFrom(std::optional<backend::KeyValue> predecessor,
                         int64_t rev) {
  watch_.reset();
  predecessor_ = std::move(predecessor);
  std::vector<backend::WatchSpec> specs;
  specs.push_back({self_.key, false, rev});
  if (predecessor_) specs.push_back({predecessor_->key, false, rev});
  watch_ = backend_->StartWatch(std::move(specs), &sink_, ++watch_tag_ + 1);
}

void Election::BecomeLeader() {
  state_ = State::kLeader;
  predecessor_.reset();
}

void Election::Lose(Status why) {
  if (state_ == State::kLost || state_ == State::kResigned) return;
  state_ = State::kLost;
  loss_ = std::move(why);
}

Status Election::Pump() {
  bool predecessor_gone = false;
  for (backend::Event& e : sink_.Drain()) {
    if (state_ == State::kLost || state_ == State::kResigned) break;
    switch (e.kind) {
      case backend::Event::Kind::kKeepAliveAck:
        deadline_.Renewed(e.sent, e.ttl);
        break;
      case backend::Event::Kind::kSessionLost:
        Lose(e.status);
        break;
      case backend::Event::Kind::kWatchFailed:
        if (e.tag == watch_tag_ + 1) {
          Lose(e.status.With("watch " + self_.key));
        }
        break;
      case backend::Event::Kind::kWatch:
        if (e.tag != watch_tag_ + 1) break;  // from a replaced watch
        for (const backend::Event::Change& c : e.changes) {
          if (e.spec == 0) {
            // Our own key: deleted, or rewritten under another lease or as
            // a new key, means the hold is no longer ours.
            if (c.deleted) {
              Lose(Error(Code::kSessionLost,
                         "our key " + self_.key + " was deleted"));
            } else if (c.kv.lease != lease_.id ||
                       c.kv.create_revision != self_.create_revision) {
              Lose(Error(Code::kSessionLost,
                         "our key " + self_.key + " was replaced"));
            }
          } else if (c.deleted) {
            predecessor_gone = true;
          }
        }
        break;
    }
  }
  if (requery_) predecessor_gone = true;
  if (state_ != State::kWaiting || !predecessor_gone) return Status::Ok();
  LogDebug("predecessor gone");
  if (predecessor_is_first_ && !requery_) {
    // The leader itself left and nobody else was ahead of us: no key can
    // gain a lower create revision than ours, so the office is ours.
    BecomeLeader();
    return Status::Ok();
  }
  return FollowQueue();
}

Status Election::Resign() {
  if (state_ == State::kResigned || lease_.id == 0) {
    state_ = State::kResigned;
    return Status::Ok();
  }
  state_ = State::kResigned;
  deadline_.Void();
  // Revoke first: the next candidate is waiting on it. The streams are
  // stopped afterwards; what they report meanwhile is ignored.
  Status s = backend_->RevokeLease(lease_.id, RequestDeadline());
  LogDebug("lease revoked");
  watch_.reset();
  keepalive_.reset();
  if (s.code() == Code::kNotFound) return Status::Ok();  // already gone
  return s.With("resign " + self_.key);
}

}  // namespace conch::primitives
