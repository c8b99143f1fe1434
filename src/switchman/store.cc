#include "switchman/store.h"

#include <algorithm>
#include <deque>

#include "backend/store.h"
#include "backend/zookeeper/zk_names.h"
#include "backend/zookeeper/zk_session.h"
#include "base/log.h"
#include "base/mutex.h"
#include "base/strings.h"

namespace conch::switchman {

namespace zk = backend::zk;

// Where the connection's threads leave Fires for the owner thread. Shared
// with the watch slots and pending probes, which may outlive the Store.
struct FireBox {
  explicit FireBox(backend::EventSink* s) : sink(s) {}

  void Push(Fire fire) EXCLUDES(mu) {
    const uint64_t tag = fire.tag;
    {
      MutexLock lock(mu);
      if (closed) return;
      fires.push_back(std::move(fire));
    }
    backend::Event wake;
    wake.kind = backend::Event::Kind::kWatch;
    wake.tag = tag;
    sink->Push(std::move(wake));
  }
  std::vector<Fire> Take() EXCLUDES(mu) {
    MutexLock lock(mu);
    std::vector<Fire> out(std::make_move_iterator(fires.begin()),
                          std::make_move_iterator(fires.end()));
    fires.clear();
    return out;
  }
  void Close() EXCLUDES(mu) {
    MutexLock lock(mu);
    closed = true;
  }

  Mutex mu;
  bool closed GUARDED_BY(mu) = false;
  std::deque<Fire> fires GUARDED_BY(mu);
  backend::EventSink* const sink;  // the session's; outlived while open
};

namespace {

class TagSlot final : public zk::WatchSlot {
 public:
  TagSlot(std::shared_ptr<FireBox> box, uint64_t tag)
      : box_(std::move(box)), tag_(tag) {}

  void OnFire(int type) override {
    Fire f;
    f.kind = Fire::Kind::kFired;
    f.tag = tag_;
    f.type = type;
    box_->Push(std::move(f));
  }
  // The client registers its watches again on a new connection, and the
  // server fires those whose nodes changed meanwhile; only probes that the
  // loss failed need sending again.
  void OnReconnected() override {
    Fire f;
    f.kind = Fire::Kind::kReconnected;
    f.tag = tag_;
    box_->Push(std::move(f));
  }
  // The session's end reaches the owner thread through the session.
  void OnEnded(const Status& /*why*/) override {}

 private:
  const std::shared_ptr<FireBox> box_;
  const uint64_t tag_;
};

// Whether `name` is `stem` followed by a sequence suffix.
bool IsSequenced(std::string_view name, std::string_view stem) {
  if (!name.starts_with(stem) || name.size() == stem.size()) return false;
  return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(stem.size()),
                     name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Status SessionEnded(const std::string& what, int rc) {
  return Error(
      Code::kSessionLost,
      what + ": zookeeper: the session ended (rc " + std::to_string(rc) + ")");
}

}  // namespace

Store::Store(std::unique_ptr<backend::Backend> backend,
             const StoreOptions& options)
    : options_(options),
      backend_(std::move(backend)),
      session_(backend_.get(),
               primitives::SessionOptions{
                   options.session_timeout, options.kill_after,
                   options.request_timeout, options.clock}),
      box_(std::make_shared<FireBox>(&session_.sink())) {}

Store::~Store() {
  box_->Close();
  if (conn_ != nullptr) {
    for (const auto& [tag, id] : watches_) conn_->RemoveWatch(id);
  }
  if (Status s = End(); !s.ok()) LogDebug(s.ToString());
}

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  backend::BackendOptions bo;
  bo.endpoints = "zk://" + options.zkhosts;
  bo.dial_timeout = options.request_timeout;
  bo.clock = options.clock;
  Result<std::unique_ptr<backend::Backend>> backend = backend::OpenBackend(bo);
  if (!backend.ok()) {
    return backend.status().With("zkhosts " + Quote(options.zkhosts));
  }
  std::unique_ptr<Store> store(new Store(std::move(backend).value(), options));
  CONCH_RETURN_IF_ERROR(store->session_.Open());
  store->conn_ = zk::ConnOf(store->session_.store_session());
  if (store->conn_ == nullptr) {
    return Error(Code::kInternal, "not a ZooKeeper session");
  }
  return store;
}

Drained Store::Drain() {
  Drained out;
  for (backend::Event& e : session_.sink().Drain()) {
    if (std::optional<Status> lost = session_.Apply(e)) {
      if (!out.lost) out.lost = *lost;
    }
  }
  out.fires = box_->Take();
  return out;
}

uint64_t Store::Watch(uint64_t tag) {
  for (const auto& [t, id] : watches_) {
    if (t == tag) return id;
  }
  uint64_t id = conn_->AddWatch(std::make_shared<TagSlot>(box_, tag));
  watches_.emplace_back(tag, id);
  return id;
}

void Store::Probe(const Request& request, uint64_t tag) {
  auto on_reply = [box = box_, tag](Reply reply) {
    Fire f;
    f.kind = Fire::Kind::kReply;
    f.tag = tag;
    f.reply = std::move(reply);
    box->Push(std::move(f));
  };
  int rc = conn_->Send(request, on_reply);
  if (rc != ZOK) {
    Reply failed;
    failed.rc = rc;
    on_reply(std::move(failed));
  }
}

Result<std::vector<Reply>> Store::Call(const std::string& what,
                                       const std::vector<Request>& requests) {
  return conn_->RunAll(what, requests, RequestDeadline());
}

Result<Reply> Store::Call1(const std::string& what, const Request& request) {
  return conn_->Run(what, request, RequestDeadline());
}

Status Store::EnsurePath(
    const std::string& path,
    const std::function<std::string(const std::string&)>& data_for) {
  const std::string what = "create " + path;
  for (int attempt = 0;; ++attempt) {
    Result<Reply> reply =
        Call1(what, zk::CreateRequest(path, data_for(path), ZOO_PERSISTENT));
    if (!reply.ok()) return reply.status();
    if (reply->rc == ZOK) {
      LogDebug("Create " + path);
      return Status::Ok();
    }
    if (reply->rc == ZNODEEXISTS) return Status::Ok();
    if (reply->rc != ZNONODE || attempt > 0) return zk::FromZk(reply->rc, what);
    const std::string parent = zk::ParentOf(path);
    if (parent == "/") {
      if (conn_->chroot().empty()) return zk::FromZk(reply->rc, what);
      CONCH_RETURN_IF_ERROR(MakeChroot(RequestDeadline()));
    } else {
      CONCH_RETURN_IF_ERROR(EnsurePath(parent, data_for));
    }
  }
}

// The chroot and its missing ancestors, created over a short-lived handle
// without the chroot (a chrooted handle cannot name anything above it).
Status Store::MakeChroot(MonoTime deadline) {
  const std::string chroot = conn_->chroot();
  const std::string what = "create chroot " + chroot;
  zk::ConnOptions o;
  const std::string& members = conn_->members();  // joined with ','
  for (size_t start = 0; start <= members.size();) {
    size_t comma = std::min(members.find(',', start), members.size());
    o.members.push_back(members.substr(start, comma - start));
    start = comma + 1;
  }
  o.dial_timeout = options_.request_timeout;
  o.clock = options_.clock;
  Result<std::shared_ptr<zk::ZkConn>> root = zk::ZkConn::Open(o);
  if (!root.ok()) return root.status().With(what);
  std::vector<std::string> chain;
  for (std::string p = chroot; p != "/"; p = zk::ParentOf(p)) {
    chain.push_back(p);
  }
  std::reverse(chain.begin(), chain.end());
  for (const std::string& p : chain) {
    Result<Reply> reply =
        (*root)->Run(what, zk::CreateRequest(p, "", ZOO_PERSISTENT), deadline);
    if (!reply.ok()) return reply.status();
    if (reply->rc != ZOK && reply->rc != ZNODEEXISTS) {
      return zk::FromZk(reply->rc, what);
    }
  }
  LogDebug(what);
  return Status::Ok();
}

Result<std::optional<std::string>> Store::FindOwn(const std::string& path,
                                                  bool sequential) {
  const std::string parent = zk::ParentOf(path);
  const std::string stem(zk::BaseName(path));
  const std::string what = "look for our node " + path;
  Result<std::vector<Reply>> listed =
      Call(what, {zk::SyncRequest(parent), zk::ChildrenRequest(parent)});
  if (!listed.ok()) return listed.status();
  const Reply& children = (*listed)[1];
  if (children.rc == ZNONODE) return std::optional<std::string>();
  if (children.rc != ZOK) return zk::FromZk(children.rc, what);
  std::vector<std::string> candidates;
  for (const std::string& name : children.children) {
    if (sequential ? IsSequenced(name, stem) : name == stem) {
      candidates.push_back(parent == "/" ? "/" + name : parent + "/" + name);
    }
  }
  std::sort(candidates.begin(), candidates.end());
  std::vector<Request> stats;
  for (const std::string& c : candidates) stats.push_back(zk::ExistsRequest(c));
  Result<std::vector<Reply>> owners = Call(what, stats);
  if (!owners.ok()) return owners.status();
  std::optional<std::string> found;
  std::vector<std::string> extra;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Reply& r = (*owners)[i];
    if (r.rc != ZOK || !r.stat || r.stat->ephemeralOwner != session_id()) {
      continue;
    }
    if (found) {
      extra.push_back(candidates[i]);
    } else {
      found = candidates[i];
    }
  }
  if (found) LogDebug(what + ": found " + *found);
  if (!extra.empty()) CONCH_RETURN_IF_ERROR(Delete(extra));
  return found;
}

Result<Store::Created> Store::CreateEphemeral(
    const std::string& path, const std::string& data, bool sequential,
    const std::vector<Request>& after) {
  const std::string what = "create " + path;
  const int mode = sequential ? ZOO_EPHEMERAL_SEQUENTIAL : ZOO_EPHEMERAL;
  const MonoTime deadline = RequestDeadline();
  std::vector<Request> batch = {zk::CreateRequest(path, data, mode)};
  batch.insert(batch.end(), after.begin(), after.end());
  // The rest of the batch on its own, after a lost connection.
  auto finish = [&](std::optional<std::string> made) -> Result<Created> {
    Created out{std::move(made), {}};
    if (after.empty()) return out;
    Result<std::vector<Reply>> replies = Call(what, after);
    if (!replies.ok()) return replies.status();
    out.after = std::move(replies).value();
    return out;
  };
  for (;;) {
    if (clock().Now() >= deadline) {
      return Error(Code::kDeadlineExceeded,
                   what + ": zookeeper: deadline passed; outcome unknown");
    }
    Status up = conn_->WaitConnected(deadline);
    if (!up.ok()) return up.With(what);
    std::vector<Reply> replies = conn_->CallAll(batch, deadline);
    const Reply& reply = replies.front();
    bool rest_lost = false;
    for (size_t i = 1; i < replies.size(); ++i) {
      rest_lost = rest_lost || zk::IsConnectionLoss(replies[i].rc) ||
                  replies[i].rc == zk::kNoAnswer;
    }
    if (reply.rc == ZOK) {
      if (rest_lost) return finish(reply.path);
      return Created{reply.path,
                     std::vector<Reply>(replies.begin() + 1, replies.end())};
    }
    if (reply.rc == ZNONODE) {
      return Error(Code::kNotFound, what + ": the parent is missing");
    }
    if (reply.rc == ZNODEEXISTS) {
      // Ours if a lost attempt made it.
      Result<std::optional<std::string>> own = FindOwn(path, false);
      if (!own.ok()) return own.status();
      return finish(*own);
    }
    if (reply.rc == ZINVALIDSTATE || reply.rc == ZCLOSING ||
        reply.rc == ZSESSIONEXPIRED) {
      return SessionEnded(what, reply.rc);
    }
    if (reply.rc == zk::kNoAnswer) {
      return Error(Code::kDeadlineExceeded,
                   what + ": zookeeper: no answer by the deadline");
    }
    if (!zk::IsConnectionLoss(reply.rc)) return zk::FromZk(reply.rc, what);
    // Lost with the connection: the node may exist. Adopt it if so.
    LogDebug(what + ": connection lost; looking for the node");
    Result<std::optional<std::string>> own = FindOwn(path, sequential);
    if (!own.ok()) return own.status();
    if (*own) return finish(*own);
  }
}

Status Store::Delete(const std::vector<std::string>& paths) {
  if (paths.empty()) return Status::Ok();
  std::vector<Request> requests;
  for (const std::string& p : paths) {
    requests.push_back(zk::DeleteRequest(p, -1));
  }
  Result<std::vector<Reply>> replies =
      Call("delete " + paths.front(), requests);
  if (!replies.ok()) return replies.status();
  for (size_t i = 0; i < paths.size(); ++i) {
    int rc = (*replies)[i].rc;
    if (rc != ZOK && rc != ZNONODE) {
      return zk::FromZk(rc, "Could not delete " + paths[i]);
    }
  }
  return Status::Ok();
}

Status Store::End() { return session_.Revoke(); }

}  // namespace conch::switchman
