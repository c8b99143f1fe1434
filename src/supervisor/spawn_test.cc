#include "supervisor/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>

#include <gtest/gtest.h>

namespace conch::supervisor {
namespace {

SpawnOptions Shell(const std::string& script) {
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", script};
  o.env = {"PATH=/usr/bin:/bin"};
  return o;
}

// Waits for the child's exit on its pidfd (at most 30 s) and reaps it.
int WaitExit(Child& c) {
  pollfd p{c.fd(), POLLIN, 0};
  if (poll(&p, 1, 30000) == 1) {
    if (std::optional<int> st = c.TryReap()) return *st;
  }
  ADD_FAILURE() << "child did not exit";
  return c.KillAndReap();
}

// Reads a pid written by a child before it exited.
pid_t ReadPid(const std::string& path) {
  int pid = -1;
  if (FILE* f = fopen(path.c_str(), "r")) {
    if (fscanf(f, "%d", &pid) != 1) pid = -1;
    fclose(f);
  }
  return pid;
}

// A temp dir with a FIFO in it, removed at the end of the test.
struct FifoDir {
  FifoDir() {
    char tmpl[] = "/tmp/conch-orphan-XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
    fifo = dir + "/fifo";
    EXPECT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  }
  ~FifoDir() { std::filesystem::remove_all(dir); }
  std::string dir, fifo;
};

// Waits (at most 30 s) for our child `pid` to end and returns its status.
std::optional<int> AwaitChild(pid_t pid) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return std::nullopt;
  pollfd p{fd, POLLIN, 0};
  bool ended = poll(&p, 1, 30000) == 1;
  close(fd);
  int status = 0;
  if (!ended || waitpid(pid, &status, 0) != pid) return std::nullopt;
  return status;
}

TEST(SpawnTest, ExitCodesAndSignalsMapLikeAShell) {
  Result<Child> c = Child::Spawn(Shell("exit 42"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitExit(*c)), 42);
  Result<Child> k = Child::Spawn(Shell("kill -INT $$"));
  ASSERT_TRUE(k.ok());
  int st = WaitExit(*k);
  EXPECT_EQ(ExitCodeFromWaitStatus(st), 130);
  EXPECT_EQ(DescribeWaitStatus(st), "killed by SIGINT");
}

TEST(SpawnTest, ChildLeadsItsOwnProcessGroup) {
  Result<Child> c = Child::Spawn(Shell("sleep 5"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(getpgid(c->pid()), c->pid());
  c->SignalGroup(SIGTERM);
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitExit(*c)), 128 + SIGTERM);
}

TEST(SpawnTest, GroupMembersDieWithTheChild) {
  ASSERT_TRUE(BecomeSubreaper().ok());
  char path[] = "/tmp/conch-spawn-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  Result<Child> c = Child::Spawn(
      Shell(std::string("sleep 60 & echo $! > ") + path + "; exit 0"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitExit(*c)), 0);
  pid_t bg = ReadPid(path);
  unlink(path);
  ASSERT_GT(bg, 0);
  // Re-parented to us (a subreaper): it ends, by the group's SIGKILL.
  std::optional<int> status = AwaitChild(bg);
  ASSERT_TRUE(status) << "background member " << bg << " survived";
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL)
      << DescribeWaitStatus(*status);
}

TEST(SpawnTest, DescendantsThatLeftTheGroupAreKilledAsOrphans) {
  ASSERT_TRUE(BecomeSubreaper().ok());
  FifoDir d;
  std::string pidfile = d.dir + "/escaped";
  // setsid puts the inner shell in a new session, out of reach of the
  // group kill. The command exits only once that shell has escaped and
  // started its sleep (it says so through the FIFO), orphaning it to us.
  Result<Child> c = Child::Spawn(
      Shell("setsid sh -c 'sleep 60 & echo $! > " + pidfile + "; echo up > " +
            d.fifo + "; wait' & read up < " + d.fifo + "; exit 0"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitExit(*c)), 0);
  pid_t escaped = ReadPid(pidfile);
  ASSERT_GT(escaped, 0);
  EXPECT_EQ(kill(escaped, 0), 0) << "the escaped process should still run";
  KillOrphans();
  EXPECT_EQ(kill(escaped, 0), -1)
      << "escaped process " << escaped << " survived";
}

// Several commands may run at once: the orphan sweeps leave every live
// Child to its owner, which still collects its own exit status.
TEST(SpawnTest, OrphanSweepsLeaveOtherLiveChildrenAlone) {
  ASSERT_TRUE(BecomeSubreaper().ok());
  Result<Child> other = Child::Spawn(Shell("sleep 60"));
  ASSERT_TRUE(other.ok());
  Result<Child> done = Child::Spawn(Shell("exit 0"));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitExit(*done)), 0);
  KillOrphans();
  EXPECT_EQ(kill(other->pid(), 0), 0) << "the sweep killed a live Child";
  EXPECT_FALSE(other->reaped());
  // It exits now; a SIGCHLD sweep must not take its status.
  other->SignalGroup(SIGTERM);
  struct pollfd p = {other->fd(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 30000), 1);
  ReapOrphans();
  std::optional<int> status = other->TryReap();
  ASSERT_TRUE(status);
  EXPECT_EQ(ExitCodeFromWaitStatus(*status), 128 + SIGTERM);
}

// The other side of the same window: a descendant that has not yet left
// the group when the command exits dies in the group kill, so it never
// gets to escape.
TEST(SpawnTest, AMemberAboutToLeaveTheGroupDiesWithTheCommand) {
  ASSERT_TRUE(BecomeSubreaper().ok());
  FifoDir d;
  std::string memberfile = d.dir + "/member";
  // The member would leave the group (setsid) once it reads the FIFO,
  // which nobody ever writes.
  Result<Child> c = Child::Spawn(Shell("sh -c 'read go < " + d.fifo +
                                       "; exec setsid sleep 60' & echo $! > " +
                                       memberfile + "; exit 0"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitExit(*c)), 0);
  pid_t member = ReadPid(memberfile);
  ASSERT_GT(member, 0);
  // Re-parented to us when the command exited; it ends by SIGKILL.
  std::optional<int> status = AwaitChild(member);
  ASSERT_TRUE(status) << "member " << member << " still runs";
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL)
      << DescribeWaitStatus(*status);
  // Nobody is left to read the FIFO: opening it to write finds no reader.
  int w = open(d.fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  EXPECT_EQ(w, -1);
  EXPECT_EQ(errno, ENXIO);
  if (w >= 0) close(w);
}

SpawnOptions WithReaper(SpawnOptions o) {
  o.own_reaper = true;
  return o;
}

// Starts a command, under its own reaper, that starts a daemon the way
// daemons start (a new session, and its parent exits at once), so that it
// is re-parented to the nearest subreaper while the command still runs.
// Returns once that has happened, with the daemon's pid in `*escaped`. The
// command itself then waits until Release().
Result<Child> SpawnWithEscapee(const FifoDir& d, const std::string& name,
                               pid_t* escaped) {
  const std::string pidfile = d.dir + "/" + name;
  const std::string up = d.dir + "/" + name + ".up";
  const std::string release = d.dir + "/" + name + ".release";
  if (mkfifo(up.c_str(), 0600) != 0 || mkfifo(release.c_str(), 0600) != 0) {
    return Error(Code::kInternal, "mkfifo");
  }
  Result<Child> c = Child::Spawn(
      WithReaper(Shell("setsid sh -c 'sleep 60 & echo $! > " + pidfile +
                       "'; echo up > " + up + "; read x < " + release)));
  if (!c.ok()) return c;
  // The command writes "up" once the daemon's parent has exited.
  char line[8] = {};
  FILE* f = fopen(up.c_str(), "r");
  if (f == nullptr || fgets(line, sizeof(line), f) == nullptr) {
    if (f != nullptr) fclose(f);
    return Error(Code::kInternal, "the escaped process did not start");
  }
  fclose(f);
  *escaped = ReadPid(pidfile);
  return c;
}

// Lets a command started by SpawnWithEscapee end.
void Release(const FifoDir& d, const std::string& name) {
  const std::string release = d.dir + "/" + name + ".release";
  FILE* f = fopen(release.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("go\n", f);
  fclose(f);
}

TEST(SpawnTest, AReaperPassesOnTheCommandsEnd) {
  Result<Child> c = Child::Spawn(WithReaper(Shell("exit 42")));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_NE(c->command_pid(), c->pid());
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitExit(*c)), 42);
  Result<Child> k = Child::Spawn(WithReaper(Shell("kill -INT $$")));
  ASSERT_TRUE(k.ok());
  int st = WaitExit(*k);
  EXPECT_EQ(DescribeWaitStatus(st), "killed by SIGINT");
}

TEST(SpawnTest, SignalsToTheGroupReachTheCommandNotItsReaper) {
  Result<Child> c = Child::Spawn(WithReaper(Shell("sleep 60")));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(getpgid(c->command_pid()), c->pid());
  EXPECT_EQ(getpgid(c->pid()), c->pid());
  c->SignalGroup(SIGTERM);
  EXPECT_EQ(DescribeWaitStatus(WaitExit(*c)), "killed by SIGTERM");
}

// Two commands at once, each under its own reaper: the end of one sweeps
// its own escaped descendant and leaves the other's running.
TEST(SpawnTest, EachReaperSweepsOnlyItsOwnCommandsDescendants) {
  ASSERT_TRUE(BecomeSubreaper().ok());
  FifoDir d;
  pid_t escaped_a = -1, escaped_b = -1;
  Result<Child> a = SpawnWithEscapee(d, "a", &escaped_a);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  Result<Child> b = SpawnWithEscapee(d, "b", &escaped_b);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_GT(escaped_a, 0);
  ASSERT_GT(escaped_b, 0);
  Release(d, "a");
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitExit(*a)), 0);
  // A's reaper reaped its escaped process before it ended itself.
  EXPECT_EQ(kill(escaped_a, 0), -1) << "A's escaped process survived A";
  // This process's own sweep finds nothing of B's to kill.
  KillOrphans();
  EXPECT_EQ(kill(escaped_b, 0), 0) << "A's end killed B's escaped process";
  b->SignalGroup(SIGTERM);
  EXPECT_EQ(DescribeWaitStatus(WaitExit(*b)), "killed by SIGTERM");
  EXPECT_EQ(kill(escaped_b, 0), -1) << "B's escaped process survived B";
}

TEST(SpawnTest, AnExecFailureUnderAReaperIsReported) {
  char path[] = "/tmp/conch-noexec-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  // Executable, but neither ELF nor "#!": execve fails with ENOEXEC.
  ASSERT_EQ(write(fd, "\x01\x02", 2), 2);
  fchmod(fd, 0700);
  close(fd);
  for (bool reaper : {false, true}) {
    SpawnOptions o;
    o.argv = {path};
    o.own_reaper = reaper;
    Result<Child> c = Child::Spawn(o);
    ASSERT_FALSE(c.ok()) << "reaper " << reaper;
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
    EXPECT_NE(c.status().message().find("exec"), std::string::npos)
        << c.status().message();
  }
  unlink(path);
}

TEST(SpawnTest, MissingCommandIsNotFound) {
  SpawnOptions o;
  o.argv = {"conch-no-such-command"};
  o.env = {"PATH=/usr/bin:/bin"};
  Result<Child> c = Child::Spawn(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kNotFound);
}

TEST(SpawnTest, EnvironmentIsExactlyWhatWasGiven) {
  SpawnOptions o = Shell("test \"$CONCH_REV\" = 17 && test -z \"$HOME\"");
  o.env.push_back("CONCH_REV=17");
  Result<Child> c = Child::Spawn(o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitExit(*c)), 0);
}

TEST(SpawnTest, DestructorKillsTheGroup) {
  pid_t pid = 0;
  {
    Result<Child> c = Child::Spawn(Shell("sleep 60"));
    ASSERT_TRUE(c.ok());
    pid = c->pid();
  }
  EXPECT_EQ(kill(pid, 0), -1);  // reaped, so the pid no longer exists
}

TEST(SpawnTest, FindExecutableSearchesPath) {
  Result<std::string> sh = FindExecutable("sh", "/nonexistent:/bin");
  ASSERT_TRUE(sh.ok());
  EXPECT_EQ(*sh, "/bin/sh");
  EXPECT_EQ(FindExecutable("./x", "/bin").value(), "./x");
  EXPECT_EQ(FindExecutable("no-such-cmd-xyz", "/bin").status().code(),
            Code::kNotFound);
}

}  // namespace
}  // namespace conch::supervisor

namespace conch::supervisor {
namespace {

// A descriptor without close-on-exec that this process opened after
// NoteInheritedFds() (as the ZooKeeper C client opens its socket) is not
// passed to a command; one that it was started with is.
TEST(SpawnFdTest, OnlyInheritedDescriptorsReachTheCommand) {
  int before = ::open("/dev/null", O_RDONLY);  // "inherited": noted below
  ASSERT_GE(before, 0);
  NoteInheritedFds();
  int after = ::open("/dev/null", O_RDONLY);  // ours, no O_CLOEXEC
  ASSERT_GE(after, 0);
  const std::string check = "test -e /proc/$$/fd/" + std::to_string(before) +
                            " && ! test -e /proc/$$/fd/" +
                            std::to_string(after);
  Result<Child> c = Child::Spawn(Shell(check));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitExit(*c)), 0)
      << "fd " << before << " should be passed, fd " << after << " not";
  SpawnOptions reaped = Shell(check);
  reaped.own_reaper = true;
  Result<Child> r = Child::Spawn(reaped);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitExit(*r)), 0) << "under a reaper";
  ::close(before);
  ::close(after);
}

}  // namespace
}  // namespace conch::supervisor
