// EtcdBackend: the Backend interface over etcd's v3 gRPC API.
//
// One gRPC channel lists every endpoint's addresses under pick_first, so a
// dead member is replaced by the next one without conch's help. Unary calls
// use the synchronous stub with a deadline and wait-for-ready, so a call
// made while the channel reconnects waits for it instead of failing at once;
// a call in flight when its member dies fails at once ("socket closed") and
// is repeated, on the member the channel moves to, until its deadline.
// Streams (keep-alive, watch) use the synchronous stream API on threads of
// their own and report into the owner's EventQueue.
#include "backend/etcd/etcd_backend.h"

#include <algorithm>
#include <cstdio>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "backend/etcd/endpoints.h"
#include "backend/renewal.h"
#include "base/backoff.h"
#include "base/log.h"
#include "base/mutex.h"
#include "base/strings.h"
#include "rpc.grpc.pb.h"

namespace conch::backend {
namespace {

namespace pb = etcdserverpb;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The one translation point for gRPC errors.
Status FromGrpc(const grpc::Status& s, const std::string& what) {
  Code code = Code::kInternal;
  switch (s.error_code()) {
    case grpc::StatusCode::OK:
      return Status::Ok();
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
      code = Code::kUnavailable;
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      code = Code::kDeadlineExceeded;
      break;
    case grpc::StatusCode::NOT_FOUND:
      code = Code::kNotFound;
      break;
    case grpc::StatusCode::FAILED_PRECONDITION:
      code = Code::kFailedPrecondition;
      break;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      code = Code::kInvalidArgument;
      break;
    default:
      break;
  }
  std::string msg = s.error_message();
  std::transform(msg.begin(), msg.end(), msg.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return Status(code, what + ": etcd: " + msg);
}

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

// gRPC deadlines are on the system clock; ours are on `clock`.
std::chrono::system_clock::time_point SystemDeadline(MonoTime deadline,
                                                     const Clock& clock) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             deadline - clock.Now());
}

void PrepareUnary(grpc::ClientContext* ctx, MonoTime deadline,
                  const Clock& clock) {
  ctx->set_deadline(SystemDeadline(deadline, clock));
  ctx->set_wait_for_ready(true);
}

KeyValue FromPb(const mvccpb::KeyValue& kv) {
  KeyValue out;
  out.key = kv.key();
  out.value = kv.value();
  out.create_revision = kv.create_revision();
  out.session = kv.lease();
  return out;
}

// A transaction guarded on `key` having `create_revision`: the fence that
// makes every write of ours touch only our own key.
pb::TxnRequest IfCreatedAt(const std::string& key, int64_t create_revision) {
  pb::TxnRequest txn;
  pb::Compare* cmp = txn.add_compare();
  cmp->set_key(key);
  cmp->set_target(pb::Compare::CREATE);
  cmp->set_result(pb::Compare::EQUAL);
  cmp->set_create_revision(create_revision);
  return txn;
}

std::optional<KeyValue> FirstOf(const pb::RangeResponse& r) {
  if (r.kvs_size() == 0) return std::nullopt;
  return FromPb(r.kvs(0));
}

std::string LeaseHex(int64_t id) {
  char hex[32];
  std::snprintf(hex, sizeof(hex), "%llx", static_cast<unsigned long long>(id));
  return hex;
}

void FillRange(pb::RangeRequest* r, const std::string& prefix, int64_t limit,
               pb::RangeRequest::SortOrder order) {
  r->set_key(prefix);
  r->set_range_end(PrefixEnd(prefix));
  r->set_limit(limit);
  r->set_sort_target(pb::RangeRequest::CREATE);
  r->set_sort_order(order);
}

// ---------------------------------------------------------------------------
// StreamLoop: runs one gRPC stream after another on a thread of its own until
// stopped, pausing between attempts through RetryBackoff (50 ms doubling to
// 1 s, reset after a stream that carried data). Subclasses implement
// RunStream() and call Start() last in their constructor and Stop() first in
// their destructor, so the thread never sees a half-built object.
class StreamLoop {
 protected:
  enum class Ended {
    kBroken,   // the stream failed before carrying anything useful
    kHealthy,  // the stream carried data, then ended
    kDone,     // nothing more to do: do not reconnect
  };

  virtual ~StreamLoop() = default;
  // Runs one stream on `ctx` until it ends or Stop() cancels `ctx`.
  virtual Ended RunStream(grpc::ClientContext* ctx) EXCLUDES(mu_) = 0;

  void Start() {
    thread_ = std::jthread([this] { Run(); });
  }
  void Stop() EXCLUDES(mu_) {
    {
      MutexLock lock(mu_);
      stop_ = true;
      if (ctx_) ctx_->TryCancel();
    }
    cv_.NotifyAll();
    thread_.join();
  }

  Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;

 private:
  void Run() EXCLUDES(mu_) {
    RetryBackoff backoff(RetryBackoffOptions{milliseconds(50), seconds(1)});
    for (;;) {
      auto ctx = std::make_unique<grpc::ClientContext>();
      // Refuse members cut off from the cluster's leader.
      ctx->AddMetadata("hasleader", "true");
      // While the channel is between connections, wait for one rather
      // than fail at once and spin through our backoff (Stop() cancels).
      ctx->set_wait_for_ready(true);
      {
        MutexLock lock(mu_);
        if (stop_) return;
        ctx_ = ctx.get();
      }
      Ended ended = RunStream(ctx.get());
      MutexLock lock(mu_);
      ctx_ = nullptr;
      if (stop_ || ended == Ended::kDone) return;
      if (ended == Ended::kHealthy) backoff.Reset();
      cv_.WaitFor(mu_, backoff.Next(), [&]() REQUIRES(mu_) { return stop_; });
    }
  }

  grpc::ClientContext* ctx_ GUARDED_BY(mu_) = nullptr;
  // Joined by Stop(), which every subclass's destructor calls first.
  std::jthread thread_;
};

// ---------------------------------------------------------------------------
// Unary calls, repeated while the member they went to is gone.
class Caller {
 public:
  // `members` names every endpoint, for errors.
  Caller(const Clock& clock, std::string members)
      : clock_(clock), members_(std::move(members)) {}

  // Runs `call(ctx)` until it succeeds, fails for a reason other than an
  // unreachable member, or `deadline` comes. Every call of ours is safe to
  // repeat: reads, grants (a lease whose answer was lost expires by its
  // TTL), revokes (kNotFound after a repeat is success to the caller), and
  // transactions guarded by a compare. An error lists each member tried
  // and what it answered.
  template <typename Call>
  Status Run(const std::string& what, MonoTime deadline, Call&& call) {
    RetryBackoff backoff(
        RetryBackoffOptions{std::chrono::milliseconds(20), milliseconds(500)});
    std::string tried;
    for (;;) {
      grpc::ClientContext ctx;
      PrepareUnary(&ctx, deadline, clock_);
      grpc::Status s = call(&ctx);
      if (s.ok()) return Status::Ok();
      Status status = FromGrpc(s, what);
      if (status.code() == Code::kDeadlineExceeded) {
        // gRPC names the member it would use even when it never connected,
        // so the message names them all, and what failed before.
        return Status(status.code(),
                      status.message() + " waiting for " + members_ +
                          (tried.empty() ? "" : "; before that " + tried));
      }
      std::string peer = ctx.peer();
      if (peer.starts_with("ipv4:") || peer.starts_with("ipv6:")) {
        peer = peer.substr(5);
      }
      std::string attempt = peer + " (" + LowerMessage(s) + ")";
      if (tried.find(attempt) == std::string::npos) {
        tried += (tried.empty() ? "" : ", ") + attempt;
      }
      if (status.code() != Code::kUnavailable) {
        return tried.find(',') == std::string::npos
                   ? status
                   : Status(status.code(), what + ": etcd: tried " + tried);
      }
      Duration pause = backoff.Next();
      if (clock_.Now() + pause >= deadline) {
        return Status(Code::kUnavailable, what + ": etcd: tried " + tried);
      }
      LogDebug(what + ": retrying after " + attempt);
      std::this_thread::sleep_for(pause);
    }
  }

 private:
  static std::string LowerMessage(const grpc::Status& s) {
    std::string msg = s.error_message();
    std::transform(msg.begin(), msg.end(), msg.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return msg;
  }

  const Clock& clock_;
  const std::string members_;
};

// ---------------------------------------------------------------------------
// KeepAlive: one writer thread sends renewals when the RenewalSchedule says
// so; one reader thread matches answers to sends. Each answer's event
// carries the send time of the renewal it acknowledges, which is what the
// fail-closed deadline counts from (primitives/hold_deadline.h).
class EtcdKeepAlive final : private StreamLoop {
 public:
  EtcdKeepAlive(std::shared_ptr<grpc::Channel> channel, const Clock& clock,
                int64_t lease_id, Duration ttl, EventSink* sink, uint64_t tag)
      : stub_(pb::Lease::NewStub(channel)),
        clock_(clock),
        lease_id_(lease_id),
        sink_(sink),
        tag_(tag),
        schedule_(ttl) {
    Start();
  }

  ~EtcdKeepAlive() override { Stop(); }

 private:
  // One stream: this thread writes renewals, a second one reads answers.
  Ended RunStream(grpc::ClientContext* ctx) EXCLUDES(mu_) override {
    {
      MutexLock lock(mu_);
      broken_ = false;
      schedule_.Reset(clock_.Now());
      acked_ = false;
    }
    auto stream = stub_->LeaseKeepAlive(ctx);
    std::jthread reader([&] { ReadAnswers(stream.get()); });
    WriteRequests(stream.get());
    ctx->TryCancel();
    reader.join();
    grpc::Status status = stream->Finish();
    MutexLock lock(mu_);
    if (lost_) return Ended::kDone;
    if (!stop_) LogDebug("keepalive stream ended: " + status.error_message());
    return acked_ ? Ended::kHealthy : Ended::kBroken;
  }

  void WriteRequests(
      grpc::ClientReaderWriter<pb::LeaseKeepAliveRequest,
                               pb::LeaseKeepAliveResponse>* stream)
      EXCLUDES(mu_) {
    pb::LeaseKeepAliveRequest req;
    req.set_id(lease_id_);
    for (;;) {
      {
        MutexLock lock(mu_);
        // The condition variable waits on the system clock; the schedule's
        // times are converted through clock_.
        cv_.WaitFor(mu_, schedule_.next_send() - clock_.Now(),
                    [&]() REQUIRES(mu_) { return stop_ || broken_ || lost_; });
        if (stop_ || broken_ || lost_) return;
        MonoTime now = clock_.Now();
        if (now < schedule_.next_send()) continue;  // an answer moved it
        // Too many unanswered: this stream is presumed dead; a new one is
        // opened by the StreamLoop.
        if (!schedule_.Send(now)) return;
      }
      if (!stream->Write(req)) return;
    }
  }

  void ReadAnswers(grpc::ClientReaderWriter<pb::LeaseKeepAliveRequest,
                                            pb::LeaseKeepAliveResponse>* stream)
      EXCLUDES(mu_) {
    pb::LeaseKeepAliveResponse resp;
    while (stream->Read(&resp)) {
      MutexLock lock(mu_);
      if (resp.ttl() <= 0) {
        lost_ = true;
        Event e;
        e.kind = Event::Kind::kSessionLost;
        e.tag = tag_;
        e.status = Error(Code::kSessionLost, "lease " + LeaseHex(lease_id_) +
                                                 " expired or was revoked");
        sink_->Push(std::move(e));
        break;
      }
      std::optional<MonoTime> sent = schedule_.Answered();
      if (!sent) continue;  // nothing of ours was outstanding
      acked_ = true;
      Event e;
      e.kind = Event::Kind::kRenewed;
      e.tag = tag_;
      e.sent = *sent;
      e.ttl = seconds(resp.ttl());
      sink_->Push(std::move(e));
    }
    {
      MutexLock lock(mu_);
      broken_ = true;
    }
    cv_.NotifyAll();
  }

  std::unique_ptr<pb::Lease::Stub> stub_;
  const Clock& clock_;
  const int64_t lease_id_;
  EventSink* const sink_;
  const uint64_t tag_;

  bool broken_ GUARDED_BY(mu_) = false;
  bool lost_ GUARDED_BY(mu_) = false;
  bool acked_ GUARDED_BY(mu_) = false;
  RenewalSchedule schedule_ GUARDED_BY(mu_);
};

// A lease and its keep-alive.
class EtcdSession final : public Session {
 public:
  EtcdSession(std::shared_ptr<grpc::Channel> channel, const Caller& caller,
              const Clock& clock, int64_t id, Duration ttl, EventSink* sink,
              uint64_t tag)
      : stub_(pb::Lease::NewStub(channel)),
        caller_(caller),
        id_(id),
        ttl_(ttl),
        keepalive_(std::make_unique<EtcdKeepAlive>(channel, clock, id, ttl,
                                                   sink, tag)) {}

  int64_t id() const override { return id_; }
  Duration ttl() const override { return ttl_; }

  Status End(MonoTime deadline) override {
    // Revoke first: whoever is next waits on it. The keep-alive is stopped
    // afterwards; what it reports meanwhile is ignored by the owner.
    pb::LeaseRevokeRequest req;
    req.set_id(id_);
    pb::LeaseRevokeResponse resp;
    Status s = caller_.Run("revoke lease " + LeaseHex(id_), deadline,
                           [&](grpc::ClientContext* ctx) {
                             return stub_->LeaseRevoke(ctx, req, &resp);
                           });
    keepalive_.reset();
    return s;
  }

 private:
  std::unique_ptr<pb::Lease::Stub> stub_;
  Caller caller_;
  const int64_t id_;
  const Duration ttl_;
  std::unique_ptr<EtcdKeepAlive> keepalive_;
};

// ---------------------------------------------------------------------------
// Watch: one stream carrying one watcher per spec (watch_id = index + 1),
// each created from now. After a broken stream it resumes each watcher from
// the revision after the last one it reported (or after the one it went live
// at), so no change is skipped or reported twice.
class EtcdWatch final : public Watch, private StreamLoop {
 public:
  EtcdWatch(std::shared_ptr<grpc::Channel> channel,
            std::vector<WatchSpec> specs, EventSink* sink, uint64_t tag)
      : stub_(pb::Watch::NewStub(channel)),
        specs_(std::move(specs)),
        resume_(specs_.size(), 0),
        sink_(sink),
        tag_(tag) {
    Start();
  }

  ~EtcdWatch() override { Stop(); }

 private:
  Ended RunStream(grpc::ClientContext* ctx) override {
    auto stream = stub_->Watch(ctx);
    bool carried = false;
    bool done = Follow(stream.get(), &carried);
    ctx->TryCancel();
    grpc::Status status = stream->Finish();
    if (done) return Ended::kDone;
    LogDebug("watch stream ended: " + status.error_message());
    return carried ? Ended::kHealthy : Ended::kBroken;
  }

  // Creates the watchers and reports their events. Returns true when the
  // watch is finished for good (kWatchFailed was reported); sets *carried
  // once the stream has delivered anything.
  bool Follow(
      grpc::ClientReaderWriter<pb::WatchRequest, pb::WatchResponse>* stream,
      bool* carried) {
    for (size_t i = 0; i < specs_.size(); ++i) {
      pb::WatchRequest req;
      pb::WatchCreateRequest* create = req.mutable_create_request();
      create->set_key(specs_[i].key);
      if (specs_[i].prefix) create->set_range_end(PrefixEnd(specs_[i].key));
      create->set_start_revision(resume_[i]);  // 0: from now
      create->set_watch_id(static_cast<int64_t>(i) + 1);
      if (!stream->Write(req)) return false;
    }
    pb::WatchResponse resp;
    while (stream->Read(&resp)) {
      *carried = true;
      size_t index = static_cast<size_t>(resp.watch_id() - 1);
      if (resp.created() && !resp.canceled()) {
        if (index < specs_.size() && resume_[index] == 0) {
          // Live from now: resume from here after a reconnect.
          resume_[index] = resp.header().revision() + 1;
          Event e;
          e.kind = Event::Kind::kWatchLive;
          e.tag = tag_;
          e.spec = index;
          sink_->Push(std::move(e));
        }
        continue;
      }
      if (resp.canceled()) {
        Event e;
        e.kind = Event::Kind::kWatchFailed;
        e.tag = tag_;
        std::string why = resp.compact_revision() > 0
                              ? "history compacted at revision " +
                                    std::to_string(resp.compact_revision())
                              : resp.cancel_reason();
        e.status = Error(Code::kFailedPrecondition, "watch: etcd: " + why);
        sink_->Push(std::move(e));
        return true;
      }
      if (index >= specs_.size()) continue;
      for (const mvccpb::Event& ev : resp.events()) {
        Event e;
        e.kind = Event::Kind::kWatch;
        e.tag = tag_;
        e.spec = index;
        e.change.deleted = ev.type() == mvccpb::Event::DELETE;
        e.change.key = ev.kv().key();
        if (!e.change.deleted) e.change.kv = FromPb(ev.kv());
        resume_[index] = ev.kv().mod_revision() + 1;
        sink_->Push(std::move(e));
      }
    }
    return false;
  }

  std::unique_ptr<pb::Watch::Stub> stub_;
  const std::vector<WatchSpec> specs_;
  std::vector<int64_t> resume_;  // per spec: next revision; watch thread only
  EventSink* const sink_;
  const uint64_t tag_;
};

// ---------------------------------------------------------------------------
class EtcdBackend final : public Backend {
 public:
  EtcdBackend(std::shared_ptr<grpc::Channel> channel, const Clock& clock,
              std::string members)
      : channel_(std::move(channel)),
        clock_(clock),
        caller_(clock, std::move(members)),
        kv_(pb::KV::NewStub(channel_)),
        lease_(pb::Lease::NewStub(channel_)) {}

  std::string_view name() const override { return "etcd"; }

  Result<std::unique_ptr<Session>> OpenSession(Duration ttl, MonoTime deadline,
                                               EventSink* sink,
                                               uint64_t tag) override {
    pb::LeaseGrantRequest req;
    req.set_ttl(std::chrono::duration_cast<seconds>(ttl).count());
    pb::LeaseGrantResponse resp;
    CONCH_RETURN_IF_ERROR(
        caller_.Run("grant lease", deadline, [&](grpc::ClientContext* ctx) {
          return lease_->LeaseGrant(ctx, req, &resp);
        }));
    if (!resp.error().empty()) {
      return Error(Code::kInternal, "grant lease: etcd: " + resp.error());
    }
    return std::unique_ptr<Session>(std::make_unique<EtcdSession>(
        channel_, caller_, clock_, resp.id(), seconds(resp.ttl()), sink, tag));
  }

  Result<Contender> CreateContender(Session& session, const std::string& prefix,
                                    const std::string& value,
                                    MonoTime deadline) override {
    // The original's layout: <prefix><lease-hex>, so the key itself makes a
    // repeated create find its first attempt.
    const std::string key = prefix + LeaseHex(session.id());
    pb::TxnRequest txn = IfCreatedAt(key, 0);  // 0: the key does not exist
    pb::PutRequest* put = txn.add_success()->mutable_request_put();
    put->set_key(key);
    put->set_value(value);
    put->set_lease(session.id());
    FillRange(txn.add_success()->mutable_request_range(), prefix, 1,
              pb::RangeRequest::ASCEND);
    pb::RangeRequest* self = txn.add_failure()->mutable_request_range();
    self->set_key(key);
    FillRange(txn.add_failure()->mutable_request_range(), prefix, 1,
              pb::RangeRequest::ASCEND);

    pb::TxnResponse resp;
    CONCH_RETURN_IF_ERROR(caller_.Run(
        "create " + key, deadline,
        [&](grpc::ClientContext* ctx) { return kv_->Txn(ctx, txn, &resp); }));
    if (resp.responses_size() != 2) {
      return Error(Code::kInternal, "create " + key + ": short txn answer");
    }
    Contender out;
    out.created = resp.succeeded();
    out.first = FirstOf(resp.responses(1).response_range());
    if (out.created) {
      out.self.key = key;
      out.self.value = value;
      out.self.create_revision = resp.header().revision();
      out.self.session = session.id();
    } else {
      std::optional<KeyValue> existing =
          FirstOf(resp.responses(0).response_range());
      if (!existing) {
        return Error(Code::kInternal, "create " + key + ": vanished in txn");
      }
      if (existing->session != session.id()) {
        return Error(Code::kAlreadyExists,
                     "create " + key + ": key exists under another lease");
      }
      out.self = *existing;
    }
    return out;
  }

  Result<Predecessor> FindPredecessor(const std::string& prefix,
                                      const KeyValue& self,
                                      MonoTime deadline) override {
    // A read-only txn: the three ranges see one revision.
    pb::TxnRequest txn;
    pb::RangeRequest* prev = txn.add_success()->mutable_request_range();
    FillRange(prev, prefix, 1, pb::RangeRequest::DESCEND);
    prev->set_max_create_revision(self.create_revision - 1);
    prev->set_keys_only(true);
    pb::RangeRequest* first = txn.add_success()->mutable_request_range();
    FillRange(first, prefix, 1, pb::RangeRequest::ASCEND);
    first->set_keys_only(true);
    pb::RangeRequest* own = txn.add_success()->mutable_request_range();
    own->set_key(self.key);
    own->set_keys_only(true);
    pb::TxnResponse resp;
    CONCH_RETURN_IF_ERROR(caller_.Run(
        "read queue " + prefix, deadline,
        [&](grpc::ClientContext* ctx) { return kv_->Txn(ctx, txn, &resp); }));
    if (resp.responses_size() != 3) {
      return Error(Code::kInternal, "read queue " + prefix + ": short answer");
    }
    Predecessor out;
    out.previous = FirstOf(resp.responses(0).response_range());
    out.first = FirstOf(resp.responses(1).response_range());
    std::optional<KeyValue> mine = FirstOf(resp.responses(2).response_range());
    out.self_present = mine && mine->create_revision == self.create_revision;
    return out;
  }

  Result<std::vector<KeyValue>> List(const std::string& prefix, int64_t limit,
                                     MonoTime deadline) override {
    pb::RangeRequest req;
    FillRange(&req, prefix, limit, pb::RangeRequest::ASCEND);
    return Range(req, "list " + prefix, deadline);
  }

  Result<std::vector<KeyValue>> ListThrough(const std::string& prefix,
                                            const KeyValue& self,
                                            MonoTime deadline) override {
    pb::RangeRequest req;
    FillRange(&req, prefix, 0, pb::RangeRequest::ASCEND);
    req.set_max_create_revision(self.create_revision);
    return Range(req, "list " + prefix, deadline);
  }

  Result<std::optional<KeyValue>> Get(const std::string& key,
                                      MonoTime deadline) override {
    pb::RangeRequest req;
    req.set_key(key);
    Result<std::vector<KeyValue>> kvs = Range(req, "read " + key, deadline);
    if (!kvs.ok()) return kvs.status();
    if (kvs->empty()) return std::optional<KeyValue>();
    return std::optional<KeyValue>(std::move(kvs->front()));
  }

  Result<bool> PutIfOwned(const KeyValue& self, const std::string& value,
                          MonoTime deadline) override {
    pb::TxnRequest txn = IfCreatedAt(self.key, self.create_revision);
    pb::PutRequest* put = txn.add_success()->mutable_request_put();
    put->set_key(self.key);
    put->set_value(value);
    put->set_lease(self.session);
    pb::TxnResponse resp;
    CONCH_RETURN_IF_ERROR(caller_.Run(
        "update " + self.key, deadline,
        [&](grpc::ClientContext* ctx) { return kv_->Txn(ctx, txn, &resp); }));
    return resp.succeeded();
  }

  Result<bool> DeleteIfOwned(const KeyValue& self, MonoTime deadline) override {
    pb::TxnRequest txn = IfCreatedAt(self.key, self.create_revision);
    txn.add_success()->mutable_request_delete_range()->set_key(self.key);
    pb::TxnResponse resp;
    CONCH_RETURN_IF_ERROR(caller_.Run(
        "delete " + self.key, deadline,
        [&](grpc::ClientContext* ctx) { return kv_->Txn(ctx, txn, &resp); }));
    return resp.succeeded();
  }

  Status Put(const std::string& key, const std::string& value, Session* session,
             MonoTime deadline) override {
    pb::PutRequest req;
    req.set_key(key);
    req.set_value(value);
    if (session != nullptr) req.set_lease(session->id());
    pb::PutResponse resp;
    return caller_.Run("write " + key, deadline, [&](grpc::ClientContext* ctx) {
      return kv_->Put(ctx, req, &resp);
    });
  }

  Result<bool> Delete(const std::string& key, MonoTime deadline) override {
    pb::DeleteRangeRequest req;
    req.set_key(key);
    pb::DeleteRangeResponse resp;
    CONCH_RETURN_IF_ERROR(
        caller_.Run("delete " + key, deadline, [&](grpc::ClientContext* ctx) {
          return kv_->DeleteRange(ctx, req, &resp);
        }));
    return resp.deleted() > 0;
  }

  Result<std::vector<KeyValue>> ListRecords(const std::string& dir, bool values,
                                            MonoTime deadline) override {
    pb::RangeRequest req;
    req.set_key(dir);
    req.set_range_end(PrefixEnd(dir));
    req.set_keys_only(!values);  // sorted by key: etcd's default
    Result<std::vector<KeyValue>> kvs = Range(req, "list " + dir, deadline);
    if (!kvs.ok()) return kvs;
    std::erase_if(*kvs, [&](const KeyValue& kv) {
      return kv.key.size() == dir.size() ||
             kv.key.find('/', dir.size()) != std::string::npos;
    });
    return kvs;
  }

  Result<std::optional<KeyValue>> ClaimInOrder(const std::string& dir,
                                               const std::string& name,
                                               const std::string& value,
                                               MonoTime deadline) override {
    const std::string key = dir + name;
    // One compare over [key, end of dir): no record there, neither ours
    // nor a later one.
    pb::TxnRequest txn = IfCreatedAt(key, 0);
    txn.mutable_compare(0)->set_range_end(PrefixEnd(dir));
    pb::PutRequest* put = txn.add_success()->mutable_request_put();
    put->set_key(key);
    put->set_value(value);
    pb::RangeRequest* own = txn.add_failure()->mutable_request_range();
    own->set_key(key);
    pb::TxnResponse resp;
    CONCH_RETURN_IF_ERROR(caller_.Run(
        "claim " + key, deadline,
        [&](grpc::ClientContext* ctx) { return kv_->Txn(ctx, txn, &resp); }));
    if (resp.succeeded()) {
      return std::optional<KeyValue>(
          KeyValue{key, value, resp.header().revision(), 0});
    }
    if (resp.responses_size() == 1) {
      std::optional<KeyValue> found =
          FirstOf(resp.responses(0).response_range());
      if (found && found->value == value) return found;  // our lost attempt
    }
    return std::optional<KeyValue>();
  }

  Result<std::vector<KeyValue>> ListTree(const std::string& prefix,
                                         MonoTime deadline) override {
    const std::string what = "list tree " + prefix;
    // One Range, sorted by key (etcd's default). It asks for one key more
    // than the bound, so that too many is told from exactly enough, and one
    // more for the prefix itself, which may be a key too.
    pb::RangeRequest req;
    req.set_key(prefix);
    req.set_range_end(PrefixEnd(prefix));
    req.set_limit(static_cast<int64_t>(kMaxTreeKeys) + 2);
    Result<std::vector<KeyValue>> kvs = Range(req, what, deadline);
    if (!kvs.ok()) return kvs;
    std::erase_if(*kvs, [&](const KeyValue& kv) { return kv.key == prefix; });
    if (kvs->size() > kMaxTreeKeys) {
      return Error(Code::kFailedPrecondition,
                   what + ": more than " + std::to_string(kMaxTreeKeys) +
                       " keys; not reading them all");
    }
    for (const KeyValue& kv : *kvs) {
      // "a/b/c" below the prefix is 3 levels down.
      std::string_view below = std::string_view(kv.key).substr(prefix.size());
      if (std::count(below.begin(), below.end(), '/') >= kMaxTreeDepth) {
        return Error(Code::kFailedPrecondition,
                     what + ": " + kv.key + " lies more than " +
                         std::to_string(kMaxTreeDepth) +
                         " levels below the prefix");
      }
    }
    return kvs;
  }

  std::unique_ptr<Watch> StartWatch(std::vector<WatchSpec> specs,
                                    EventSink* sink, uint64_t tag) override {
    return std::make_unique<EtcdWatch>(channel_, std::move(specs), sink, tag);
  }

 private:
  // Runs one Range and returns its keys.
  Result<std::vector<KeyValue>> Range(const pb::RangeRequest& req,
                                      const std::string& what,
                                      MonoTime deadline) {
    pb::RangeResponse resp;
    CONCH_RETURN_IF_ERROR(caller_.Run(
        what, deadline,
        [&](grpc::ClientContext* ctx) { return kv_->Range(ctx, req, &resp); }));
    std::vector<KeyValue> kvs;
    kvs.reserve(resp.kvs_size());
    for (const mvccpb::KeyValue& kv : resp.kvs()) kvs.push_back(FromPb(kv));
    return kvs;
  }

  std::shared_ptr<grpc::Channel> channel_;
  const Clock& clock_;
  Caller caller_;
  std::unique_ptr<pb::KV::Stub> kv_;
  std::unique_ptr<pb::Lease::Stub> lease_;
};

}  // namespace

Result<std::unique_ptr<Backend>> OpenEtcd(const StoreAddress& address,
                                          const BackendOptions& options) {
  Result<std::string> target = ResolveTarget(address.members);
  if (!target.ok()) return target.status();
  grpc::ChannelArguments args;
  // Reconnect fast: a member that died is replaced within ~100 ms (a
  // refused connection moves on to the next member at once). gRPC also
  // takes the minimum backoff as the least time a connection attempt gets
  // to finish its handshake: at 100 ms, a loaded machine timed out every
  // attempt for tens of seconds; 1 s still moves on from a frozen member
  // (which accepts connections and never answers) well within a TTL.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // The store is addressed directly; an http_proxy in the environment
  // must not capture it.
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  args.SetLoadBalancingPolicyName("pick_first");
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      *target, grpc::InsecureChannelCredentials(), args);
  return std::unique_ptr<Backend>(std::make_unique<EtcdBackend>(
      channel, *options.clock, Join(address.members, ",")));
}

}  // namespace conch::backend
