// Backend: the one interface between conch's primitives (election,
// semaphore, and later locks and cron) and a coordination store, etcd v3 or
// ZooKeeper. It speaks in terms both stores can give, never in etcd or
// ZooKeeper types, so the primitives hold no store names and no store
// workarounds. docs/design.md maps every operation onto both stores.
//
// Vocabulary:
//  - A *session* (etcd lease, ZooKeeper session) has a TTL granted by the
//    store and is kept alive by the backend. Keys created in it vanish when
//    it ends. Several claims may share one session.
//  - A *contender* is a key the backend names under a prefix, bound to a
//    session: etcd `<prefix><lease-hex>`, ZooKeeper an ephemeral sequential
//    node `<prefix><session-hex>-<seq10>`.
//  - Every key carries a *create revision*: a store-wide number that orders
//    keys by creation (etcd create_revision, ZooKeeper czxid). It is the
//    fencing token handed to children, and strictly grows from one holder
//    to the next.
//  - Streams (session liveness, watches) run on threads the backend owns and
//    report into the owner thread's EventQueue<Event>; see
//    base/event_queue.h.
//
// Thread contract: blocking calls belong to the owner thread and return by
// their deadline. Session and Watch objects own their machinery; destroying
// them stops it, after which no more events for their tag are pushed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/event_queue.h"
#include "base/status.h"

namespace conch::backend {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;  // etcd create_revision, ZooKeeper czxid
  int64_t session = 0;          // the session the key is bound to; 0 = none
};

// What streams report to the owner thread.
struct Event {
  enum class Kind {
    kRenewed,      // the session is proven alive until sent + ttl
    kSessionLost,  // the store says the session is gone (status says why)
    kWatchLive,    // a spec's watcher is live: later changes are reported
    kWatch,        // a change under a watched spec
    kWatchFailed,  // the watch cannot continue
  };
  // A change, in the terms both stores can give.
  struct Change {
    bool deleted = false;
    std::string key;
    // For a key that was written: its new state, when the store gave it (a
    // watched key always; a key under a watched prefix only on etcd).
    std::optional<KeyValue> kv;
  };

  Kind kind = Kind::kWatch;
  uint64_t tag = 0;  // the tag given when the stream was started
  MonoTime sent{};   // kRenewed: the send time the proof counts from
  Duration ttl{};    // kRenewed: the TTL that proof grants
  size_t spec = 0;   // kWatchLive, kWatch: index of the WatchSpec
  Change change;     // kWatch
  Status status;     // kSessionLost, kWatchFailed
};

using EventSink = EventQueue<Event>;

// A live session. Destroying it without End() stops keeping it alive: the
// store then ends it when its TTL runs out (etcd), or at once (ZooKeeper,
// whose session dies with its connection).
class Session {
 public:
  virtual ~Session() = default;

  // The store's id for the session: etcd lease id, ZooKeeper session id.
  virtual int64_t id() const = 0;
  // The TTL the store granted, which may differ from the one asked for.
  virtual Duration ttl() const = 0;
  // Ends the session; every key bound to it is deleted in the same step.
  // kNotFound if it had already ended. Blocks until `deadline`.
  virtual Status End(MonoTime deadline) = 0;
};

// A running watch. Destroying it cancels the watch.
class Watch {
 public:
  virtual ~Watch() = default;
};

// A watch always starts from now. Once its kWatchLive arrives, every later
// change is reported; the caller then reads once to cover what happened
// before.
struct WatchSpec {
  std::string key;
  bool prefix = false;   // watch the keys under `key` (a prefix ending in
                         // '/'): their creation and deletion
  bool records = false;  // with `prefix`: the keys are records (any name,
                         // see ListRecords), not contenders
};

// The result of CreateContender.
struct Contender {
  KeyValue self;                  // our key as stored
  std::optional<KeyValue> first;  // the oldest key under the prefix
  bool created = false;           // false: found our own key from a retry
};

// The result of FindPredecessor.
struct Predecessor {
  bool self_present = false;         // our key still exists
  std::optional<KeyValue> previous;  // youngest key older than ours
  std::optional<KeyValue> first;     // oldest key under the prefix
};

class Backend {
 public:
  virtual ~Backend() = default;

  // The store's name for messages: "etcd" or "zookeeper".
  virtual std::string_view name() const = 0;

  // Creates a session asking for `ttl` and keeps it alive on threads of
  // the backend's: pushes kRenewed into `sink` (tagged `tag`) for every
  // proof of life, and kSessionLost once if the store ends it. The first
  // proof is the grant itself, counted from the call. kUnavailable or
  // kDeadlineExceeded when the store cannot be reached by `deadline`.
  virtual Result<std::unique_ptr<Session>> OpenSession(Duration ttl,
                                                       MonoTime deadline,
                                                       EventSink* sink,
                                                       uint64_t tag) = 0;

  // Creates a contender for `session` under `prefix` with `value`, and
  // reads the oldest key under `prefix`. Safe to retry: a retry whose
  // earlier attempt did create the key finds it (created = false) instead
  // of queueing twice. Parents are created as needed.
  virtual Result<Contender> CreateContender(Session& session,
                                            const std::string& prefix,
                                            const std::string& value,
                                            MonoTime deadline) = 0;

  // Reads whether `self` still exists, the youngest key under `prefix`
  // created before it, and the oldest key under `prefix`. Only the keys'
  // names and create revisions are filled in `previous` and `first`.
  virtual Result<Predecessor> FindPredecessor(const std::string& prefix,
                                              const KeyValue& self,
                                              MonoTime deadline) = 0;

  // Keys under `prefix`, with values, in creation order; at most `limit`
  // (0 = all).
  virtual Result<std::vector<KeyValue>> List(const std::string& prefix,
                                             int64_t limit,
                                             MonoTime deadline) = 0;

  // Keys under `prefix`, with values, created no later than `self`, in
  // creation order: the queue up to and including `self`.
  virtual Result<std::vector<KeyValue>> ListThrough(const std::string& prefix,
                                                    const KeyValue& self,
                                                    MonoTime deadline) = 0;

  // Reads one key; nullopt if it does not exist.
  virtual Result<std::optional<KeyValue>> Get(const std::string& key,
                                              MonoTime deadline) = 0;

  // Rewrites the value of `self` only if it is still the same key (same
  // create revision). Returns false if it is gone or not ours.
  virtual Result<bool> PutIfOwned(const KeyValue& self,
                                  const std::string& value,
                                  MonoTime deadline) = 0;

  // Deletes `self` only if it is still the same key. Returns false if it
  // was gone or is someone else's now.
  virtual Result<bool> DeleteIfOwned(const KeyValue& self,
                                     MonoTime deadline) = 0;

  // ---- Records: keys the caller names (cron jobs, tick claims, results),
  // one level under a directory prefix ending in '/'. A record's name is
  // any non-empty bytes but '/'.

  // Writes `value` at `key`, creating it (and any missing parents) or
  // replacing its value. With `session`, a created key is bound to it and
  // vanishes when it ends; without, it stays until deleted. Safe to retry.
  virtual Status Put(const std::string& key, const std::string& value,
                     Session* session, MonoTime deadline) = 0;

  // Deletes `key`. Returns whether it existed (a retry whose first attempt
  // deleted it answers false).
  virtual Result<bool> Delete(const std::string& key, MonoTime deadline) = 0;

  // The records directly under `dir`, sorted by name (bytewise); with
  // their values only when `values` (otherwise only keys and revisions).
  virtual Result<std::vector<KeyValue>> ListRecords(const std::string& dir,
                                                    bool values,
                                                    MonoTime deadline) = 0;

  // Claims one place in an ordered series: creates the record `dir + name`
  // with `value`, bound to no session, only if no record under `dir` has a
  // name bytewise >= `name` (callers give names that sort in series order,
  // such as fixed-width numbers). Returns the record created, or nullopt if
  // the name was taken or a later one exists; then nothing of ours remains
  // (ZooKeeper, which cannot compare a range, creates the record and takes
  // it back). A record found holding exactly `value` counts as created by
  // this call: a retry after a lost answer finds its first attempt. Callers
  // make their values unique.
  virtual Result<std::optional<KeyValue>> ClaimInOrder(const std::string& dir,
                                                       const std::string& name,
                                                       const std::string& value,
                                                       MonoTime deadline) = 0;

  // ---- Read-only views of a whole subtree (the status endpoint's /elect
  // and /sema).

  // Every key at any depth under `prefix` (ending in '/') that holds a value
  // a client wrote, with values, sessions and create revisions, sorted by
  // key bytewise; empty when there is none. The prefix itself is not
  // reported. On ZooKeeper these are the leaf nodes: parents (containers
  // created on demand) are not keys, and neither is a childless node with
  // an empty value and no session, which is taken for a parent left empty
  // (a container lingers until the server sweeps it). A node that has both
  // a value and children, which only Put can make, is reported on etcd
  // only: do not rely on either. Not one snapshot on ZooKeeper: keys
  // created or deleted during the walk may or may not be reported.
  // kFailedPrecondition when a key lies more than kMaxTreeDepth levels
  // below `prefix` or there are more than kMaxTreeKeys keys (nothing is
  // returned then). Blocks until `deadline`.
  static constexpr int kMaxTreeDepth = 8;
  static constexpr size_t kMaxTreeKeys = 10000;
  virtual Result<std::vector<KeyValue>> ListTree(const std::string& prefix,
                                                 MonoTime deadline) = 0;

  // Watches the given specs from now. Resumes by itself after a broken
  // connection without missing a change. Pushes kWatchLive once per spec,
  // kWatch per change, and kWatchFailed once if it cannot go on.
  virtual std::unique_ptr<Watch> StartWatch(std::vector<WatchSpec> specs,
                                            EventSink* sink, uint64_t tag) = 0;
};

}  // namespace conch::backend
