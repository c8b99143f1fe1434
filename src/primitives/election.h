// Election: one candidacy for an office, FIFO by create revision and free of
// herds: each candidate watches only the candidate just ahead of it.
//
// Layout: contenders under /conch/v1/elect/<office>/, named by the backend
// (on etcd the original Go conch's <lease-hex>, via etcd's election
// recipe), value = holder JSON, bound to the session. The leader is the
// oldest key.
//
// While leading, the hold is valid until deadline().valid_until(); the
// store can also end it outright (state kLost): our key deleted, replaced,
// or its session revoked or expired.
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
  void Follow(std::optional<backend::KeyValue> predecessor);

  ElectionOptions options_;
  std::string prefix_;
  std::optional<backend::KeyValue> predecessor_;
  bool predecessor_is_first_ = false;
};

}  // namespace conch::primitives
