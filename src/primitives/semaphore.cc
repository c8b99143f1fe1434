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
  auto listing = backend_->ListThrough(prefix_, self_.create_revision,
                                       session_.RequestDeadline());
  // On failure the next Pump() reads again; the old watch stays meanwhile.
  requery_ = !listing.ok();
  if (!listing.ok()) return listing.status();
  view_ = std::move(listing->first);
  view_revision_ = listing->second;
  read_revision_ = listing->second;
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
    Result<bool> marked = backend_->PutIfOwned(
        self_.key, options_.held_value, session_.lease_id(),
        self_.create_revision, session_.RequestDeadline());
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

// Our own key is watched from the view's revision, so no change to it is
// ever missed. The target (prefix, predecessor or host-mate) is watched from
// now, which etcd serves at once (a start in the past waits for its 100 ms
// catch-up); when that watcher is live, one more read covers the revisions
// between the view and it. A watch that already follows the same target is
// kept.
void Semaphore::Watch(Role role, const std::string& target) {
  if (watch_ && role == role_ && target == target_) return;
  role_ = role;
  target_ = target;
  std::vector<backend::WatchSpec> specs;
  specs.push_back({self_.key, false, view_revision_ + 1});
  if (role != Role::kHolder) specs.push_back({target, role == Role::kHead, 0});
  StartWatch(std::move(specs));
  if (role == Role::kHead) LogDebug("head of the line");
  if (role == Role::kBehind || role == Role::kSkipped) {
    LogDebug("queued behind " + target);
  }
}

void Semaphore::ApplyToView(const backend::Event::Change& c) {
  // The read that built the view already reflects older changes.
  if (c.kv.mod_revision <= read_revision_) return;
  auto it = std::find_if(
      view_.begin(), view_.end(),
      [&](const backend::KeyValue& kv) { return kv.key == c.kv.key; });
  if (c.deleted) {
    if (it != view_.end()) view_.erase(it);
    return;
  }
  if (c.kv.create_revision > self_.create_revision) return;  // behind us
  if (it != view_.end()) {
    *it = c.kv;
  } else {
    // A key ahead of us we did not know: impossible for keys created
    // before our read, but keep the view sorted whatever happens.
    view_.insert(
        std::upper_bound(
            view_.begin(), view_.end(), c.kv,
            [](const backend::KeyValue& a, const backend::KeyValue& b) {
              return a.create_revision < b.create_revision;
            }),
        c.kv);
  }
}

Status Semaphore::Pump() {
  bool changed = false;
  // A watcher going live means the target may have changed before it could
  // report that: read again.
  bool recheck = DrainEvents([&](size_t, const backend::Event::Change& c) {
    if (role_ == Role::kHead) ApplyToView(c);
    view_revision_ = std::max(view_revision_, c.kv.mod_revision);
    changed = true;
  });
  if (state_ != State::kWaiting) return Status::Ok();
  if (requery_ || recheck || (changed && role_ != Role::kHead)) {
    return Evaluate();
  }
  if (changed) return Decide();  // the head decides from its own view
  return Status::Ok();
}
}  // namespace conch::primitives
