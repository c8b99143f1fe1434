// Semaphore: a claim on `weight` of `max` units, FIFO by create revision,
// weighted, optionally one claim per host (--spread), and free of herds.
//
// Layout: contenders under /conch/v1/sema/<name>/<max>/, named by the
// backend (on etcd the original Go conch's <lease-hex>), value = holder
// JSON, bound to the session.
// Who holds is decided by primitives/admission.h over the keys in creation
// order. Each waiting claim watches exactly one thing:
//  - the head of the line (first claim that waits) watches the prefix and
//    keeps a local view of the keys ahead of it, so a release admits it with
//    no store read, whichever holder left;
//  - a claim behind the head watches the waiting claim just ahead of it; an
//    admitted claim rewrites its value with "held":true, which wakes exactly
//    that one successor, which then reads once and decides;
//  - a --spread claim skipped for its host watches its host-mate's key.
// A handoff therefore costs a fixed number of store requests (the release,
// the new holder's mark, one read by the next in line), however long the
// queue. Claims written by the original never mark themselves; a claim
// queued right behind one is only woken when it leaves (safe, but a unit
// may stay idle meanwhile).
//
// Thread contract: owner thread only (see Claim).
#pragma once

#include <string>
#include <vector>

#include "primitives/admission.h"
#include "primitives/claim.h"

namespace conch::primitives {

struct SemaphoreOptions {
  std::string name;
  int64_t max = 1;
  int64_t weight = 1;
  bool spread = false;
  std::string value;       // holder JSON while waiting
  std::string held_value;  // holder JSON once admitted ("held":true)
  SessionOptions session;
};

class Semaphore final : public Claim {
 public:
  Semaphore(backend::Backend* backend, SemaphoreOptions options);

  Status Acquire() override;
  Status Pump() override;
  const std::string& name() const override { return options_.name; }

 private:
  enum class Role { kHead, kBehind, kSkipped, kHolder };

  Status Evaluate();  // reads the keys up to ours, then Decide()
  Status Decide();    // applies the rule to view_; takes the units or waits
  void Watch(Role role, const std::string& target);
  void ApplyToView(const backend::Event::Change& c);

  SemaphoreOptions options_;
  std::string prefix_;

  Role role_ = Role::kHead;
  std::string target_;  // what the running watch follows besides our key
  std::vector<backend::KeyValue> view_;  // keys up to ours, creation order
};

// Reads a stored holder value as an admission claim (weight 1 and no
// spread for values the original wrote).
ClaimInfo ClaimFromKey(const backend::KeyValue& kv);

}  // namespace conch::primitives
