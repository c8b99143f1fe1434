// ZooKeeper sessions for the Backend interface: each Session is a handle of
// its own (ZkConn) whose session timeout is the TTL, plus a heartbeat thread
// that proves the session alive from send times of its own requests, since
// the C client's pings carry none.
//
// Thread contract: OpenZkSession and the Session's methods belong to the
// owner thread; the heartbeat thread and the client's threads only push
// into the EventSink.
#pragma once

#include <memory>

#include "backend/backend.h"
#include "backend/zookeeper/zk_conn.h"

namespace conch::backend::zk {

// Opens a new handle asking for a session timeout of `ttl`, waits until it
// is connected (at most until `deadline` and the dial timeout in `base`),
// and starts the heartbeat. The Session reports the granted timeout as
// ttl(). kUnavailable (store unreachable) or kSessionLost.
Result<std::unique_ptr<Session>> OpenZkSession(const ConnOptions& base,
                                               Duration ttl, MonoTime deadline,
                                               EventSink* sink, uint64_t tag);

// The connection of a Session that OpenZkSession made; nullptr for any
// other Session. Shared: watches started on it keep the ZkConn object (not
// the session, which ends with the Session) alive.
std::shared_ptr<ZkConn> ConnOf(const Session& session);

// Records that `session` (one OpenZkSession made) created the ephemeral
// node `path`: End() deletes it before it closes the session. No-op for
// any other Session.
void NoteOwnNode(Session& session, const std::string& path);

}  // namespace conch::backend::zk
