// Election: one candidacy for an office, FIFO by create revision and free of
// herds: each candidate watches only the candidate just ahead of it.
//
// Layout (the original Go conch's, via etcd's election recipe):
//   /conch/v1/elect/<office>/<lease-hex>  value = holder JSON, bound to lease
// The leader is the key with the lowest create revision.
//
// The election owns its session (lease + keep-alive) and a watch on its own
// key; it is driven by the owner thread: poll fd(), then call Pump().
// While leading, the hold is valid until deadline().valid_until(); the
// store can also end it outright (state kLost): our key deleted, replaced,
// or its lease revoked or expired.
//
// Thread contract: owner thread only. Pump() may block for one store read,
// bounded by the request timeout.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "backend/backend.h"
#include "primitives/hold_deadline.h"

namespace conch::primitives {

struct ElectionOptions {
  std::string office;
  std::string value;  // holder JSON
  Duration ttl = std::chrono::seconds(10);
  Duration kill_after = std::chrono::seconds(5);
  Duration request_timeout = std::chrono::seconds(5);
};

class Election {
 public:
  enum class State { kIdle, kWaiting, kLeader, kLost, kResigned };

  Election(backend::Backend* backend, ElectionOptions options);
  ~Election();  // resigns unless already resigned (bounded by timeout)
  Election(const Election&) = delete;
  Election& operator=(const Election&) = delete;

  // Grants a session and queues for the office. Returns with state
  // kLeader (the office was vacant) or kWaiting. kUnavailable or
  // kDeadlineExceeded if the store does not answer in time.
  Status Campaign();

  // Readable when store events are pending.
  int fd() const { return sink_.fd(); }

  // Handles pending events: renewals move the deadline; the predecessor
  // leaving may make us leader; loss of our key or session makes us kLost.
  // An error means a store read failed while waiting (state unchanged);
  // call Pump() again, after a short pause, to retry it.
  Status Pump();
  bool needs_retry() const { return requery_; }

  // Revokes the session, which deletes our key in the same step, so the
  // next candidate is promoted at once. Bounded by the request timeout.
  Status Resign();

  State state() const { return state_; }
  const Status& loss() const { return loss_; }
  const HoldDeadline& deadline() const { return deadline_; }
  int64_t revision() const { return self_.create_revision; }  // fence
  int64_t lease_id() const { return lease_.id; }
  const std::string& key() const { return self_.key; }
  const std::string& office() const { return options_.office; }

 private:
  Status FollowQueue();
  void WatchFrom(std::optional<backend::KeyValue> predecessor, int64_t rev);
  void BecomeLeader();
  void Lose(Status why);
  MonoTime RequestDeadline() const;

  backend::Backend* backend_;
  ElectionOptions options_;
  std::string prefix_;
  State state_ = State::kIdle;
  Status loss_;
  backend::Lease lease_;
  backend::KeyValue self_;
  std::optional<backend::KeyValue> predecessor_;
  bool predecessor_is_first_ = false;
  bool requery_ = false;  // the last queue read failed
  HoldDeadline deadline_;

  backend::EventSink sink_;
  std::unique_ptr<backend::KeepAlive> keepalive_;
  std::unique_ptr<backend::Watch> watch_;
  uint64_t watch_tag_ = 0;  // events from older watches are ignored
};

const char* StateName(Election::State state);

}  // namespace conch::primitives
