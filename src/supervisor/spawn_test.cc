#include "supervisor/spawn.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace conch::supervisor {
namespace {

SpawnOptions Shell(const std::string& script) {
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", script};
  o.env = {"PATH=/usr/bin:/bin"};
  return o;
}

int WaitExit(Child& c) {
  for (int i = 0; i < 500; ++i) {
    if (std::optional<int> st = c.TryReap()) return *st;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "child did not exit";
  return c.KillAndReap();
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
  char path[] = "/tmp/conch-spawn-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  Result<Child> c = Child::Spawn(
      Shell(std::string("sleep 60 & echo $! > ") + path + "; exit 0"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitExit(*c)), 0);
  FILE* f = fopen(path, "r");
  ASSERT_NE(f, nullptr);
  int bg = 0;
  ASSERT_EQ(fscanf(f, "%d", &bg), 1);
  fclose(f);
  unlink(path);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    // The background sleep was reparented; it is gone once kill fails or
    // it is a zombie awaiting its new parent.
    char stat_path[64];
    snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", bg);
    FILE* s = fopen(stat_path, "r");
    if (s == nullptr) {
      gone = true;
      break;
    }
    char state = '?';
    int ignored;
    char comm[64];
    if (fscanf(s, "%d %63s %c", &ignored, comm, &state) == 3 && state == 'Z') {
      gone = true;
    }
    fclose(s);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "background member " << bg << " survived";
}

// Reads a pid written by a child, waiting up to 2 s for it.
pid_t ReadPid(const std::string& path) {
  for (int i = 0; i < 200; ++i) {
    if (FILE* f = fopen(path.c_str(), "r")) {
      int pid = 0;
      bool ok = fscanf(f, "%d", &pid) == 1;
      fclose(f);
      if (ok && pid > 0) return pid;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

TEST(SpawnTest, DescendantsThatLeftTheGroupAreKilledAsOrphans) {
  ASSERT_TRUE(BecomeSubreaper().ok());
  char dir[] = "/tmp/conch-orphan-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string pidfile = std::string(dir) + "/escaped";
  // setsid puts the inner shell in a new session, out of reach of the
  // group kill; its parent exits at once, orphaning it to us.
  Result<Child> c = Child::Spawn(Shell("setsid sh -c 'sleep 60 & echo $! > " +
                                       pidfile + "; wait' & exit 0"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitExit(*c)), 0);
  pid_t escaped = ReadPid(pidfile);
  ASSERT_GT(escaped, 0);
  EXPECT_EQ(kill(escaped, 0), 0) << "the escaped process should still run";
  KillOrphans(-1);
  EXPECT_EQ(kill(escaped, 0), -1)
      << "escaped process " << escaped << " survived";
  unlink(pidfile.c_str());
  rmdir(dir);
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
