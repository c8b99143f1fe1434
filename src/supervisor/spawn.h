// Child: the one owner of a process group that conch started.
//
// Every child is the leader of a new process group, gets SIGKILL if the
// thread that spawned it dies (PR_SET_PDEATHSIG), starts with an empty
// signal mask and default dispositions, and inherits only conch's standard
// streams (every fd conch opens is close-on-exec). Destroying a Child that
// has not been reaped SIGKILLs its whole group and reaps it, so no path
// out of conch leaves a child running unguarded.
//
// Thread contract: owner thread only, and it must be the thread that will
// outlive the child (PR_SET_PDEATHSIG is tied to the spawning thread), which
// is main's thread.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "supervisor/kill_schedule.h"

namespace conch::supervisor {

struct ExecPlan;  // spawn.cc

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  std::vector<std::string> env;   // "NAME=value", the whole environment
  bool stdin_null = false;        // hooks read /dev/null; children inherit
  // Descriptors to become the command's stdout and stderr (conchd's pipes);
  // -1 keeps conch's own.
  int stdout_fd = -1;
  int stderr_fd = -1;
  // Puts a reaper of its own between this process and the command, for a
  // process that runs several commands at once. The reaper is a fork of
  // this process that only makes system calls: it leads the command's
  // process group, ignores the signals sent to that group (they are for
  // the command), is the subreaper of the command's descendants, and when
  // the command ends it SIGKILLs and reaps every descendant that escaped
  // the group, then ends the way the command ended (the same exit code, or
  // the same signal). So the sweep after one command never touches the
  // escaped descendants of another. It dies with this process
  // (PR_SET_PDEATHSIG), and the command dies with it. Costs one fork.
  bool own_reaper = false;
};

// Every Child not yet reaped is registered, so that the orphan sweeps below
// leave it to its owner.
class Child final : public SignalTarget {
 public:
  // Starts the process. kNotFound if argv[0] is not found in PATH (exit 127
  // by shell convention), kInvalidArgument if it cannot be executed (126).
  static Result<Child> Spawn(const SpawnOptions& options);

  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() override;

  // The process conch started and the id of the command's process group:
  // the command itself, or its reaper (SpawnOptions::own_reaper).
  pid_t pid() const { return pid_; }
  // The command's own pid (the same as pid() without a reaper).
  pid_t command_pid() const { return command_pid_; }
  // Readable once the process has exited (a pidfd).
  int fd() const { return pidfd_.get(); }
  bool reaped() const { return reaped_; }

  // Sends `sig` to the whole process group (no-op once reaped).
  void SignalGroup(int sig) override;

  // If the process has exited: SIGKILLs what is left of its group while the
  // zombie still pins the group id, reaps it, and returns its wait status.
  // nullopt if it is still running.
  std::optional<int> TryReap();

  // SIGKILLs the group and reaps; returns the wait status.
  int KillAndReap();

 private:
  Child(pid_t pid, UniqueFd pidfd)
      : pid_(pid), command_pid_(pid), pidfd_(std::move(pidfd)) {}
  static Result<Child> SpawnWithReaper(const SpawnOptions& options,
                                       const struct ExecPlan& plan,
                                       std::vector<char>& stack);
  pid_t pid_ = -1;
  pid_t command_pid_ = -1;
  UniqueFd pidfd_;
  bool reaped_ = true;
};

// Records the descriptors this process was started with, to be called by
// main() before any thread or library opens one. From then on a spawned
// process gets those (the caller's: stdio, a lock fd, sockets handed down)
// and nothing else: descriptors that libraries open without close-on-exec,
// such as the ZooKeeper C client's socket and pipe, stay ours. Without the
// call, a spawned process inherits every descriptor not marked
// close-on-exec.
void NoteInheritedFds();

// Makes this process the reaper of its orphaned descendants
// (PR_SET_CHILD_SUBREAPER): a process that leaves the command's group
// (setsid) and loses its parent is re-parented to conch instead of init, so
// KillOrphans() can still reach it.
Status BecomeSubreaper();

// Reaps children of this process that have exited, except live Child
// objects (each Child collects its own status through its pidfd, so
// several may run at once). Call on SIGCHLD.
void ReapOrphans();

// SIGKILLs and reaps every child of this process that is not a live Child,
// again and again as their own children are re-parented to us, until none
// is left (at most 100 rounds: a tree 100 generations deep). Call when a
// command or hook has ended. Escaped descendants carry no mark of the
// command they came from, so this sweeps those of every command running
// in this process; a process that runs several commands at once gives each
// its own reaper (SpawnOptions::own_reaper), so that only the descendants
// of reapers that were killed themselves are left for this sweep.
void KillOrphans();
// Maps a wait status to conch's exit code: the exit code, or 128+signal.
int ExitCodeFromWaitStatus(int wait_status);

// Describes a wait status for logs: "exited with 3", "killed by SIGTERM".
std::string DescribeWaitStatus(int wait_status);

// Finds `file` in `path` (colon-separated) the way execvp does. Names with
// a '/' are used as they are.
Result<std::string> FindExecutable(const std::string& file,
                                   const std::string& path);

}  // namespace conch::supervisor
