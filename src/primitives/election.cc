#include "primitives/election.h"

#include "base/log.h"
#include "primitives/keys.h"

namespace conch::primitives {

Election::Election(backend::Backend* backend, ElectionOptions options)
    : backend_(backend),
      options_(std::move(options)),
      prefix_(ElectPrefix(options_.office)),
      session_(backend, options_.session) {}

Election::~Election() {
  if (state_ != State::kReleased && session_.open()) {
    Status s = Release();
    if (!s.ok()) LogWarn(s.ToString());
  }
}

Status Election::Acquire() {
  CONCH_RETURN_IF_ERROR(session_.Open());
  std::string key = ElectKey(options_.office, session_.lease_id());
  Result<backend::Contender> c = backend_->CreateContender(
      prefix_, key, options_.value, session_.lease_id(),
      session_.RequestDeadline());
  if (!c.ok()) {
    Status s = Release();
    (void)s;  // the campaign's error is the one worth reporting
    return c.status();
  }
  self_ = c->self;
  state_ = State::kWaiting;
  LogDebug("candidate key created at rev " +
           std::to_string(self_.create_revision));
  if (c->first && c->first->key == self_.key) {
    WatchFrom(std::nullopt, c->revision + 1);
    state_ = State::kHeld;
    return Status::Ok();
  }
  return FollowQueue();
}

// Finds the candidate just ahead of us and watches it (and our own key).
// A watch that already follows that candidate is kept.
Status Election::FollowQueue() {
  Result<backend::Predecessor> p = backend_->FindPredecessor(
      prefix_, self_.create_revision, session_.RequestDeadline());
  // On failure the next Pump() reads again; the old watch stays meanwhile.
  requery_ = !p.ok();
  if (!p.ok()) return p.status();
  if (!p->previous) {
    WatchFrom(std::nullopt, p->revision + 1);
    state_ = State::kHeld;
    return Status::Ok();
  }
  predecessor_is_first_ = p->first && p->first->key == p->previous->key;
  if (watch_ && predecessor_ && predecessor_->key == p->previous->key) {
    return Status::Ok();
  }
  WatchFrom(p->previous, p->revision + 1);
  LogDebug("queued behind " + p->previous->key);
  return Status::Ok();
}

// Our own key is watched from `rev`, so no change to it is ever missed. The
// predecessor is watched from now, which etcd serves at once (a start in
// the past waits for its 100 ms catch-up); when that watcher is live, one
// more read covers the revisions between our read and it.
void Election::WatchFrom(std::optional<backend::KeyValue> predecessor,
                         int64_t rev) {
  watch_.reset();
  predecessor_ = std::move(predecessor);
  std::vector<backend::WatchSpec> specs;
  specs.push_back({self_.key, false, rev});
  if (predecessor_) specs.push_back({predecessor_->key, false, 0});
  watch_ =
      backend_->StartWatch(std::move(specs), &session_.sink(), ++watch_tag_);
}

void Election::Lose(Status why) {
  if (state_ == State::kLost || state_ == State::kReleased) return;
  state_ = State::kLost;
  loss_ = std::move(why);
}

Status Election::Pump() {
  bool predecessor_gone = false;
  bool recheck = false;
  for (backend::Event& e : session_.sink().Drain()) {
    if (state_ == State::kLost || state_ == State::kReleased) break;
    if (std::optional<Status> lost = session_.Apply(e)) Lose(*lost);
    if (e.tag != watch_tag_) continue;  // keep-alive, or a replaced watch
    if (e.kind == backend::Event::Kind::kWatchFailed) {
      Lose(e.status.With("watch " + self_.key));
      continue;
    }
    if (e.kind == backend::Event::Kind::kWatchCreated) {
      recheck = true;  // the predecessor may have left before it was live
      continue;
    }
    for (const backend::Event::Change& c : e.changes) {
      if (e.spec == 0) {
        if (std::optional<Status> lost = CheckOwnKey(c, self_)) Lose(*lost);
      } else if (c.deleted) {
        predecessor_gone = true;
      }
    }
  }
  if (requery_) predecessor_gone = true;
  if (state_ != State::kWaiting) return Status::Ok();
  if (!predecessor_gone) return recheck ? FollowQueue() : Status::Ok();
  LogDebug("predecessor gone");
  if (predecessor_is_first_ && !requery_) {
    // The leader itself left and nobody else was ahead of us: no key can
    // gain a lower create revision than ours, so the office is ours.
    state_ = State::kHeld;
    predecessor_.reset();
    return Status::Ok();
  }
  return FollowQueue();
}

Status Election::Release() {
  state_ = State::kReleased;
  Status s = session_.Revoke();
  watch_.reset();
  return s.ok() ? s : s.With("resign " + self_.key);
}

}  // namespace conch::primitives
