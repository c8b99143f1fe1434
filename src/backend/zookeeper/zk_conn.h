// ZkConn: one ZooKeeper client handle (zhandle_t) and the session it
// carries, with the bookkeeping every other part of the ZooKeeper backend
// builds on:
//  - connection state from the session events, with an epoch that grows at
//    every (re)connection;
//  - requests sent with the asynchronous API, whose completions run on the
//    client's completion thread; blocking calls wait for them with a
//    deadline, and requests that are safe to repeat are repeated after a
//    lost connection;
//  - watch slots: the per-path watcher contexts, kept in a registry so that
//    a fire for a watch already destroyed finds nothing and is dropped;
//  - FromZk, the one translation point for ZooKeeper result codes;
//  - the C client's own log lines, routed into conch's debug log.
//
// Thread contract: every public member is safe from any thread, except
// that Close() and the destructor must not run on the client's own threads
// (zookeeper_close joins them). Callbacks given to Send() and the
// WatchSlot methods run on the client's completion thread (or in Close()),
// must not block, and must not call Close().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <zookeeper/zookeeper.h>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"

namespace conch::backend::zk {

// The one translation point for ZooKeeper result codes: "what: zookeeper:
// <zerror text>". kNoAnswer (below) becomes kDeadlineExceeded.
Status FromZk(int rc, const std::string& what);

// The connection dropped with the request in flight (ZCONNECTIONLOSS,
// ZOPERATIONTIMEOUT when nothing came back in 2/3 of the session timeout,
// or ZRUNTIMEINCONSISTENCY when the client dropped it over an answer out of
// order): a write may or may not have happened.
bool IsConnectionLoss(int rc);

// The server `zh` is connected to ("127.0.0.1:2181"), for messages; "no
// server (not connected)" between connections.
std::string ConnectedServer(zhandle_t* zh);

// The rc of a request that got no answer by its caller's deadline. Positive,
// so it never collides with a ZooKeeper code.
inline constexpr int kNoAnswer = 1;

enum class Op { kExists, kGet, kGetChildren, kCreate, kSet, kDelete, kSync };

struct Request {
  Op op = Op::kGet;
  std::string path;
  std::string value;   // kCreate, kSet
  int version = -1;    // kSet, kDelete: the expected version; -1 = any
  int mode = 0;        // kCreate: ZOO_EPHEMERAL_SEQUENTIAL, ZOO_CONTAINER...
  uint64_t watch = 0;  // kExists, kGet, kGetChildren: the watch slot to arm
                       // (AddWatch's id); 0 = none
};

// The requests, by operation.
Request ExistsRequest(std::string path, uint64_t watch = 0);
Request GetRequest(std::string path, uint64_t watch = 0);
Request ChildrenRequest(std::string path, uint64_t watch = 0);
Request CreateRequest(std::string path, std::string value, int mode);
Request SetRequest(std::string path, std::string value, int version);
Request DeleteRequest(std::string path, int version);
Request SyncRequest(std::string path);

struct Reply {
  int rc = ZOK;
  std::string server;                 // where the request went, for messages
  std::optional<struct Stat> stat;    // kExists, kGet, kGetChildren, kCreate
  std::string value;                  // kGet
  std::vector<std::string> children;  // kGetChildren
  std::string path;                   // kCreate: the created path
};

// A watch's receiver of what the client tells it. Implemented by
// zk_watch.cc; every method runs on the client's completion thread (OnEnded
// also in Close()) and must not block.
class WatchSlot {
 public:
  virtual ~WatchSlot() = default;
  // A watch armed with this slot's id fired (ZOO_CREATED_EVENT...).
  virtual void OnFire(int type) = 0;
  // The connection is back (a new epoch): re-send what the loss failed.
  virtual void OnReconnected() = 0;
  // The session expired or the handle was closed: nothing more will come.
  virtual void OnEnded(const Status& why) = 0;
};

struct ConnOptions {
  std::vector<std::string> members;                     // "host:port" each
  std::string chroot;                                   // "" or "/a/b"
  Duration session_timeout = std::chrono::seconds(10);  // asked for
  Duration dial_timeout = std::chrono::seconds(5);      // bounds each wait for
                                                        // a connection
  const Clock* clock = &SystemClock::Get();
  // Take over this existing session instead of creating one (tests use it
  // to end a session from outside).
  std::optional<clientid_t> resume;
  // Runs after every change of connection state (and at Close), on the
  // completion thread or Close()'s caller. Must not block.
  std::function<void()> on_state;
};

class ZkConn {
 public:
  // Creates the handle; the client connects in the background. Does not
  // block beyond resolving the members' names. kUnavailable if the client
  // refuses the connect string.
  static Result<std::shared_ptr<ZkConn>> Open(ConnOptions options);

  ZkConn(const ZkConn&) = delete;
  ZkConn& operator=(const ZkConn&) = delete;
  // Close()s.
  ~ZkConn();

  struct State {
    bool connected = false;
    bool expired = false;      // the store ended the session
    bool auth_failed = false;  // the store refused our credentials
    bool closed = false;       // Close() has begun
    uint64_t epoch = 0;        // how many times the client has connected
    Duration granted{};        // the session timeout the store granted
    int64_t session_id = 0;
  };
  State state() const EXCLUDES(mu_);

  // The session's id and password, once connected: what a second handle
  // needs to take the session over (tests use it to expire a session).
  std::optional<clientid_t> client_id() const EXCLUDES(mu_);

  // Waits until the client is connected, at most until `deadline` and at
  // most the dial timeout. kUnavailable "zookeeper unreachable at <members>
  // within <d>"; kSessionLost if the session has ended.
  Status WaitConnected(MonoTime deadline) EXCLUDES(mu_);

  // Sends `request`; `done` runs later, on the completion thread, with the
  // answer (or with ZCLOSING from Close() if the client dropped it). Returns
  // the client's immediate rc: anything but ZOK means `done` never runs.
  int Send(const Request& request, std::function<void(Reply)> done)
      EXCLUDES(mu_);

  // Sends every request at once and waits for all answers until
  // `deadline`. Each unanswered one gets rc kNoAnswer. Never repeats.
  std::vector<Reply> CallAll(const std::vector<Request>& requests,
                             MonoTime deadline);

  // Like CallAll, for requests that are safe to repeat: after a lost
  // connection, waits for the client to reconnect (to this server or
  // another) and sends the whole batch again, while `deadline` allows.
  // Returns the replies, whose rc the caller interprets (ZNONODE...), or
  // the Status of the connection: kUnavailable naming every server tried
  // and what failed, kDeadlineExceeded if an answer did not come in time
  // (and, when `write`, if a lost attempt could not be repeated), or
  // kSessionLost if the session ended.
  Result<std::vector<Reply>> RunAll(const std::string& what,
                                    const std::vector<Request>& requests,
                                    MonoTime deadline, bool write = false);
  // RunAll for one request.
  Result<Reply> Run(const std::string& what, const Request& request,
                    MonoTime deadline, bool write = false);

  // Registers a watch slot; its id goes into Request::watch. A slot gets
  // OnEnded at once if the session has already ended.
  uint64_t AddWatch(const std::shared_ptr<WatchSlot>& slot) EXCLUDES(mu_);
  // Unregisters a slot: fires of its watches are dropped from then on. A
  // callback of the slot already running may still finish.
  void RemoveWatch(uint64_t id) EXCLUDES(mu_);

  // Closes the handle: a connected client tells the server to end the
  // session, which deletes its ephemeral nodes at once. Blocks until the
  // client's threads are joined (zookeeper_close waits up to 3 s to send
  // and 1.5 s for the server). Idempotent; a second caller waits for the
  // first to finish. Requests still pending complete with ZCLOSING; watch
  // slots get OnEnded.
  void Close() EXCLUDES(mu_);
  // Waits until Close() has finished, at most until `deadline`.
  bool WaitClosed(MonoTime deadline) EXCLUDES(mu_);

  // Why calls on this connection fail once the session has ended.
  Status EndedStatus() const EXCLUDES(mu_);

  const std::string& members() const { return members_; }
  const std::string& chroot() const { return options_.chroot; }
  const Clock& clock() const { return *options_.clock; }

 private:
  struct Pending {
    ZkConn* conn = nullptr;
    uint64_t id = 0;
    std::string server;
    std::function<void(Reply)> done;
  };

  explicit ZkConn(ConnOptions options);

  static void GlobalWatcher(zhandle_t* zh, int type, int state,
                            const char* path, void* context);
  static void WatchTrampoline(zhandle_t* zh, int type, int state,
                              const char* path, void* context);
  static void Finish(const void* data, Reply reply);
  static void OnStat(int rc, const struct Stat* stat, const void* data);
  static void OnData(int rc, const char* value, int value_len,
                     const struct Stat* stat, const void* data);
  static void OnChildren(int rc, const struct String_vector* strings,
                         const struct Stat* stat, const void* data);
  static void OnCreated(int rc, const char* path, const struct Stat* stat,
                        const void* data);
  static void OnVoid(int rc, const void* data);
  static void OnSynced(int rc, const char* path, const void* data);

  struct Outcome;
  Outcome Classify(const std::vector<Reply>& replies) const;
  void OnSessionEvent(zhandle_t* zh, int state) EXCLUDES(mu_);
  void OnWatchFire(uint64_t id, int type) EXCLUDES(mu_);
  void Complete(uint64_t id, Reply reply) EXCLUDES(mu_);
  static int Issue(zhandle_t* zh, const Request& request, Pending* pending);
  std::vector<std::shared_ptr<WatchSlot>> Slots() EXCLUDES(mu_);
  Status EndedStatusLocked() const REQUIRES(mu_);

  const ConnOptions options_;
  const std::string members_;  // joined with ','

  mutable Mutex mu_;
  CondVar cv_;
  zhandle_t* zh_ GUARDED_BY(mu_) = nullptr;  // owned; null once closing
  int users_ GUARDED_BY(mu_) = 0;            // threads inside a zoo_* call
  bool closing_ GUARDED_BY(mu_) = false;
  bool closed_ GUARDED_BY(mu_) = false;  // zookeeper_close has returned
  State state_ GUARDED_BY(mu_);
  std::optional<clientid_t> client_id_ GUARDED_BY(mu_);
  uint64_t next_id_ GUARDED_BY(mu_) = 0;
  std::map<uint64_t, std::unique_ptr<Pending>> pending_ GUARDED_BY(mu_);
  std::map<uint64_t, std::shared_ptr<WatchSlot>> slots_ GUARDED_BY(mu_);
};

}  // namespace conch::backend::zk
