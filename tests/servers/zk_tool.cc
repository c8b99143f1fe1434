// conch_zk_tool: what etcdctl is to the e2e scripts, for ZooKeeper. It
// links nothing from src/ (it includes base/mutex.h, a header only).
// Usage: conch_zk_tool <host:port,...> <cmd> ...
//   ls PATH        full paths of the children, one a line: by their 10-digit
//                  sequence suffix when every child has one, else by name;
//                  nothing (exit 0) when PATH does not exist
//   get PATH       the data, as stored
//   stat PATH      czxid=<n> ephemeralOwner=<hex> version=<n> pzxid=<n>:
//                  the owner in lower-case hex without 0x, as conch names
//                  sessions; pzxid changes with every child created or
//                  deleted
//   rm PATH        deletes PATH (any version)
//   set PATH DATA  sets PATH's data; creates PATH and its missing ancestors
//                  (empty) as persistent nodes when PATH is absent
//   replace PATH DATA
//                  as etcdctl put (no lease) does to a key: in one
//                  transaction, deletes PATH and creates it again,
//                  persistent (a new czxid, no owner), holding DATA;
//                  creates it as set does when absent
//   exists PATH    exit 0 when PATH exists, else 1
//   hold PREFIX DATA [TTL_S]
//                  a contender of another tool's: opens a session (timeout
//                  TTL_S, default 30 s), creates the ephemeral sequential
//                  node PREFIX<session hex>-<seq> (missing ancestors as
//                  containers), prints its path, and keeps the session
//                  until SIGTERM, SIGINT or SIGHUP, then closes it (which
//                  deletes the node) and exits 0
// get, stat and rm exit 1 when PATH does not exist; any other failure,
// connecting included (10 s deadline), exits 2 with one line on stderr; a
// usage error 64. The C client's own logging is silenced.
#include <pthread.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <zookeeper/zookeeper.h>

#include "base/mutex.h"

namespace {

struct Connection {
  conch::Mutex mu;
  conch::CondVar changed;
  int state GUARDED_BY(mu) = 0;
};

void OnEvent(zhandle_t* /*zh*/, int type, int state, const char* /*path*/,
             void* context) {
  if (type != ZOO_SESSION_EVENT) return;
  auto* conn = static_cast<Connection*>(context);
  conch::MutexLock lock(conn->mu);
  conn->state = state;
  conn->changed.NotifyAll();
}

// The exit code for `rc`: 0 for ZOK, 1 for ZNONODE unless `missing_fails`,
// and 2, with a line on stderr naming `what`, for anything else.
int Outcome(int rc, const std::string& what, bool missing_fails = false) {
  if (rc == ZOK) return 0;
  if (rc == ZNONODE && !missing_fails) return 1;
  std::cerr << "conch_zk_tool: " << what << ": " << zerror(rc) << "\n";
  return 2;
}

std::string Hex(int64_t id) {
  std::array<char, 16> buf{};
  auto end = std::to_chars(buf.data(), buf.data() + buf.size(),
                           static_cast<uint64_t>(id), 16);
  return {buf.data(), end.ptr};
}

// The 10-digit sequence suffix of a child name, or "" without one.
std::string Sequence(const std::string& name) {
  if (name.size() <= 10) return "";
  std::string tail = name.substr(name.size() - 10);
  bool digits = std::all_of(tail.begin(), tail.end(),
                            [](char c) { return c >= '0' && c <= '9'; });
  return digits ? tail : "";
}

int List(zhandle_t* zh, const std::string& path) {
  String_vector children{};
  int rc = zoo_get_children(zh, path.c_str(), 0, &children);
  if (rc != ZOK) return rc == ZNONODE ? 0 : Outcome(rc, "ls " + path);
  std::vector<std::string> names(children.data, children.data + children.count);
  deallocate_String_vector(&children);
  bool by_sequence = std::none_of(names.begin(), names.end(),
                                  [](auto& n) { return Sequence(n).empty(); });
  std::sort(names.begin(), names.end(), [by_sequence](auto& a, auto& b) {
    if (!by_sequence) return a < b;
    return std::make_pair(Sequence(a), a) < std::make_pair(Sequence(b), b);
  });
  for (const std::string& name : names) {
    std::cout << (path == "/" ? "" : path) << "/" << name << "\n";
  }
  return 0;
}

int Get(zhandle_t* zh, const std::string& path) {
  std::vector<char> buffer(1 << 20);  // the server's default jute.maxbuffer
  int len = static_cast<int>(buffer.size());
  int rc = zoo_get(zh, path.c_str(), 0, buffer.data(), &len, nullptr);
  if (rc == ZOK && len > 0) std::cout.write(buffer.data(), len);
  return Outcome(rc, "get " + path);
}

int PrintStat(zhandle_t* zh, const std::string& path) {
  struct Stat stat {};
  int rc = zoo_exists(zh, path.c_str(), 0, &stat);
  if (rc != ZOK) return Outcome(rc, "stat " + path);
  std::cout << "czxid=" << stat.czxid
            << " ephemeralOwner=" << Hex(stat.ephemeralOwner)
            << " version=" << stat.version << " pzxid=" << stat.pzxid << "\n";
  return 0;
}

// Creates the node `path` with `mode`, after its missing ancestors (empty,
// with `ancestors_mode`). Returns the ZooKeeper code; the path created in
// *created when given.
int Create(zhandle_t* zh, const std::string& path, const std::string& data,
           int mode, int ancestors_mode, std::string* created) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string ancestor = path.substr(0, slash);
    int rc = zoo_create(zh, ancestor.c_str(), "", 0, &ZOO_OPEN_ACL_UNSAFE,
                        ancestors_mode, nullptr, 0);
    if (rc != ZOK && rc != ZNODEEXISTS) return rc;
  }
  std::vector<char> name(path.size() + 16);
  int rc = zoo_create(zh, path.c_str(), data.data(),
                      static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE, mode,
                      name.data(), static_cast<int>(name.size()));
  if (rc == ZOK && created != nullptr) *created = name.data();
  return rc;
}

int Set(zhandle_t* zh, const std::string& path, const std::string& data) {
  int rc =
      zoo_set(zh, path.c_str(), data.data(), static_cast<int>(data.size()), -1);
  if (rc == ZNONODE) {
    rc = Create(zh, path, data, ZOO_PERSISTENT, ZOO_PERSISTENT, nullptr);
  }
  return Outcome(rc, "set " + path, true);
}

int Replace(zhandle_t* zh, const std::string& path, const std::string& data) {
  std::array<zoo_op_t, 2> ops{};
  std::array<zoo_op_result_t, 2> results{};
  zoo_delete_op_init(ops.data(), path.c_str(), -1);
  zoo_create_op_init(&ops[1], path.c_str(), data.data(),
                     static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE,
                     ZOO_PERSISTENT, nullptr, 0);
  int rc = zoo_multi(zh, 2, ops.data(), results.data());
  if (rc == ZNONODE) {
    rc = Create(zh, path, data, ZOO_PERSISTENT, ZOO_PERSISTENT, nullptr);
  }
  return Outcome(rc, "replace " + path, true);
}

int Hold(zhandle_t* zh, const std::string& prefix, const std::string& data,
         const sigset_t& stop) {
  std::string path = prefix + Hex(zoo_client_id(zh)->client_id) + "-";
  std::string created;
  int rc = ZNONODE;
  // The server may remove an empty container between its creation and ours.
  for (int attempt = 0; attempt < 5 && rc == ZNONODE; ++attempt) {
    rc = Create(zh, path, data, ZOO_EPHEMERAL_SEQUENTIAL, ZOO_CONTAINER,
                &created);
  }
  if (rc != ZOK) return Outcome(rc, "hold " + path, true);
  std::cout << created << std::endl;
  int signal = 0;
  sigwait(&stop, &signal);
  return 0;
}

// Connects to `hosts`; nullptr, with a line on stderr, when no session is
// up within 10 s.
zhandle_t* Connect(const std::string& hosts, int session_ms, Connection* conn) {
  zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
  static FILE* const kDevNull = std::fopen("/dev/null", "we");
  if (kDevNull != nullptr) zoo_set_log_stream(kDevNull);
  zhandle_t* zh =
      zookeeper_init(hosts.c_str(), OnEvent, session_ms, nullptr, conn, 0);
  bool up = false;
  if (zh != nullptr) {
    conch::MutexLock lock(conn->mu);
    conn->changed.WaitFor(conn->mu, std::chrono::seconds(10),
                          [conn]() REQUIRES(conn->mu) {
                            return conn->state == ZOO_CONNECTED_STATE ||
                                   conn->state == ZOO_EXPIRED_SESSION_STATE ||
                                   conn->state == ZOO_AUTH_FAILED_STATE;
                          });
    up = conn->state == ZOO_CONNECTED_STATE;
  }
  if (up) return zh;
  std::cerr << "conch_zk_tool: connect " << hosts << ": "
            << (zh == nullptr ? "bad host list" : "no session within 10 s")
            << "\n";
  if (zh != nullptr) zookeeper_close(zh);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  const std::string cmd = argc > 2 ? args[2] : "";
  int ttl_s = 30;
  bool ok =
      (argc == 4 && (cmd == "ls" || cmd == "get" || cmd == "stat" ||
                     cmd == "rm" || cmd == "exists")) ||
      (argc == 5 && (cmd == "set" || cmd == "replace" || cmd == "hold")) ||
      (argc == 6 && cmd == "hold" &&
       std::from_chars(argv[5], argv[5] + args[5].size(), ttl_s).ec ==
           std::errc() &&
       ttl_s > 0);
  if (!ok) {
    std::cerr << "usage: conch_zk_tool <host:port,...> ls|get|stat|rm|exists "
                 "PATH | set|replace PATH DATA | hold PREFIX DATA [TTL_S]\n";
    return 64;
  }
  // Blocked before the client starts its threads, so only sigwait sees them.
  sigset_t stop;
  sigemptyset(&stop);
  if (cmd == "hold") {
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&stop, sig);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  }
  Connection conn;
  zhandle_t* zh = Connect(args[1], ttl_s * 1000, &conn);
  if (zh == nullptr) return 2;
  const std::string& path = args[3];
  int rc = 0;
  if (cmd == "ls") rc = List(zh, path);
  if (cmd == "get") rc = Get(zh, path);
  if (cmd == "stat") rc = PrintStat(zh, path);
  if (cmd == "rm") rc = Outcome(zoo_delete(zh, path.c_str(), -1), "rm " + path);
  if (cmd == "exists") {
    rc = Outcome(zoo_exists(zh, path.c_str(), 0, nullptr), "exists " + path);
  }
  if (cmd == "set") rc = Set(zh, path, args[4]);
  if (cmd == "replace") rc = Replace(zh, path, args[4]);
  if (cmd == "hold") rc = Hold(zh, path, args[4], stop);
  std::cout.flush();
  // Closing ends the session at once, rather than at its timeout.
  zookeeper_close(zh);
  return rc;
}
