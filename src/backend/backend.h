// Backend: the one interface between conch's primitives (election, and
// later semaphores and cron) and a coordination store. It speaks in terms
// the primitives need, not in etcd or ZooKeeper types, so that both stores
// implement it without the primitives changing. docs/design.md maps every
// operation onto etcd v3 and ZooKeeper.
//
// Vocabulary:
//  - A *session* (etcd lease, ZooKeeper session) has a TTL and is kept alive
//    by a KeepAlive. Keys bound to it vanish when it ends.
//  - Every key carries a *create revision*: a store-wide number that orders
//    keys by creation (etcd create_revision, ZooKeeper czxid). It is the
//    fencing token handed to children.
//  - Streams (keep-alive, watch) run on their own threads and report into
//    the owner thread's EventQueue<Event>; see base/event_queue.h.
//
// Thread contract: blocking calls belong to the owner thread and return by
// their deadline. KeepAlive and Watch objects own their threads; destroying
// them stops and joins those threads, after which no more events for their
// tag are pushed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/event_queue.h"
#include "base/status.h"

namespace conch::backend {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t lease = 0;  // the session the key is bound to; 0 = none
};

struct Lease {
  int64_t id = 0;
  Duration ttl{};  // as granted by the store, which may raise it
};

// What a stream reports to the owner thread.
struct Event {
  enum class Kind {
    kKeepAliveAck,  // the store renewed the session: valid until sent + ttl
    kSessionLost,   // the store says the session is gone (status says why)
    kWatch,         // changes on watched keys, in revision order
    kWatchFailed,   // the watch cannot continue (e.g. history compacted)
    kWatchCreated,  // a spec's watcher is live; reports changes after
                    // `revision`
  };
  struct Change {
    bool deleted = false;
    KeyValue kv;  // for a delete, only key and mod_revision are set
  };

  Kind kind = Kind::kWatch;
  uint64_t tag = 0;  // the tag given when the stream was started
  MonoTime sent{};   // kKeepAliveAck: when the acknowledged request was sent
  Duration ttl{};    // kKeepAliveAck: the TTL granted by that renewal
  int64_t revision = 0;         // kWatch: store revision of the changes;
                                // kWatchCreated: the watcher covers later ones
  size_t spec = 0;              // kWatch, kWatchCreated: index of the WatchSpec
  std::vector<Change> changes;  // kWatch
  Status status;                // kSessionLost, kWatchFailed
};

using EventSink = EventQueue<Event>;

// A running keep-alive for one session. Destroying it stops renewing.
class KeepAlive {
 public:
  virtual ~KeepAlive() = default;
};

// A running watch. Destroying it cancels the watch.
class Watch {
 public:
  virtual ~Watch() = default;
};

struct WatchSpec {
  std::string key;
  bool prefix = false;  // watch every key under `key`
  // First revision to report (inclusive). 0 means "from now": the watcher
  // is live at once, and its kWatchCreated event says from which revision,
  // so the caller can read once to cover the gap. A start in the past is
  // caught up by etcd only every 100 ms, so waiting claims start from now.
  int64_t start_revision = 0;
};

// The result of CreateContender.
struct Contender {
  KeyValue self;                  // our key as stored
  std::optional<KeyValue> first;  // the oldest key under the prefix
  bool created = false;           // false: the key already existed (same lease)
  int64_t revision = 0;           // store revision the answer reflects
};

// The result of FindPredecessor.
struct Predecessor {
  std::optional<KeyValue> previous;  // youngest key older than the given one
  std::optional<KeyValue> first;     // oldest key under the prefix
  int64_t revision = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Creates a session with at least `ttl`. kUnavailable/kDeadlineExceeded
  // when the store cannot be reached by `deadline`.
  virtual Result<Lease> GrantLease(Duration ttl, MonoTime deadline) = 0;

  // Ends the session; every key bound to it is deleted in the same step.
  // kNotFound if it had already ended.
  virtual Status RevokeLease(int64_t lease_id, MonoTime deadline) = 0;

  // Starts renewing `lease` on a dedicated thread as backend/renewal.h
  // schedules it (every ttl/3, again soon after a missed answer), and
  // reconnecting through any endpoint.
  // Pushes kKeepAliveAck for each renewal and kSessionLost once if the
  // store says the session is gone.
  virtual std::unique_ptr<KeepAlive> StartKeepAlive(const Lease& lease,
                                                    EventSink* sink,
                                                    uint64_t tag) = 0;

  // Atomically: creates `key` under `prefix` bound to `lease_id` unless it
  // exists, and reads the oldest key under `prefix`. If the key exists with
  // another lease, kAlreadyExists.
  virtual Result<Contender> CreateContender(const std::string& prefix,
                                            const std::string& key,
                                            const std::string& value,
                                            int64_t lease_id,
                                            MonoTime deadline) = 0;

  // Reads, in one consistent step, the youngest key under `prefix` with a
  // create revision below `below`, and the oldest key under `prefix`.
  virtual Result<Predecessor> FindPredecessor(const std::string& prefix,
                                              int64_t below,
                                              MonoTime deadline) = 0;

  // Keys under `prefix` in creation order; at most `limit` (0 = all).
  // Also returns the store revision the listing reflects.
  virtual Result<std::pair<std::vector<KeyValue>, int64_t>> List(
      const std::string& prefix, int64_t limit, MonoTime deadline) = 0;

  // Keys under `prefix` created at or before `last_create_revision`, in
  // creation order, and the store revision the listing reflects.
  virtual Result<std::pair<std::vector<KeyValue>, int64_t>> ListThrough(
      const std::string& prefix, int64_t last_create_revision,
      MonoTime deadline) = 0;

  // Rewrites the value of `key`, keeping it bound to `lease_id`, only if it
  // still has `create_revision`. Returns false if it is gone or not ours.
  virtual Result<bool> PutIfOwned(const std::string& key,
                                  const std::string& value, int64_t lease_id,
                                  int64_t create_revision,
                                  MonoTime deadline) = 0;

  // Deletes `key` only if it still has `create_revision`. Returns false if
  // the key was gone or is someone else's now.
  virtual Result<bool> DeleteIfOwned(const std::string& key,
                                     int64_t create_revision,
                                     MonoTime deadline) = 0;

  // Watches the given keys on one stream on a dedicated thread. Resumes by
  // itself after a broken connection, from the next unseen revision.
  // Pushes kWatchCreated once per spec when its watcher is first live,
  // kWatch for changes, and kWatchFailed once if it cannot go on.
  virtual std::unique_ptr<Watch> StartWatch(std::vector<WatchSpec> specs,
                                            EventSink* sink, uint64_t tag) = 0;
};

struct BackendOptions {
  std::vector<std::string> endpoints;  // "host:port" or "http://host:port"
  Duration dial_timeout = std::chrono::seconds(5);
  // The clock every deadline given to the backend is on, and that stamps
  // the send times of renewals. Must outlive the backend.
  const Clock* clock = &SystemClock::Get();
};

// Opens an etcd v3 backend. Does not block: the connection is made by the
// first call. kInvalidArgument for a malformed or unresolvable endpoint.
Result<std::unique_ptr<Backend>> OpenEtcd(const BackendOptions& options);

}  // namespace conch::backend
