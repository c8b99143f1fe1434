#include "backend/zookeeper/zk_watch.h"

#include <optional>
#include <string>

#include "backend/zookeeper/zk_names.h"
#include "base/log.h"
#include "base/mutex.h"

namespace conch::backend::zk {
namespace {

// What a Watch's slots share: the sink and one mutex for all of them, so
// that the Watch's destructor can cut them off together and the watch
// fails once, not once per spec. Shared with the slots, which the
// connection's registry and pending reads hold.
struct Channel {
  Channel(EventSink* s, uint64_t t) : sink(s), tag(t) {}

  // Pushes `e` unless the Watch is gone.
  void Push(Event e) const REQUIRES(mu) {
    if (cancelled) return;
    e.tag = tag;
    sink->Push(std::move(e));
  }
  // Pushes kWatchFailed unless it already was.
  void Fail(const Status& why) REQUIRES(mu) {
    if (failed) return;
    failed = true;
    Event e;
    e.kind = Event::Kind::kWatchFailed;
    e.status = why;
    Push(std::move(e));
  }

  Mutex mu;
  bool cancelled GUARDED_BY(mu) = false;  // the Watch was destroyed
  bool failed GUARDED_BY(mu) = false;     // kWatchFailed was pushed
  EventSink* const sink;
  const uint64_t tag;
};

// The steps of the two state machines: which read a reply answers.
enum class Step {
  kArmExists,    // key: exists + watch
  kArmGet,       // key: getData + watch
  kReadValue,    // key: getData, no watch (an exists watch is armed)
  kArmChildren,  // prefix: getChildren + watch on the parent
  kArmParent,    // prefix: exists + watch on the missing parent
};

// One spec of a Watch. Every method but Start runs on the connection's
// completion thread (OnEnded also in Close()); Start runs on the owner
// thread before any watch of the slot is armed.
class SpecSlot : public WatchSlot,
                 public std::enable_shared_from_this<SpecSlot> {
 public:
  // `conn` is borrowed: the slot is called only from the connection's
  // threads, and the Watch that owns the connection removes the slot
  // before letting go of it.
  SpecSlot(ZkConn* conn, std::shared_ptr<Channel> channel, WatchSpec spec,
           size_t index)
      : channel_(std::move(channel)),
        conn_(conn),
        spec_(std::move(spec)),
        index_(index) {}

  // Owner thread: sets the slot's id in the connection's registry, then
  // arms the first watch.
  void Start(uint64_t id) {
    id_ = id;
    Read(FirstStep());
  }

  void OnFire(int type) EXCLUDES(channel_->mu) override {
    std::optional<Step> next;
    {
      MutexLock lock(channel_->mu);
      if (channel_->cancelled || channel_->failed) return;
      next = NextAfterFire(type);
    }
    if (next) Read(*next);
  }

  void OnReconnected() EXCLUDES(channel_->mu) override {
    std::optional<Step> again;
    {
      MutexLock lock(channel_->mu);
      again.swap(retry_);
    }
    if (again) Read(*again);
  }

  void OnEnded(const Status& why) EXCLUDES(channel_->mu) override {
    MutexLock lock(channel_->mu);
    channel_->Fail(why.With("watch " + spec_.key));
  }

 protected:
  virtual Step FirstStep() const = 0;
  // The read that re-arms after a fire of `type`.
  virtual std::optional<Step> NextAfterFire(int type)
      REQUIRES(channel_->mu) = 0;
  // Reports what a read shows and returns the read to send next, if any.
  virtual std::optional<Step> Apply(Step step, const Reply& reply)
      REQUIRES(channel_->mu) = 0;

  void GoLive() REQUIRES(channel_->mu) {
    if (live_) return;
    live_ = true;
    Event e;
    e.kind = Event::Kind::kWatchLive;
    e.spec = index_;
    channel_->Push(std::move(e));
  }
  void PushChange(Event::Change change) REQUIRES(channel_->mu) {
    Event e;
    e.kind = Event::Kind::kWatch;
    e.spec = index_;
    e.change = std::move(change);
    channel_->Push(std::move(e));
  }
  void Fail(int rc) REQUIRES(channel_->mu) {
    channel_->Fail(FromZk(rc, "watch " + spec_.key));
  }

  const WatchSpec& spec() const { return spec_; }
  bool live() const REQUIRES(channel_->mu) { return live_; }

  // Protected so that the subclasses' fields can name their mutex.
  const std::shared_ptr<Channel> channel_;

 private:
  void Read(Step step) EXCLUDES(channel_->mu) {
    Request request;
    request.watch = id_;
    switch (step) {
      case Step::kArmExists:
      case Step::kArmParent:
        request.op = Op::kExists;
        break;
      case Step::kArmGet:
        request.op = Op::kGet;
        break;
      case Step::kReadValue:
        request.op = Op::kGet;
        request.watch = 0;
        break;
      case Step::kArmChildren:
        request.op = Op::kGetChildren;
        break;
    }
    request.path = spec_.prefix ? ParentOfPrefix(spec_.key) : spec_.key;
    int rc = conn_->Send(request,
                         [self = shared_from_this(), step](const Reply& reply) {
                           self->Handle(step, reply);
                         });
    if (rc == ZOK || rc == ZCLOSING || rc == ZINVALIDSTATE) {
      return;  // the answer comes, or the session ended and OnEnded comes
    }
    MutexLock lock(channel_->mu);
    Fail(rc);
  }

  void Handle(Step step, const Reply& reply) EXCLUDES(channel_->mu) {
    std::optional<Step> next;
    {
      MutexLock lock(channel_->mu);
      if (channel_->cancelled || channel_->failed) return;
      if (reply.rc == ZCLOSING || reply.rc == ZINVALIDSTATE) return;
      if (IsConnectionLoss(reply.rc)) {
        // The watch may not be armed: sent again on reconnection.
        retry_ = step;
        return;
      }
      next = Apply(step, reply);
    }
    if (next) Read(*next);
  }

  ZkConn* const conn_;
  const WatchSpec spec_;
  const size_t index_;
  uint64_t id_ = 0;  // set by Start before any read
  bool live_ GUARDED_BY(channel_->mu) = false;
  std::optional<Step> retry_ GUARDED_BY(channel_->mu);
};

// A key: exists watch until a fire, then getData (re-arms and reads), or
// exists again once the key is gone. Reports are deduplicated against the
// last state reported (czxid, mzxid), since two watches of the slot may
// fire for one change.
class KeySlot final : public SpecSlot {
 public:
  using SpecSlot::SpecSlot;

 private:
  Step FirstStep() const override { return Step::kArmExists; }

  std::optional<Step> NextAfterFire(int type) REQUIRES(channel_->mu) override {
    if (type == ZOO_DELETED_EVENT) {
      ReportAbsent();
      return Step::kArmExists;
    }
    if (type == ZOO_CREATED_EVENT || type == ZOO_CHANGED_EVENT) {
      return Step::kArmGet;
    }
    return std::nullopt;
  }

  std::optional<Step> Apply(Step step, const Reply& reply)
      REQUIRES(channel_->mu) override {
    if (reply.rc != ZOK && reply.rc != ZNONODE) {
      Fail(reply.rc);
      return std::nullopt;
    }
    const bool present = reply.rc == ZOK && reply.stat.has_value();
    if (!live()) {
      // The first answer: the state from which changes are reported.
      if (present) Remember(*reply.stat);
      GoLive();
      return std::nullopt;
    }
    if (!present) {
      ReportAbsent();
      // getData arms nothing on a missing key; exists does.
      return step == Step::kArmGet ? std::optional(Step::kArmExists)
                                   : std::nullopt;
    }
    // exists shows the key but not its value: read it (its exists watch
    // stays armed).
    if (step == Step::kArmExists) return Step::kReadValue;
    ReportPresent(reply);
    return std::nullopt;
  }

  void Remember(const struct Stat& stat) REQUIRES(channel_->mu) {
    czxid_ = stat.czxid;
    mzxid_ = stat.mzxid;
  }

  void ReportAbsent() REQUIRES(channel_->mu) {
    if (!czxid_) return;
    czxid_.reset();
    Event::Change change;
    change.deleted = true;
    change.key = spec().key;
    PushChange(std::move(change));
  }

  void ReportPresent(const Reply& reply) REQUIRES(channel_->mu) {
    const struct Stat& stat = *reply.stat;
    if (czxid_ == stat.czxid && mzxid_ == stat.mzxid) return;
    Remember(stat);
    Event::Change change;
    change.key = spec().key;
    change.kv =
        KeyValue{spec().key, reply.value, stat.czxid, stat.ephemeralOwner};
    PushChange(std::move(change));
  }

  std::optional<int64_t> czxid_ GUARDED_BY(channel_->mu);  // nullopt: absent
  int64_t mzxid_ GUARDED_BY(channel_->mu) = 0;
};

// A prefix: child watch on its parent node while the parent exists, exists
// watch on the parent while it does not. Each listing is compared with the
// previous one.
class PrefixSlot final : public SpecSlot {
 public:
  using SpecSlot::SpecSlot;

 private:
  Step FirstStep() const override { return Step::kArmChildren; }

  std::optional<Step> NextAfterFire(int /*type*/)
      REQUIRES(channel_->mu) override {
    // A child came or went, or the parent was created, changed or deleted:
    // list again (a missing parent then arms exists).
    return Step::kArmChildren;
  }

  std::optional<Step> Apply(Step step, const Reply& reply)
      REQUIRES(channel_->mu) override {
    if (reply.rc != ZOK && reply.rc != ZNONODE) {
      Fail(reply.rc);
      return std::nullopt;
    }
    if (step == Step::kArmParent) {
      if (reply.rc == ZOK) return Step::kArmChildren;  // it just appeared
      GoLive();  // missing, and its creation is watched
      return std::nullopt;
    }
    if (reply.rc == ZNONODE) {
      Report({});
      return Step::kArmParent;
    }
    std::vector<std::string> ignored;
    std::vector<ChildName> children =
        spec().records ? SortRecords(reply.children)
                       : SortChildren(reply.children, &ignored);
    const std::string note = "zookeeper: watch " + spec().key + ": ignoring ";
    for (const std::string& name : ignored) LogDebug(note + name);
    if (!live()) {
      known_ = std::move(children);
      GoLive();
      return std::nullopt;
    }
    Report(std::move(children));
    return std::nullopt;
  }

  void Report(std::vector<ChildName> now) REQUIRES(channel_->mu) {
    for (ChildChange& c : DiffChildren(known_, now)) {
      Event::Change change;
      change.deleted = c.deleted;
      change.key = spec().key + c.name;
      PushChange(std::move(change));
    }
    known_ = std::move(now);
  }

  std::vector<ChildName> known_ GUARDED_BY(channel_->mu);
};

class ZkWatch final : public Watch {
 public:
  ZkWatch(std::shared_ptr<ZkConn> conn, std::vector<WatchSpec> specs,
          EventSink* sink, uint64_t tag)
      : conn_(std::move(conn)), channel_(std::make_shared<Channel>(sink, tag)) {
    for (size_t i = 0; i < specs.size(); ++i) {
      std::shared_ptr<SpecSlot> slot;
      if (specs[i].prefix) {
        slot = std::make_shared<PrefixSlot>(conn_.get(), channel_,
                                            std::move(specs[i]), i);
      } else {
        slot = std::make_shared<KeySlot>(conn_.get(), channel_,
                                         std::move(specs[i]), i);
      }
      uint64_t id = conn_->AddWatch(slot);
      ids_.push_back(id);
      slot->Start(id);
    }
  }

  // Fires after RemoveWatch find nothing; a callback already running
  // pushes before `cancelled` is set or not at all.
  ~ZkWatch() override {
    for (uint64_t id : ids_) conn_->RemoveWatch(id);
    MutexLock lock(channel_->mu);
    channel_->cancelled = true;
  }

 private:
  // Shared with the session that opened the connection and with other
  // watches on it: the ZkConn object lives until the last of them is gone
  // (its handle closes with the session, and the watch then fails).
  const std::shared_ptr<ZkConn> conn_;
  const std::shared_ptr<Channel> channel_;
  std::vector<uint64_t> ids_;
};

class FailedWatch final : public Watch {};

}  // namespace

std::unique_ptr<Watch> StartZkWatch(std::shared_ptr<ZkConn> conn,
                                    std::vector<WatchSpec> specs,
                                    EventSink* sink, uint64_t tag) {
  for (const WatchSpec& spec : specs) {
    Status bad = spec.prefix ? CheckPrefix(spec.key) : CheckKey(spec.key);
    if (!bad.ok()) return FailedZkWatch(bad.With("watch"), sink, tag);
  }
  return std::make_unique<ZkWatch>(std::move(conn), std::move(specs), sink,
                                   tag);
}

std::unique_ptr<Watch> FailedZkWatch(const Status& why, EventSink* sink,
                                     uint64_t tag) {
  Event e;
  e.kind = Event::Kind::kWatchFailed;
  e.tag = tag;
  e.status = why;
  sink->Push(std::move(e));
  return std::make_unique<FailedWatch>();
}

}  // namespace conch::backend::zk
