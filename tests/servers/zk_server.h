// Real ZooKeeper servers for integration tests: ZkEnsemble starts a
// standalone server or a quorum ensemble on free loopback ports with data in
// a private temp dir, lets a test kill, freeze, thaw and restart members and
// ask them four-letter words, and stops everything on destruction.
//
// The servers are the Debian zookeeper package's jars run by `java`
// directly (no launcher scripts, no JMX port, no admin server), with a
// light JVM: see kJvmFlags in zk_server.cc.
//
// Thread contract: use from one thread, the one that runs the test body.
// Members are started with PR_SET_PDEATHSIG(SIGKILL), which the kernel ties
// to the thread that forked them: if that thread (or the whole test) dies,
// so do the servers.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

// ServersRequired() is shared with the etcd harness.
#include "servers/etcd_server.h"

namespace conch::testing {

// Absolute path of the java launcher found on PATH (or given by
// CONCH_JAVA_BIN), or "" when missing.
std::string ZkJavaBinary();

// The class path for the ZooKeeper server: CONCH_ZK_CLASSPATH when set,
// else /usr/share/java/zookeeper.jar (whose manifest names its own
// dependencies) plus slf4j-simple.jar for logging when present. "" when
// zookeeper.jar (or the first entry of CONCH_ZK_CLASSPATH) is missing.
std::string ZkClasspath();

// First statement of a test that needs ZooKeeper: skips the test when java
// or the ZooKeeper jars are missing, or fails it when ServersRequired().
#define CONCH_REQUIRE_ZK()                                  \
  do {                                                      \
    if (::conch::testing::ZkJavaBinary().empty() ||         \
        ::conch::testing::ZkClasspath().empty()) {          \
      if (::conch::testing::ServersRequired()) {            \
        GTEST_FAIL() << "java/zookeeper.jar not found and " \
                        "CONCH_REQUIRE_SERVERS=1";          \
      }                                                     \
      GTEST_SKIP() << "java or zookeeper.jar not found";    \
    }                                                       \
  } while (false)

class ZkEnsemble;

// What ZkEnsemble::Start returns: a running ensemble, or why there is none.
struct ZkStart {
  std::unique_ptr<ZkEnsemble> ensemble;
  std::string error;
  bool ok() const { return ensemble != nullptr; }
};

class ZkEnsemble final {
 public:
  // Starts `members` servers (names m0, m1, ...; ZooKeeper ids 1, 2, ...)
  // on 127.0.0.1: one member runs standalone, more form a quorum ensemble.
  // Blocks until every member answers `ruok` with `imok` and serves (`srvr`
  // shows Mode: standalone, or leader/follower in an ensemble), at most 30 s
  // per attempt. A port taken by someone else between choosing and binding
  // makes a member exit; Start then retries with new ports, 3 attempts in
  // all.
  //
  // Every server grants session timeouts from 1 s to 120 s (tickTime is
  // 500 ms), accepts any number of connections from 127.0.0.1 and answers
  // every four-letter word.
  static ZkStart Start(int members);

  ZkEnsemble(const ZkEnsemble&) = delete;
  ZkEnsemble& operator=(const ZkEnsemble&) = delete;

  // SIGCONTs and SIGKILLs every member still running, reaps them and
  // removes the temp dir.
  ~ZkEnsemble();

  int size() const { return static_cast<int>(members_.size()); }
  // Every member's client endpoint, comma-separated host:port, m0 first:
  // the connect string for zookeeper_init.
  std::string hosts() const;
  // "zk://" + hosts(), the form conch takes.
  std::string url() const;
  // Member i's client endpoint, host:port.
  std::string endpoint(int i) const;
  // Member i's pid, or -1 while it is killed.
  pid_t pid(int i) const;
  // The temp dir with each member's m<i>/zoo.cfg, m<i>/data and m<i>.log.
  const std::string& dir() const { return dir_; }

  // SIGKILLs member i and reaps it. False if it was already gone.
  bool Kill(int i);
  // SIGSTOPs member i and returns once it has stopped: it keeps its sockets
  // open (the kernel still accepts connections) but answers nothing.
  bool Freeze(int i);
  // SIGCONTs member i.
  bool Thaw(int i);
  // Starts killed member i again with the same ports, config and data, and
  // blocks until it answers `ruok` with `imok` and, when a majority of the
  // members is then running, until it serves (`srvr` shows a Mode), at most
  // 30 s. Returns "" on success, else what went wrong (member i is then
  // killed again). A member still running is an error.
  [[nodiscard]] std::string Restart(int i);

  // Sends the four-letter word `cmd` ("ruok", "srvr", "mntr", ...) to
  // member i and returns the whole answer, or "" when the member does not
  // answer within 3 s (killed, frozen) or the connection fails. Blocks at
  // most 3 s.
  std::string FourLetter(int i, const std::string& cmd) const;
  // Member i's role from `srvr`: "standalone", "leader", "follower", or ""
  // when it does not answer or does not serve (no quorum, electing).
  // Blocks at most 3 s.
  std::string Mode(int i) const;
  // The one member that reports Mode leader, or -1 when none or several do
  // (a thawed old leader reports leader until it notices it lost its
  // followers). Asks every running member: blocks at most 3 s per member.
  int Leader() const;

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int quorum_port = 0;
    int election_port = 0;
    pid_t pid = -1;
  };

  explicit ZkEnsemble(std::string dir) : dir_(std::move(dir)) {}

  std::string Configure(int members);
  std::string WriteConfig(int i) const;
  std::string Launch(int i);
  std::string WaitReady(const std::vector<int>& which, bool need_mode);
  std::string LogTail(int i) const;
  std::string MemberDir(int i) const;
  void StopAll();

  std::string dir_;
  std::vector<Member> members_;
};

}  // namespace conch::testing
