// ZkBackend: the Backend interface over ZooKeeper's C client.
//
// Layout (zk_names.h): a prefix "/conch/v1/elect/db/" is the container node
// "/conch/v1/elect/db"; each contender is an ephemeral sequential child
// "<session-hex>-<seq10>" of it, ordered by the sequence. A key's create
// revision is its czxid, its session its ephemeralOwner.
//
// Handles: every Session has a handle of its own (zk_session.h). Reads and
// watches go on the handle of the session they concern when one is open
// here (the session named by `self`, or by a watched contender's name), so
// that a session reads its own writes and a watch dies with the session it
// serves; otherwise on the most recently opened live session's handle;
// with no session open, on a "reader" handle opened on first use.
#include "backend/zookeeper/zk_backend.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/zookeeper/zk_conn.h"
#include "backend/zookeeper/zk_names.h"
#include "backend/zookeeper/zk_session.h"
#include "backend/zookeeper/zk_watch.h"
#include "base/log.h"

namespace conch::backend {
namespace {

using zk::ChildName;
using zk::Reply;
using zk::Request;
using zk::ZkConn;

constexpr Duration kReaderTimeout = std::chrono::seconds(10);

KeyValue KvOf(const std::string& key, const Reply& reply) {
  KeyValue kv;
  kv.key = key;
  kv.value = reply.value;
  if (reply.stat) {
    kv.create_revision = reply.stat->czxid;
    kv.session = reply.stat->ephemeralOwner;
  }
  return kv;
}

// A key known by name only (FindPredecessor, Contender::first): its
// session is read from the name; create_revision stays 0, since one
// getChildren gives no Stat per child.
KeyValue NameOnly(const std::string& prefix, const ChildName& child) {
  KeyValue kv;
  kv.key = prefix + child.name;
  kv.session = child.session;
  return kv;
}

// What every handle of the backend shares; the session timeout is the
// reader's (sessions ask for their TTL).
zk::ConnOptions BaseOptions(const StoreAddress& address,
                            const BackendOptions& options) {
  zk::ConnOptions out;
  out.members = address.members;
  out.chroot = address.chroot;
  out.session_timeout = std::max(kReaderTimeout, options.dial_timeout);
  out.dial_timeout = options.dial_timeout;
  out.clock = options.clock;
  return out;
}

class ZkBackend final : public Backend {
 public:
  ZkBackend(const StoreAddress& address, const BackendOptions& options)
      : base_(BaseOptions(address, options)) {}

  std::string_view name() const override { return "zookeeper"; }

  Result<std::unique_ptr<Session>> OpenSession(Duration ttl, MonoTime deadline,
                                               EventSink* sink,
                                               uint64_t tag) override {
    Result<std::unique_ptr<Session>> session =
        zk::OpenZkSession(base_, ttl, deadline, sink, tag);
    if (!session.ok()) return session;
    sessions_.push_back(zk::ConnOf(**session));
    // Reads go on the session from now: the reader's session ends (the
    // ZkConn lives on while watches started on it do).
    reader_.reset();
    return session;
  }

  Result<Contender> CreateContender(Session& session, const std::string& prefix,
                                    const std::string& value,
                                    MonoTime deadline) override;
  Result<Predecessor> FindPredecessor(const std::string& prefix,
                                      const KeyValue& self,
                                      MonoTime deadline) override;
  Result<std::vector<KeyValue>> List(const std::string& prefix, int64_t limit,
                                     MonoTime deadline) override;
  Result<std::vector<KeyValue>> ListThrough(const std::string& prefix,
                                            const KeyValue& self,
                                            MonoTime deadline) override;
  Result<std::optional<KeyValue>> Get(const std::string& key,
                                      MonoTime deadline) override;
  Result<bool> PutIfOwned(const KeyValue& self, const std::string& value,
                          MonoTime deadline) override;
  Result<bool> DeleteIfOwned(const KeyValue& self, MonoTime deadline) override;
  Status Put(const std::string& key, const std::string& value, Session* session,
             MonoTime deadline) override;
  Result<bool> Delete(const std::string& key, MonoTime deadline) override;
  Result<std::vector<KeyValue>> ListRecords(const std::string& dir, bool values,
                                            MonoTime deadline) override;
  Result<std::optional<KeyValue>> ClaimInOrder(const std::string& dir,
                                               const std::string& name,
                                               const std::string& value,
                                               MonoTime deadline) override;
  Result<std::vector<KeyValue>> ListTree(const std::string& prefix,
                                         MonoTime deadline) override;
  std::unique_ptr<Watch> StartWatch(std::vector<WatchSpec> specs,
                                    EventSink* sink, uint64_t tag) override;

 private:
  Result<std::shared_ptr<ZkConn>> ConnFor(int64_t session_id);
  Result<std::shared_ptr<ZkConn>> Current();
  Result<KeyValue> CreateOwn(ZkConn& conn, const std::string& prefix,
                             const std::string& hex, const std::string& value,
                             MonoTime deadline, bool* created,
                             std::optional<std::vector<ChildName>>* queue);
  Status MakeParents(ZkConn& conn, const std::string& path, MonoTime deadline);
  Status MakeChroot(const std::string& chroot, MonoTime deadline);

  const zk::ConnOptions base_;  // members, chroot, dial timeout, clock
  // Owner thread only, as every Backend call.
  std::vector<std::weak_ptr<ZkConn>> sessions_;  // in opening order
  std::shared_ptr<ZkConn> reader_;
  bool containers_ = true;  // false once the server refused ZOO_CONTAINER
};

// ---------------------------------------------------------------------------
// Choosing a handle.

bool Live(const ZkConn& conn) {
  ZkConn::State state = conn.state();
  return !state.closed && !state.expired && !state.auth_failed;
}

// The handle of session `session_id` if it is open here, else Current().
Result<std::shared_ptr<ZkConn>> ZkBackend::ConnFor(int64_t session_id) {
  for (const std::weak_ptr<ZkConn>& weak : sessions_) {
    std::shared_ptr<ZkConn> conn = weak.lock();
    if (conn && Live(*conn) && conn->state().session_id == session_id) {
      return conn;
    }
  }
  return Current();
}

// The most recently opened live session's handle, else the reader's
// (opened, or opened again after its session expired, here).
Result<std::shared_ptr<ZkConn>> ZkBackend::Current() {
  std::erase_if(sessions_, [](const std::weak_ptr<ZkConn>& weak) {
    return weak.expired();
  });
  for (size_t i = sessions_.size(); i-- > 0;) {  // newest first
    std::shared_ptr<ZkConn> conn = sessions_[i].lock();
    if (conn && Live(*conn)) return conn;
  }
  if (!reader_ || !Live(*reader_)) {
    Result<std::shared_ptr<ZkConn>> reader = ZkConn::Open(base_);
    if (!reader.ok()) return reader.status();
    reader_ = std::move(*reader);
  }
  return reader_;
}

// ---------------------------------------------------------------------------
// Reading a queue.

// The names of a listing that follow the layout, oldest first; the others
// are left out with a debug line.
std::vector<ChildName> SortedListing(const std::vector<std::string>& names,
                                     const std::string& what) {
  std::vector<std::string> ignored;
  std::vector<ChildName> sorted = zk::SortChildren(names, &ignored);
  const std::string note = "zookeeper: " + what + ": ignoring child ";
  for (const std::string& name : ignored) LogDebug(note + name);
  return sorted;
}

// The children of `prefix`'s parent that follow the layout, oldest first;
// none if the parent does not exist.
Result<std::vector<ChildName>> Children(ZkConn& conn, const std::string& prefix,
                                        const std::string& what,
                                        MonoTime deadline) {
  Result<Reply> reply =
      conn.Run(what, zk::ChildrenRequest(zk::ParentOfPrefix(prefix)), deadline);
  if (!reply.ok()) return reply.status();
  if (reply->rc == ZNONODE) return std::vector<ChildName>();
  if (reply->rc != ZOK) return zk::FromZk(reply->rc, what);
  return SortedListing(reply->children, what);
}

// Reads value and Stat of each child at once (every getData is sent before
// the first answer is awaited); children deleted meanwhile are left out.
Result<std::vector<KeyValue>> ReadAll(ZkConn& conn, const std::string& prefix,
                                      const std::vector<ChildName>& children,
                                      const std::string& what,
                                      MonoTime deadline) {
  std::vector<Request> requests;
  requests.reserve(children.size());
  for (const ChildName& child : children) {
    requests.push_back(zk::GetRequest(prefix + child.name));
  }
  Result<std::vector<Reply>> replies = conn.RunAll(what, requests, deadline);
  if (!replies.ok()) return replies.status();
  std::vector<KeyValue> out;
  out.reserve(children.size());
  for (size_t i = 0; i < children.size(); ++i) {
    const Reply& reply = (*replies)[i];
    if (reply.rc == ZNONODE) continue;
    if (reply.rc != ZOK) return zk::FromZk(reply.rc, what);
    out.push_back(KvOf(requests[i].path, reply));
  }
  return out;
}

Result<Predecessor> ZkBackend::FindPredecessor(const std::string& prefix,
                                               const KeyValue& self,
                                               MonoTime deadline) {
  CONCH_RETURN_IF_ERROR(zk::CheckPrefix(prefix));
  const std::string what = "read queue " + prefix;
  Result<std::shared_ptr<ZkConn>> conn = ConnFor(self.session);
  if (!conn.ok()) return conn.status().With(what);
  Result<std::vector<ChildName>> sorted =
      Children(**conn, prefix, what, deadline);
  if (!sorted.ok()) return sorted.status();
  zk::Position pos = zk::Locate(*sorted, zk::BaseName(self.key));
  Predecessor out;
  out.self_present = pos.self_present;
  if (pos.previous) out.previous = NameOnly(prefix, *pos.previous);
  if (pos.first) out.first = NameOnly(prefix, *pos.first);
  return out;
}

Result<std::vector<KeyValue>> ZkBackend::List(const std::string& prefix,
                                              int64_t limit,
                                              MonoTime deadline) {
  CONCH_RETURN_IF_ERROR(zk::CheckPrefix(prefix));
  const std::string what = "list " + prefix;
  Result<std::shared_ptr<ZkConn>> conn = Current();
  if (!conn.ok()) return conn.status().With(what);
  Result<std::vector<ChildName>> sorted =
      Children(**conn, prefix, what, deadline);
  if (!sorted.ok()) return sorted.status();
  if (limit > 0 && sorted->size() > static_cast<size_t>(limit)) {
    sorted->resize(static_cast<size_t>(limit));
  }
  return ReadAll(**conn, prefix, *sorted, what, deadline);
}

Result<std::vector<KeyValue>> ZkBackend::ListThrough(const std::string& prefix,
                                                     const KeyValue& self,
                                                     MonoTime deadline) {
  CONCH_RETURN_IF_ERROR(zk::CheckPrefix(prefix));
  const std::string what = "list " + prefix;
  std::optional<ChildName> own = zk::ParseChildName(zk::BaseName(self.key));
  if (!own) {
    return Error(Code::kInvalidArgument,
                 what + ": " + self.key + " is not a contender's key");
  }
  Result<std::shared_ptr<ZkConn>> conn = ConnFor(self.session);
  if (!conn.ok()) return conn.status().With(what);
  Result<std::vector<ChildName>> sorted =
      Children(**conn, prefix, what, deadline);
  if (!sorted.ok()) return sorted.status();
  Result<std::vector<KeyValue>> kvs = ReadAll(
      **conn, prefix, zk::Through(*sorted, own->sequence), what, deadline);
  if (!kvs.ok()) return kvs;
  // Sequences restart when a container is deleted and created again; a
  // key created after ours (higher czxid) is never ahead of it.
  std::erase_if(*kvs, [&](const KeyValue& kv) {
    return kv.create_revision > self.create_revision;
  });
  return kvs;
}

Result<std::optional<KeyValue>> ZkBackend::Get(const std::string& key,
                                               MonoTime deadline) {
  CONCH_RETURN_IF_ERROR(zk::CheckKey(key));
  const std::string what = "read " + key;
  Result<std::shared_ptr<ZkConn>> conn = Current();
  if (!conn.ok()) return conn.status().With(what);
  Result<Reply> reply = (*conn)->Run(what, zk::GetRequest(key), deadline);
  if (!reply.ok()) return reply.status();
  if (reply->rc == ZNONODE) return std::optional<KeyValue>();
  if (reply->rc != ZOK) return zk::FromZk(reply->rc, what);
  return std::optional<KeyValue>(KvOf(key, *reply));
}

// ---------------------------------------------------------------------------
// Guarded writes: a node is ours while it exists with our czxid. The write
// carries the version the check saw, so a write in between (ZBADVERSION)
// sends us back to check again. The one window left: our node deleted and
// a node of the same name created, at the same version, between the check
// and the write; sequential names make that name unique to our session.

Result<std::optional<struct Stat>> OwnStat(ZkConn& conn, const KeyValue& self,
                                           const std::string& what,
                                           MonoTime deadline) {
  Result<Reply> reply = conn.Run(what, zk::ExistsRequest(self.key), deadline);
  if (!reply.ok()) return reply.status();
  if (reply->rc == ZNONODE) return std::optional<struct Stat>();
  if (reply->rc != ZOK || !reply->stat) return zk::FromZk(reply->rc, what);
  if (reply->stat->czxid != self.create_revision) {
    return std::optional<struct Stat>();
  }
  return reply->stat;
}

// A write fenced on `self`: checks that the node still has our czxid, then
// sends `request(version)` guarded by the version just read. ZBADVERSION
// (changed since the check, perhaps by our own lost attempt) checks again;
// ZNONODE means gone (deleted by someone, or by our own lost attempt).
Result<bool> GuardedWrite(ZkConn& conn, const KeyValue& self,
                          const std::string& what, MonoTime deadline,
                          const std::function<Request(int)>& request) {
  for (;;) {
    Result<std::optional<struct Stat>> stat =
        OwnStat(conn, self, what, deadline);
    if (!stat.ok()) return stat.status();
    if (!*stat) return false;
    Result<Reply> reply =
        conn.Run(what, request((*stat)->version), deadline, /*write=*/true);
    if (!reply.ok()) return reply.status();
    if (reply->rc == ZOK) return true;
    if (reply->rc == ZNONODE) return false;
    if (reply->rc == ZBADVERSION) continue;
    return zk::FromZk(reply->rc, what);
  }
}

Result<bool> ZkBackend::PutIfOwned(const KeyValue& self,
                                   const std::string& value,
                                   MonoTime deadline) {
  CONCH_RETURN_IF_ERROR(zk::CheckKey(self.key));
  const std::string what = "update " + self.key;
  Result<std::shared_ptr<ZkConn>> conn = ConnFor(self.session);
  if (!conn.ok()) return conn.status().With(what);
  return GuardedWrite(**conn, self, what, deadline, [&](int version) {
    return zk::SetRequest(self.key, value, version);
  });
}

Result<bool> ZkBackend::DeleteIfOwned(const KeyValue& self, MonoTime deadline) {
  CONCH_RETURN_IF_ERROR(zk::CheckKey(self.key));
  const std::string what = "delete " + self.key;
  Result<std::shared_ptr<ZkConn>> conn = ConnFor(self.session);
  if (!conn.ok()) return conn.status().With(what);
  return GuardedWrite(**conn, self, what, deadline, [&](int version) {
    return zk::DeleteRequest(self.key, version);
  });
}

// ---------------------------------------------------------------------------
// Contenders.

// Creates `path` and each missing ancestor as container nodes (persistent
// ones on a server without containers): the deepest first, and on ZNONODE
// its parent, recursively. "Already exists" is success. With a chroot, "/"
// is the chroot node itself; its missing ancestors are created by
// MakeChroot.
Status ZkBackend::MakeParents(ZkConn& conn, const std::string& path,
                              MonoTime deadline) {
  if (path == "/" && conn.chroot().empty()) return Status::Ok();
  const std::string what = "create " + path;
  for (;;) {
    Result<Reply> reply =
        conn.Run(what,
                 zk::CreateRequest(
                     path, "", containers_ ? ZOO_CONTAINER : ZOO_PERSISTENT),
                 deadline);
    if (!reply.ok()) return reply.status();
    if (reply->rc == ZOK || reply->rc == ZNODEEXISTS) return Status::Ok();
    if (reply->rc == ZUNIMPLEMENTED && containers_) {
      containers_ = false;
      LogDebug(
          "zookeeper: the server has no container nodes (before 3.5): "
          "parents are created persistent");
      continue;
    }
    if (reply->rc != ZNONODE) return zk::FromZk(reply->rc, what);
    if (path == "/") {
      CONCH_RETURN_IF_ERROR(MakeChroot(conn.chroot(), deadline));
      continue;
    }
    CONCH_RETURN_IF_ERROR(MakeParents(conn, zk::ParentOf(path), deadline));
  }
}

// Creates the chroot's missing ancestors, as containers like every parent,
// over a short-lived handle without the chroot (a chrooted handle cannot
// name anything above its root). Only the first run under a new chroot
// pays for it.
Status ZkBackend::MakeChroot(const std::string& chroot, MonoTime deadline) {
  const std::string what = "create chroot " + chroot;
  zk::ConnOptions options = base_;
  options.chroot.clear();
  Result<std::shared_ptr<ZkConn>> root = ZkConn::Open(options);
  if (!root.ok()) return root.status().With(what);
  LogDebug("zookeeper: " + what + " and its missing ancestors");
  Status made = MakeParents(**root, zk::ParentOf(chroot), deadline);
  return made.ok() ? made : made.With(what);
}

// Our own child under `prefix`, if the session has one: the lookup after a
// create whose answer was lost. The sync first makes the server we read
// from catch up with the leader, so a create that went through (on this or
// an earlier connection) is seen.
Result<std::optional<KeyValue>> FindOwn(ZkConn& conn, const std::string& prefix,
                                        const std::string& hex,
                                        MonoTime deadline) {
  const std::string what = "look for our key under " + prefix;
  Result<Reply> synced =
      conn.Run(what, zk::SyncRequest(zk::ParentOfPrefix(prefix)), deadline);
  if (!synced.ok()) return synced.status();
  Result<std::vector<ChildName>> sorted =
      Children(conn, prefix, what, deadline);
  if (!sorted.ok()) return sorted.status();
  std::vector<ChildName> mine = zk::ChildrenOf(*sorted, hex);
  if (mine.empty()) return std::optional<KeyValue>();
  Result<std::vector<KeyValue>> kvs =
      ReadAll(conn, prefix, {mine.front()}, what, deadline);
  if (!kvs.ok()) return kvs.status();
  if (kvs->empty()) return std::optional<KeyValue>();
  LogDebug(what + ": found " + kvs->front().key);
  return std::optional<KeyValue>(kvs->front());
}

// What one create attempt showed, when it did not fail outright.
struct Attempt {
  std::optional<KeyValue> self;  // created
  // The queue as the server saw it right after the create, when the list
  // sent behind it was answered.
  std::optional<std::vector<ChildName>> queue;
  bool missing_parent = false;  // ZNONODE
  bool lost = false;            // connection lost: outcome unknown
};

// Sends the create and, behind it in the same batch, the listing of the
// queue: a session's requests are applied in order, so the listing shows
// the new node, and the caller learns its place without another round
// trip.
Result<Attempt> CreateOnce(ZkConn& conn, const Request& create,
                           const std::string& prefix, const std::string& what,
                           MonoTime deadline) {
  Status up = conn.WaitConnected(deadline);
  if (!up.ok()) return up.With(what);
  std::vector<Reply> replies = conn.CallAll(
      {create, zk::ChildrenRequest(zk::ParentOfPrefix(prefix))}, deadline);
  const Reply& reply = replies.front();
  Attempt out;
  if (reply.rc == ZOK && reply.stat) {
    out.self = KeyValue{reply.path, create.value, reply.stat->czxid,
                        reply.stat->ephemeralOwner};
    const Reply& listed = replies.back();
    if (listed.rc == ZOK) out.queue = SortedListing(listed.children, what);
  } else if (reply.rc == ZNONODE) {
    out.missing_parent = true;
  } else if (zk::IsConnectionLoss(reply.rc)) {
    LogDebug(what + ": " + reply.server +
             " lost the connection; looking for our key");
    out.lost = true;
  } else if (reply.rc == zk::kNoAnswer) {
    return Error(Code::kDeadlineExceeded,
                 what + ": zookeeper: no answer from " + reply.server +
                     " by the deadline; outcome unknown");
  } else if (reply.rc == ZINVALIDSTATE || reply.rc == ZCLOSING) {
    Status ended = conn.EndedStatus();
    return ended.ok() ? zk::FromZk(reply.rc, what) : ended.With(what);
  } else {
    return zk::FromZk(reply.rc, what);
  }
  return out;
}

// Creates our contender, or finds the one an earlier attempt created. A
// create answered "connection loss" may or may not have happened: the
// children are listed and a child "<hex>-..." is ours; only if there is
// none is the create sent again. A container may be deleted by the server
// between our creating it and creating the child in it (it is empty then),
// so ZNONODE creates the parents again, as often as the deadline allows.
// When the create went through at the first answer, *queue gets the
// listing sent behind it (if that was answered too).
Result<KeyValue> ZkBackend::CreateOwn(
    ZkConn& conn, const std::string& prefix, const std::string& hex,
    const std::string& value, MonoTime deadline, bool* created,
    std::optional<std::vector<ChildName>>* queue) {
  const std::string what = "create contender under " + prefix;
  const Request create =
      zk::CreateRequest(prefix + hex + "-", value, ZOO_EPHEMERAL_SEQUENTIAL);
  for (;;) {
    if (conn.clock().Now() >= deadline) {
      return Error(Code::kDeadlineExceeded,
                   what + ": zookeeper: deadline passed");
    }
    Result<Attempt> attempt = CreateOnce(conn, create, prefix, what, deadline);
    if (!attempt.ok()) return attempt.status();
    if (attempt->self) {
      *created = true;
      if (queue != nullptr) *queue = std::move(attempt->queue);
      return std::move(*attempt->self);
    }
    if (attempt->missing_parent) {
      CONCH_RETURN_IF_ERROR(
          MakeParents(conn, zk::ParentOfPrefix(prefix), deadline));
      continue;
    }
    // Lost: look for it before creating again.
    Result<std::optional<KeyValue>> own = FindOwn(conn, prefix, hex, deadline);
    if (!own.ok()) {
      Code code = own.status().code() == Code::kUnavailable
                      ? Code::kDeadlineExceeded
                      : own.status().code();
      return Status(code, own.status().message() + "; outcome unknown");
    }
    if (*own) {
      *created = false;
      return std::move(**own);
    }
  }
}

Result<Contender> ZkBackend::CreateContender(Session& session,
                                             const std::string& prefix,
                                             const std::string& value,
                                             MonoTime deadline) {
  CONCH_RETURN_IF_ERROR(zk::CheckPrefix(prefix));
  std::shared_ptr<ZkConn> conn = zk::ConnOf(session);
  CONCH_CHECK(conn != nullptr);  // a Session of another backend is a bug
  const std::string hex = zk::SessionHex(session.id());
  const std::string what = "create contender under " + prefix;
  Contender out;
  std::optional<std::vector<ChildName>> listed;
  Result<KeyValue> self =
      CreateOwn(*conn, prefix, hex, value, deadline, &out.created, &listed);
  if (!self.ok()) return self.status();
  out.self = std::move(*self);
  Result<std::vector<ChildName>> sorted =
      listed ? Result<std::vector<ChildName>>(std::move(*listed))
             : Children(*conn, prefix, what, deadline);
  if (!sorted.ok()) return sorted.status();
  std::vector<ChildName> mine = zk::ChildrenOf(*sorted, hex);
  if (out.created && !mine.empty() &&
      mine.front().name != zk::BaseName(out.self.key)) {
    // The session already had a contender here, from an earlier call whose
    // answer was lost: keep that one, as etcd's one key per session does,
    // and take back the one just made, of which nobody has been told.
    Result<std::vector<KeyValue>> older =
        ReadAll(*conn, prefix, {mine.front()}, what, deadline);
    if (!older.ok()) return older.status();
    if (!older->empty()) {
      Result<bool> deleted = DeleteIfOwned(out.self, deadline);
      if (!deleted.ok()) return deleted.status();
      LogDebug(what + ": kept " + older->front().key + ", deleted " +
               out.self.key);
      std::string extra(zk::BaseName(out.self.key));
      std::erase_if(*sorted,
                    [&](const ChildName& c) { return c.name == extra; });
      out.self = std::move(older->front());
      out.created = false;
    }
  }
  if (!sorted->empty()) {
    if (sorted->front().name == zk::BaseName(out.self.key)) {
      out.first = out.self;
    } else {
      out.first = NameOnly(prefix, sorted->front());
    }
  }
  zk::NoteOwnNode(session, out.self.key);
  return out;
}

// ---------------------------------------------------------------------------
// Records.

Status ZkBackend::Put(const std::string& key, const std::string& value,
                      Session* session, MonoTime deadline) {
  CONCH_RETURN_IF_ERROR(zk::CheckKey(key));
  const std::string what = "write " + key;
  std::shared_ptr<ZkConn> conn;
  if (session != nullptr) {
    conn = zk::ConnOf(*session);
    CONCH_CHECK(conn != nullptr);  // a Session of another backend is a bug
  } else {
    Result<std::shared_ptr<ZkConn>> current = Current();
    if (!current.ok()) return current.status().With(what);
    conn = std::move(*current);
  }
  // Set the value if the node exists, else create it; a create that meets
  // a node (another writer, or our own lost attempt) sets again.
  for (;;) {
    Result<Reply> set = conn->Run(what, zk::SetRequest(key, value, -1),
                                  deadline, /*write=*/true);
    if (!set.ok()) return set.status();
    if (set->rc == ZOK) return Status::Ok();
    if (set->rc != ZNONODE) return zk::FromZk(set->rc, what);
    Result<Reply> made = conn->Run(
        what,
        zk::CreateRequest(key, value,
                          session != nullptr ? ZOO_EPHEMERAL : ZOO_PERSISTENT),
        deadline, /*write=*/true);
    if (!made.ok()) return made.status();
    if (made->rc == ZOK) return Status::Ok();
    if (made->rc == ZNONODE) {
      CONCH_RETURN_IF_ERROR(MakeParents(*conn, zk::ParentOf(key), deadline));
    } else if (made->rc != ZNODEEXISTS) {
      return zk::FromZk(made->rc, what);
    }
    if (conn->clock().Now() >= deadline) {
      return Error(Code::kDeadlineExceeded,
                   what + ": zookeeper: deadline passed");
    }
  }
}

Result<bool> ZkBackend::Delete(const std::string& key, MonoTime deadline) {
  CONCH_RETURN_IF_ERROR(zk::CheckKey(key));
  const std::string what = "delete " + key;
  Result<std::shared_ptr<ZkConn>> conn = Current();
  if (!conn.ok()) return conn.status().With(what);
  Result<Reply> reply =
      (*conn)->Run(what, zk::DeleteRequest(key, -1), deadline, /*write=*/true);
  if (!reply.ok()) return reply.status();
  if (reply->rc == ZNONODE) return false;
  if (reply->rc != ZOK) return zk::FromZk(reply->rc, what);
  return true;
}

Result<std::vector<KeyValue>> ZkBackend::ListRecords(const std::string& dir,
                                                     bool values,
                                                     MonoTime deadline) {
  CONCH_RETURN_IF_ERROR(zk::CheckPrefix(dir));
  const std::string what = "list " + dir;
  Result<std::shared_ptr<ZkConn>> conn = Current();
  if (!conn.ok()) return conn.status().With(what);
  Result<Reply> listed = (*conn)->Run(
      what, zk::ChildrenRequest(zk::ParentOfPrefix(dir)), deadline);
  if (!listed.ok()) return listed.status();
  if (listed->rc == ZNONODE) return std::vector<KeyValue>();
  if (listed->rc != ZOK) return zk::FromZk(listed->rc, what);
  std::vector<ChildName> sorted = zk::SortRecords(listed->children);
  if (values) return ReadAll(**conn, dir, sorted, what, deadline);
  std::vector<KeyValue> out;
  out.reserve(sorted.size());
  for (const ChildName& child : sorted) out.push_back(NameOnly(dir, child));
  return out;
}

Result<std::optional<KeyValue>> ZkBackend::ClaimInOrder(
    const std::string& dir, const std::string& name, const std::string& value,
    MonoTime deadline) {
  CONCH_RETURN_IF_ERROR(zk::CheckPrefix(dir));
  const std::string key = dir + name;
  CONCH_RETURN_IF_ERROR(zk::CheckKey(key));
  const std::string what = "claim " + key;
  Result<std::shared_ptr<ZkConn>> conn = Current();
  if (!conn.ok()) return conn.status().With(what);
  // The create, and behind it the listing: requests are applied in order,
  // so the listing shows every record created before ours.
  const std::vector<Request> batch = {
      zk::CreateRequest(key, value, ZOO_PERSISTENT),
      zk::ChildrenRequest(zk::ParentOfPrefix(dir))};
  for (;;) {
    Result<std::vector<Reply>> replies =
        (*conn)->RunAll(what, batch, deadline, /*write=*/true);
    if (!replies.ok()) return replies.status();
    const Reply& made = replies->front();
    if (made.rc == ZNONODE) {
      CONCH_RETURN_IF_ERROR(
          MakeParents(**conn, zk::ParentOfPrefix(dir), deadline));
      continue;
    }
    std::optional<KeyValue> self;
    if (made.rc == ZOK && made.stat) {
      self = KeyValue{key, value, made.stat->czxid, 0};
    } else if (made.rc == ZNODEEXISTS) {
      // Taken: by another claimer, or by our own attempt whose answer a
      // lost connection swallowed (RunAll sent it again).
      Result<std::optional<KeyValue>> found = Get(key, deadline);
      if (!found.ok()) return found.status();
      if (!*found || (*found)->value != value) {
        return std::optional<KeyValue>();
      }
      self = std::move(*found);
    } else {
      return zk::FromZk(made.rc, what);
    }
    const Reply& listed = replies->back();
    if (listed.rc != ZOK) return zk::FromZk(listed.rc, what);
    bool later =
        std::any_of(listed.children.begin(), listed.children.end(),
                    [&](const std::string& child) { return child > name; });
    if (!later) return self;
    // A later record exists: this place in the series has passed. Take
    // ours back, so that nothing of it remains.
    Result<bool> taken_back = DeleteIfOwned(*self, deadline);
    if (!taken_back.ok()) return taken_back.status();
    LogDebug(what + ": a later record exists; taken back");
    return std::optional<KeyValue>();
  }
}

// ---------------------------------------------------------------------------
// A whole subtree.

std::string ChildPath(const std::string& parent, const std::string& name) {
  return parent == "/" ? "/" + name : parent + "/" + name;
}

// The childless nodes under `root`, level by level: one batch of
// getChildren per level, every request of it sent before the first answer
// is awaited. Nodes deleted meanwhile are left out.
Result<std::vector<std::string>> FindLeaves(ZkConn& conn,
                                            const std::string& root,
                                            const std::string& what,
                                            MonoTime deadline) {
  std::vector<std::string> level = {root};
  std::vector<std::string> leaves;
  for (int depth = 0; !level.empty(); ++depth) {
    std::vector<Request> requests;
    requests.reserve(level.size());
    for (const std::string& path : level) {
      requests.push_back(zk::ChildrenRequest(path));
    }
    Result<std::vector<Reply>> replies = conn.RunAll(what, requests, deadline);
    if (!replies.ok()) return replies.status();
    std::vector<std::string> next;
    for (size_t i = 0; i < level.size(); ++i) {
      const Reply& reply = (*replies)[i];
      if (reply.rc == ZNONODE) continue;
      if (reply.rc != ZOK) return zk::FromZk(reply.rc, what);
      if (reply.children.empty()) {
        if (depth > 0) leaves.push_back(level[i]);
        continue;
      }
      if (depth == Backend::kMaxTreeDepth) {
        return Error(Code::kFailedPrecondition,
                     what + ": " + ChildPath(level[i], reply.children.front()) +
                         " lies more than " +
                         std::to_string(Backend::kMaxTreeDepth) +
                         " levels below the prefix");
      }
      for (const std::string& child : reply.children) {
        // The server's own subtree, under the real root only.
        if (level[i] == "/" && conn.chroot().empty() && child == "zookeeper") {
          continue;
        }
        next.push_back(ChildPath(level[i], child));
      }
    }
    // Each node of the next level is a key or the parent of one, or an
    // empty parent: either way the walk has met too many.
    if (leaves.size() + next.size() > Backend::kMaxTreeKeys) {
      return Error(Code::kFailedPrecondition,
                   what + ": more than " +
                       std::to_string(Backend::kMaxTreeKeys) +
                       " nodes; not reading them all");
    }
    level = std::move(next);
  }
  return leaves;
}

// Reads every leaf at once, as ReadAll does. A childless node with an
// empty value and no session is a parent left empty: a container lingers
// until the server's sweep (every minute by default) removes it.
Result<std::vector<KeyValue>> ReadLeaves(ZkConn& conn,
                                         const std::vector<std::string>& paths,
                                         const std::string& what,
                                         MonoTime deadline) {
  if (paths.empty()) return std::vector<KeyValue>();
  std::vector<Request> requests;
  requests.reserve(paths.size());
  for (const std::string& path : paths) {
    requests.push_back(zk::GetRequest(path));
  }
  Result<std::vector<Reply>> replies = conn.RunAll(what, requests, deadline);
  if (!replies.ok()) return replies.status();
  std::vector<KeyValue> out;
  out.reserve(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    const Reply& reply = (*replies)[i];
    if (reply.rc == ZNONODE) continue;
    if (reply.rc != ZOK) return zk::FromZk(reply.rc, what);
    KeyValue kv = KvOf(paths[i], reply);
    if (kv.value.empty() && kv.session == 0) continue;
    out.push_back(std::move(kv));
  }
  return out;
}

Result<std::vector<KeyValue>> ZkBackend::ListTree(const std::string& prefix,
                                                  MonoTime deadline) {
  CONCH_RETURN_IF_ERROR(zk::CheckPrefix(prefix));
  const std::string what = "list tree " + prefix;
  Result<std::shared_ptr<ZkConn>> conn = Current();
  if (!conn.ok()) return conn.status().With(what);
  Result<std::vector<std::string>> leaves =
      FindLeaves(**conn, zk::ParentOfPrefix(prefix), what, deadline);
  if (!leaves.ok()) return leaves.status();
  Result<std::vector<KeyValue>> kvs =
      ReadLeaves(**conn, *leaves, what, deadline);
  if (!kvs.ok()) return kvs;
  std::sort(kvs->begin(), kvs->end(),
            [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; });
  return kvs;
}

std::unique_ptr<Watch> ZkBackend::StartWatch(std::vector<WatchSpec> specs,
                                             EventSink* sink, uint64_t tag) {
  // A watch serves the session whose contender it follows (the primitives
  // watch their own key first), so that it dies with that session.
  std::optional<int64_t> session;
  for (const WatchSpec& spec : specs) {
    if (spec.prefix) continue;
    if (std::optional<ChildName> c =
            zk::ParseChildName(zk::BaseName(spec.key))) {
      session = c->session;
      break;
    }
  }
  Result<std::shared_ptr<ZkConn>> conn =
      session ? ConnFor(*session) : Current();
  if (!conn.ok()) {
    return zk::FailedZkWatch(conn.status().With("watch"), sink, tag);
  }
  return zk::StartZkWatch(std::move(*conn), std::move(specs), sink, tag);
}

}  // namespace

Result<std::unique_ptr<Backend>> OpenZooKeeper(const StoreAddress& address,
                                               const BackendOptions& options) {
  if (address.kind != StoreKind::kZooKeeper || address.members.empty()) {
    return Error(Code::kInvalidArgument, "not a zookeeper address");
  }
  return std::unique_ptr<Backend>(
      std::make_unique<ZkBackend>(address, options));
}

Status ExpireZooKeeperSession(Session& session, const std::string& endpoints,
                              MonoTime deadline) {
  std::shared_ptr<ZkConn> victim = zk::ConnOf(session);
  if (!victim) {
    return Error(Code::kInvalidArgument, "not a zookeeper session");
  }
  const std::string what =
      "expire zookeeper session " + zk::SessionHex(session.id());
  std::optional<clientid_t> id = victim->client_id();
  Result<StoreAddress> address = ParseStoreAddress(endpoints);
  if (!address.ok()) return address.status().With(what);
  if (!id || address->kind != StoreKind::kZooKeeper) {
    return Error(Code::kInvalidArgument, what + ": no credentials");
  }
  // A second client takes the session over and closes it. The holder may
  // take it back in between (its client reconnects at once when the server
  // drops its connection), and the close then goes nowhere: so take it
  // over again until the server answers that the session has expired.
  for (;;) {
    zk::ConnOptions options;
    options.members = address->members;
    options.session_timeout = session.ttl();
    options.dial_timeout = deadline - SystemClock::Get().Now();
    options.resume = id;
    Result<std::shared_ptr<ZkConn>> thief = ZkConn::Open(options);
    if (!thief.ok()) return thief.status().With(what);
    Status up = (*thief)->WaitConnected(deadline);
    if (up.code() == Code::kSessionLost) return Status::Ok();  // expired
    if (!up.ok()) return up.With(what);
    (*thief)->Close();
  }
}

}  // namespace conch::backend
