#include "primitives/election.h"

#include "base/log.h"
#include "primitives/keys.h"

namespace conch::primitives {

Election::Election(backend::Backend* backend, ElectionOptions options)
    : Claim(backend, options.session),
      options_(std::move(options)),
      prefix_(ElectPrefix(options_.office)) {}

Status Election::Acquire() {
  Result<backend::Contender> c = Enqueue(prefix_, options_.value);
  if (!c.ok()) return c.status();
  if (c->first && c->first->key == self_.key) {
    // The office was vacant: ours with no further read.
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
  predecessor_ = std::move(predecessor);
  std::vector<backend::WatchSpec> specs;
  specs.push_back({self_.key, false, rev});
  if (predecessor_) specs.push_back({predecessor_->key, false, 0});
  StartWatch(std::move(specs));
}

Status Election::Pump() {
  bool predecessor_gone = false;
  // A watcher going live means the predecessor may have left before it
  // could report that: read again.
  bool recheck = DrainEvents([&](size_t spec, const backend::Event::Change& c) {
    if (spec == 1 && c.deleted) predecessor_gone = true;
  });
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
}  // namespace conch::primitives
