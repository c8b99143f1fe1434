// The ZooKeeper implementation of Backend, over the C client
// (libzookeeper-mt). Reached through OpenBackend (backend/store.h);
// nothing else includes this header but tests of this backend.
#pragma once

#include <memory>

#include "backend/backend.h"
#include "backend/store.h"

namespace conch::backend {

// Opens a ZooKeeper backend on `address` (kind kZooKeeper). Does not
// block: each session, and the reader used outside sessions, connects on
// first use.
Result<std::unique_ptr<Backend>> OpenZooKeeper(const StoreAddress& address,
                                               const BackendOptions& options);

}  // namespace conch::backend

namespace conch::backend {

// For tests of session loss: expires `session`, a session of a ZooKeeper
// backend, from outside, as Curator's test utilities do: a second client
// connects to `endpoints` (a zk:// URL) with the session's id and password
// and closes it. The holder then learns from the server that its session
// expired. kInvalidArgument if `session` is not a ZooKeeper session.
Status ExpireZooKeeperSession(Session& session, const std::string& endpoints,
                              MonoTime deadline);

}  // namespace conch::backend
