// Claim: a place queued for, or holding, a cluster-wide hold — an office
// (Election) or units of a semaphore (Semaphore). The CLI drives every
// claim the same way: Acquire(), then poll fd() and Pump() until held or
// lost, run the command while held, Release().
//
// Session: the store session (etcd lease, ZooKeeper session) of a claim,
// with its fail-closed deadline and the event sink its streams report into.
//
// Thread contract: owner thread only. Pump() may block for one store read,
// bounded by the request timeout.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "primitives/hold_deadline.h"

namespace conch::primitives {

struct SessionOptions {
  Duration ttl = std::chrono::seconds(10);
  Duration kill_after = std::chrono::seconds(5);
  Duration request_timeout = std::chrono::seconds(5);
  // The clock of every deadline; must be the backend's. Outlives the session.
  const Clock* clock = &SystemClock::Get();
};

class Session {
 public:
  Session(backend::Backend* backend, SessionOptions options);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Opens a store session and starts keeping it alive; the call's start
  // time starts the hold clock. kInvalidArgument, with the session ended
  // again, if the TTL the store granted cannot fail closed with the
  // kill-after (ValidateHoldTiming).
  Status Open();
  // Ends the store session (kNotFound counts as done), which deletes its
  // keys, and stops the streams it feeds. Idempotent.
  Status Revoke();

  // Applies a liveness event. Returns the loss if the store ended the
  // session; nullopt otherwise (renewals move the deadline).
  std::optional<Status> Apply(const backend::Event& e);

  backend::EventSink& sink() { return sink_; }
  int fd() const { return sink_.fd(); }
  // The store's id for the session (0 before Open).
  int64_t id() const { return session_ ? session_->id() : 0; }
  // The open store session; Open() must have succeeded.
  backend::Session& store_session() { return *session_; }
  const HoldDeadline& deadline() const { return deadline_; }
  MonoTime RequestDeadline() const {
    return options_.clock->Now() + options_.request_timeout;
  }
  // The deadline of a read or write made while the session's holds are
  // used: RequestDeadline(), but never past the point where a command under
  // the hold must be SIGKILLed (kill_at), so that a call blocked on a slow
  // or frozen store cannot hold up that signal. A call made past it fails
  // at once (deadline exceeded) and is retried by its caller.
  MonoTime HoldRequestDeadline() const {
    return std::min(RequestDeadline(), deadline_.kill_at());
  }
  const Clock& clock() const { return *options_.clock; }
  bool open() const { return session_ != nullptr && !revoked_; }

 private:
  backend::Backend* backend_;
  SessionOptions options_;
  HoldDeadline deadline_;
  bool revoked_ = false;
  backend::EventSink sink_;
  std::unique_ptr<backend::Session> session_;
};

// Judges a change on our own key: deleted, or rewritten under another
// session or as a new key, means the hold is no longer ours.
std::optional<Status> CheckOwnKey(const backend::Event::Change& change,
                                  const backend::KeyValue& self);

inline constexpr uint64_t kKeepAliveTag = 1;

// The shared machinery lives here too (session, own key, current watch,
// loss), so that Election and Semaphore hold only their queueing logic.
class Claim {
 public:
  enum class State { kIdle, kWaiting, kHeld, kLost, kReleased };

  virtual ~Claim();  // releases unless already released (bounded)
  Claim(const Claim&) = delete;
  Claim& operator=(const Claim&) = delete;

  // Grants a session and queues. Returns with state kHeld or kWaiting;
  // kUnavailable/kDeadlineExceeded if the store does not answer in time.
  virtual Status Acquire() = 0;
  // Handles pending events. An error means a store read failed while
  // waiting; needs_retry() is then true and Pump() should be called again
  // after a short pause.
  virtual Status Pump() = 0;
  virtual const std::string& name() const = 0;

  // Readable when store events are pending.
  int fd() const;
  bool needs_retry() const { return requery_; }
  // Revokes the session, which deletes our key in the same step, so the
  // next claim is served at once. Bounded by the request timeout.
  Status Release();

  State state() const { return state_; }
  const Status& loss() const { return loss_; }
  const HoldDeadline& deadline() const;
  const Clock& clock() const { return session_.clock(); }
  int64_t revision() const { return self_.create_revision; }  // fence
  // The store's id for our session: CONCH_LEASE.
  int64_t session_id() const { return session_.id(); }
  const std::string& key() const { return self_.key; }

  // What the current watch has delivered, for status and for tests that
  // must prove an event did not happen: every watcher is live (changes
  // made from here on will be reported); how many changes to keys other
  // than our own it reported.
  bool watch_live() const { return watch_ != nullptr && pending_live_ == 0; }
  uint64_t changes_seen() const { return changes_seen_; }
  const std::string& last_change_key() const { return last_change_key_; }
  // The open store session, for tests that fault it from outside.
  backend::Session& store_session() { return session_.store_session(); }

 protected:
  Claim(backend::Backend* backend, const SessionOptions& options);

  // Opens the session and creates our key under `prefix` (the backend
  // names it) with `value`; state becomes kWaiting. Returns what the store
  // answered (with the oldest key under `prefix`). On failure the session
  // is released and the store's error returned.
  Result<backend::Contender> Enqueue(const std::string& prefix,
                                     const std::string& value);
  // Replaces the running watch; events of older watches are ignored. Every
  // watcher starts from now: once one is live the caller reads once.
  void StartWatch(std::vector<backend::WatchSpec> specs);
  // Drains pending events: renewals move the deadline, the session ending,
  // a failed watch or a change to our own key make the claim kLost, other
  // changes go to `on_change` with their spec index. Returns true if a
  // watcher of the current watch went live (kWatchLive).
  bool DrainEvents(
      const std::function<void(size_t, const backend::Event::Change&)>&
          on_change);
  void Lose(Status why);
  // Reads our own key once, after its watcher went live: the key may have
  // been deleted before the watcher could report it. Loses the claim if it
  // is gone or replaced. On a failed read needs_retry() becomes true.
  Status VerifyOwnKey();
  bool Done() const {
    return state_ == State::kLost || state_ == State::kReleased;
  }

  backend::Backend* backend_;
  Session session_;
  State state_ = State::kIdle;
  Status loss_;
  backend::KeyValue self_;
  bool requery_ = false;  // the last queue read failed; read again
  std::unique_ptr<backend::Watch> watch_;

 private:
  uint64_t watch_tag_;
  size_t pending_live_ = 0;  // watchers not yet live
  uint64_t changes_seen_ = 0;
  std::string last_change_key_;
};

}  // namespace conch::primitives
