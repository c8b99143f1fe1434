#include "supervisor/spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

namespace conch::supervisor {

// Everything the new process needs, prepared before clone() so that the
// child only makes async-signal-safe system calls.
struct ExecPlan {
  const char* path;
  char* const* argv;
  char* const* envp;
  pid_t parent;
  int devnull;     // -1: keep stdin
  int error;       // written by the child (shared memory) if exec fails
  bool own_group;  // false under a reaper, which leads the group
  int out = -1;    // -1: keep stdout
  int err = -1;    // -1: keep stderr
};

namespace {

// NoteInheritedFds()'s record: sorted, above 2, ended by -1. Written once
// before any thread starts; read by spawned children (system calls only).
constexpr size_t kMaxInherited = 256;
int g_inherited[kMaxInherited + 1] = {-1};
bool g_inherited_noted = false;

// Closes every descriptor above 2 that is not in g_inherited. close_range
// is a system call; nothing else here touches memory but the record.
void CloseOurFds() {
  if (!g_inherited_noted) return;
  unsigned int low = 3;
  for (const int* fd = g_inherited; *fd >= 0; ++fd) {
    if (static_cast<unsigned int>(*fd) > low) {
      syscall(SYS_close_range, low, static_cast<unsigned int>(*fd) - 1, 0);
    }
    low = static_cast<unsigned int>(*fd) + 1;
  }
  syscall(SYS_close_range, low, ~0U, 0);
}

int ChildMain(void* arg) {
  auto* plan = static_cast<ExecPlan*>(arg);
  // Own process group: signals reach the command's whole tree.
  if (plan->own_group) setpgid(0, 0);
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
  if (plan->out >= 0) dup2(plan->out, STDOUT_FILENO);
  if (plan->err >= 0) dup2(plan->err, STDERR_FILENO);
  CloseOurFds();
  execve(plan->path, plan->argv, plan->envp);
  plan->error = errno;
  _exit(127);
}

// What a reaper tells its parent once the command has started.
struct ReaperReport {
  pid_t command;  // the command's pid, or -1
  int error;      // errno if the command could not be started, else 0
};

// Kills and reaps every child of the calling process, round after round as
// their own children are re-parented to it, until none is left (at most
// 100 rounds). System calls only: it runs in a fork of a threaded process.
void SweepChildrenRaw() {
  // "/proc/self/task/<pid>/children", without allocating.
  char path[64] = "/proc/self/task/";
  char digits[16];
  int nd = 0;
  for (unsigned long v = static_cast<unsigned long>(getpid()); v != 0;
       v /= 10) {
    digits[nd++] = static_cast<char>('0' + v % 10);
  }
  size_t len = strlen(path);
  while (nd > 0) path[len++] = digits[--nd];
  memcpy(path + len, "/children", sizeof("/children"));
  for (int round = 0; round < 100; ++round) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    pid_t pids[256];
    int count = 0;
    long current = -1;
    char buf[512];
    for (ssize_t n; count < 256 && (n = read(fd, buf, sizeof(buf))) > 0;) {
      for (ssize_t i = 0; i < n && count < 256; ++i) {
        if (buf[i] >= '0' && buf[i] <= '9') {
          current = (current < 0 ? 0 : current * 10) + (buf[i] - '0');
        } else if (current >= 0) {
          pids[count++] = static_cast<pid_t>(current);
          current = -1;
        }
      }
    }
    if (current >= 0 && count < 256)
      pids[count++] = static_cast<pid_t>(current);
    close(fd);
    if (count == 0) return;
    for (int i = 0; i < count; ++i) kill(pids[i], SIGKILL);
    for (int i = 0; i < count; ++i) {
      while (waitpid(pids[i], nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
}

// The reaper (SpawnOptions::own_reaper), in a fork of conch: system calls
// only. `plan` is its own copy; `stack` is for the command's vfork.
[[noreturn]] void ReaperMain(ExecPlan plan, char* stack_top, int report_fd) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != plan.parent) _exit(127);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // Signals to the group are for the command; SIGCHLD stays default so
  // that exited children wait for waitpid.
  struct sigaction act;
  memset(&act, 0, sizeof(act));
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    act.sa_handler = sig == SIGCHLD ? SIG_DFL : SIG_IGN;
    sigaction(sig, &act, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  plan.parent = getpid();
  plan.own_group = false;
  plan.error = 0;
  pid_t command =
      clone(ChildMain, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  ReaperReport report{command, command < 0 ? errno : plan.error};
  ssize_t unused = write(report_fd, &report, sizeof(report));
  (void)unused;
  close(report_fd);
  if (command < 0) _exit(127);
  int status = 0;
  for (;;) {
    pid_t w = waitpid(-1, &status, 0);
    if (w == command) break;
    if (w < 0 && errno != EINTR) _exit(127);
  }
  SweepChildrenRaw();
  if (WIFSIGNALED(status)) {
    // End by the same signal, without a core file of our own.
    const int sig = WTERMSIG(status);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    act.sa_handler = SIG_DFL;
    sigaction(sig, &act, nullptr);
    kill(getpid(), sig);
    _exit(128 + sig);
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}

// The pids of every Child not yet reaped. Children belong to the process
// (its subreaper role, its pid table), so this registry is process-wide;
// only the owner thread spawns and reaps, so it needs no lock.
std::set<pid_t>& LiveChildren() {
  static std::set<pid_t> live;
  return live;
}

Status ExecError(const std::string& name, int error) {
  Status s = FromErrno("exec \"" + name + "\"", error);
  if (error == ENOENT) return Error(Code::kNotFound, s.message());
  return Error(Code::kInvalidArgument, s.message());
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
  ExecPlan plan{path->c_str(), argv.data(),       envp.data(),
                ::getpid(),    devnull.get(),     0,
                true,          options.stdout_fd, options.stderr_fd};
  constexpr size_t kStackSize = 64 * 1024;
  std::vector<char> stack(kStackSize);
  if (options.own_reaper) return SpawnWithReaper(options, plan, stack);

  // CLONE_VM|CLONE_VFORK: no copy of conch's memory and no fork handlers of
  // gRPC's; we resume once the child has exec'd or failed. CLONE_PIDFD gives
  // a pollable handle that cannot refer to a recycled pid.
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
    return ExecError(options.argv[0], plan.error);
  }
  return child;
}

Result<Child> Child::SpawnWithReaper(const SpawnOptions& options,
                                     const ExecPlan& plan,
                                     std::vector<char>& stack) {
  const std::string what = "spawn \"" + options.argv[0] + "\"";
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return FromErrno(what, errno);
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);
  // fork(), not clone(): the reaper lives on in a copy of this process, and
  // fork lets the sanitizers' and the C library's own locks be consistent
  // in that copy.
  pid_t pid = ::fork();
  if (pid < 0) return FromErrno(what, errno);
  if (pid == 0) {
    ReaperMain(plan, stack.data() + stack.size(), report_write.get());
  }
  report_write.reset();
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  Child child(pid, std::move(pidfd));
  child.reaped_ = false;
  LiveChildren().insert(pid);
  ::setpgid(pid, pid);
  if (!child.pidfd_.valid()) {
    const int error = errno;
    child.KillAndReap();
    return FromErrno(what + ": pidfd_open", error);
  }
  ReaperReport got{-1, 0};
  ssize_t n;
  while ((n = ::read(report_read.get(), &got, sizeof(got))) < 0 &&
         errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof(got)) || got.command < 0) {
    const int error = got.error;
    child.KillAndReap();
    if (error != 0) return FromErrno(what, error);
    return Error(Code::kInternal, what + ": its reaper ended at start");
  }
  if (got.error != 0) {
    child.KillAndReap();
    return ExecError(options.argv[0], got.error);
  }
  child.command_pid_ = got.command;
  return child;
}

Child::Child(Child&& other) noexcept
    : pid_(other.pid_),
      command_pid_(other.command_pid_),
      pidfd_(std::move(other.pidfd_)),
      reaped_(std::exchange(other.reaped_, true)) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    if (!reaped_) KillAndReap();
    pid_ = other.pid_;
    command_pid_ = other.command_pid_;
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

void NoteInheritedFds() {
  std::set<int> fds;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    const int own = ::dirfd(dir);
    while (struct dirent* e = ::readdir(dir)) {
      int fd = std::atoi(e->d_name);
      if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && fd > 2 && fd != own) {
        fds.insert(fd);
      }
    }
    ::closedir(dir);
  } else {
    return;  // no /proc: leave descriptors as close-on-exec says
  }
  size_t n = 0;
  for (int fd : fds) {
    if (n == kMaxInherited) break;  // beyond: closed in children
    g_inherited[n++] = fd;
  }
  g_inherited[n] = -1;
  g_inherited_noted = true;
}

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
