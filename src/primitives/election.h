// Election: one candidacy for an office, FIFO by create revision and free of
// herds: each candidate watches only the candidate just ahead of it.
//
// Layout (the original Go conch's, via etcd's election recipe):
//   /conch/v1/elect/<office>/<lease-hex>  value = holder JSON, bound to lease
// The leader is the key with the lowest create revision.
//
// While leading, the hold is valid until deadline().valid_until(); the
// store can also end it outright (state kLost): our key deleted, replaced,
// or its lease revoked or expired.
//
// Thread contract: owner thread only (see Claim).
#pragma once

#include <optional>
#include <string>

#include "primitives/claim.h"

namespace conch::primitives {

struct ElectionOptions {
  std::string office;
  std::string value;  // holder JSON
  SessionOptions session;
};

class Election final : public Claim {
 public:
  Election(backend::Backend* backend, ElectionOptions options);

  Status Acquire() override;
  Status Pump() override;
  const std::string& name() const override { return options_.office; }

 private:
  Status FollowQueue();
  void WatchFrom(std::optional<backend::KeyValue> predecessor, int64_t rev);

  ElectionOptions options_;
  std::string prefix_;
  std::optional<backend::KeyValue> predecessor_;
  bool predecessor_is_first_ = false;
};

}  // namespace conch::primitives
