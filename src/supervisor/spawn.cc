#include "supervisor/spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

namespace conch::supervisor {

namespace {

// Everything the new process needs, prepared before clone() so that the
// child only makes async-signal-safe system calls.
struct ExecPlan {
  const char* path;
  char* const* argv;
  char* const* envp;
  pid_t parent;
  int devnull;  // -1: keep stdin
  int error;    // written by the child (shared memory) if exec fails
};

int ChildMain(void* arg) {
  auto* plan = static_cast<ExecPlan*>(arg);
  // Own process group: signals reach the command's whole tree.
  setpgid(0, 0);
  // Die with the thread that spawned us; the check closes the race where the
  // parent died before prctl ran.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != plan->parent) _exit(127);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (plan->devnull >= 0) dup2(plan->devnull, STDIN_FILENO);
  execve(plan->path, plan->argv, plan->envp);
  plan->error = errno;
  _exit(127);
}

// The pids of every Child not yet reaped. Children belong to the process
// (its subreaper role, its pid table), so this registry is process-wide;
// only the owner thread spawns and reaps, so it needs no lock.
std::set<pid_t>& LiveChildren() {
  static std::set<pid_t> live;
  return live;
}

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const std::string& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result<std::string> FindExecutable(const std::string& file,
                                   const std::string& path) {
  if (file.empty()) return Error(Code::kNotFound, "empty command name");
  if (file.find('/') != std::string::npos) return file;
  size_t start = 0;
  bool saw_denied = false;
  for (;;) {
    size_t end = path.find(':', start);
    std::string dir = path.substr(
        start, end == std::string::npos ? std::string::npos : end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + file;
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
      saw_denied = true;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (saw_denied) {
    return Error(Code::kInvalidArgument,
                 "command \"" + file + "\" is not executable");
  }
  return Error(Code::kNotFound, "command \"" + file + "\" not found in PATH");
}

Result<Child> Child::Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) {
    return Error(Code::kInvalidArgument, "spawn: empty command");
  }
  std::string path_var = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& e : options.env) {
    if (e.rfind("PATH=", 0) == 0) path_var = e.substr(5);
  }
  Result<std::string> path = FindExecutable(options.argv[0], path_var);
  if (!path.ok()) return path.status();

  std::vector<char*> argv = CStrings(options.argv);
  std::vector<char*> envp = CStrings(options.env);
  UniqueFd devnull;
  if (options.stdin_null) {
    devnull.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!devnull.valid()) return FromErrno("open /dev/null", errno);
  }
  ExecPlan plan{path->c_str(), argv.data(),   envp.data(),
                ::getpid(),    devnull.get(), 0};

  // CLONE_VM|CLONE_VFORK: no copy of conch's memory and no fork handlers of
  // gRPC's; we resume once the child has exec'd or failed. CLONE_PIDFD gives
  // a pollable handle that cannot refer to a recycled pid.
  constexpr size_t kStackSize = 64 * 1024;
  std::vector<char> stack(kStackSize);
  int pidfd = -1;
  pid_t pid =
      ::clone(ChildMain, stack.data() + stack.size(),
              CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &plan, &pidfd);
  if (pid < 0) return FromErrno("spawn \"" + options.argv[0] + "\"", errno);
  Child child(pid, UniqueFd(pidfd));
  child.reaped_ = false;
  LiveChildren().insert(pid);
  // The group exists before clone returns (the child set it up), but set it
  // from here too so a signal sent right now cannot miss it.
  ::setpgid(pid, pid);
  if (plan.error != 0) {
    child.KillAndReap();
    Status s = FromErrno("exec \"" + options.argv[0] + "\"", plan.error);
    if (plan.error == ENOENT) return Error(Code::kNotFound, s.message());
    return Error(Code::kInvalidArgument, s.message());
  }
  return child;
}

Child::Child(Child&& other) noexcept
    : pid_(other.pid_),
      pidfd_(std::move(other.pidfd_)),
      reaped_(std::exchange(other.reaped_, true)) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    if (!reaped_) KillAndReap();
    pid_ = other.pid_;
    pidfd_ = std::move(other.pidfd_);
    reaped_ = std::exchange(other.reaped_, true);
  }
  return *this;
}

Child::~Child() {
  if (!reaped_) KillAndReap();
}

void Child::SignalGroup(int sig) {
  if (reaped_) return;
  // Until reaped, the leader (zombie or not) pins the group id, so this
  // cannot reach an unrelated group.
  ::kill(-pid_, sig);
}

std::optional<int> Child::TryReap() {
  if (reaped_) return std::nullopt;
  siginfo_t info;
  memset(&info, 0, sizeof(info));
  // WNOWAIT: look without reaping, so the zombie keeps pinning the group.
  if (::waitid(P_PIDFD, pidfd_.get(), &info, WEXITED | WNOHANG | WNOWAIT) !=
          0 ||
      info.si_pid == 0) {
    return std::nullopt;
  }
  // Background members left behind by the command die with it.
  ::kill(-pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  LiveChildren().erase(pid_);
  return status;
}

int Child::KillAndReap() {
  if (reaped_) return 0;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  LiveChildren().erase(pid_);
  return status;
}

namespace {

struct ChildProc {
  pid_t pid;
  char state;  // 'Z' once exited
};

// A process's state letter from /proc/<pid>/stat ('Z' once exited), or 0.
char ProcessState(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[512];
  ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  // "pid (comm) state ...": comm may contain spaces and ')'.
  const char* close_paren = std::strrchr(buf, ')');
  char state = 0;
  if (close_paren == nullptr ||
      std::sscanf(close_paren + 1, " %c", &state) != 1) {
    return 0;
  }
  return state;
}

// The children of this process. Re-parented orphans are not ours by fork,
// so only the kernel knows them: /proc/self/task/<main>/children lists the
// children of the main thread, which spawns every child and is the thread
// orphans are re-parented to. One small read, on the hot path of every
// release.
std::vector<ChildProc> ListChildren() {
  std::vector<ChildProc> out;
  std::string path =
      "/proc/self/task/" + std::to_string(::getpid()) + "/children";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) text.append(buf, n);
  ::close(fd);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    int pid = std::atoi(text.substr(pos, end - pos).c_str());
    if (pid > 0) out.push_back({static_cast<pid_t>(pid), ProcessState(pid)});
    pos = end + 1;
  }
  return out;
}

}  // namespace

Status BecomeSubreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    return FromErrno("become child subreaper", errno);
  }
  return Status::Ok();
}

void ReapOrphans() {
  for (const ChildProc& c : ListChildren()) {
    if (c.state == 'Z' && !LiveChildren().contains(c.pid)) {
      ::waitpid(c.pid, nullptr, WNOHANG);
    }
  }
}

void KillOrphans() {
  // Each round kills the children we have now; their own children are then
  // re-parented to us and show up in the next round.
  for (int round = 0; round < 100; ++round) {
    std::vector<ChildProc> children = ListChildren();
    bool any = false;
    std::vector<pid_t> orphans;
    for (const ChildProc& c : children) {
      if (LiveChildren().contains(c.pid)) continue;
      any = true;
      orphans.push_back(c.pid);
      ::kill(c.pid, SIGKILL);
    }
    if (!any) return;
    // A child's own children are re-parented while it exits, before it
    // becomes a zombie, so once waitpid() returns they are ours and the
    // next round lists them.
    for (pid_t pid : orphans) ::waitpid(pid, nullptr, 0);
  }
}

int ExitCodeFromWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return "exited with " + std::to_string(WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    const char* name = sigabbrev_np(WTERMSIG(wait_status));
    return std::string("killed by SIG") + (name ? name : "?");
  }
  return "stopped";
}

}  // namespace conch::supervisor
