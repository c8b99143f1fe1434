#include "switchman/run.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "backend/zookeeper/zk_names.h"
#include "base/event_loop.h"
#include "base/log.h"
#include "base/signals.h"
#include "base/strings.h"
#include "base/version.h"
#include "primitives/hold_deadline.h"
#include "supervisor/run.h"
#include "supervisor/spawn.h"
#include "switchman/config.h"
#include "switchman/inspect.h"
#include "switchman/layout.h"
#include "switchman/lease.h"
#include "switchman/logger.h"
#include "switchman/options.h"
#include "switchman/store.h"

extern char** environ;

namespace conch::switchman {

namespace {

namespace zk = backend::zk;

constexpr Duration kRequestTimeout = std::chrono::seconds(5);

// Watch tags (1 is the session's own).
constexpr uint64_t kLockTag = 100;    // the lock node
constexpr uint64_t kPrefixTag = 101;  // the prefix's data (the groups)
constexpr uint64_t kWaitTag = 102;    // what a wait is waiting for

// How a step ended when the run cannot go on: the exit status.
using Exit = std::optional<int>;

// The prefix data in a Get reply, read as the original reads it.
Result<PrefixData> PrefixOf(const Reply& reply, const Config& config) {
  const size_t length = reply.stat ? static_cast<size_t>(reply.stat->dataLength)
                                   : reply.value.size();
  return ParsePrefixRead(reply.value, length, config.data_read_len);
}

// Data of every node we create, as the original writes it.
std::string NodeData(const HostFacts& facts) {
  return facts.fqdn + " " + std::to_string(::getpid());
}

class Runner {
 public:
  Runner(const Options& options, const Config& config,
         std::vector<Lease> leases, HostFacts facts, SignalFd& signals)
      : o_(options),
        c_(config),
        leases_(std::move(leases)),
        facts_(std::move(facts)),
        data_(NodeData(facts_)),
        layout_(config.prefix),
        lock_path_(layout_.lock(options.lockname)),
        conflict_(options.conflict_exit_code.value_or(
            config.conflict_exit_code.value_or(0))),
        signals_(signals),
        loop_(SystemClock::Get()) {}

  int Run();

 private:
  friend class SwitchmanHold;

  // Steps; each returns the exit status when the run ends there.
  Exit Connect();
  Exit ReadPrefixAndPreCheck();
  Exit CheckGroup();
  Exit OrderLeases();
  Exit Enqueue();
  Exit WaitInQueue(size_t i);
  Exit TakeLease(size_t i);
  Exit TakeLock();
  int RunCommand();

  // Did not run: the lock, the queue or the group said no.
  int Conflict() const { return conflict_; }
  // A failure to use the store before anything runs.
  int StoreError(const Status& s, std::string_view doing);

  // Turns the loop until `tag` fires: nullopt, or the status the wait ends
  // the run with (see the top of run.h).
  Exit Await(uint64_t tag, const std::string& waiting_for);
  // Handles what the store reported. Returns the status when it ends the
  // run. `waiting_for` is for messages.
  Exit HandleStoreEvents(const std::string& waiting_for, bool* tag_fired,
                         uint64_t tag);
  // The exists watch on the lock fired while waiting: is the lock there?
  Exit RecheckLockWhileWaiting(const std::string& waiting_for);
  Exit RecheckGroupWhileWaiting();

  std::string DataFor(const std::string& path) const;
  Status Ensure(const std::string& path) {
    return store_->EnsurePath(
        path, [this](const std::string& p) { return DataFor(p); });
  }
  // Store::CreateEphemeral, creating the parent first when it is missing.
  Result<Store::Created> CreateUnder(const std::string& parent,
                                     const std::string& path, bool sequential,
                                     const std::vector<Request>& after = {});

  const Options& o_;
  const Config& c_;
  std::vector<Lease> leases_;  // in the prefix's order once ordered
  const HostFacts facts_;
  const std::string data_;
  const Layout layout_;
  const std::string lock_path_;
  const int conflict_;
  SignalFd& signals_;
  EventLoop loop_;

  std::unique_ptr<Store> store_;
  std::optional<PrefixData> prefix_;
  std::optional<MonoTime> give_up_;         // resources_wait_timeout
  std::vector<std::string> queue_entries_;  // ours, one per lease
  std::vector<int64_t> queue_seqs_;         // their sequence numbers
  bool lock_watched_ = false;               // an exists watch is armed
};

std::string Runner::DataFor(const std::string& path) const {
  if (path == layout_.prefix()) return "{}";  // a prefix that parses
  // Ancestors of the prefix: empty; locks, queues and their resources,
  // semaphores: "<fqdn> <pid>" as the original; a semaphore's own nodes
  // "0" as Net::ZooKeeper::Semaphore writes them.
  if (!path.starts_with(layout_.prefix() + "/")) return "";
  if (path.starts_with(layout_.semaphores() + "/")) return "0";
  return data_;
}

int Runner::StoreError(const Status& s, std::string_view doing) {
  LogError(std::string(doing) + ": " + s.message());
  switch (s.code()) {
    case Code::kInvalidArgument:
      return kExitUsage;
    case Code::kUnavailable:
    case Code::kDeadlineExceeded:
      return store_ == nullptr ? kExitUnavailable : kExitTempFail;
    default:
      return kExitTempFail;
  }
}

Exit Runner::Connect() {
  StoreOptions so;
  so.zkhosts = c_.zkhosts;
  so.session_timeout = c_.session_timeout;
  so.request_timeout = kRequestTimeout;
  // The deadline of the fail-closed rule needs the command dead before the
  // session could expire; termination_timeout may be longer than that
  // allows, so the deadline's own grace is capped (an explicit stop still
  // gives the full termination_timeout).
  so.kill_after = std::min<Duration>(
      c_.termination_timeout, primitives::MaxKillAfter(c_.session_timeout));
  Result<std::unique_ptr<Store>> store = Store::Open(so);
  if (!store.ok()) {
    LogError("Failed to connect to ZooKeeper: " + store.status().message());
    return store.status().code() == Code::kInvalidArgument ? kExitUsage
                                                           : kExitUnavailable;
  }
  store_ = std::move(store).value();
  return std::nullopt;
}

// One round trip: the prefix data (with -g or leases; watched with -g) and,
// with leases and the lock, the lock pre-check, which arms the lock watch.
Exit Runner::ReadPrefixAndPreCheck() {
  const bool need_prefix = !o_.group.empty() || !leases_.empty();
  const bool pre_check = o_.lock && !leases_.empty();
  if (!need_prefix && !pre_check) return std::nullopt;
  std::vector<Request> requests;
  if (need_prefix) {
    requests.push_back(zk::GetRequest(
        layout_.prefix(), o_.group.empty() ? 0 : store_->Watch(kPrefixTag)));
  }
  if (pre_check) {
    requests.push_back(zk::ExistsRequest(lock_path_, store_->Watch(kLockTag)));
  }
  Result<std::vector<Reply>> replies =
      store_->Call("read " + layout_.prefix(), requests);
  if (!replies.ok()) return StoreError(replies.status(), "read the prefix");
  size_t next = 0;
  if (need_prefix) {
    const Reply& r = (*replies)[next++];
    if (r.rc == ZNONODE) {
      prefix_ = PrefixData{};  // created on demand, as "{}"
    } else if (r.rc != ZOK) {
      return StoreError(zk::FromZk(r.rc, "read " + layout_.prefix()),
                        "read the prefix");
    } else {
      Result<PrefixData> parsed = PrefixOf(r, c_);
      if (!parsed.ok()) {
        LogError(parsed.status().message() + " (prefix " + layout_.prefix() +
                 ")");
        return kExitUsage;
      }
      prefix_ = std::move(parsed).value();
    }
  }
  if (Exit e = CheckGroup()) return e;
  if (pre_check) {
    lock_watched_ = true;
    const Reply& r = (*replies)[next++];
    if (r.rc == ZOK) {
      LogInfo("Lock " + lock_path_ + " already exists");
      return Conflict();
    }
    if (r.rc != ZNONODE) {
      return StoreError(zk::FromZk(r.rc, "check " + lock_path_),
                        "check the lock");
    }
  }
  return std::nullopt;
}

Exit Runner::CheckGroup() {
  if (o_.group.empty()) return std::nullopt;
  Result<GroupMembers> members = ResolveGroup(*prefix_, o_.group);
  if (!members.ok()) {
    LogError(members.status().message());
    return kExitUsage;
  }
  if (!members->Contains(facts_.fqdn)) {
    LogDebug("Group " + o_.group + " is not serviced at the moment");
    return Conflict();
  }
  return std::nullopt;
}

// The unknown-resources check, and the leases in the prefix's order.
Exit Runner::OrderLeases() {
  if (leases_.empty()) return std::nullopt;
  std::vector<std::string> known;
  for (const std::string& r : prefix_->resources) {
    known.push_back(ExpandMacros(r, facts_));
  }
  std::vector<std::string> unknown;
  for (const Lease& l : leases_) {
    if (std::find(known.begin(), known.end(), l.resource) == known.end()) {
      unknown.push_back(l.resource);
    }
  }
  if (!unknown.empty()) {
    std::sort(unknown.begin(), unknown.end());
    LogError("Unknown resources: " + Join(unknown, ", ") +
             " (the prefix data lists " +
             (known.empty() ? std::string("none") : Join(known, ", ")) + ")");
    return kExitUsage;
  }
  std::vector<Lease> ordered;
  for (const std::string& r : known) {
    for (Lease& l : leases_) {
      if (l.resource == r && !l.resource.empty()) {
        ordered.push_back(std::move(l));
        l.resource.clear();  // taken
      }
    }
  }
  leases_ = std::move(ordered);
  return std::nullopt;
}

Result<Store::Created> Runner::CreateUnder(const std::string& parent,
                                           const std::string& path,
                                           bool sequential,
                                           const std::vector<Request>& after) {
  Result<Store::Created> made =
      store_->CreateEphemeral(path, data_, sequential, after);
  if (made.ok() || made.status().code() != Code::kNotFound) return made;
  CONCH_RETURN_IF_ERROR(Ensure(parent));
  return store_->CreateEphemeral(path, data_, sequential, after);
}

// One queue entry per resource, after checking that no task of our lock
// name is queued (which ends the run as "did not run").
Exit Runner::Enqueue() {
  if (leases_.empty()) return std::nullopt;
  std::vector<Request> lists;
  for (const Lease& l : leases_) {
    lists.push_back(zk::ChildrenRequest(layout_.queue(l.resource)));
  }
  Result<std::vector<Reply>> replies = store_->Call("read the queues", lists);
  if (!replies.ok()) return StoreError(replies.status(), "read the queues");
  for (size_t i = 0; i < leases_.size(); ++i) {
    const Reply& r = (*replies)[i];
    const std::string queue = layout_.queue(leases_[i].resource);
    if (r.rc == ZNONODE) continue;
    if (r.rc != ZOK) {
      return StoreError(
          zk::FromZk(r.rc, "Could not check queue for " + leases_[i].resource),
          "read the queues");
    }
    for (const std::string& child : r.children) {
      if (IsQueueEntryOf(child, o_.lockname)) {
        LogDebug("Task " + o_.lockname + " is already queued: " + queue + "/" +
                 child);
        return Conflict();
      }
    }
  }
  for (const Lease& l : leases_) {
    const std::string queue = layout_.queue(l.resource);
    Result<Store::Created> entry = CreateUnder(
        queue, layout_.queue_entry_prefix(l.resource, o_.lockname), true);
    if (!entry.ok() || !entry->path) {
      return StoreError(
          entry.ok() ? Error(Code::kInternal, "no entry") : entry.status(),
          "Could not push task " + o_.lockname + " in queue for " + l.resource);
    }
    const std::string& path = *entry->path;
    std::optional<Sequenced> seq =
        ParseQueueEntry(std::string(zk::BaseName(path)));
    if (!seq) {
      LogError("unexpected queue entry " + path);
      return kExitTempFail;
    }
    LogDebug("Added task in queue for " + l.resource + ": " + path);
    queue_entries_.push_back(path);
    queue_seqs_.push_back(seq->seq);
  }
  return std::nullopt;
}

// Waits until our entry heads the queue of lease `i`.
Exit Runner::WaitInQueue(size_t i) {
  const std::string queue = layout_.queue(leases_[i].resource);
  const int64_t self = queue_seqs_[i];
  for (;;) {
    Result<Reply> listed = store_->Call1(
        "Could not get items in queue " + queue, zk::ChildrenRequest(queue));
    if (!listed.ok()) return StoreError(listed.status(), "wait in the queue");
    if (listed->rc != ZOK && listed->rc != ZNONODE) {
      return StoreError(zk::FromZk(listed->rc, "list " + queue),
                        "wait in the queue");
    }
    // Entries that do not follow the layout are left out (the original
    // stops every waiter on them).
    std::vector<std::string> entries;
    for (const std::string& child : listed->children) {
      std::optional<Sequenced> e = ParseQueueEntry(child);
      if (!e) {
        LogWarn("Unexpected item " + child + " in queue " + queue +
                "; ignoring it");
        continue;
      }
      // A task of our name queued ahead of us: two runs raced past the
      // check; the later one leaves.
      if (e->seq < self && IsQueueEntryOf(child, o_.lockname)) {
        LogDebug("Task " + o_.lockname + " is already queued: " + queue + "/" +
                 child);
        return Conflict();
      }
      entries.push_back(child);
    }
    Result<std::optional<Sequenced>> ahead =
        QueuePredecessor(entries, self, queue);
    if (!ahead.ok()) {
      LogError("Lost position " + std::to_string(self) + " in queue " + queue +
               ": " + ahead.status().message());
      return kExitTempFail;
    }
    if (!*ahead) return std::nullopt;  // at the head
    const std::string pred = queue + "/" + (*ahead)->name;
    Result<Reply> watched = store_->Call1(
        "watch " + pred, zk::ExistsRequest(pred, store_->Watch(kWaitTag)));
    if (!watched.ok()) return StoreError(watched.status(), "wait in the queue");
    if (watched->rc == ZNONODE) continue;  // gone already: list again
    if (watched->rc != ZOK) {
      return StoreError(zk::FromZk(watched->rc, "watch " + pred),
                        "wait in the queue");
    }
    if (Exit e = Await(kWaitTag, leases_[i].resource + " queue")) return e;
  }
}

// Takes lease `i` as Net::ZooKeeper::Semaphore does (under its mutex), but
// waits for room on a watch of the leases instead of polling. Round trips
// are batched: the mutex entry goes out with the listings of the mutex and
// of the leases (valid when the entry is first: we have held the mutex
// since it was made), and the lease with the release of the mutex (and,
// for the last lease, the leaving of the queues).
Exit Runner::TakeLease(size_t i) {
  const Lease& lease = leases_[i];
  const std::string& res = lease.resource;
  const std::string mutex = layout_.mutex(res);
  const std::string leases = layout_.leases(res);
  const std::string waiting_for = res + " semaphore";
  auto list_leases = [&] {
    return zk::ChildrenRequest(leases, store_->Watch(kWaitTag));
  };
  for (;;) {
    // 1. The mutex: the standard recipe, watching the entry just ahead.
    Result<Store::Created> entry =
        CreateUnder(mutex, layout_.mutex_entry_prefix(res), true,
                    {zk::ChildrenRequest(mutex), list_leases()});
    if (!entry.ok() || !entry->path) {
      return StoreError(
          entry.ok() ? Error(Code::kInternal, "no entry") : entry.status(),
          "take the mutex of " + res);
    }
    const std::string own = *entry->path;
    std::optional<Sequenced> mine =
        ParseMutexEntry(std::string(zk::BaseName(own)));
    if (!mine) {
      LogError("unexpected mutex entry " + own);
      return kExitTempFail;
    }
    Reply listed = entry->after[0];
    std::optional<Reply> held = entry->after[1];
    for (;;) {
      if (listed.rc != ZOK) {
        return StoreError(zk::FromZk(listed.rc, "list " + mutex),
                          "take the mutex");
      }
      Result<std::optional<Sequenced>> ahead =
          MutexPredecessor(listed.children, mine->seq, mutex);
      if (!ahead.ok()) {
        LogError(ahead.status().message());
        return kExitTempFail;
      }
      if (!*ahead) break;  // ours
      held.reset();        // listed before the mutex was ours
      const std::string pred = mutex + "/" + (*ahead)->name;
      Result<Reply> watched = store_->Call1(
          "watch " + pred, zk::ExistsRequest(pred, store_->Watch(kWaitTag)));
      if (!watched.ok()) return StoreError(watched.status(), "take the mutex");
      if (watched->rc != ZOK && watched->rc != ZNONODE) {
        return StoreError(zk::FromZk(watched->rc, "watch " + pred),
                          "take the mutex");
      }
      if (watched->rc == ZOK) {
        if (Exit e = Await(kWaitTag, waiting_for)) return e;
      }
      Result<std::vector<Reply>> again = store_->Call(
          "list " + mutex, {zk::ChildrenRequest(mutex), list_leases()});
      if (!again.ok()) return StoreError(again.status(), "take the mutex");
      listed = (*again)[0];
      held = (*again)[1];
    }
    // 2. Under the mutex: the leases, watched in case there is no room.
    if (held->rc == ZNONODE) {
      if (Status s = Ensure(leases); !s.ok()) {
        return StoreError(s, "create " + leases);
      }
      Result<Reply> relisted = store_->Call1("list " + leases, list_leases());
      if (!relisted.ok())
        return StoreError(relisted.status(), "read the leases");
      held = *relisted;
    }
    if (held->rc != ZOK) {
      return StoreError(zk::FromZk(held->rc, "list " + leases),
                        "read the leases");
    }
    Result<int64_t> used = LeasesInUse(held->children, lease.total, leases);
    if (!used.ok()) {
      (void)store_->Delete({own});
      LogError(used.status().message() + " (--lease " + lease.text + ")");
      return used.status().message().starts_with("Totals mismatch")
                 ? kExitTotalsMismatch
                 : kExitTempFail;
    }
    if (*used + lease.count <= lease.total) {
      std::vector<Request> after = {zk::DeleteRequest(own, -1)};
      const bool last = i + 1 == leases_.size();
      if (last) {
        for (const std::string& q : queue_entries_) {
          after.push_back(zk::DeleteRequest(q, -1));
        }
      }
      Result<Store::Created> taken = store_->CreateEphemeral(
          layout_.lease_entry_prefix(res, lease.count, lease.total), data_,
          true, after);
      if (!taken.ok() || !taken->path) {
        return StoreError(
            taken.ok() ? Error(Code::kInternal, "no lease") : taken.status(),
            "take a lease of " + res);
      }
      for (size_t k = 0; k < taken->after.size(); ++k) {
        const int rc = taken->after[k].rc;
        if (rc != ZOK && rc != ZNONODE) {
          return StoreError(zk::FromZk(rc, "Could not delete " + after[k].path),
                            k == 0 ? "release the mutex" : "leave the queues");
        }
      }
      LogDebug("Semaphore " + res + " acquired: " + *taken->path);
      if (last) {
        LogDebug("All resources acquired");
        queue_entries_.clear();
      }
      return std::nullopt;
    }
    // 3. No room: let others check too, and wait for a lease to go.
    if (Status s = store_->Delete({own}); !s.ok()) {
      return StoreError(s, "release the mutex");
    }
    LogDebug("Semaphore " + res + " is full (" + std::to_string(*used) +
             " of " + std::to_string(lease.total) + " in use); waiting");
    if (Exit e = Await(kWaitTag, waiting_for)) return e;
  }
}

// The lock, and its watch in the same round trip.
Exit Runner::TakeLock() {
  if (!o_.lock) return std::nullopt;
  Result<Store::Created> made =
      CreateUnder(layout_.locks(), lock_path_, false,
                  {zk::ExistsRequest(lock_path_, store_->Watch(kLockTag))});
  if (!made.ok()) {
    return StoreError(made.status(), "Could not acquire lock " + o_.lockname);
  }
  const Reply* watched = made->after.empty() ? nullptr : &made->after[0];
  if (!made->path || watched == nullptr || watched->rc != ZOK ||
      !watched->stat || watched->stat->ephemeralOwner != store_->session_id()) {
    LogInfo("Lock " + o_.lockname + " already exists");
    return Conflict();
  }
  lock_watched_ = true;
  LogDebug("Lock " + lock_path_ + " taken");
  return std::nullopt;
}

Exit Runner::RecheckLockWhileWaiting(const std::string& waiting_for) {
  Result<Reply> r =
      store_->Call1("check " + lock_path_,
                    zk::ExistsRequest(lock_path_, store_->Watch(kLockTag)));
  if (!r.ok()) return StoreError(r.status(), "check the lock");
  if (r->rc == ZOK) {
    LogInfo("Lock watch received while waiting for " + waiting_for + ": lock " +
            lock_path_ + " appeared, we exit");
    return Conflict();
  }
  return std::nullopt;
}

Exit Runner::RecheckGroupWhileWaiting() {
  Result<Reply> r = store_->Call1(
      "read " + layout_.prefix(),
      zk::GetRequest(layout_.prefix(), store_->Watch(kPrefixTag)));
  if (!r.ok()) return StoreError(r.status(), "read the prefix");
  if (r->rc != ZOK) return std::nullopt;  // judged when the command starts
  Result<PrefixData> parsed = PrefixOf(*r, c_);
  if (!parsed.ok()) {
    LogWarn(parsed.status().message() + "; keeping the last group data");
    return std::nullopt;
  }
  Result<GroupMembers> members = ResolveGroup(*parsed, o_.group);
  if (!members.ok() || !members->Contains(facts_.fqdn)) {
    LogInfo("Group " + o_.group +
            " is not serviced by the current host anymore");
    return Conflict();
  }
  prefix_ = std::move(parsed).value();
  return std::nullopt;
}

Exit Runner::HandleStoreEvents(const std::string& waiting_for, bool* tag_fired,
                               uint64_t tag) {
  Drained d = store_->Drain();
  if (d.lost) {
    LogError("ZooKeeper session lost while waiting for " + waiting_for + ": " +
             d.lost->message());
    return kExitTempFail;
  }
  bool lock_fired = false;
  bool prefix_fired = false;
  for (const Fire& f : d.fires) {
    if (f.kind != Fire::Kind::kFired) continue;
    if (f.tag == tag) *tag_fired = true;
    if (f.tag == kLockTag) lock_fired = true;
    if (f.tag == kPrefixTag) prefix_fired = true;
  }
  if (lock_fired && lock_watched_) {
    if (Exit e = RecheckLockWhileWaiting(waiting_for)) return e;
  }
  if (prefix_fired && !o_.group.empty()) {
    if (Exit e = RecheckGroupWhileWaiting()) return e;
  }
  return std::nullopt;
}

Exit Runner::Await(uint64_t tag, const std::string& waiting_for) {
  bool fired = false;
  Exit out;
  EventLoop::Registration sig = loop_.OnReadable(signals_.fd(), [&] {
    while (std::optional<int> s = signals_.Read()) {
      if (supervisor::IsStopSignal(*s)) {
        LogWarn("Received signal " + std::to_string(*s) +
                " while waiting for " + waiting_for + "; leaving");
        out = 128 + *s;
        return;
      }
    }
  });
  EventLoop::Registration events = loop_.OnReadable(store_->fd(), [&] {
    if (Exit e = HandleStoreEvents(waiting_for, &fired, tag)) out = e;
  });
  const Clock& clock = store_->clock();
  while (!out && !fired) {
    // A frozen or unreachable store cannot renew the session: once it may
    // have expired, our places in line are gone.
    MonoTime wake = store_->deadline().valid_until();
    if (clock.Now() >= wake) {
      LogError(
          "ZooKeeper session could not be renewed in time while waiting "
          "for " +
          waiting_for);
      return kExitTempFail;
    }
    if (give_up_) {
      if (clock.Now() >= *give_up_) {
        LogError("Reached timeout while waiting for resources (" +
                 std::to_string(c_.resources_wait_timeout.count()) + " s)");
        return kExitTempFail;
      }
      wake = std::min(wake, *give_up_);
    }
    Status s = loop_.RunOnce(wake);
    if (!s.ok()) {
      LogError(s.ToString());
      return kExitTempFail;
    }
  }
  return out;
}

// The hold a running command depends on: the session (its deadline and
// its end), the lock node and, with -g, the group.
class SwitchmanHold final : public supervisor::Hold {
 public:
  SwitchmanHold(Runner& r) : r_(r) {}

  int fd() const override { return r_.store_->fd(); }
  void Pump() override {
    Drained d = r_.store_->Drain();
    if (d.lost && !lost_) {
      Lose("the ZooKeeper session was lost: " + d.lost->message(), false);
    }
    for (const Fire& f : d.fires) Handle(f);
  }
  bool lost() const override { return lost_; }
  std::string loss() const override { return loss_; }
  MonoTime term_at() const override { return r_.store_->deadline().term_at(); }
  MonoTime kill_at() const override { return r_.store_->deadline().kill_at(); }

  // Whether the loss was the host leaving the group (a planned stop).
  bool left_group() const { return left_group_; }

 private:
  void Lose(const std::string& why, bool group) {
    if (lost_) return;
    lost_ = true;
    loss_ = why;
    left_group_ = group;
  }

  void Handle(const Fire& f) {
    Store& s = *r_.store_;
    const std::string& lock = r_.lock_path_;
    if (f.tag == kLockTag && r_.o_.lock) {
      if (f.kind == Fire::Kind::kFired && f.type == ZOO_DELETED_EVENT) {
        Lose("lock " + lock + " was deleted", false);
      } else if (f.kind == Fire::Kind::kFired ||
                 (f.kind == Fire::Kind::kReconnected && lock_retry_)) {
        lock_retry_ = false;
        s.Probe(zk::ExistsRequest(lock, s.Watch(kLockTag)), kLockTag);
      } else if (f.kind == Fire::Kind::kReply) {
        if (zk::IsConnectionLoss(f.reply.rc)) {
          lock_retry_ = true;
        } else if (f.reply.rc == ZNONODE) {
          Lose("lock " + lock + " was deleted", false);
        } else if (f.reply.rc == ZOK && f.reply.stat &&
                   f.reply.stat->ephemeralOwner != s.session_id()) {
          Lose("lock " + lock + " belongs to another session now", false);
        }
      }
    }
    if (f.tag == kPrefixTag && !r_.o_.group.empty()) {
      const std::string& prefix = r_.layout_.prefix();
      if (f.kind == Fire::Kind::kFired ||
          (f.kind == Fire::Kind::kReconnected && prefix_retry_)) {
        prefix_retry_ = false;
        s.Probe(zk::GetRequest(prefix, s.Watch(kPrefixTag)), kPrefixTag);
      } else if (f.kind == Fire::Kind::kReply) {
        JudgeGroup(f.reply);
      }
    }
  }

  void JudgeGroup(const Reply& reply) {
    if (zk::IsConnectionLoss(reply.rc)) {
      prefix_retry_ = true;
      return;
    }
    const std::string& group = r_.o_.group;
    if (reply.rc == ZNONODE) {
      LogInfo("Group " + group +
              " is not serviced by the current host anymore (the prefix "
              "node is gone)");
      Lose("host left group " + group, true);
      return;
    }
    if (reply.rc != ZOK) return;  // the session's end decides
    Result<PrefixData> parsed = PrefixOf(reply, r_.c_);
    if (!parsed.ok()) {
      LogWarn(parsed.status().message() +
              "; the group stays as it was until the prefix data is fixed");
      return;
    }
    Result<GroupMembers> members = ResolveGroup(*parsed, group);
    if (!members.ok() || !members->Contains(r_.facts_.fqdn)) {
      LogInfo("Group " + group +
              " is not serviced by the current host anymore");
      Lose("host left group " + group, true);
    }
  }

  Runner& r_;
  bool lost_ = false;
  bool left_group_ = false;
  std::string loss_;
  bool lock_retry_ = false;
  bool prefix_retry_ = false;
};

int Runner::RunCommand() {
  supervisor::SpawnOptions so;
  so.argv = o_.exec.stderr_to_stdout
                ? std::vector<std::string>{"/bin/sh", "-c", o_.command[0]}
                : o_.exec.argv;
  for (char** p = environ; *p != nullptr; ++p) so.env.emplace_back(*p);
  // A stop signal that came during the last requests: do not start.
  while (std::optional<int> sig = signals_.Read()) {
    if (supervisor::IsStopSignal(*sig)) {
      LogWarn("Received signal " + std::to_string(*sig) +
              " before the command started; leaving");
      return 128 + *sig;
    }
  }
  // Started only while the session can still be trusted for the grace.
  if (!store_->deadline().Usable(store_->clock().Now())) {
    LogError("ZooKeeper session could not be renewed in time; not starting");
    return kExitTempFail;
  }
  LogInfo("Executing " + Join(o_.command, " "));
  Result<supervisor::Child> child = supervisor::Child::Spawn(so);
  if (!child.ok()) {
    LogError("Failed to exec " + Join(o_.command, " ") + ": " +
             child.status().message());
    return child.status().code() == Code::kNotFound ? kExitNotFound
                                                    : kExitCannotExec;
  }
  SwitchmanHold hold(*this);
  supervisor::RunOptions ro;
  ro.what = "command";
  ro.kill_after = c_.termination_timeout;
  supervisor::RunOutcome out =
      supervisor::RunUnderHold(loop_, *child, &hold, signals_, ro);
  const int code = supervisor::ExitCodeFromWaitStatus(out.wait_status);
  const std::string pid = std::to_string(child->command_pid());
  if (out.end == supervisor::RunOutcome::End::kHoldLost && !hold.left_group()) {
    LogWarn("It's not secure to proceed: " + out.reason + "; child " + pid +
            " " + supervisor::DescribeWaitStatus(out.wait_status));
    return kExitHoldLost;
  }
  if (code != 0) {
    std::string how = "Child " + pid + " exited with " + std::to_string(code);
    if (WIFSIGNALED(out.wait_status)) {
      how += " (killed by signal " + std::to_string(WTERMSIG(out.wait_status)) +
             ")";
    }
    LogWarn(how);
  }
  return code;
}

int Runner::Run() {
  if (Exit e = Connect()) return *e;
  if (Exit e = ReadPrefixAndPreCheck()) return *e;
  if (Exit e = OrderLeases()) return *e;
  if (c_.resources_wait_timeout.count() > 0 && !leases_.empty()) {
    give_up_ = store_->clock().Now() + c_.resources_wait_timeout;
  }
  if (Exit e = Enqueue()) return *e;
  for (size_t i = 0; i < leases_.size(); ++i) {
    if (Exit e = WaitInQueue(i)) return *e;
    if (Exit e = TakeLease(i)) return *e;
  }
  give_up_.reset();  // the last lease left the queues
  if (Exit e = TakeLock()) return *e;
  return RunCommand();
}

}  // namespace

int RunSwitchman(const std::vector<std::string>& args, std::string_view prog) {
  static SwitchmanLog* log = new SwitchmanLog(PerlTrueEnv(getenv("DEBUG")));
  SetLogSink(log);
  SetLogLevel(log->threshold());

  ParseSettings settings;
  settings.prog = std::string(prog);
  settings.posixly_correct = getenv("POSIXLY_CORRECT") != nullptr;
  Result<Options> options = ParseOptions(args, settings);
  if (!options.ok()) {
    LogError(options.status().message());
    return kExitUsage;
  }
  if (options->action == Action::kHelp) {
    std::fputs(HelpText(prog).c_str(), stdout);
    return options->exit_code;
  }
  if (options->action == Action::kVersion) {
    std::fputs(VersionText(kConchVersion).c_str(), stdout);
    return options->exit_code;
  }

  Result<HostFacts> facts = ReadHostFacts();
  if (!facts.ok()) {
    LogError(facts.status().message());
    return kExitTempFail;
  }
  // Ours: for hosts whose name does not resolve as their groups name them,
  // and for tests that play several hosts on one machine.
  if (const char* fqdn = getenv("SWITCHMAN_FQDN"); fqdn && *fqdn) {
    facts->fqdn = fqdn;
  }
  std::vector<Lease> leases;
  for (const LeaseOption& l : options->leases) {
    Result<Lease> lease = ParseLease(l.Arg(), *facts);
    if (!lease.ok()) {
      LogError(lease.status().message());
      return kExitUsage;
    }
    leases.push_back(std::move(lease).value());
  }
  Result<std::string> path = ChooseConfigPath(options->config_path, prog);
  if (!path.ok()) {
    LogError(path.status().message());
    return kExitUsage;
  }
  Result<Config> config = LoadConfig(*path);
  if (!config.ok()) {
    LogError(config.status().message());
    return kExitUsage;
  }
  if (!config->logfile.empty()) {
    if (Status s = log->OpenFile(config->logfile, config->loglevel); !s.ok()) {
      LogError(s.message());
      return kExitUsage;
    }
    SetLogLevel(log->threshold());
  }
  if (facts->fqdn.empty()) {
    LogWarn(
        "this host's fully qualified name is unknown; groups cannot "
        "match it");
  }

  Result<SignalFd> signals = SignalFd::Open();
  if (!signals.ok()) {
    LogError(signals.status().ToString());
    return kExitTempFail;
  }
  if (Status s = supervisor::BecomeSubreaper(); !s.ok()) LogWarn(s.ToString());
  Runner runner(*options, *config, std::move(leases), *facts, *signals);
  return runner.Run();
}

int ConchSwitchman(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (args[0] == "ls") return RunLs(rest);
    if (args[0] == "check-groups") return RunCheckGroups(rest);
    if (args[0] == "check-hosts") return RunCheckHosts(rest);
  }
  return RunSwitchman(args, "switchman");
}

}  // namespace conch::switchman
