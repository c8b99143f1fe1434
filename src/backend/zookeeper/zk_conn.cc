#include "backend/zookeeper/zk_conn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string_view>

#include "backend/zookeeper/zk_names.h"
#include "base/duration.h"
#include "base/log.h"
#include "base/strings.h"

namespace conch::backend::zk {
namespace {

using std::chrono::milliseconds;

// The C client's log lines, into conch's debug log. The client stamps each
// line with its own time, pid and thread ("2026-...:123(0x7f..):ZOO_WARN@
// func@line: text"); conch's debug log stamps its own, so the line is kept
// from the level on.
void LogLine(const char* message) {
  std::string_view line(message);
  size_t level = line.find("ZOO_");
  if (level != std::string_view::npos) line.remove_prefix(level);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  LogDebug("zookeeper: " + std::string(line));
}

// The C client's logging is process-wide: its level, and a stream for lines
// logged where no handle's callback applies. That stream is stderr unless
// set, and nothing of the client's may reach the terminal on its own, so it
// is /dev/null, opened once and kept for the life of the process.
void SetUpClientLogging() {
  static std::once_flag once;
  std::call_once(once, [] {
    // As main.cc reads it; once, before the client starts a thread.
    const char* debug =
        std::getenv("CONCH_DEBUG");  // NOLINT(concurrency-mt-unsafe)
    bool on = debug != nullptr && *debug != '\0' && *debug != '0';
    zoo_set_debug_level(on ? ZOO_LOG_LEVEL_INFO : ZOO_LOG_LEVEL_WARN);
    static FILE* const kDevNull = std::fopen("/dev/null", "we");
    if (kDevNull != nullptr) zoo_set_log_stream(kDevNull);
  });
}

Reply Closing() {
  Reply reply;
  reply.rc = ZCLOSING;
  return reply;
}

}  // namespace

// The server the handle is connected to, for messages. The client's own
// zoo_get_current_server formats into a static buffer shared by every
// handle and its I/O threads, so the peer is read from the socket instead.
std::string ConnectedServer(zhandle_t* zh) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (zookeeper_get_connected_host(zh, reinterpret_cast<sockaddr*>(&addr),
                                   &len) == nullptr) {
    return "no server (not connected)";
  }
  std::array<char, INET6_ADDRSTRLEN> host{};
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host.data(), host.size());
    return std::string(host.data()) + ":" + std::to_string(ntohs(in->sin_port));
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
  inet_ntop(AF_INET6, &in6->sin6_addr, host.data(), host.size());
  return "[" + std::string(host.data()) +
         "]:" + std::to_string(ntohs(in6->sin6_port));
}

// ---------------------------------------------------------------------------
// Opening and closing.

constexpr int kResolveEveryMs = 60'000;

ZkConn::ZkConn(ConnOptions options)
    : options_(std::move(options)), members_(Join(options_.members, ",")) {}

Result<std::shared_ptr<ZkConn>> ZkConn::Open(ConnOptions options) {
  SetUpClientLogging();
  std::shared_ptr<ZkConn> conn(new ZkConn(std::move(options)));
  const std::string hosts = conn->members_ + conn->options_.chroot;
  auto timeout_ms = std::clamp<int64_t>(
      std::chrono::duration_cast<milliseconds>(conn->options_.session_timeout)
          .count(),
      1, INT32_MAX);
  errno = 0;
  // The handle's context is the ZkConn itself: valid for as long as the
  // client's threads run, since Close() joins them before the ZkConn goes.
  zhandle_t* zh = zookeeper_init2(
      hosts.c_str(), GlobalWatcher, static_cast<int>(timeout_ms),
      conn->options_.resume ? &*conn->options_.resume : nullptr, conn.get(), 0,
      LogLine);
  if (zh == nullptr) {
    return Error(Code::kUnavailable, "connect to zookeeper at " + hosts + ": " +
                                         ErrnoString(errno));
  }
  // By default the client resolves the member list again every time its
  // I/O thread polls (a getaddrinfo, with netlink queries, per request and
  // per answer), which costs more CPU than the requests themselves. Once
  // a minute is plenty to follow DNS; a lost connection still resolves
  // again at once.
  zoo_set_servers_resolution_delay(zh, kResolveEveryMs);
  MutexLock lock(conn->mu_);
  conn->zh_ = zh;
  return conn;
}

ZkConn::~ZkConn() { Close(); }

void ZkConn::Close() {
  zhandle_t* zh = nullptr;
  {
    MutexLock lock(mu_);
    if (closing_) {
      cv_.Wait(mu_, [&]() REQUIRES(mu_) { return closed_; });
      return;
    }
    closing_ = true;
    state_.closed = true;
    // No new zoo_* call starts now; wait for those under way, so that the
    // handle is not freed under them.
    cv_.Wait(mu_, [&]() REQUIRES(mu_) { return users_ == 0; });
    zh = zh_;
    zh_ = nullptr;
  }
  cv_.NotifyAll();
  // Joins the client's threads: no callback of ours runs after this. The
  // multi-threaded client drops completions still pending at close without
  // calling them; they are completed below with ZCLOSING.
  if (zh != nullptr) zookeeper_close(zh);
  std::map<uint64_t, std::unique_ptr<Pending>> leftovers;
  std::vector<std::shared_ptr<WatchSlot>> slots;
  bool ended_before = false;
  Status why;
  {
    MutexLock lock(mu_);
    leftovers.swap(pending_);
    for (auto& [id, slot] : slots_) slots.push_back(slot);
    ended_before = state_.expired || state_.auth_failed;
    why = EndedStatusLocked();
    state_.connected = false;
    closed_ = true;
  }
  cv_.NotifyAll();
  for (auto& [id, pending] : leftovers) {
    if (pending->done) pending->done(Closing());
  }
  if (!ended_before) {
    for (const std::shared_ptr<WatchSlot>& slot : slots) slot->OnEnded(why);
  }
  if (options_.on_state) options_.on_state();
}

bool ZkConn::WaitClosed(MonoTime deadline) {
  MutexLock lock(mu_);
  return cv_.WaitFor(mu_, deadline - clock().Now(),
                     [&]() REQUIRES(mu_) { return closed_; });
}

// ---------------------------------------------------------------------------
// Connection state.

ZkConn::State ZkConn::state() const {
  MutexLock lock(mu_);
  return state_;
}

std::optional<clientid_t> ZkConn::client_id() const {
  MutexLock lock(mu_);
  return client_id_;
}

Status ZkConn::EndedStatus() const {
  MutexLock lock(mu_);
  return EndedStatusLocked();
}

Status ZkConn::EndedStatusLocked() const {
  std::string session = "zookeeper session " + SessionHex(state_.session_id);
  if (state_.expired) return Error(Code::kSessionLost, session + " expired");
  if (state_.auth_failed) {
    return Error(Code::kSessionLost, session + ": authentication failed");
  }
  if (closing_) return Error(Code::kSessionLost, session + " was closed");
  return Status::Ok();
}

Status ZkConn::WaitConnected(MonoTime deadline) {
  const MonoTime start = clock().Now();
  const MonoTime bound = std::min(deadline, start + options_.dial_timeout);
  MutexLock lock(mu_);
  cv_.WaitFor(mu_, bound - start, [&]() REQUIRES(mu_) {
    return state_.connected || state_.expired || state_.auth_failed || closing_;
  });
  if (state_.connected && !closing_) return Status::Ok();
  Status ended = EndedStatusLocked();
  if (!ended.ok()) return ended;
  return Error(Code::kUnavailable,
               "zookeeper unreachable at " + members_ + " within " +
                   FormatDuration(std::chrono::duration_cast<milliseconds>(
                       bound - start)));
}

void ZkConn::GlobalWatcher(zhandle_t* zh, int type, int state,
                           const char* /*path*/, void* context) {
  if (type != ZOO_SESSION_EVENT) return;
  static_cast<ZkConn*>(context)->OnSessionEvent(zh, state);
}

// Runs on the completion thread, in order with the completions: a lost
// connection's ZOO_CONNECTING_STATE comes before the ZCONNECTIONLOSS of the
// requests it failed, and a new connection's ZOO_CONNECTED_STATE before the
// first answer on it. The heartbeat's proof rule relies on that order.
void ZkConn::OnSessionEvent(zhandle_t* zh, int state) {
  bool connected = false;
  bool ended = false;
  Status why;
  {
    MutexLock lock(mu_);
    if (state == ZOO_CONNECTED_STATE) {
      connected = true;
      state_.connected = true;
      ++state_.epoch;
      state_.granted = milliseconds(zoo_recv_timeout(zh));
      if (const clientid_t* id = zoo_client_id(zh)) {
        client_id_ = *id;
        state_.session_id = id->client_id;
      }
    } else if (state == ZOO_EXPIRED_SESSION_STATE ||
               state == ZOO_AUTH_FAILED_STATE) {
      state_.connected = false;
      ended = !state_.expired && !state_.auth_failed;
      state_.expired = state == ZOO_EXPIRED_SESSION_STATE;
      state_.auth_failed = state == ZOO_AUTH_FAILED_STATE;
      why = EndedStatusLocked();
    } else {
      state_.connected = false;
    }
  }
  cv_.NotifyAll();
  if (options_.on_state) options_.on_state();
  if (connected) {
    LogDebug("zookeeper: connected to " + ConnectedServer(zh));
    for (const std::shared_ptr<WatchSlot>& slot : Slots()) {
      slot->OnReconnected();
    }
  } else if (ended) {
    LogDebug(why.message());
    for (const std::shared_ptr<WatchSlot>& slot : Slots()) slot->OnEnded(why);
  }
}

// ---------------------------------------------------------------------------
// Watch slots.

uint64_t ZkConn::AddWatch(const std::shared_ptr<WatchSlot>& slot) {
  uint64_t id = 0;
  Status ended;
  {
    MutexLock lock(mu_);
    id = ++next_id_;
    slots_[id] = slot;
    ended = EndedStatusLocked();
  }
  if (!ended.ok()) slot->OnEnded(ended);
  return id;
}

void ZkConn::RemoveWatch(uint64_t id) {
  MutexLock lock(mu_);
  slots_.erase(id);
}

std::vector<std::shared_ptr<WatchSlot>> ZkConn::Slots() {
  std::vector<std::shared_ptr<WatchSlot>> out;
  MutexLock lock(mu_);
  out.reserve(slots_.size());
  for (auto& [id, slot] : slots_) out.push_back(slot);
  return out;
}

void ZkConn::WatchTrampoline(zhandle_t* zh, int type, int /*state*/,
                             const char* /*path*/, void* context) {
  // Session events reach every watcher too; the global watcher handles
  // them once for the whole connection.
  if (type == ZOO_SESSION_EVENT) return;
  auto* conn = static_cast<ZkConn*>(const_cast<void*>(zoo_get_context(zh)));
  conn->OnWatchFire(reinterpret_cast<uintptr_t>(context), type);
}

void ZkConn::OnWatchFire(uint64_t id, int type) {
  std::shared_ptr<WatchSlot> slot;
  {
    MutexLock lock(mu_);
    auto it = slots_.find(id);
    if (it == slots_.end()) return;  // its watch is gone: drop the fire
    slot = it->second;
  }
  slot->OnFire(type);
}

}  // namespace conch::backend::zk
