// Watches for the ZooKeeper backend: ZooKeeper's one-shot watches, re-armed
// after each fire by the read that reports the change, so that nothing that
// happens between a fire and the re-arm is missed.
//
//  - A key spec arms an exists watch on the key; a fire re-arms (getData,
//    or exists if the key is gone) and reports what that read shows.
//  - A prefix spec arms a child watch on the prefix's parent node (or an
//    exists watch while the parent is missing) and reports each child that
//    vanished or appeared since the last listing, in sequence order (for a
//    records spec: every child, in name order), with no value (the store
//    gives none on a child watch).
//
// While the client is disconnected it keeps its watches and, on
// reconnecting, registers them again with the last zxid it saw (SetWatches),
// so the server fires any that a change during the disconnect triggered: no
// change is lost. Re-arming reads that a lost connection failed are sent
// again once the client is back.
//
// Thread contract: StartZkWatch and the Watch's destructor belong to the
// owner thread; everything else runs on the client's completion thread and
// only pushes into the EventSink.
#pragma once

#include <memory>
#include <vector>

#include "backend/backend.h"
#include "backend/zookeeper/zk_conn.h"

namespace conch::backend::zk {

// Watches `specs` on `conn` from now. Pushes kWatchLive per spec once its
// first watch is armed, kWatch per change, and kWatchFailed once if the
// session ends or the store refuses a read. Destroying the Watch stops it:
// nothing is pushed for `tag` after its destructor returns.
std::unique_ptr<Watch> StartZkWatch(std::shared_ptr<ZkConn> conn,
                                    std::vector<WatchSpec> specs,
                                    EventSink* sink, uint64_t tag);

// A Watch that failed before it started: pushes one kWatchFailed with
// `why` and nothing else.
std::unique_ptr<Watch> FailedZkWatch(const Status& why, EventSink* sink,
                                     uint64_t tag);

}  // namespace conch::backend::zk
