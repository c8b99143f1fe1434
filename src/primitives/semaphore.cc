#include "primitives/semaphore.h"

#include <algorithm>

#include "base/log.h"
#include "primitives/holder.h"
#include "primitives/keys.h"

namespace conch::primitives {

ClaimInfo ClaimFromKey(const backend::KeyValue& kv) {
  ClaimInfo c;
  c.create_revision = kv.create_revision;
  if (std::optional<Holder> h = DecodeHolder(kv.value)) {
    c.weight = h->weight;
    c.spread = h->spread;
    c.host = h->host;
  }
  return c;
}

Semaphore::Semaphore(backend::Backend* backend, SemaphoreOptions options)
    : Claim(backend, options.session),
      options_(std::move(options)),
      prefix_(SemaPrefix(options_.name, options_.max)) {}

Status Semaphore::Acquire() {
  Result<backend::Contender> c = Enqueue(prefix_, options_.value);
  if (!c.ok()) return c.status();
  return Evaluate();
}

Status Semaphore::Evaluate() {
  Result<std::vector<backend::KeyValue>> listing =
      backend_->ListThrough(prefix_, self_, session_.HoldRequestDeadline());
  // On failure the next Pump() reads again; the old watch stays meanwhile.
  requery_ = !listing.ok();
  if (!listing.ok()) return listing.status();
  view_ = std::move(listing).value();
  return Decide();
}

Status Semaphore::Decide() {
  std::vector<ClaimInfo> claims;
  claims.reserve(view_.size());
  size_t mine = view_.size();
  for (size_t i = 0; i < view_.size(); ++i) {
    claims.push_back(ClaimFromKey(view_[i]));
    if (view_[i].key == self_.key) mine = i;
  }
  if (mine == view_.size()) {
    Lose(Error(Code::kSessionLost, "our key " + self_.key + " is gone"));
    return Status::Ok();
  }
  std::vector<Admission> verdict = Admit(claims, options_.max);
  if (verdict[mine] == Admission::kHolds) {
    // Mark the claim as admitted: this is what wakes the next in line.
    Result<bool> marked = backend_->PutIfOwned(self_, options_.held_value,
                                               session_.HoldRequestDeadline());
    if (!marked.ok()) {
      requery_ = true;
      return marked.status().With("mark " + self_.key + " held");
    }
    if (!*marked) {
      Lose(Error(Code::kSessionLost, "our key " + self_.key + " is gone"));
      return Status::Ok();
    }
    state_ = State::kHeld;
    view_.clear();
    Watch(Role::kHolder, self_.key);
    return Status::Ok();
  }
  if (verdict[mine] == Admission::kSkipped) {
    // Our host already holds through an earlier --spread claim: wait for
    // that one to leave.
    for (size_t i = 0; i < mine; ++i) {
      if (verdict[i] == Admission::kHolds && claims[i].spread &&
          claims[i].host == claims[mine].host) {
        Watch(Role::kSkipped, view_[i].key);
        return Status::Ok();
      }
    }
  }
  for (size_t i = mine; i-- > 0;) {
    if (verdict[i] == Admission::kWaits) {
      Watch(Role::kBehind, view_[i].key);
      return Status::Ok();
    }
  }
  Watch(Role::kHead, prefix_);
  return Status::Ok();
}

// Our own key and the target (prefix, predecessor or host-mate) are watched
// from now; when the watchers are live, one more read covers what happened
// before (Pump). A watch that already follows the same target is kept.
void Semaphore::Watch(Role role, const std::string& target) {
  if (watch_ && role == role_ && target == target_) return;
  role_ = role;
  target_ = target;
  std::vector<backend::WatchSpec> specs;
  specs.push_back({self_.key, false});
  if (role != Role::kHolder) specs.push_back({target, role == Role::kHead});
  StartWatch(std::move(specs));
  if (role == Role::kHead) LogDebug("head of the line");
  if (role == Role::kBehind || role == Role::kSkipped) {
    LogDebug("queued behind " + target);
  }
}

// The head keeps its view of the keys ahead of it from the prefix watch.
// Changes arrive in store order and may predate the read that built the
// view: a deletion is applied whether or not the view still has the key,
// and a rewrite of a key the view has replaces its value (the admission
// fields never change on a rewrite, so an older value is as good). Keys
// created after our own are behind us and do not matter.
void Semaphore::ApplyToView(const backend::Event::Change& c) {
  auto it = std::find_if(
      view_.begin(), view_.end(),
      [&](const backend::KeyValue& kv) { return kv.key == c.key; });
  if (it == view_.end()) return;
  if (c.deleted) {
    view_.erase(it);
  } else if (c.kv) {
    *it = *c.kv;
  }
}

Status Semaphore::Pump() {
  bool changed = false;
  // A watcher going live means the target may have changed before it could
  // report that: read again.
  bool recheck = DrainEvents([&](size_t, const backend::Event::Change& c) {
    if (role_ == Role::kHead) ApplyToView(c);
    changed = true;
  });
  if (state_ == State::kHeld) {
    return recheck || requery_ ? VerifyOwnKey() : Status::Ok();
  }
  if (state_ != State::kWaiting) return Status::Ok();
  if (requery_ || recheck || (changed && role_ != Role::kHead)) {
    return Evaluate();
  }
  if (changed) return Decide();  // the head decides from its own view
  return Status::Ok();
}
}  // namespace conch::primitives
