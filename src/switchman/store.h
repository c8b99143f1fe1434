// The ZooKeeper session of one switchman run, and the requests its protocol
// makes on it.
//
// The session is conch's (primitives::Session over the ZooKeeper backend):
// its heartbeat proves it alive, which moves the fail-closed deadline, and
// its loss is reported as soon as the store says so. Requests go straight
// to the session's connection (backend/zookeeper/zk_conn.h), since the
// switchman layout is the Perl tool's, not conch's contender layout.
//
// Watches are ZooKeeper's one-shot watches: a read arms one with the id
// that Watch() returns for a tag, and a fire pushes that tag into the
// session's event queue, so the owner thread waits on one fd for renewals,
// the session's end and every watch. What a fire means is decided by the
// owner thread, which reads again (and so re-arms) as it needs.
//
// Writes that may not be repeated blindly (sequential and ephemeral
// creates) are repeated after a lost connection only once a read has shown
// that the lost attempt did not create the node: a node of ours found then
// is adopted instead, so a flaky network never leaves two queue entries or
// two leases of one run.
//
// Thread contract: owner thread only; the connection's threads only push
// into the event queue. Every call returns by the request deadline.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/zookeeper/zk_conn.h"
#include "base/status.h"
#include "primitives/claim.h"

namespace conch::switchman {

using backend::zk::Reply;
using backend::zk::Request;

struct StoreOptions {
  std::string zkhosts;  // "h1:p,h2:p[/chroot]", as the config has it
  Duration session_timeout = std::chrono::seconds(10);
  // The fail-closed margin: the command gets SIGTERM this long before the
  // session could have expired (see primitives/hold_deadline.h).
  Duration kill_after = std::chrono::seconds(3);
  Duration request_timeout = std::chrono::seconds(5);  // and the dial timeout
  const Clock* clock = &SystemClock::Get();
};

// Something the connection reported for a tag.
struct Fire {
  enum class Kind {
    kFired,        // a watch armed with the tag's id fired
    kReply,        // the reply to Probe()
    kReconnected,  // a new connection: a Probe() that a lost connection
                   // failed must be sent again
  };
  Kind kind = Kind::kFired;
  uint64_t tag = 0;
  int type = 0;  // kFired: ZOO_CREATED_EVENT, ZOO_DELETED_EVENT...
  Reply reply;   // kReply
};

// What one drain of the event queue showed.
struct Drained {
  std::vector<Fire> fires;     // in order
  std::optional<Status> lost;  // the session ended
};

struct FireBox;  // store.cc

class Store {
 public:
  // Connects and opens the session. kInvalidArgument for a bad zkhosts or
  // a granted session timeout that cannot fail closed; kUnavailable when
  // ZooKeeper cannot be reached within the request timeout.
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();  // ends the session (bounded)

  // Readable when events are pending; Drain() handles them.
  int fd() const { return session_.fd(); }
  Drained Drain();

  const primitives::HoldDeadline& deadline() const {
    return session_.deadline();
  }
  int64_t session_id() const { return session_.id(); }
  const Clock& clock() const { return session_.clock(); }
  MonoTime RequestDeadline() const { return session_.RequestDeadline(); }

  // The watch id for `tag`, for Request::watch; the same id for the same
  // tag. A fire comes back as a kFired Fire.
  uint64_t Watch(uint64_t tag);

  // Sends `request` without waiting; its reply comes back as a kReply Fire
  // of `tag`. For re-arming a watch while a command runs, when the owner
  // thread must not block.
  void Probe(const Request& request, uint64_t tag);

  // Sends the requests together (in order, one round trip) and returns
  // the replies, whose rc the caller interprets. Only for requests that
  // are safe to repeat after a lost connection: reads, creates of
  // persistent nodes (ZNODEEXISTS then), deletes (ZNONODE then).
  // kUnavailable, kDeadlineExceeded or kSessionLost otherwise.
  Result<std::vector<Reply>> Call(const std::string& what,
                                  const std::vector<Request>& requests);
  Result<Reply> Call1(const std::string& what, const Request& request);

  // Creates the persistent node `path` with data_for(path), and first its
  // missing ancestors with data_for(ancestor), the chroot included.
  // ZNODEEXISTS is success: concurrent first runs all succeed.
  Status EnsurePath(
      const std::string& path,
      const std::function<std::string(const std::string&)>& data_for);

  // What CreateEphemeral made.
  struct Created {
    // The path created (or adopted); nullopt when a plain node already
    // exists (ZNODEEXISTS) and is not ours.
    std::optional<std::string> path;
    std::vector<Reply> after;  // the replies to `after`, in order
  };

  // Creates an ephemeral node (sequential: `path` is the name's stem, and
  // the server appends the sequence) holding `data`, and sends `after`
  // behind it in the same round trip: a session's requests are applied in
  // order, so a listing there sees the new node. `after` must be safe to
  // repeat (reads, deletes). A missing parent is kNotFound, for the caller
  // to create it (EnsurePath) and try again. After a lost connection the
  // outcome is looked up (see the top of this file) and `after` is sent
  // again on its own.
  Result<Created> CreateEphemeral(const std::string& path,
                                  const std::string& data, bool sequential,
                                  const std::vector<Request>& after = {});

  // Deletes `paths` (any version); ZNONODE counts as done.
  Status Delete(const std::vector<std::string>& paths);

  // Ends the session, which deletes every ephemeral node of ours (lock,
  // queue entries, leases, mutex entries) in one step. Idempotent.
  Status End();

 private:
  Store(std::unique_ptr<backend::Backend> backend, const StoreOptions& options);

  Result<std::optional<std::string>> FindOwn(const std::string& path,
                                             bool sequential);
  Status MakeChroot(MonoTime deadline);

  StoreOptions options_;
  std::unique_ptr<backend::Backend> backend_;
  primitives::Session session_;
  std::shared_ptr<backend::zk::ZkConn> conn_;
  std::shared_ptr<FireBox> box_;
  std::vector<std::pair<uint64_t, uint64_t>> watches_;  // tag -> watch id
};

}  // namespace conch::switchman
