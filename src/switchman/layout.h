// The switchman node layout in ZooKeeper, exactly as App::Switchman 1.16
// and Net::ZooKeeper::Semaphore 0.02 write it, so that the Perl tool and
// ours share locks, queues and leases during a migration:
//
//   PREFIX                                      persistent, the JSON config
//   PREFIX/locks/<lockname>                     ephemeral, "<fqdn> <pid>"
//   PREFIX/queues/<res>                         persistent
//   PREFIX/queues/<res>/<lockname>-<seq10>      ephemeral sequential
//   PREFIX/semaphores/<res>                     persistent
//   PREFIX/semaphores/<res>/lock/acquire-<seq10>
//                                               ephemeral sequential: the
//                                               mutex around check-and-create
//   PREFIX/semaphores/<res>/leases/<count>_<total>_<seq10>
//                                               ephemeral sequential
//
// Paths are built here and nowhere else, and the names other clients write
// (queue entries, mutex entries, leases) are parsed here: that is store
// input, so every parser refuses what does not follow the layout instead of
// guessing.
//
// Thread contract: plain values and pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace conch::switchman {

// The paths under one prefix ("/a/b", no trailing slash).
class Layout {
 public:
  explicit Layout(std::string prefix) : prefix_(std::move(prefix)) {}

  const std::string& prefix() const { return prefix_; }
  std::string locks() const { return prefix_ + "/locks"; }
  std::string lock(std::string_view lockname) const;
  std::string queues() const { return prefix_ + "/queues"; }
  std::string queue(std::string_view res) const;
  // What a queue entry is created as (the server appends the sequence).
  std::string queue_entry_prefix(std::string_view res,
                                 std::string_view lockname) const;
  std::string semaphores() const { return prefix_ + "/semaphores"; }
  std::string semaphore(std::string_view res) const;
  std::string mutex(std::string_view res) const;  // .../<res>/lock
  std::string mutex_entry_prefix(std::string_view res) const;
  std::string leases(std::string_view res) const;  // .../<res>/leases
  std::string lease_entry_prefix(std::string_view res, int64_t count,
                                 int64_t total) const;

 private:
  std::string prefix_;
};

// A child name "<stem><seq>" whose <seq> is the server's sequence suffix:
// the parent's counter as "%010d", so 10 digits (like the original, any
// number of digits is read, by value). A counter that wrapped past 2^31
// gives "-" and 9 digits, which the parsers refuse.
struct Sequenced {
  std::string name;
  int64_t seq = 0;
};

// "<lockname>-<seq>" of a queue. nullopt if `name` does not end in
// "-<digits>" (the original stops every waiter on such an item; we report
// it and name it).
std::optional<Sequenced> ParseQueueEntry(std::string_view name);

// True if `name` is a queue entry of `lockname`: "<lockname>-<digits>",
// with `lockname` matched literally (the original's quotemeta).
bool IsQueueEntryOf(std::string_view name, std::string_view lockname);

// "acquire-<seq>" of a semaphore's mutex; nullopt for anything else.
std::optional<Sequenced> ParseMutexEntry(std::string_view name);

// "<count>_<total>_<seq>" of a lease: count may be negative (the original
// lets a negative count add capacity), total is not. nullopt if the name
// does not follow the layout.
struct LeaseNode {
  std::string name;
  int64_t count = 0;
  int64_t total = 0;
  int64_t seq = 0;
};
std::optional<LeaseNode> ParseLeaseNode(std::string_view name);

// The queue entry (among `children`) right ahead of the one whose sequence
// is `self_seq`, by sequence; nullopt if it is first. kFailedPrecondition
// naming the item if a child does not follow the layout, kNotFound if our
// own entry is missing (our session lost it).
Result<std::optional<Sequenced>> QueuePredecessor(
    const std::vector<std::string>& children, int64_t self_seq,
    std::string_view queue_path);

// The mutex entry to wait for: the greatest "acquire-<seq>" below ours
// (children that are not mutex entries are left out); nullopt if we hold
// the mutex. kNotFound if our own entry is missing.
Result<std::optional<Sequenced>> MutexPredecessor(
    const std::vector<std::string>& children, int64_t self_seq,
    std::string_view mutex_path);

// The capacity check of Net::ZooKeeper::Semaphore, made under its mutex:
// the sum of the counts of the leases in `children`. kFailedPrecondition
// "Totals mismatch: <leases>/<child> <total>" if a lease was taken with
// another total (holders disagree), or naming a child that is not a lease.
Result<int64_t> LeasesInUse(const std::vector<std::string>& children,
                            int64_t total, std::string_view leases_path);

}  // namespace conch::switchman
