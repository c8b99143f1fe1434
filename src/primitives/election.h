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
  ~Election() override;  // releases unless already released (bounded)
  Election(const Election&) = delete;
  Election& operator=(const Election&) = delete;

  Status Acquire() override;
  int fd() const override { return session_.fd(); }
  Status Pump() override;
  bool needs_retry() const override { return requery_; }
  Status Release() override;

  State state() const override { return state_; }
  const Status& loss() const override { return loss_; }
  const HoldDeadline& deadline() const override { return session_.deadline(); }
  int64_t revision() const override { return self_.create_revision; }
  int64_t lease_id() const override { return session_.lease_id(); }
  const std::string& name() const override { return options_.office; }
  const std::string& key() const override { return self_.key; }

 private:
  Status FollowQueue();
  void WatchFrom(std::optional<backend::KeyValue> predecessor, int64_t rev);
  void Lose(Status why);

  backend::Backend* backend_;
  ElectionOptions options_;
  std::string prefix_;
  Session session_;
  State state_ = State::kIdle;
  Status loss_;
  backend::KeyValue self_;
  std::optional<backend::KeyValue> predecessor_;
  bool predecessor_is_first_ = false;
  bool requery_ = false;  // the last queue read failed

  std::unique_ptr<backend::Watch> watch_;
  uint64_t watch_tag_ = kKeepAliveTag;  // events from older watches are ignored
};

}  // namespace conch::primitives
