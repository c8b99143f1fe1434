// Store selection: which store an --endpoints value names, the rules that
// depend only on the kind of store, and OpenBackend, the one place that
// picks an implementation. Nothing above backend/ names a store.
//
//   zk://h1:2181,h2:2181[/chroot]              ZooKeeper
//   host:port, http://host:port, etcd://...    etcd (the original's forms)
//
// Thread contract: ParseStoreAddress and CheckTtl are pure and safe from
// any thread; OpenBackend belongs to the owner thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend.h"
#include "base/clock.h"
#include "base/status.h"

namespace conch::backend {

enum class StoreKind { kEtcd, kZooKeeper };

struct StoreAddress {
  StoreKind kind = StoreKind::kEtcd;
  // One entry per member: etcd endpoints as given (each parses with
  // ParseEndpoint); ZooKeeper "host:port".
  std::vector<std::string> members;
  std::string chroot;  // ZooKeeper only: "" or "/a/b", no trailing '/'
};

// Parses a comma-separated --endpoints value. Every member must name the
// same kind of store: "zk://" on the first member makes the whole value a
// ZooKeeper connect string (later members may repeat "zk://"; a chroot
// follows the last member). kInvalidArgument with a one-line message for
// an empty member, a bad host or port, a malformed chroot, or schemes
// mixed.
Result<StoreAddress> ParseStoreAddress(std::string_view endpoints);

// Refuses a TTL the store cannot grant as asked: etcd leases are whole
// seconds; ZooKeeper session timeouts are whole milliseconds. Both at
// least 1 s. kInvalidArgument naming --ttl.
Status CheckTtl(StoreKind kind, Duration ttl);

struct BackendOptions {
  std::string endpoints = "localhost:2379";  // as --endpoints takes it
  // Bounds connecting: a store that cannot be reached in this time gives
  // kUnavailable.
  Duration dial_timeout = std::chrono::seconds(5);
  // The clock every deadline given to the backend is on, and that stamps
  // the send times of renewals. Must outlive the backend.
  const Clock* clock = &SystemClock::Get();
};

// Opens the backend the endpoints name. Does not block: the connection is
// made by the first call. kInvalidArgument for malformed endpoints.
Result<std::unique_ptr<Backend>> OpenBackend(const BackendOptions& options);

}  // namespace conch::backend
