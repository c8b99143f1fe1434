// Reading the switchman tree from ZooKeeper for ls, check-groups and
// check-hosts. Declared in switchman/inspect.h.
#include <algorithm>
#include <memory>
#include <utility>

#include "backend/store.h"
#include "backend/zookeeper/zk_conn.h"
#include "base/strings.h"
#include "switchman/inspect.h"
#include "switchman/layout.h"

namespace conch::switchman {

namespace {

namespace zk = backend::zk;

// Opens a connection to the config's ensemble and waits for it.
Result<std::shared_ptr<zk::ZkConn>> Dial(const Config& config,
                                         Duration dial_timeout) {
  Result<backend::StoreAddress> address =
      backend::ParseStoreAddress("zk://" + config.zkhosts);
  if (!address.ok()) {
    return address.status().With("zkhosts " + Quote(config.zkhosts));
  }
  zk::ConnOptions options;
  options.members = address->members;
  options.chroot = address->chroot;
  options.dial_timeout = dial_timeout;
  Result<std::shared_ptr<zk::ZkConn>> conn = zk::ZkConn::Open(options);
  if (!conn.ok()) return conn.status();
  Status up = (*conn)->WaitConnected(SystemClock::Get().Now() + dial_timeout);
  if (!up.ok()) return up;
  return conn;
}

// Sends every request at once. ZOK and ZNONODE (a node gone between the
// listing and the read) are replies; any other code is an error.
Result<std::vector<zk::Reply>> Batch(zk::ZkConn& conn, const std::string& what,
                                     const std::vector<zk::Request>& requests,
                                     MonoTime deadline) {
  if (requests.empty()) return std::vector<zk::Reply>();
  Result<std::vector<zk::Reply>> replies =
      conn.RunAll(what, requests, deadline);
  if (!replies.ok()) return replies.status();
  for (size_t i = 0; i < replies->size(); ++i) {
    const int rc = (*replies)[i].rc;
    if (rc != ZOK && rc != ZNONODE) {
      return zk::FromZk(rc, what + " " + requests[i].path);
    }
  }
  return replies;
}

// The prefix data from a Get reply: data_read_len bytes at most, as the
// original reads it.
Result<PrefixData> PrefixFromReply(const zk::Reply& reply,
                                   const Config& config) {
  if (reply.rc == ZNONODE) return ParsePrefixData("", 0);
  const size_t length =
      reply.stat ? static_cast<size_t>(std::max(reply.stat->dataLength, 0))
                 : reply.value.size();
  return ParsePrefixRead(reply.value, length, config.data_read_len);
}

StoredNode NodeFromReply(std::string name, const zk::Reply& reply) {
  return {std::move(name), reply.value, reply.stat ? reply.stat->ctime : 0};
}

// Where the answer to one request of a batch goes.
struct Target {
  std::vector<StoredNode>* into = nullptr;
  std::string name;
  std::string path;
};

// Lists the queues and leases found under `top`, and reads the locks.
// Returns the nodes whose data is still to be read.
Result<std::vector<Target>> ReadListings(zk::ZkConn& conn,
                                         const std::string& what,
                                         const Layout& layout,
                                         const std::vector<zk::Reply>& top,
                                         MonoTime deadline, RawTree& tree) {
  const std::vector<std::string>& locks = top[1].children;
  const std::vector<std::string>& queues = top[2].children;
  const std::vector<std::string>& semaphores = top[3].children;
  std::vector<zk::Request> requests;
  requests.reserve(locks.size() + queues.size() + semaphores.size());
  for (const std::string& l : locks) {
    requests.push_back(zk::GetRequest(layout.lock(l)));
  }
  for (const std::string& q : queues) {
    requests.push_back(zk::ChildrenRequest(layout.queue(q)));
  }
  for (const std::string& s : semaphores) {
    requests.push_back(zk::ChildrenRequest(layout.leases(s)));
  }
  Result<std::vector<zk::Reply>> replies =
      Batch(conn, what, requests, deadline);
  if (!replies.ok()) return replies.status();
  const std::vector<zk::Reply>& r = *replies;
  std::vector<Target> pending;
  size_t i = 0;
  for (const std::string& l : locks) {
    const zk::Reply& reply = r[i++];
    if (reply.rc == ZOK) tree.locks.push_back(NodeFromReply(l, reply));
  }
  for (const std::string& q : queues) {
    const zk::Reply& reply = r[i++];
    if (reply.rc != ZOK) continue;
    std::vector<StoredNode>& entries = tree.queues[q];
    for (const std::string& c : reply.children) {
      pending.push_back({&entries, c, layout.queue(q) + "/" + c});
    }
  }
  for (const std::string& s : semaphores) {
    // A semaphore without a leases node yet is still a resource in use.
    const zk::Reply& reply = r[i++];
    std::vector<StoredNode>& leases = tree.semaphores[s];
    for (const std::string& c : reply.children) {
      pending.push_back({&leases, c, layout.leases(s) + "/" + c});
    }
  }
  return pending;
}

// Reads the data of every queue entry and lease in `pending`.
Status ReadNodes(zk::ZkConn& conn, const std::string& what,
                 const std::vector<Target>& pending, MonoTime deadline) {
  std::vector<zk::Request> requests;
  requests.reserve(pending.size());
  for (const Target& t : pending) requests.push_back(zk::GetRequest(t.path));
  Result<std::vector<zk::Reply>> replies =
      Batch(conn, what, requests, deadline);
  if (!replies.ok()) return replies.status();
  for (size_t i = 0; i < pending.size(); ++i) {
    const zk::Reply& reply = (*replies)[i];
    if (reply.rc == ZOK) {
      pending[i].into->push_back(NodeFromReply(pending[i].name, reply));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<RawTree> ReadTree(const Config& config, Duration dial_timeout) {
  const std::string what = "read " + config.prefix;
  Result<std::shared_ptr<zk::ZkConn>> conn = Dial(config, dial_timeout);
  if (!conn.ok()) return conn.status().With(what);
  const MonoTime deadline = SystemClock::Get().Now() + kInspectReadTimeout;
  const Layout layout(config.prefix);
  RawTree tree;
  // 1. The prefix data and the three directories.
  Result<std::vector<zk::Reply>> top = Batch(
      **conn, what,
      {zk::GetRequest(layout.prefix()), zk::ChildrenRequest(layout.locks()),
       zk::ChildrenRequest(layout.queues()),
       zk::ChildrenRequest(layout.semaphores())},
      deadline);
  if (!top.ok()) return top.status();
  if (top->front().rc == ZNONODE) {
    tree.prefix_problem = "prefix node " + config.prefix + " does not exist";
  } else if (Result<PrefixData> data = PrefixFromReply(top->front(), config);
             data.ok()) {
    tree.listed = data->resources;
  } else {
    tree.prefix_problem = data.status().message();
  }
  // 2. The locks' data, the queues' entries and the semaphores' leases.
  Result<std::vector<Target>> pending =
      ReadListings(**conn, what, layout, *top, deadline, tree);
  if (!pending.ok()) return pending.status();
  // 3. The data of each queue entry and lease.
  Status read = ReadNodes(**conn, what, *pending, deadline);
  if (!read.ok()) return read;
  return tree;
}

Result<PrefixData> ReadPrefixData(const Config& config, Duration dial_timeout) {
  const std::string what = "read prefix " + config.prefix;
  Result<std::shared_ptr<zk::ZkConn>> conn = Dial(config, dial_timeout);
  if (!conn.ok()) return conn.status().With(what);
  Result<std::vector<zk::Reply>> reply =
      Batch(**conn, what, {zk::GetRequest(config.prefix)},
            SystemClock::Get().Now() + kInspectReadTimeout);
  if (!reply.ok()) return reply.status();
  return PrefixFromReply(reply->front(), config);
}

}  // namespace conch::switchman
