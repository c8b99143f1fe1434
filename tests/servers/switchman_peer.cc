// conch_switchman_peer: a stand-in for the original Perl switchman
// (App::Switchman 1.16, with Net::ZooKeeper::Semaphore 0.02 and
// Net::ZooKeeper::Lock 0.03) that makes the same ZooKeeper nodes, with the
// same names, flags and data, in the same order, so that tests can check
// that conch's switchman and the old Perl clients share locks, queues and
// leases. The layout, under PREFIX:
//   PREFIX/locks/<lockname>                     ephemeral, "<fqdn> <pid>"
//   PREFIX/queues/<res>                         persistent, "<fqdn> <pid>"
//   PREFIX/queues/<res>/<lockname>-<seq10>      ephemeral sequential,
//                                               "<fqdn> <pid>"
//   PREFIX/semaphores/<res>, .../lock, .../leases
//                                               persistent, "0"
//   PREFIX/semaphores/<res>/lock/acquire-<seq10>
//                                               ephemeral sequential,
//                                               "<fqdn> <pid>": the mutex
//                                               around a lease's check and
//                                               create
//   PREFIX/semaphores/<res>/leases/<count>_<total>_<seq10>
//                                               ephemeral sequential,
//                                               "<fqdn> <pid>"
// PREFIX/locks, /queues and /semaphores are persistent, holding the
// "<fqdn> <pid>" of whoever made them; PREFIX itself, when missing, is
// made with its missing ancestors, empty (the original would write
// "<fqdn> <pid>" there, which no switchman can then parse as its config).
// <pid> is this process's pid.
//
// It links nothing from src/ (it includes base/mutex.h, a header only).
// Usage: conch_switchman_peer [--session-ms N] [--fqdn NAME]
//            <host:port,...[/chroot]> <cmd> ...
//   --session-ms N  the session timeout asked for (default 10000, as
//                   Net::ZooKeeper's)
//   --fqdn NAME     the host name written in node data (default: what
//                   gethostname() returns)
//   lock PREFIX LOCKNAME
//       creates the lock node, prints its path and holds it until SIGTERM,
//       SIGINT or SIGHUP, then closes the session (deleting it) and exits
//       0; prints "exists" and exits 10 when another session holds it
//   queue PREFIX RES LOCKNAME
//       adds LOCKNAME to RES's queue, prints the entry's path and holds it
//       as lock does
//   lease PREFIX RES COUNT TOTAL
//       one try of Net::ZooKeeper::Semaphore->new: prints the lease's path
//       and holds it as lock does; prints "full" and exits 11 when the
//       leases held leave no room for COUNT; exits 3 ("Totals mismatch"
//       on stderr) when a lease held names another TOTAL
//   run PREFIX LOCKNAME [--nolock] [--lease RES=COUNT:TOTAL]... -- CMD...
//       switchman's run (its steps 2, 4 and 7 to 11; no groups, no config
//       file): checks the lock, queues on every RES, waits its turn in each
//       queue and takes each lease in the order given (retrying a full
//       semaphore every 100 ms, where the original waits 1 s), leaves the
//       queues, takes the lock, prints "running" and runs CMD (execvp, no
//       shell), then exits with CMD's status (128+N when signal N killed
//       it; 127 when it could not be run). Without running CMD it prints
//       "lock exists" (the lock is held, before or after the wait),
//       "already queued" (an entry named LOCKNAME-<seq> is in a queue) or
//       "lock appeared" (someone took the lock while this one waited for a
//       lease) and exits 0, as the original does. While CMD runs, a
//       deletion of the lock (or the session's expiry) prints "lock lost"
//       and sends CMD SIGTERM; SIGTERM, SIGINT and SIGHUP are passed on to
//       CMD. COUNT may be negative; TOTAL may not. For a RES given twice
//       the last value counts.
// In run, a signal before CMD starts closes the session and exits 128+N
// (the original dies without closing it, leaving its nodes until the
// session times out). Any failure, connecting included (10 s deadline),
// the session's expiry and a lost queue position included, exits 2 with
// one line on stderr; a usage error 64. The C client's own logging is
// silenced.
#include <pthread.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <zookeeper/zookeeper.h>

#include "base/mutex.h"

namespace {

constexpr std::string_view kTool = "conch_switchman_peer";
constexpr int kUsage = 64;
constexpr int kFailed = 2;
constexpr int kMismatch = 3;
constexpr int kLockHeld = 10;
constexpr int kNoCapacity = 11;
constexpr int kExecFailed = 127;
constexpr auto kConnectDeadline = std::chrono::seconds(10);
constexpr auto kSemaphorePoll = std::chrono::milliseconds(100);

// How the tool ends early: the exit code, a word for stdout and a line for
// stderr (either may be empty). Thrown, so that the RAII guards on the way
// out (the mutex node, the session) are undone before main prints them.
struct Exit {
  int code;
  std::string out;
  std::string err;
};

// The concatenation of `parts` (strings, string_views, C strings, chars).
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  (out += ... += parts);
  return out;
}

[[noreturn]] void Fail(const std::string& message) {
  throw Exit{kFailed, "", message};
}

[[noreturn]] void FailZk(const std::string& what, int rc) {
  Fail(what + ": " + zerror(rc));
}

// Everything the client's threads and the signal thread tell the main
// thread, which waits on `changed` for it.
struct Events {
  conch::Mutex mu;
  conch::CondVar changed;
  int session_state GUARDED_BY(mu) = 0;
  // Counts the node watches (predecessors in a queue or at the semaphore
  // mutex) that fired: a waiter notes the count before it sets its watch
  // and waits for it to move. A stale watch firing only makes it look
  // again.
  uint64_t node_events GUARDED_BY(mu) = 0;
  // The lock watch: what it reported since it was (re)armed.
  bool lock_created GUARDED_BY(mu) = false;
  bool lock_deleted GUARDED_BY(mu) = false;
  bool lock_changed GUARDED_BY(mu) = false;
  // SIGTERM, SIGINT and SIGHUP received and not yet handled.
  std::deque<int> signals GUARDED_BY(mu);
  bool child_exited GUARDED_BY(mu) = false;
  int child_status GUARDED_BY(mu) = 0;

  bool Expired() const REQUIRES(mu) {
    return session_state == ZOO_EXPIRED_SESSION_STATE ||
           session_state == ZOO_AUTH_FAILED_STATE;
  }

  // What the main thread waits for.
  enum class Until {
    kConnected,    // the session is up
    kNodeEvent,    // node_events has moved past the count given
    kLockCreated,  // the lock watch saw the lock created
  };

  bool Reached(Until until, uint64_t seen) const REQUIRES(mu) {
    switch (until) {
      case Until::kConnected:
        return session_state == ZOO_CONNECTED_STATE;
      case Until::kNodeEvent:
        return node_events != seen;
      case Until::kLockCreated:
        return lock_created;
    }
    return false;
  }

  // Waits until `until` is reached (or `timeout` passes, when given) and
  // says whether it was. A signal ends the wait by throwing Exit{128+N};
  // the session's expiry by failing. `seen` is kNodeEvent's count.
  bool Await(Until until, uint64_t seen = 0,
             std::optional<std::chrono::milliseconds> timeout = std::nullopt)
      EXCLUDES(mu) {
    conch::MutexLock lock(mu);
    auto done = [&]() REQUIRES(mu) {
      return Reached(until, seen) || !signals.empty() || Expired();
    };
    if (timeout) {
      changed.WaitFor(mu, *timeout, done);
    } else {
      changed.Wait(mu, done);
    }
    if (!signals.empty()) throw Exit{128 + signals.front(), "", ""};
    if (Expired()) Fail("session expired");
    return Reached(until, seen);
  }
};

// The session's watcher: follows the connection state.
void OnSession(zhandle_t* /*zh*/, int type, int state, const char* /*path*/,
               void* context) {
  if (type != ZOO_SESSION_EVENT) return;
  auto* events = static_cast<Events*>(context);
  conch::MutexLock lock(events->mu);
  events->session_state = state;
  events->changed.NotifyAll();
}

// An exists watch on a predecessor. The client also hands every watch the
// session's events, which OnSession has seen already.
void OnNodeEvent(zhandle_t* /*zh*/, int type, int /*state*/,
                 const char* /*path*/, void* context) {
  if (type == ZOO_SESSION_EVENT) return;
  auto* events = static_cast<Events*>(context);
  conch::MutexLock lock(events->mu);
  ++events->node_events;
  events->changed.NotifyAll();
}

// The exists watch on PREFIX/locks/LOCKNAME (switchman's lock_watch).
void OnLockEvent(zhandle_t* /*zh*/, int type, int /*state*/,
                 const char* /*path*/, void* context) {
  if (type == ZOO_SESSION_EVENT) return;
  auto* events = static_cast<Events*>(context);
  conch::MutexLock lock(events->mu);
  if (type == ZOO_CREATED_EVENT) events->lock_created = true;
  if (type == ZOO_DELETED_EVENT) events->lock_deleted = true;
  if (type == ZOO_CHANGED_EVENT) events->lock_changed = true;
  events->changed.NotifyAll();
}

// Takes the signals in `set` (blocked in every thread before it starts)
// with sigwait and posts them to Events: SIGTERM, SIGINT and SIGHUP as
// they come, SIGCHLD as the command's exit status. SIGUSR1 from the
// destructor ends it.
class SignalThread {
 public:
  SignalThread(Events* events, const sigset_t& set)
      : events_(events), set_(set), thread_([this]() { Loop(); }) {}
  ~SignalThread() {
    stopping_ = true;
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }
  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;

 private:
  void Loop() {
    for (;;) {
      int sig = 0;
      if (sigwait(&set_, &sig) != 0) continue;
      if (sig == SIGUSR1) {
        if (stopping_) return;
        continue;
      }
      conch::MutexLock lock(events_->mu);
      if (sig == SIGCHLD) {
        // The command is the only child there is.
        int status = 0;
        while (waitpid(-1, &status, WNOHANG) > 0) {
          events_->child_exited = true;
          events_->child_status = status;
        }
      } else {
        events_->signals.push_back(sig);
      }
      events_->changed.NotifyAll();
    }
  }

  Events* const events_;
  const sigset_t set_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;  // last: it starts using the fields above at once
};

// A ZooKeeper session, closed (ending the session at once, rather than at
// its timeout, and so deleting its ephemeral nodes) when it goes.
class Session {
 public:
  // Connects to `hosts`; fails when no session is up within 10 s.
  Session(const std::string& hosts, int session_ms, Events* events) {
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    static FILE* const kDevNull = std::fopen("/dev/null", "we");
    if (kDevNull != nullptr) zoo_set_log_stream(kDevNull);
    zh_ = zookeeper_init(hosts.c_str(), OnSession, session_ms, nullptr, events,
                         0);
    if (zh_ == nullptr) Fail("connect " + hosts + ": bad host list");
    bool up = false;
    try {
      up = events->Await(Events::Until::kConnected, 0, kConnectDeadline);
    } catch (const Exit&) {  // a signal, or the session refused
      zookeeper_close(zh_);
      throw;
    }
    if (!up) {
      zookeeper_close(zh_);
      Fail("connect " + hosts + ": no session within 10 s");
    }
  }
  ~Session() { zookeeper_close(zh_); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  zhandle_t* zh() const { return zh_; }

 private:
  zhandle_t* zh_ = nullptr;
};

// The last path component.
std::string BaseName(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
}

// The integer in `s`: optional '-' (when `negative_ok`), then digits only.
std::optional<int64_t> ParseInt(const std::string& s, bool negative_ok) {
  if (s.empty() || (s[0] == '-' && !negative_ok)) return std::nullopt;
  if (!AllDigits(s[0] == '-' ? s.substr(1) : s)) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// The value Perl gives `s` in numeric context, for the whole numbers
// switchman writes: leading blanks, a sign, then as many digits as there
// are; 0 when there are none.
int64_t PerlNumber(const std::string& s) {
  size_t i = s.find_first_not_of(" \t\n\r\f\v");
  if (i == std::string::npos) return 0;
  int64_t value = 0;
  const char* first = s.data() + i + (s[i] == '+' ? 1 : 0);
  std::from_chars(first, s.data() + s.size(), value);
  return value;
}

// The ZooKeeper calls the protocol makes, on one session, with the data
// every node of switchman's own carries ("<fqdn> <pid>").
class Client {
 public:
  Client(zhandle_t* zh, Events* events, std::string data)
      : zh_(zh), events_(events), data_(std::move(data)) {}

  Events& events() const { return *events_; }
  const std::string& data() const { return data_; }

  // Whether `path` exists; with `watcher`, an exists watch is left on it
  // (with Events as its context) either way.
  bool Exists(const std::string& path, watcher_fn watcher = nullptr) {
    int rc = watcher == nullptr
                 ? zoo_exists(zh_, path.c_str(), 0, nullptr)
                 : zoo_wexists(zh_, path.c_str(), watcher, events_, nullptr);
    if (rc == ZOK) return true;
    if (rc != ZNONODE) FailZk("exists " + path, rc);
    return false;
  }

  // The names of the children of `path`; nullopt when it does not exist.
  std::optional<std::vector<std::string>> Children(const std::string& path) {
    String_vector children{};
    int rc = zoo_get_children(zh_, path.c_str(), 0, &children);
    if (rc == ZNONODE) return std::nullopt;
    if (rc != ZOK) FailZk("list " + path, rc);
    std::vector<std::string> names(children.data,
                                   children.data + children.count);
    deallocate_String_vector(&children);
    return names;
  }

  // zoo_create with the world-open ACL; the name made (sequence number
  // included) in *created when given.
  int TryCreate(const std::string& path, const std::string& data, int mode,
                std::string* created = nullptr) {
    std::vector<char> name(path.size() + 16);
    int rc = zoo_create(zh_, path.c_str(), data.data(),
                        static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE,
                        mode, name.data(), static_cast<int>(name.size()));
    if (rc == ZOK && created != nullptr) *created = name.data();
    return rc;
  }

  // Creates the ephemeral sequential node `path`<seq10> holding our data;
  // returns its path.
  std::string CreateSequential(const std::string& path) {
    std::string created;
    int rc = TryCreate(path, data_, ZOO_EPHEMERAL_SEQUENTIAL, &created);
    if (rc != ZOK) FailZk("create " + path, rc);
    return created;
  }

  // Creates the persistent node `path` holding `data` unless it exists
  // (check, then create: another may create it in between, which is fine).
  void Ensure(const std::string& path, const std::string& data) {
    if (Exists(path)) return;
    int rc = TryCreate(path, data, ZOO_PERSISTENT);
    if (rc != ZOK && rc != ZNODEEXISTS) FailZk("prepare " + path, rc);
  }

  // Creates `path` and its missing ancestors, persistent, holding `data`,
  // as Net::ZooKeeper::Lock does for its directory: create, and take
  // NODEEXISTS as done.
  void CreatePath(const std::string& path, const std::string& data) {
    size_t slash = 0;
    do {
      slash = path.find('/', slash + 1);
      std::string node = path.substr(0, slash);
      int rc = TryCreate(node, data, ZOO_PERSISTENT);
      if (rc != ZOK && rc != ZNODEEXISTS) FailZk("create " + node, rc);
    } while (slash != std::string::npos);
  }

  // Deletes `path` (any version); the ZooKeeper code.
  int Delete(const std::string& path) {
    return zoo_delete(zh_, path.c_str(), -1);
  }

  // Waits until `path` is gone, by an exists watch; returns at once when it
  // already is. Also returns when the watch fires for a change of data.
  void AwaitDeletion(const std::string& path) {
    uint64_t seen = 0;
    {
      conch::MutexLock lock(events_->mu);
      seen = events_->node_events;
    }
    if (!Exists(path, OnNodeEvent)) return;
    events_->Await(Events::Until::kNodeEvent, seen);
  }

 private:
  zhandle_t* const zh_;
  Events* const events_;
  const std::string data_;
};

// PREFIX (with its ancestors, empty, when missing) and the given
// directories under it, "<fqdn> <pid>" when made (switchman's
// prepare_zknodes).
void Prepare(Client& client, const std::string& prefix,
             const std::vector<std::string>& dirs) {
  if (!client.Exists(prefix)) client.CreatePath(prefix, "");
  for (const std::string& dir : dirs) {
    client.Ensure(Cat(prefix, "/", dir), client.data());
  }
}

// The semaphore's mutex node (Net::ZooKeeper::Lock's), deleted when it
// goes.
class MutexNode {
 public:
  MutexNode(Client& client, std::string path)
      : client_(client), path_(std::move(path)) {}
  ~MutexNode() { client_.Delete(path_); }
  MutexNode(const MutexNode&) = delete;
  MutexNode& operator=(const MutexNode&) = delete;

  const std::string& path() const { return path_; }

 private:
  Client& client_;
  const std::string path_;
};

// Takes the mutex of the semaphore at `sem` (the ZooKeeper lock recipe):
// an ephemeral sequential lock/acquire-<seq10>, held once no acquire-
// sibling sorts below it.
void TakeMutex(Client& client, const std::string& sem, const MutexNode& mine) {
  const std::string dir = sem + "/lock";
  const std::string own = BaseName(mine.path());
  for (;;) {
    std::vector<std::string> names =
        client.Children(dir).value_or(std::vector<std::string>{});
    if (names.empty()) Fail("no childs in " + dir);
    if (std::find(names.begin(), names.end(), own) == names.end()) {
      Fail("lost mutex " + mine.path());
    }
    std::string predecessor;
    for (const std::string& name : names) {
      if (name.rfind("acquire-", 0) == 0 && name < own && name > predecessor) {
        predecessor = name;
      }
    }
    if (predecessor.empty()) return;
    // Lock 0.03 spins when the predecessor is gone by now; this lists again.
    client.AwaitDeletion(Cat(dir, "/", predecessor));
  }
}

// One try of Net::ZooKeeper::Semaphore->new(count, total, path=sem): the
// lease's path, or nullopt when the leases held leave no room for `count`.
// Exits 3 when a lease held names another total.
std::optional<std::string> TryLease(Client& client, const std::string& sem,
                                    int64_t count, int64_t total) {
  client.CreatePath(sem + "/lock", "0");
  MutexNode mutex(client, client.CreateSequential(sem + "/lock/acquire-"));
  TakeMutex(client, sem, mutex);
  const std::string leases = sem + "/leases";
  client.CreatePath(leases, "0");
  int64_t sum = 0;
  for (const std::string& name :
       client.Children(leases).value_or(std::vector<std::string>{})) {
    // <count>_<total>_<seq10>
    size_t first = name.find('_');
    std::string held_count = name.substr(0, first);
    std::string held_total;
    if (first != std::string::npos) {
      held_total =
          name.substr(first + 1, name.find('_', first + 1) - first - 1);
    }
    if (PerlNumber(held_total) != total) {
      throw Exit{kMismatch, "",
                 Cat("Totals mismatch: ", leases, "/", name, " ",
                     std::to_string(total))};
    }
    sum += PerlNumber(held_count);
  }
  if (sum + count > total) return std::nullopt;
  // The mutex is deleted on the way out, after the lease is made.
  return client.CreateSequential(
      Cat(leases, "/", std::to_string(count), "_", std::to_string(total), "_"));
}

// Prints `path` and keeps the session until a signal. Returns the exit code.
int Hold(Client& client, const std::string& path) {
  std::cout << path << std::endl;
  Events& events = client.events();
  conch::MutexLock lock(events.mu);
  events.changed.Wait(events.mu, [&events]() REQUIRES(events.mu) {
    return !events.signals.empty();
  });
  return 0;
}

int LockCommand(Client& client, const std::string& prefix,
                const std::string& lockname) {
  Prepare(client, prefix, {"locks"});
  const std::string path = prefix + "/locks/" + lockname;
  int rc = client.TryCreate(path, client.data(), ZOO_EPHEMERAL);
  if (rc == ZNODEEXISTS) throw Exit{kLockHeld, "exists", ""};
  if (rc != ZOK) FailZk("create " + path, rc);
  return Hold(client, path);
}

int QueueCommand(Client& client, const std::string& prefix,
                 const std::string& res, const std::string& lockname) {
  Prepare(client, prefix, {"queues", "queues/" + res});
  std::string entry =
      client.CreateSequential(prefix + "/queues/" + res + "/" + lockname + "-");
  return Hold(client, entry);
}

int LeaseCommand(Client& client, const std::string& prefix,
                 const std::string& res, int64_t count, int64_t total) {
  Prepare(client, prefix, {"semaphores"});
  std::optional<std::string> lease =
      TryLease(client, prefix + "/semaphores/" + res, count, total);
  if (!lease) throw Exit{kNoCapacity, "full", ""};
  return Hold(client, *lease);
}

struct LeaseSpec {
  std::string res;
  int64_t count = 0;
  int64_t total = 0;
};

struct RunArgs {
  std::string prefix;
  std::string lockname;
  bool lock = true;
  std::vector<LeaseSpec> leases;  // in the order given, one per RES
  std::vector<std::string> command;
};

// The sequence number ending a queue entry's name (<lockname>-<digits>),
// or nullopt when the name does not end so.
std::optional<uint64_t> QueueSequence(const std::string& name) {
  size_t dash = name.rfind('-');
  if (dash == std::string::npos || !AllDigits(name.substr(dash + 1))) {
    return std::nullopt;
  }
  uint64_t value = 0;
  auto [end, ec] =
      std::from_chars(name.data() + dash + 1, name.data() + name.size(), value);
  if (ec != std::errc()) return std::nullopt;
  return value;
}

// Waits until `entry` (a full path) heads its queue: an exists watch on its
// immediate predecessor at a time (switchman's wait_in_queue).
void WaitInQueue(Client& client, const std::string& entry) {
  const std::string queue = entry.substr(0, entry.rfind('/'));
  const std::string own_name = BaseName(entry);
  const uint64_t own = QueueSequence(own_name).value_or(0);
  for (;;) {
    std::string predecessor;
    uint64_t predecessor_seq = 0;
    bool found = false;
    for (const std::string& name :
         client.Children(queue).value_or(std::vector<std::string>{})) {
      std::optional<uint64_t> seq = QueueSequence(name);
      if (!seq) Fail(Cat("Unexpected item ", name, " in queue ", queue));
      found = found || *seq == own;
      if (*seq < own && (predecessor.empty() || *seq > predecessor_seq)) {
        predecessor = name;
        predecessor_seq = *seq;
      }
    }
    if (!found) {
      Fail(Cat("Lost position ", own_name.substr(own_name.rfind('-') + 1),
               " in queue ", queue));
    }
    if (predecessor.empty()) return;
    client.AwaitDeletion(Cat(queue, "/", predecessor));
  }
}

// Writes all of `text` to `fd`, as far as it can: for the child between
// fork and exec, which may only make async-signal-safe calls.
void WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = write(fd, text.data(), text.size());
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

// Forks and execs `command` with the signal mask `mask`; the child's pid.
// When exec fails the child says why on stderr and exits 127.
pid_t Spawn(const std::vector<std::string>& command, const sigset_t& mask) {
  // Built before the fork: the child of a threaded process may only make
  // async-signal-safe calls.
  std::vector<char*> argv;
  argv.reserve(command.size() + 1);
  for (const std::string& word : command) {
    argv.push_back(const_cast<char*>(word.c_str()));
  }
  argv.push_back(nullptr);
  const std::string failed = Cat(kTool, ": exec ", command[0], ": ");
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = fork();
  if (pid < 0) Fail(Cat("fork: ", std::generic_category().message(errno)));
  if (pid == 0) {
    pthread_sigmask(SIG_SETMASK, &mask, nullptr);
    execvp(argv[0], argv.data());
    // strerrordesc_np, unlike strerror, reads a constant table only.
    const char* reason = strerrordesc_np(errno);
    WriteAll(STDERR_FILENO, failed);
    WriteAll(STDERR_FILENO, reason == nullptr ? "unknown error" : reason);
    WriteAll(STDERR_FILENO, "\n");
    _exit(kExecFailed);
  }
  return pid;
}

// Runs the command and watches the lock while it runs; CMD's exit code.
int Supervise(Client& client, const RunArgs& args, const std::string& lock,
              const sigset_t& mask) {
  std::cout << "running" << std::endl;
  pid_t child = Spawn(args.command, mask);
  Events& events = client.events();
  bool terminated = false;  // sent SIGTERM for a lost lock
  for (;;) {
    bool rearm = false;
    {
      conch::MutexLock hold(events.mu);
      auto lost = [&]() REQUIRES(events.mu) {
        return args.lock && !terminated &&
               (events.lock_deleted || events.Expired());
      };
      events.changed.Wait(events.mu, [&]() REQUIRES(events.mu) {
        return events.child_exited || !events.signals.empty() || lost() ||
               (args.lock && events.lock_changed);
      });
      if (events.child_exited) {
        int status = events.child_status;
        return WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                   : WEXITSTATUS(status);
      }
      for (int sig : events.signals) kill(child, sig);
      events.signals.clear();
      if (lost()) {
        terminated = true;
        std::cout << "lock lost" << std::endl;
        kill(child, SIGTERM);
      }
      if (events.lock_changed) {
        events.lock_changed = false;
        rearm = !terminated;
      }
    }
    // A change of data used the watch up; the next deletion needs another.
    if (rearm && !client.Exists(lock, OnLockEvent)) {
      conch::MutexLock hold(events.mu);
      events.lock_deleted = true;
    }
  }
}

// Step 7 of run: an entry in the queue of every leased resource, unless
// an entry of this lockname is in one already (then exits 0, "already
// queued"). The entries' paths, in the leases' order.
std::vector<std::string> Enqueue(Client& client, const RunArgs& args) {
  std::vector<std::string> entries;
  for (const LeaseSpec& lease : args.leases) {
    const std::string queue = Cat(args.prefix, "/queues/", lease.res);
    const std::string mine = Cat(args.lockname, "-");
    for (const std::string& name :
         client.Children(queue).value_or(std::vector<std::string>{})) {
      if (name.rfind(mine, 0) == 0 && AllDigits(name.substr(mine.size()))) {
        throw Exit{0, "already queued", ""};
      }
    }
    client.Ensure(queue, client.data());
    entries.push_back(client.CreateSequential(Cat(queue, "/", mine)));
  }
  return entries;
}

// Step 8 for one resource: a lease, retried every 100 ms while the
// semaphore is full; exits 0 ("lock appeared") once the lock watch has
// seen the lock taken.
void AcquireLease(Client& client, const std::string& prefix,
                  const LeaseSpec& lease) {
  Events& events = client.events();
  const std::string sem = Cat(prefix, "/semaphores/", lease.res);
  for (;;) {
    {
      conch::MutexLock hold(events.mu);
      if (events.lock_created || events.lock_deleted || events.lock_changed) {
        throw Exit{0, "lock appeared", ""};
      }
    }
    if (TryLease(client, sem, lease.count, lease.total)) return;
    events.Await(Events::Until::kLockCreated, 0, kSemaphorePoll);
  }
}

// switchman's run, from prepare_zknodes on. The exit code.
int RunCommand(Client& client, const RunArgs& args, const sigset_t& mask) {
  // 2. Prepare the directories.
  Prepare(client, args.prefix, {"locks", "queues", "semaphores"});
  // 4. The lock: held already, or watched from now on.
  const std::string lock = Cat(args.prefix, "/locks/", args.lockname);
  if (args.lock && client.Exists(lock, OnLockEvent)) {
    throw Exit{0, "lock exists", ""};
  }
  // 7. Queue on every leased resource.
  std::vector<std::string> entries = Enqueue(client, args);
  // 8. Each resource in turn: the head of its queue, then a lease. The
  // leases are kept (by the session) until the end.
  for (size_t i = 0; i < args.leases.size(); ++i) {
    WaitInQueue(client, entries[i]);
    AcquireLease(client, args.prefix, args.leases[i]);
  }
  // 9. Leave the queues.
  for (const std::string& entry : entries) {
    int rc = client.Delete(entry);
    if (rc != ZOK) FailZk(Cat("Could not delete ", entry), rc);
  }
  // 10. Take the lock, and watch it again: the watch of step 4 is used up
  // by this very creation.
  if (args.lock) {
    int rc = client.TryCreate(lock, client.data(), ZOO_EPHEMERAL);
    if (rc == ZNODEEXISTS) throw Exit{0, "lock exists", ""};
    if (rc != ZOK) FailZk(Cat("Could not acquire lock ", lock), rc);
    if (!client.Exists(lock, OnLockEvent)) throw Exit{0, "lock exists", ""};
  }
  // 11. Run.
  return Supervise(client, args, lock, mask);
}

void Usage() {
  std::cerr << "usage: " << kTool
            << " [--session-ms N] [--fqdn NAME] <host:port,...> CMD ...\n"
               "  lock PREFIX LOCKNAME\n"
               "  queue PREFIX RES LOCKNAME\n"
               "  lease PREFIX RES COUNT TOTAL\n"
               "  run PREFIX LOCKNAME [--nolock] [--lease RES=COUNT:TOTAL]... "
               "-- CMD...\n";
}

// A node name of ours: not empty, no '/'.
bool ValidName(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos;
}

// /a/b: absolute, no empty component, no trailing '/'.
bool ValidPrefix(const std::string& prefix) {
  return prefix.size() > 1 && prefix[0] == '/' && prefix.back() != '/' &&
         prefix.find("//") == std::string::npos;
}

// RES=COUNT:TOTAL, COUNT matching -?\d+ and TOTAL \d+.
std::optional<LeaseSpec> ParseLease(const std::string& spec) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos) return std::nullopt;
  size_t colon = spec.find(':', eq);
  if (colon == std::string::npos) return std::nullopt;
  LeaseSpec lease;
  lease.res = spec.substr(0, eq);
  auto count = ParseInt(spec.substr(eq + 1, colon - eq - 1), true);
  auto total = ParseInt(spec.substr(colon + 1), false);
  if (!ValidName(lease.res) || !count || !total) return std::nullopt;
  lease.count = *count;
  lease.total = *total;
  return lease;
}

// run's arguments after the command name; nullopt on a usage error.
std::optional<RunArgs> ParseRun(const std::vector<std::string>& args) {
  if (args.size() < 2) return std::nullopt;
  RunArgs run;
  run.prefix = args[0];
  run.lockname = args[1];
  size_t i = 2;
  for (; i < args.size() && args[i] != "--"; ++i) {
    if (args[i] == "--nolock" || args[i] == "--no-lock") {
      run.lock = false;
    } else if (args[i] == "--lease" && i + 1 < args.size()) {
      std::optional<LeaseSpec> lease = ParseLease(args[++i]);
      if (!lease) return std::nullopt;
      // As in the original's hash, the last value for a RES counts.
      auto same = std::find_if(run.leases.begin(), run.leases.end(),
                               [&](auto& l) { return l.res == lease->res; });
      if (same != run.leases.end()) {
        *same = *lease;
      } else {
        run.leases.push_back(*lease);
      }
    } else {
      return std::nullopt;
    }
  }
  if (i + 1 >= args.size()) return std::nullopt;  // no "--" or no CMD
  run.command.assign(args.begin() + static_cast<ptrdiff_t>(i) + 1, args.end());
  if (!ValidPrefix(run.prefix) || !ValidName(run.lockname)) return std::nullopt;
  return run;
}

std::string HostName() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return "localhost";
  return name.data();
}

// The command line, checked.
struct Options {
  int session_ms = 10000;
  std::string fqdn;
  std::string hosts;
  std::string cmd;
  std::vector<std::string> rest;  // the command's arguments
  int64_t count = 0;              // lease's
  int64_t total = 0;              // lease's
  RunArgs run;                    // run's
};

// The global options, up to the connect string; false on a usage error.
bool ParseGlobal(const std::vector<std::string>& args, size_t* at,
                 Options* options) {
  for (; *at < args.size() && args[*at].rfind("--", 0) == 0; *at += 2) {
    if (*at + 1 >= args.size()) return false;
    const std::string& value = args[*at + 1];
    if (args[*at] == "--session-ms") {
      auto ms = ParseInt(value, false);
      if (!ms || *ms <= 0 || *ms > INT32_MAX) return false;
      options->session_ms = static_cast<int>(*ms);
    } else if (args[*at] == "--fqdn" && !value.empty()) {
      options->fqdn = value;
    } else {
      return false;
    }
  }
  return true;
}

// Everything after the program's name; nullopt on a usage error.
std::optional<Options> ParseCommandLine(const std::vector<std::string>& args) {
  Options options;
  options.fqdn = HostName();
  size_t at = 0;
  if (!ParseGlobal(args, &at, &options) || at + 2 > args.size()) {
    return std::nullopt;
  }
  options.hosts = args[at];
  options.cmd = args[at + 1];
  options.rest.assign(args.begin() + static_cast<ptrdiff_t>(at) + 2,
                      args.end());
  const std::vector<std::string>& rest = options.rest;
  bool ok = false;
  if (options.cmd == "lock") {
    ok = rest.size() == 2 && ValidPrefix(rest[0]) && ValidName(rest[1]);
  } else if (options.cmd == "queue") {
    ok = rest.size() == 3 && ValidPrefix(rest[0]) && ValidName(rest[1]) &&
         ValidName(rest[2]);
  } else if (options.cmd == "lease" && rest.size() == 4) {
    auto count = ParseInt(rest[2], true);
    auto total = ParseInt(rest[3], false);
    ok = ValidPrefix(rest[0]) && ValidName(rest[1]) && count && total;
    options.count = count.value_or(0);
    options.total = total.value_or(0);
  } else if (options.cmd == "run") {
    std::optional<RunArgs> run = ParseRun(rest);
    ok = run.has_value();
    if (ok) options.run = std::move(*run);
  }
  if (!ok) return std::nullopt;
  return options;
}

// Runs the command on a session; its exit code.
int Dispatch(Client& client, const Options& options, const sigset_t& mask) {
  const std::vector<std::string>& rest = options.rest;
  if (options.cmd == "lock") return LockCommand(client, rest[0], rest[1]);
  if (options.cmd == "queue") {
    return QueueCommand(client, rest[0], rest[1], rest[2]);
  }
  if (options.cmd == "lease") {
    return LeaseCommand(client, rest[0], rest[1], options.count, options.total);
  }
  return RunCommand(client, options.run, mask);
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Options> options =
      ParseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
  if (!options) {
    Usage();
    return kUsage;
  }
  // Blocked before any thread starts, so that only SignalThread's sigwait
  // takes them; the command gets the mask we started with.
  sigset_t taken;
  sigset_t original;
  sigemptyset(&taken);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1}) {
    sigaddset(&taken, sig);
  }
  pthread_sigmask(SIG_BLOCK, &taken, &original);

  const std::string data = Cat(options->fqdn, " ", std::to_string(getpid()));
  Events events;
  int code = 0;
  std::string out;
  std::string err;
  {
    SignalThread signals(&events, taken);
    try {
      Session session(options->hosts, options->session_ms, &events);
      Client client(session.zh(), &events, data);
      code = Dispatch(client, *options, original);
    } catch (const Exit& exit) {
      // The session is closed by now: what this run made is gone.
      code = exit.code;
      out = exit.out;
      err = exit.err;
    }
  }
  if (!out.empty()) std::cout << out << std::endl;
  if (!err.empty()) std::cerr << kTool << ": " << err << "\n";
  return code;
}
