#include "servers/zk_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <random>
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
// A JVM on a loaded 2-core machine, next to sanitized test binaries, can
// take several seconds to start; an idle one serves within about 0.5 s
// (standalone) or 1.2 s (three members).
constexpr auto kReadyDeadline = std::chrono::seconds(30);
constexpr auto kFourLetterDeadline = std::chrono::seconds(3);
// ZooKeeper writes a four-letter answer in one go, then closes.
constexpr int kAnswerGapMillis = 500;
constexpr const char* kJarDir = "/usr/share/java";
constexpr const char* kMainClass =
    "org.apache.zookeeper.server.quorum.QuorumPeerMain";

// A JVM that starts fast and stays small, since tests start many of them on
// two cores: one GC thread (serial), the C1 compiler only, the JDK's
// class-data archive, no hsperfdata file in /tmp (a SIGKILLed JVM would
// leave it behind), IPv4 only. No com.sun.management.jmxremote: no JMX
// port. Empty container znodes (conch's parents) go after 1 s, not 60 s, so
// that tests can see them go. slf4j-simple logs INFO, except the line
// NIOServerCnxn writes for every four-letter word, which would bury the log
// under our own polling.
constexpr std::array<const char*, 13> kJvmFlags = {
    "-Xms32m",
    "-Xmx256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Xshare:auto",
    "-XX:-UsePerfData",
    "-Djava.net.preferIPv4Stack=true",
    "-Dznode.container.checkIntervalMs=1000",
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
    "-Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.NIOServerCnxn="
    "warn",
    "-Dorg.slf4j.simpleLogger.showDateTime=true",
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
    "-Dorg.slf4j.simpleLogger.showThreadName=true",
};

// Settings every member gets. tickTime 500 ms with explicit session bounds
// grants any timeout from 1 s to 120 s as asked; syncLimit 6 ticks drops a
// frozen leader's followers after 3 s; initLimit 20 ticks gives a slow JVM
// 10 s to sync. maxClientCnxns=0 lifts the default limit of 60 connections
// per client IP, which parallel tests on 127.0.0.1 would reach. forceSync=no
// skips fsync, preAllocSize=1024 (KB) keeps txn logs small, and
// snapshot.trust.empty lets a member killed before its first snapshot
// restart. fastleader.maxNotificationInterval caps the election's backoff
// at 2 s instead of 60 s, so a member whose JVM started late is heard soon.
constexpr const char* kCommonConfig =
    "tickTime=500\n"
    "initLimit=20\n"
    "syncLimit=6\n"
    "minSessionTimeout=1000\n"
    "maxSessionTimeout=120000\n"
    "maxClientCnxns=0\n"
    "admin.enableServer=false\n"
    "4lw.commands.whitelist=*\n"
    "forceSync=no\n"
    "preAllocSize=1024\n"
    "snapshot.trust.empty=true\n"
    "fastleader.maxNotificationInterval=2000\n";

// Our environment minus what the JVM would read as extra options or class
// path (a developer's debugger agent must not reach every test server).
std::vector<std::string> JavaEnvironment() {
  return ChildEnvironment({"JAVA_TOOL_OPTIONS=", "JDK_JAVA_OPTIONS=",
                           "_JAVA_OPTIONS=", "CLASSPATH="});
}

// The lowest port of the kernel's ephemeral range (32768 unless tuned).
int EphemeralLow() {
  Fd fd(open("/proc/sys/net/ipv4/ip_local_port_range", O_RDONLY | O_CLOEXEC));
  std::array<char, 64> buf{};
  ssize_t n = fd.get() >= 0 ? read(fd.get(), buf.data(), buf.size()) : -1;
  int low = 32768;
  if (n > 0) std::from_chars(buf.data(), buf.data() + n, low);
  return low;
}

// Picks `count` distinct loopback ports by binding them all at once. They
// come from 20000 up to the ephemeral range, as in zk.sh and etcd.sh: an
// outgoing connection never takes one as its source port, so a killed
// member's ports stay free for Restart. They are free when this returns,
// not necessarily later.
bool PickFreePorts(int count, std::vector<int>* ports) {
  constexpr int kFirst = 20000;
  const int span = EphemeralLow() - kFirst;
  if (span < 1000) return false;
  std::mt19937 random(std::random_device{}());
  std::vector<std::unique_ptr<Fd>> sockets;
  for (int tries = 0; std::ssize(*ports) < count && tries < 1000; ++tries) {
    const int port = kFirst + static_cast<int>(random() % span);
    if (std::find(ports->begin(), ports->end(), port) != ports->end()) {
      continue;
    }
    auto fd =
        std::make_unique<Fd>(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd->get() < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (bind(fd->get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) !=
        0) {
      continue;  // taken, or in TIME_WAIT
    }
    ports->push_back(port);
    sockets.push_back(std::move(fd));
  }
  return std::ssize(*ports) == count;
}

// Milliseconds left until `deadline`, at least 0.
int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(left.count(), 0));
}

// Connects to 127.0.0.1:`port`, sends `cmd` and reads until the server
// closes, or until it has sent something and then nothing for 500 ms:
// ZooKeeper 3.8 answers a four-letter word that arrives before it loaded
// its database but then fails to close the connection (an NPE in
// ZooKeeperServer.removeCnxn, ZOOKEEPER-5051), which would otherwise cost
// the whole deadline at every start. Returns the answer, or "" on any
// failure or when nothing arrived by the deadline.
std::string AskFourLetter(int port, const std::string& cmd) {
  const Clock::time_point deadline = Clock::now() + kFourLetterDeadline;
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) !=
      0) {
    if (errno != EINPROGRESS) return "";
    pollfd pfd{fd.get(), POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof(err);
    if (poll(&pfd, 1, MillisLeft(deadline)) != 1 ||
        getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
        err != 0) {
      return "";
    }
  }
  // Four bytes always fit a fresh socket's send buffer.
  if (send(fd.get(), cmd.data(), cmd.size(), MSG_NOSIGNAL) != std::ssize(cmd)) {
    return "";
  }
  std::string answer;
  while (true) {
    pollfd pfd{fd.get(), POLLIN, 0};
    int wait = MillisLeft(deadline);
    if (!answer.empty()) wait = std::min(wait, kAnswerGapMillis);
    const int ready = poll(&pfd, 1, wait);
    if (ready < 0 && errno == EINTR) continue;
    // "" at the deadline (a frozen server, say), else the answer so far.
    if (ready <= 0) return answer;
    std::array<char, 4096> buf{};
    const ssize_t n = read(fd.get(), buf.data(), buf.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return "";
    if (n == 0) return answer;
    answer.append(buf.data(), static_cast<size_t>(n));
  }
}

// The role in a `srvr` answer ("Mode: follower"), or "".
std::string ModeOf(const std::string& srvr) {
  constexpr std::string_view kMode = "Mode: ";
  const size_t start = srvr.find(kMode);
  if (start == std::string::npos) return "";
  const size_t end = srvr.find('\n', start);
  return srvr.substr(start + kMode.size(), end == std::string::npos
                                               ? std::string::npos
                                               : end - start - kMode.size());
}

std::string WriteFile(const std::string& path, const std::string& content) {
  Fd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return ErrnoMessage("open " + path, errno);
  if (write(fd.get(), content.data(), content.size()) != std::ssize(content)) {
    return ErrnoMessage("write " + path, errno);
  }
  return "";
}

}  // namespace

std::string ZkJavaBinary() { return FindExecutable("CONCH_JAVA_BIN", "java"); }

std::string ZkClasspath() {
  if (std::string given = GetEnv("CONCH_ZK_CLASSPATH"); !given.empty()) {
    const std::string first = given.substr(0, given.find(':'));
    return access(first.c_str(), R_OK) == 0 ? given : "";
  }
  // zookeeper.jar's manifest Class-Path names its dependencies (jute,
  // netty, slf4j-api, metrics, commons, jackson, jetty), so the JVM finds
  // them itself. slf4j-api alone logs nothing: slf4j-simple is the binding.
  std::string classpath = std::string(kJarDir) + "/zookeeper.jar";
  if (access(classpath.c_str(), R_OK) != 0) return "";
  const std::string simple = std::string(kJarDir) + "/slf4j-simple.jar";
  if (access(simple.c_str(), R_OK) == 0) classpath += ":" + simple;
  return classpath;
}

ZkStart ZkEnsemble::Start(int members) {
  ZkStart result;
  if (members < 1) {
    result.error = "start zookeeper: need at least one member";
    return result;
  }
  if (ZkJavaBinary().empty() || ZkClasspath().empty()) {
    result.error = "start zookeeper: java or zookeeper.jar not found";
    return result;
  }
  std::vector<int> all(static_cast<size_t>(members));
  for (int i = 0; i < members; ++i) all[static_cast<size_t>(i)] = i;
  for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
    std::string pattern = GetEnv("TMPDIR");
    if (pattern.empty()) pattern = "/tmp";
    pattern += "/conch-zk-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      result.error = ErrnoMessage("start zookeeper: mkdtemp", errno);
      return result;
    }
    std::unique_ptr<ZkEnsemble> ensemble(new ZkEnsemble(pattern));
    std::string error = ensemble->Configure(members);
    for (int i = 0; error.empty() && i < members; ++i) {
      error = ensemble->Launch(i);
    }
    if (error.empty()) error = ensemble->WaitReady(all, true);
    if (error.empty()) {
      result.ensemble = std::move(ensemble);
      result.error.clear();
      return result;
    }
    result.error =
        "start zookeeper (attempt " + std::to_string(attempt) + "): " + error;
  }
  return result;
}

// Chooses ports and writes each member's data dir, myid and zoo.cfg.
std::string ZkEnsemble::Configure(int members) {
  // A standalone server needs only its client port.
  const size_t ports_each = members == 1 ? 1 : 3;
  const auto count = static_cast<size_t>(members);
  std::vector<int> ports;
  if (!PickFreePorts(static_cast<int>(ports_each * count), &ports)) {
    return "pick ports: no free loopback ports between 20000 and the "
           "ephemeral range";
  }
  for (size_t i = 0; i < count; ++i) {
    Member member;
    member.name = "m" + std::to_string(i);
    member.client_port = ports[ports_each * i];
    if (members > 1) {
      member.quorum_port = ports[ports_each * i + 1];
      member.election_port = ports[ports_each * i + 2];
    }
    members_.push_back(member);
  }
  for (int i = 0; i < members; ++i) {
    std::error_code ec;
    std::filesystem::create_directories(MemberDir(i) + "/data", ec);
    if (ec) return "create " + MemberDir(i) + "/data: " + ec.message();
    if (members > 1) {
      std::string error =
          WriteFile(MemberDir(i) + "/data/myid", std::to_string(i + 1) + "\n");
      if (!error.empty()) return error;
    }
    if (std::string error = WriteConfig(i); !error.empty()) return error;
  }
  return "";
}

std::string ZkEnsemble::WriteConfig(int i) const {
  const Member& member = members_.at(i);
  std::string config = kCommonConfig;
  config += "dataDir=" + MemberDir(i) + "/data\n";
  config += "clientPortAddress=127.0.0.1\n";
  config += "clientPort=" + std::to_string(member.client_port) + "\n";
  // Without server.N lines QuorumPeerMain runs a standalone server.
  for (int n = 0; size() > 1 && n < size(); ++n) {
    const Member& peer = members_[static_cast<size_t>(n)];
    config += "server." + std::to_string(n + 1) +
              "=127.0.0.1:" + std::to_string(peer.quorum_port) + ":" +
              std::to_string(peer.election_port) + "\n";
  }
  return WriteFile(MemberDir(i) + "/zoo.cfg", config);
}

// Starts member i's JVM, its output appended to m<i>.log.
std::string ZkEnsemble::Launch(int i) {
  Member& member = members_.at(i);
  std::vector<std::string> argv = {ZkJavaBinary()};
  argv.insert(argv.end(), kJvmFlags.begin(), kJvmFlags.end());
  argv.push_back("-XX:ErrorFile=" + MemberDir(i) + "/hs_err_%p.log");
  argv.insert(argv.end(),
              {"-cp", ZkClasspath(), kMainClass, MemberDir(i) + "/zoo.cfg"});
  const std::string log = dir_ + "/" + member.name + ".log";
  Fd log_fd(open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (log_fd.get() < 0) return ErrnoMessage("open " + log, errno);
  member.pid = Spawn(std::move(argv), JavaEnvironment(), MemberDir(i),
                     log_fd.get(), log_fd.get());
  if (member.pid < 0) return ErrnoMessage("fork java", errno);
  return "";
}

// Polls members `which` until each answers ruok with imok and, if
// `need_mode`, serves in the role this ensemble's size calls for.
std::string ZkEnsemble::WaitReady(const std::vector<int>& which,
                                  bool need_mode) {
  const Clock::time_point deadline = Clock::now() + kReadyDeadline;
  int stuck = -1;  // the first member found not ready in the last round
  std::string last_answer;
  while (Clock::now() < deadline) {
    stuck = -1;
    for (int i : which) {
      Member& member = members_.at(i);
      if (!StillRunning(member.pid)) {
        member.pid = -1;  // reaped: never signal that pid again
        return member.name + " exited during start; log: " + LogTail(i);
      }
      if (stuck >= 0) continue;  // this round failed already
      last_answer = FourLetter(i, "ruok");
      if (last_answer != "imok") {
        stuck = i;
        continue;
      }
      if (!need_mode) continue;
      // ruok says imok as soon as the client port is open, even while the
      // member still looks for a quorum; srvr tells whether it serves.
      last_answer = FourLetter(i, "srvr");
      const std::string mode = ModeOf(last_answer);
      const bool serving = size() == 1 ? mode == "standalone"
                                       : mode == "leader" || mode == "follower";
      if (!serving) stuck = i;
    }
    if (stuck < 0) return "";
    std::this_thread::sleep_for(milliseconds(100));
  }
  return members_.at(stuck).name + " not ready within 30 s (last answer: \"" +
         last_answer + "\"); log: " + LogTail(stuck);
}

std::string ZkEnsemble::LogTail(int i) const {
  std::error_code ec;
  const std::filesystem::path log = dir_ + "/" + members_.at(i).name + ".log";
  const uintmax_t size = std::filesystem::file_size(log, ec);
  if (ec) return "(no log)";
  Fd fd(open(log.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return "(no log)";
  // Java stack traces are long; the first lines of one are what matter.
  constexpr uintmax_t kTail = 1500;
  std::string tail(static_cast<size_t>(std::min(size, kTail)), '\0');
  const auto offset = static_cast<off_t>(size - tail.size());
  ssize_t n = pread(fd.get(), tail.data(), tail.size(), offset);
  tail.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return tail;
}

std::string ZkEnsemble::MemberDir(int i) const {
  return dir_ + "/" + members_.at(i).name;
}

ZkEnsemble::~ZkEnsemble() {
  StopAll();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void ZkEnsemble::StopAll() {
  for (int i = 0; i < size(); ++i) Kill(i);
}

std::string ZkEnsemble::hosts() const {
  std::string all;
  for (int i = 0; i < size(); ++i) {
    if (i > 0) all += ",";
    all += endpoint(i);
  }
  return all;
}

std::string ZkEnsemble::url() const { return "zk://" + hosts(); }

std::string ZkEnsemble::endpoint(int i) const {
  return "127.0.0.1:" + std::to_string(members_.at(i).client_port);
}

pid_t ZkEnsemble::pid(int i) const { return members_.at(i).pid; }

bool ZkEnsemble::Kill(int i) { return KillAndReap(&members_.at(i).pid); }

bool ZkEnsemble::Freeze(int i) { return StopAndWait(members_.at(i).pid); }

bool ZkEnsemble::Thaw(int i) { return Signal(members_.at(i).pid, SIGCONT); }

std::string ZkEnsemble::Restart(int i) {
  const Member& member = members_.at(i);
  if (member.pid > 0) return "restart " + member.name + ": still running";
  if (std::string error = Launch(i); !error.empty()) {
    return "restart " + member.name + ": " + error;
  }
  // Alone, a member of a broken ensemble answers ruok but never serves.
  const auto running = std::count_if(members_.begin(), members_.end(),
                                     [](const Member& m) { return m.pid > 0; });
  if (std::string error = WaitReady({i}, 2 * running > size());
      !error.empty()) {
    Kill(i);
    return "restart " + member.name + ": " + error;
  }
  return "";
}

std::string ZkEnsemble::FourLetter(int i, const std::string& cmd) const {
  return AskFourLetter(members_.at(i).client_port, cmd);
}

std::string ZkEnsemble::Mode(int i) const {
  return ModeOf(FourLetter(i, "srvr"));
}

int ZkEnsemble::Leader() const {
  int leader = -1;
  for (int i = 0; i < size(); ++i) {
    if (pid(i) <= 0 || Mode(i) != "leader") continue;
    if (leader >= 0) return -1;
    leader = i;
  }
  return leader;
}

}  // namespace conch::testing
