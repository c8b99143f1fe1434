// ZkConn's requests (zk_conn.h): sending with the asynchronous API, the
// completion trampolines, the blocking calls built on them, and FromZk.
#include <algorithm>
#include <cctype>
#include <string>
#include <thread>

#include "backend/zookeeper/zk_conn.h"
#include "base/backoff.h"
#include "base/log.h"
#include "base/mutex.h"
#include "base/strings.h"

namespace conch::backend::zk {
namespace {

using std::chrono::milliseconds;

std::string ZkText(int rc) {
  if (rc == kNoAnswer) return "no answer by the deadline";
  std::string text = zerror(rc);
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

Reply ReplyWith(int rc) {
  Reply reply;
  reply.rc = rc;
  return reply;
}

Request Make(Op op, std::string path, uint64_t watch) {
  Request r;
  r.op = op;
  r.path = std::move(path);
  r.watch = watch;
  return r;
}

// A watch slot's id travels to the watcher as the client's context
// pointer; it is never dereferenced.
void* WatchContext(uint64_t id) {
  return reinterpret_cast<void*>(  // NOLINT(performance-no-int-to-ptr)
      static_cast<uintptr_t>(id));
}

}  // namespace

Status FromZk(int rc, const std::string& what) {
  Code code = Code::kInternal;
  switch (rc) {
    case ZOK:
      return Status::Ok();
    case kNoAnswer:
      code = Code::kDeadlineExceeded;
      break;
    case ZNONODE:
      code = Code::kNotFound;
      break;
    case ZNODEEXISTS:
      code = Code::kAlreadyExists;
      break;
    case ZCONNECTIONLOSS:
    case ZOPERATIONTIMEOUT:
    case ZCLOSING:
      code = Code::kUnavailable;  // for a write: the outcome is unknown
      break;
    case ZSESSIONEXPIRED:
    case ZSESSIONMOVED:
      code = Code::kSessionLost;
      break;
    case ZBADVERSION:
    case ZNOTEMPTY:
      code = Code::kFailedPrecondition;
      break;
    case ZBADARGUMENTS:
    case ZINVALIDSTATE:
      code = Code::kInvalidArgument;
      break;
    default:
      break;
  }
  return {code, what + ": zookeeper: " + ZkText(rc)};
}

Request ExistsRequest(std::string path, uint64_t watch) {
  return Make(Op::kExists, std::move(path), watch);
}

Request GetRequest(std::string path, uint64_t watch) {
  return Make(Op::kGet, std::move(path), watch);
}

Request ChildrenRequest(std::string path, uint64_t watch) {
  return Make(Op::kGetChildren, std::move(path), watch);
}

Request CreateRequest(std::string path, std::string value, int mode) {
  Request r = Make(Op::kCreate, std::move(path), 0);
  r.value = std::move(value);
  r.mode = mode;
  return r;
}

Request SetRequest(std::string path, std::string value, int version) {
  Request r = Make(Op::kSet, std::move(path), 0);
  r.value = std::move(value);
  r.version = version;
  return r;
}

Request DeleteRequest(std::string path, int version) {
  Request r = Make(Op::kDelete, std::move(path), 0);
  r.version = version;
  return r;
}

Request SyncRequest(std::string path) {
  return Make(Op::kSync, std::move(path), 0);
}

bool IsConnectionLoss(int rc) {
  // ZRUNTIMEINCONSISTENCY: the client got an answer out of order, dropped
  // the connection and failed every request under way with it. A server
  // before 3.5 does that to it: it answers a request it does not know (a
  // container create) at once, ahead of the answers still due, and then
  // closes the connection.
  return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT ||
         rc == ZRUNTIMEINCONSISTENCY;
}

// ---------------------------------------------------------------------------
// Requests.

int ZkConn::Send(const Request& request, std::function<void(Reply)> done) {
  auto pending = std::make_unique<Pending>();
  pending->conn = this;
  pending->done = std::move(done);
  Pending* raw = pending.get();
  zhandle_t* zh = nullptr;
  uint64_t id = 0;
  {
    MutexLock lock(mu_);
    if (closing_ || zh_ == nullptr) return ZCLOSING;
    zh = zh_;
    ++users_;
    id = ++next_id_;
    raw->id = id;
    // Registered before the request goes out: the completion may run on
    // the completion thread before zoo_a* returns here.
    pending_[id] = std::move(pending);
  }
  raw->server = ConnectedServer(zh);
  int rc = Issue(zh, request, raw);
  {
    MutexLock lock(mu_);
    --users_;
    if (rc == ZBADARGUMENTS || rc == ZINVALIDSTATE) {
      // Refused before the client recorded a completion: none will come.
      pending_.erase(id);
    } else if (rc != ZOK) {
      // Refused after the client may have recorded the completion (a
      // failed enqueue): it may still run, so the entry stays until then
      // or until Close(), but reports to no one.
      auto it = pending_.find(id);
      if (it != pending_.end()) it->second->done = nullptr;
    }
  }
  cv_.NotifyAll();
  return rc;
}

int ZkConn::Issue(zhandle_t* zh, const Request& r, Pending* pending) {
  const char* path = r.path.c_str();
  watcher_fn watcher = r.watch != 0 ? WatchTrampoline : nullptr;
  void* context = WatchContext(r.watch);
  const int len = static_cast<int>(r.value.size());
  switch (r.op) {
    case Op::kExists:
      return zoo_awexists(zh, path, watcher, context, OnStat, pending);
    case Op::kGet:
      return zoo_awget(zh, path, watcher, context, OnData, pending);
    case Op::kGetChildren:
      return zoo_awget_children2(zh, path, watcher, context, OnChildren,
                                 pending);
    case Op::kCreate:
      return zoo_acreate2(zh, path, r.value.data(), len, &ZOO_OPEN_ACL_UNSAFE,
                          r.mode, OnCreated, pending);
    case Op::kSet:
      return zoo_aset(zh, path, r.value.data(), len, r.version, OnStat,
                      pending);
    case Op::kDelete:
      return zoo_adelete(zh, path, r.version, OnVoid, pending);
    case Op::kSync:
      return zoo_async(zh, path, OnSynced, pending);
  }
  return ZBADARGUMENTS;
}

// The completion trampolines: each copies what the client lends it (the
// buffers are the client's, valid only during the call) into a Reply.
void ZkConn::OnStat(int rc, const struct Stat* stat, const void* data) {
  Reply reply = ReplyWith(rc);
  if (rc == ZOK && stat != nullptr) reply.stat = *stat;
  Finish(data, std::move(reply));
}

void ZkConn::OnData(int rc, const char* value, int value_len,
                    const struct Stat* stat, const void* data) {
  Reply reply = ReplyWith(rc);
  if (rc == ZOK) {
    if (stat != nullptr) reply.stat = *stat;
    if (value != nullptr && value_len > 0) {
      reply.value.assign(value, static_cast<size_t>(value_len));
    }
  }
  Finish(data, std::move(reply));
}

void ZkConn::OnChildren(int rc, const struct String_vector* strings,
                        const struct Stat* stat, const void* data) {
  Reply reply = ReplyWith(rc);
  if (rc == ZOK) {
    if (stat != nullptr) reply.stat = *stat;
    for (int i = 0; strings != nullptr && i < strings->count; ++i) {
      reply.children.emplace_back(strings->data[i]);
    }
  }
  Finish(data, std::move(reply));
}

void ZkConn::OnCreated(int rc, const char* path, const struct Stat* stat,
                       const void* data) {
  Reply reply = ReplyWith(rc);
  if (rc == ZOK) {
    if (stat != nullptr) reply.stat = *stat;
    if (path != nullptr) reply.path = path;
  }
  Finish(data, std::move(reply));
}

void ZkConn::OnVoid(int rc, const void* data) { Finish(data, ReplyWith(rc)); }

void ZkConn::OnSynced(int rc, const char* /*path*/, const void* data) {
  Finish(data, ReplyWith(rc));
}

void ZkConn::Finish(const void* data, Reply reply) {
  // `data` is the Pending entry, still owned by its connection's map: only
  // Complete() (on this thread) or Close() (after the client's threads are
  // joined) removes it.
  const auto* pending = static_cast<const Pending*>(data);
  pending->conn->Complete(pending->id, std::move(reply));
}

void ZkConn::Complete(uint64_t id, Reply reply) {
  std::unique_ptr<Pending> pending;
  {
    MutexLock lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    pending = std::move(it->second);
    pending_.erase(it);
  }
  reply.server = pending->server;
  if (pending->done) pending->done(std::move(reply));
}

std::vector<Reply> ZkConn::CallAll(const std::vector<Request>& requests,
                                   MonoTime deadline) {
  // Shared with the completions: an answer may arrive after this call has
  // stopped waiting for it, and must find its batch still there.
  struct Batch {
    explicit Batch(size_t n) : replies(n), answered(n), remaining(n) {}
    Mutex mu;
    CondVar cv;
    std::vector<Reply> replies GUARDED_BY(mu);
    std::vector<bool> answered GUARDED_BY(mu);
    size_t remaining GUARDED_BY(mu);
  };
  auto batch = std::make_shared<Batch>(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    int rc = Send(requests[i], [batch, i](Reply reply) {
      {
        MutexLock lock(batch->mu);
        batch->replies[i] = std::move(reply);
        batch->answered[i] = true;
        --batch->remaining;
      }
      batch->cv.NotifyAll();
    });
    if (rc != ZOK) {
      MutexLock lock(batch->mu);
      batch->replies[i].rc = rc;
      batch->answered[i] = true;
      --batch->remaining;
    }
  }
  std::string server = "no server";
  {
    MutexLock lock(mu_);
    if (zh_ != nullptr) server = ConnectedServer(zh_);
  }
  MutexLock lock(batch->mu);
  auto done = [&]() REQUIRES(batch->mu) { return batch->remaining == 0; };
  batch->cv.WaitFor(batch->mu, deadline - clock().Now(), done);
  std::vector<Reply> out = batch->replies;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!batch->answered[i]) {
      out[i].rc = kNoAnswer;
      out[i].server = server;
    }
  }
  return out;
}

// How a batch went, for RunAll.
struct ZkConn::Outcome {
  Status failed;                // the batch cannot go on
  const Reply* lost = nullptr;  // a reply that a lost connection failed
};

ZkConn::Outcome ZkConn::Classify(const std::vector<Reply>& replies) const {
  Outcome out;
  for (const Reply& reply : replies) {
    if (reply.rc == kNoAnswer) {
      out.failed =
          Error(Code::kDeadlineExceeded, "zookeeper: no answer from " +
                                             reply.server + " by the deadline");
      return out;
    }
    if (reply.rc == ZINVALIDSTATE || reply.rc == ZCLOSING) {
      out.failed = EndedStatus();
      if (out.failed.ok()) {
        out.failed =
            Error(Code::kSessionLost, "zookeeper: " + ZkText(reply.rc));
      }
      return out;
    }
    if (IsConnectionLoss(reply.rc)) out.lost = &reply;
  }
  return out;
}

Result<std::vector<Reply>> ZkConn::RunAll(const std::string& what,
                                          const std::vector<Request>& requests,
                                          MonoTime deadline, bool write) {
  RetryBackoff backoff(
      RetryBackoffOptions{milliseconds(20), milliseconds(500)});
  std::vector<std::string> tried;
  bool lost_write = false;
  // The error, naming each server tried and what failed there.
  auto give_up = [&](Code code, const std::string& then) {
    if (lost_write && code == Code::kUnavailable) {
      code = Code::kDeadlineExceeded;  // a lost write may have happened
    }
    std::string msg = what + ": ";
    if (!tried.empty()) msg += "zookeeper: tried " + Join(tried, ", ") + "; ";
    msg += then;
    if (lost_write) msg += "; outcome unknown";
    return Status(code, msg);
  };
  for (;;) {
    if (clock().Now() >= deadline) {
      return give_up(Code::kDeadlineExceeded, "zookeeper: deadline passed");
    }
    Status up = WaitConnected(deadline);
    if (!up.ok()) return give_up(up.code(), up.message());
    std::vector<Reply> replies = CallAll(requests, deadline);
    Outcome outcome = Classify(replies);
    if (!outcome.failed.ok()) {
      return give_up(outcome.failed.code(), outcome.failed.message());
    }
    if (outcome.lost == nullptr) return replies;
    lost_write = lost_write || write;
    std::string attempt =
        outcome.lost->server + " (" + ZkText(outcome.lost->rc) + ")";
    if (std::find(tried.begin(), tried.end(), attempt) == tried.end()) {
      tried.push_back(attempt);
    }
    Duration pause = backoff.Next();
    if (clock().Now() + pause >= deadline) {
      return give_up(Code::kUnavailable, "zookeeper: no time left to retry");
    }
    std::string note = what;
    note += ": retrying after ";
    note += attempt;
    LogDebug(note);
    std::this_thread::sleep_for(pause);
  }
}

Result<Reply> ZkConn::Run(const std::string& what, const Request& request,
                          MonoTime deadline, bool write) {
  Result<std::vector<Reply>> replies =
      RunAll(what, std::vector<Request>{request}, deadline, write);
  if (!replies.ok()) return replies.status();
  return std::move(replies->front());
}

}  // namespace conch::backend::zk
