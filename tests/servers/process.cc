#include "servers/process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <system_error>

namespace conch::testing {

namespace {

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

std::string ErrnoMessage(std::string_view what, int err) {
  return std::string(what) + ": " + std::system_category().message(err);
}

void Fd::Reset() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

std::string GetEnv(const char* name) {
  const char* value = getenv(name);  // NOLINT(concurrency-mt-unsafe)
  return value != nullptr ? value : "";
}

std::string FindExecutable(const char* env_override, const std::string& name) {
  if (std::string given = GetEnv(env_override); !given.empty()) {
    return access(given.c_str(), X_OK) == 0 ? given : "";
  }
  std::string dirs = GetEnv("PATH");
  if (dirs.empty()) dirs = "/bin";
  dirs += ":/usr/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start);
    if (!candidate.empty()) {
      candidate += "/" + name;
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return "";
}

std::vector<std::string> ChildEnvironment(
    std::initializer_list<std::string_view> drop_prefixes,
    const std::string& add) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view var(*entry);
    if (std::none_of(drop_prefixes.begin(), drop_prefixes.end(),
                     [var](std::string_view drop) {
                       return var.substr(0, drop.size()) == drop;
                     })) {
      env.emplace_back(var);
    }
  }
  if (!add.empty()) env.push_back(add);
  return env;
}

pid_t Spawn(std::vector<std::string> argv, std::vector<std::string> env,
            const std::string& cwd, int out_fd, int err_fd) {
  // Everything the child touches is prepared here: between fork and exec
  // only async-signal-safe calls are allowed.
  std::vector<char*> c_argv = CStrings(argv);
  std::vector<char*> c_env = CStrings(env);
  Fd dev_null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (dev_null.get() < 0) return -1;
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0) return pid;

  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(127);
  // The parent may have died before prctl took effect.
  if (getppid() != parent) _exit(127);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD}) {
    sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  // After fork the child has one thread; sigprocmask is the async-signal-safe
  // call for it.
  sigprocmask(SIG_SETMASK, &none, nullptr);  // NOLINT(concurrency-mt-unsafe)
  // A JVM writes hs_err files and the like to its working directory: a
  // server's is its temp dir.
  if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(127);
  if (dup2(dev_null.get(), STDIN_FILENO) < 0 ||
      dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0) {
    _exit(127);
  }
  execve(c_argv[0], c_argv.data(), c_env.data());
  _exit(127);
}

bool StillRunning(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, WNOHANG) == 0;
}

bool KillAndReap(pid_t* pid) {
  if (*pid <= 0) return false;
  // A stopped process dies from SIGKILL too; SIGCONT first anyway so that
  // nothing depends on that.
  kill(*pid, SIGCONT);
  kill(*pid, SIGKILL);
  int status = 0;
  while (waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  *pid = -1;
  return true;
}

bool Signal(pid_t pid, int sig) { return pid > 0 && kill(pid, sig) == 0; }

bool StopAndWait(pid_t pid) {
  if (!Signal(pid, SIGSTOP)) return false;
  // The group stop is reported once every thread has stopped. WNOWAIT
  // leaves an exit to be reaped by its owner; the stop report is consumed
  // below so that a later freeze waits for its own.
  siginfo_t info{};
  while (waitid(P_PID, static_cast<id_t>(pid), &info,
                WSTOPPED | WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR) return false;
  }
  if (info.si_code != CLD_STOPPED) return false;
  siginfo_t consumed{};
  waitid(P_PID, static_cast<id_t>(pid), &consumed, WSTOPPED | WNOHANG);
  return true;
}

}  // namespace conch::testing
