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
    Follow(std::nullopt);
    state_ = State::kHeld;
    return Status::Ok();
  }
  return FollowQueue();
}

// Finds the candidate just ahead of us and watches it (and our own key).
// A watch that already follows that candidate is kept.
Status Election::FollowQueue() {
  Result<backend::Predecessor> p =
      backend_->FindPredecessor(prefix_, self_, session_.HoldRequestDeadline());
  // On failure the next Pump() reads again; the old watch stays meanwhile.
  requery_ = !p.ok();
  if (!p.ok()) return p.status();
  if (!p->self_present) {
    Lose(Error(Code::kSessionLost, "our key " + self_.key + " is gone"));
    return Status::Ok();
  }
  if (!p->previous) {
    Follow(std::nullopt);
    state_ = State::kHeld;
    return Status::Ok();
  }
  predecessor_is_first_ = p->first && p->first->key == p->previous->key;
  if (watch_ && predecessor_ && predecessor_->key == p->previous->key) {
    return Status::Ok();
  }
  Follow(p->previous);
  LogDebug("queued behind " + p->previous->key);
  return Status::Ok();
}

// Watches our own key and the predecessor, from now. When the watchers are
// live, one more read covers what happened before (Pump).
void Election::Follow(std::optional<backend::KeyValue> predecessor) {
  predecessor_ = std::move(predecessor);
  std::vector<backend::WatchSpec> specs;
  specs.push_back({self_.key, false});
  if (predecessor_) specs.push_back({predecessor_->key, false});
  StartWatch(std::move(specs));
}

Status Election::Pump() {
  bool predecessor_gone = false;
  // A watcher going live means a change may have come before it could
  // report it: read again.
  bool recheck = DrainEvents([&](size_t spec, const backend::Event::Change& c) {
    if (spec == 1 && c.deleted) predecessor_gone = true;
  });
  if (state_ == State::kHeld) {
    return recheck || requery_ ? VerifyOwnKey() : Status::Ok();
  }
  if (state_ != State::kWaiting) return Status::Ok();
  if (requery_ || recheck) return FollowQueue();
  if (!predecessor_gone) return Status::Ok();
  LogDebug("predecessor gone");
  if (predecessor_is_first_) {
    // The leader itself left and nobody else was ahead of us: no key can
    // be created ahead of ours, so the office is ours. Our own key was
    // present at the last read, and its watcher, once live, is checked
    // by one more read (above).
    state_ = State::kHeld;
    predecessor_.reset();
    return Status::Ok();
  }
  return FollowQueue();
}
}  // namespace conch::primitives
