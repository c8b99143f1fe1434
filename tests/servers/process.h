// Process and file helpers shared by the test-server harnesses
// (etcd_server.cc, zk_server.cc): finding a server binary, a filtered
// environment, and spawning a server that dies with the test.
//
// Thread contract: call from the thread that runs the test body; Spawn ties
// the child's PR_SET_PDEATHSIG to that thread.
#pragma once

#include <sys/types.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace conch::testing {

// "what: strerror(err)".
std::string ErrnoMessage(std::string_view what, int err);

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset();

 private:
  int fd_;
};

// The value of an environment variable, "" when unset. getenv is not
// thread-safe against setenv; tests set no environment while servers start.
std::string GetEnv(const char* name);

// The path of `name`: the file `env_override` names when that variable is
// set (if executable), else the first executable `name` on PATH (then
// /usr/bin). "" when there is none.
std::string FindExecutable(const char* env_override, const std::string& name);

// Our environment minus every variable whose "NAME=" starts with one of
// `drop_prefixes`, plus `add` (when not empty).
std::vector<std::string> ChildEnvironment(
    std::initializer_list<std::string_view> drop_prefixes,
    const std::string& add = "");

// Forks and execs `argv` with `env`, in directory `cwd` (unchanged when
// empty), stdin from /dev/null, stdout on `out_fd` and stderr on `err_fd`.
// The child gets a default signal mask and dispositions and
// PR_SET_PDEATHSIG(SIGKILL). Returns the pid, or -1 with errno set.
pid_t Spawn(std::vector<std::string> argv, std::vector<std::string> env,
            const std::string& cwd, int out_fd, int err_fd);

// Reaps `pid` if it has exited. True while it is still running.
bool StillRunning(pid_t pid);

// SIGCONTs and SIGKILLs *pid, reaps it and sets *pid to -1. False if *pid
// was not a running child (<= 0).
bool KillAndReap(pid_t* pid);

// Sends `sig` to `pid`. False if pid <= 0 or kill fails.
bool Signal(pid_t pid, int sig);

// SIGSTOPs our child `pid` and returns once it has stopped: kill() returns
// before every thread of a multi-threaded server has stopped, and one still
// running can answer a request sent right after. False if pid <= 0, kill
// fails, or the child exits instead.
bool StopAndWait(pid_t pid);

}  // namespace conch::testing
