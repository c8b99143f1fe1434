#include "servers/etcd_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "servers/process.h"

namespace conch::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kStartAttempts = 3;
constexpr auto kHealthDeadline = std::chrono::seconds(10);
constexpr auto kEtcdctlDeadline = std::chrono::seconds(10);

// Picks `count` distinct free loopback ports by binding them all to port 0
// at once. They are free when this returns, not necessarily later.
bool PickFreePorts(int count, std::vector<int>* ports) {
  std::vector<std::unique_ptr<Fd>> sockets;
  for (int i = 0; i < count; ++i) {
    auto fd =
        std::make_unique<Fd>(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd->get() < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd->get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        getsockname(fd->get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return false;
    }
    ports->push_back(ntohs(addr.sin_port));
    sockets.push_back(std::move(fd));
  }
  return true;
}

bool AcceptsConnections(int port) {
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) ==
         0;
}

// Reads `fds` into `outs` until every one reaches EOF (true) or the
// deadline passes (false).
bool ReadUntilEof(const std::array<int, 2>& fds,
                  const std::array<std::string*, 2>& outs,
                  Clock::time_point deadline) {
  std::array<pollfd, 2> pfds{};
  for (size_t i = 0; i < fds.size(); ++i) pfds[i] = {fds[i], POLLIN, 0};
  while (pfds[0].fd >= 0 || pfds[1].fd >= 0) {
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    // poll ignores entries with a negative fd: those reached EOF.
    if (poll(pfds.data(), pfds.size(), static_cast<int>(left.count())) <= 0) {
      continue;
    }
    for (size_t i = 0; i < pfds.size(); ++i) {
      if (pfds[i].fd < 0 || pfds[i].revents == 0) continue;
      std::array<char, 4096> buf{};
      ssize_t n = read(pfds[i].fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        pfds[i].fd = -1;
        continue;
      }
      outs[i]->append(buf.data(), static_cast<size_t>(n));
    }
  }
  return true;
}

EtcdctlResult RunEtcdctlWithTimeouts(const std::string& endpoints,
                                     const std::vector<std::string>& args,
                                     const std::string& dial_timeout,
                                     const std::string& command_timeout) {
  EtcdctlResult result;
  std::string etcdctl = EtcdctlBinary();
  if (etcdctl.empty()) {
    result.errors = "etcdctl not found";
    return result;
  }
  std::vector<std::string> argv = {etcdctl, "--endpoints=" + endpoints,
                                   "--dial-timeout=" + dial_timeout,
                                   "--command-timeout=" + command_timeout};
  argv.insert(argv.end(), args.begin(), args.end());
  std::array<int, 2> out_pipe{};
  std::array<int, 2> err_pipe{};
  if (pipe2(out_pipe.data(), O_CLOEXEC) != 0) {
    result.errors = ErrnoMessage("pipe2", errno);
    return result;
  }
  Fd out_read(out_pipe[0]);
  Fd out_write(out_pipe[1]);
  if (pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    result.errors = ErrnoMessage("pipe2", errno);
    return result;
  }
  Fd err_read(err_pipe[0]);
  Fd err_write(err_pipe[1]);
  const pid_t pid =
      Spawn(std::move(argv), ChildEnvironment({"ETCDCTL_"}, "ETCDCTL_API=3"),
            "", out_write.get(), err_write.get());
  // Our copies of the write ends must go, or the reads never see EOF.
  out_write.Reset();
  err_write.Reset();
  if (pid < 0) {
    result.errors = ErrnoMessage("fork etcdctl", errno);
    return result;
  }
  const bool finished = ReadUntilEof({out_read.get(), err_read.get()},
                                     {&result.output, &result.errors},
                                     Clock::now() + kEtcdctlDeadline);
  if (!finished) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (finished && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

}  // namespace

bool ServersRequired() { return GetEnv("CONCH_REQUIRE_SERVERS") == "1"; }

std::string EtcdBinary() { return FindExecutable("CONCH_ETCD_BIN", "etcd"); }

std::string EtcdctlBinary() {
  return FindExecutable("CONCH_ETCDCTL_BIN", "etcdctl");
}

EtcdctlResult RunEtcdctl(const std::string& endpoints,
                         const std::vector<std::string>& args) {
  return RunEtcdctlWithTimeouts(endpoints, args, "2s", "3s");
}

EtcdStart EtcdCluster::Start(int members) {
  EtcdStart result;
  if (members < 1) {
    result.error = "start etcd: need at least one member";
    return result;
  }
  if (EtcdBinary().empty() || EtcdctlBinary().empty()) {
    result.error = "start etcd: etcd or etcdctl not found on PATH";
    return result;
  }
  for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
    std::string pattern = GetEnv("TMPDIR");
    if (pattern.empty()) pattern = "/tmp";
    pattern += "/conch-etcd-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      result.error = ErrnoMessage("start etcd: mkdtemp", errno);
      return result;
    }
    std::unique_ptr<EtcdCluster> cluster(new EtcdCluster(pattern));
    std::string error = cluster->StartMembers(members);
    if (error.empty()) error = cluster->WaitHealthy();
    if (error.empty()) {
      result.cluster = std::move(cluster);
      result.error.clear();
      return result;
    }
    result.error =
        "start etcd (attempt " + std::to_string(attempt) + "): " + error;
  }
  return result;
}

std::string EtcdCluster::StartMembers(int members) {
  const auto count = static_cast<size_t>(members);
  std::vector<int> ports;
  if (!PickFreePorts(3 * members, &ports)) {
    return ErrnoMessage("pick ports", errno);
  }
  std::string initial_cluster;
  for (size_t i = 0; i < count; ++i) {
    Member member;
    member.name = "m" + std::to_string(i);
    member.client_port = ports[3 * i];
    member.peer_port = ports[3 * i + 1];
    member.metrics_port = ports[3 * i + 2];
    if (i > 0) initial_cluster += ",";
    initial_cluster +=
        member.name + "=http://127.0.0.1:" + std::to_string(member.peer_port);
    members_.push_back(member);
  }
  const std::string token = "conch-test-" + std::to_string(getpid()) + "-" +
                            std::to_string(members_[0].client_port);
  for (int i = 0; i < members; ++i) {
    Member& member = members_[static_cast<size_t>(i)];
    const std::string client =
        "http://127.0.0.1:" + std::to_string(member.client_port);
    const std::string peer =
        "http://127.0.0.1:" + std::to_string(member.peer_port);
    std::vector<std::string> argv = {
        EtcdBinary(),
        "--name=" + member.name,
        "--data-dir=" + dir_ + "/" + member.name,
        "--listen-client-urls=" + client,
        "--advertise-client-urls=" + client,
        "--listen-peer-urls=" + peer,
        "--initial-advertise-peer-urls=" + peer,
        "--listen-metrics-urls=" + metrics_url(i),
        "--initial-cluster=" + initial_cluster,
        "--initial-cluster-state=new",
        "--initial-cluster-token=" + token,
        "--heartbeat-interval=100",
        "--election-timeout=1000",
    };
    const std::string log = dir_ + "/" + member.name + ".log";
    Fd log_fd(
        open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (log_fd.get() < 0) return ErrnoMessage("open " + log, errno);
    member.pid = Spawn(std::move(argv), ChildEnvironment({"ETCD_"}), "",
                       log_fd.get(), log_fd.get());
    if (member.pid < 0) return ErrnoMessage("fork etcd", errno);
  }
  return "";
}

std::string EtcdCluster::WaitHealthy() {
  const Clock::time_point deadline = Clock::now() + kHealthDeadline;
  while (Clock::now() < deadline) {
    bool all_healthy = true;
    for (int i = 0; i < size(); ++i) {
      if (!StillRunning(members_[i].pid)) {
        members_[i].pid = -1;  // reaped: never signal that pid again
        return members_[i].name + " exited during start; log: " + LogTail(i);
      }
      if (!AcceptsConnections(members_[i].client_port) ||
          RunEtcdctlWithTimeouts(endpoint(i), {"endpoint", "health"}, "1s",
                                 "1s")
                  .exit_code != 0) {
        all_healthy = false;
      }
    }
    if (all_healthy) return "";
    std::this_thread::sleep_for(milliseconds(100));
  }
  return "not healthy within 10 s; m0 log: " + LogTail(0);
}

std::string EtcdCluster::LogTail(int i) const {
  std::error_code ec;
  const std::filesystem::path log = dir_ + "/" + members_[i].name + ".log";
  const uintmax_t size = std::filesystem::file_size(log, ec);
  if (ec) return "(no log)";
  Fd fd(open(log.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return "(no log)";
  constexpr uintmax_t kTail = 600;
  std::string tail(static_cast<size_t>(std::min(size, kTail)), '\0');
  const auto offset = static_cast<off_t>(size - tail.size());
  ssize_t n = pread(fd.get(), tail.data(), tail.size(), offset);
  tail.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return tail;
}

EtcdCluster::~EtcdCluster() {
  StopAll();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void EtcdCluster::StopAll() {
  for (int i = 0; i < size(); ++i) Kill(i);
}

std::string EtcdCluster::endpoints() const {
  std::string all;
  for (int i = 0; i < size(); ++i) {
    if (i > 0) all += ",";
    all += endpoint(i);
  }
  return all;
}

std::string EtcdCluster::endpoint(int i) const {
  return "127.0.0.1:" + std::to_string(members_.at(i).client_port);
}

std::string EtcdCluster::metrics_url(int i) const {
  return "http://127.0.0.1:" + std::to_string(members_.at(i).metrics_port);
}

pid_t EtcdCluster::pid(int i) const { return members_.at(i).pid; }

bool EtcdCluster::Kill(int i) { return KillAndReap(&members_.at(i).pid); }

bool EtcdCluster::Freeze(int i) { return StopAndWait(members_.at(i).pid); }

bool EtcdCluster::Thaw(int i) { return Signal(members_.at(i).pid, SIGCONT); }

}  // namespace conch::testing
