// Real etcd servers for integration tests: EtcdCluster starts one or more
// members on free loopback ports with data in a private temp dir, lets a
// test kill, freeze and thaw members, and stops everything on destruction.
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

namespace conch::testing {

// True when CONCH_REQUIRE_SERVERS=1, as in CI: a missing server binary then
// fails the test instead of skipping it.
bool ServersRequired();

// Absolute paths of etcd and etcdctl found on PATH (or given by
// CONCH_ETCD_BIN / CONCH_ETCDCTL_BIN), or "" when missing.
std::string EtcdBinary();
std::string EtcdctlBinary();

// First statement of a test that needs etcd: skips the test when etcd or
// etcdctl is missing, or fails it when ServersRequired().
#define CONCH_REQUIRE_ETCD()                          \
  do {                                                \
    if (::conch::testing::EtcdBinary().empty() ||     \
        ::conch::testing::EtcdctlBinary().empty()) {  \
      if (::conch::testing::ServersRequired()) {      \
        GTEST_FAIL() << "etcd/etcdctl not found and " \
                        "CONCH_REQUIRE_SERVERS=1";    \
      }                                               \
      GTEST_SKIP() << "etcd/etcdctl not found";       \
    }                                                 \
  } while (false)

struct EtcdctlResult {
  int exit_code = -1;  // -1 when etcdctl could not run or was killed
  std::string output;  // what etcdctl printed on stdout
  std::string errors;  // what it printed on stderr (retry warnings, errors)
};

// Runs `etcdctl --endpoints <endpoints> <args...>` (API v3) with a 2 s dial
// timeout and a 3 s command timeout. Blocks until etcdctl exits, at most
// 10 s (then it is killed and exit_code is -1).
EtcdctlResult RunEtcdctl(const std::string& endpoints,
                         const std::vector<std::string>& args);

class EtcdCluster;

// What EtcdCluster::Start returns: a running cluster, or why there is none.
struct EtcdStart {
  std::unique_ptr<EtcdCluster> cluster;
  std::string error;
  bool ok() const { return cluster != nullptr; }
};

class EtcdCluster final {
 public:
  // Starts `members` members (names m0, m1, ...) on 127.0.0.1 and blocks
  // until each reports healthy through etcdctl, at most 10 s per attempt.
  // A port taken by someone else between choosing and binding makes a
  // member exit; Start then retries with new ports, 3 attempts in all.
  static EtcdStart Start(int members);

  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // SIGCONTs and SIGKILLs every member still running, reaps them and
  // removes the temp dir.
  ~EtcdCluster();

  int size() const { return static_cast<int>(members_.size()); }
  // Every member's client endpoint, comma-separated host:port, m0 first.
  std::string endpoints() const;
  // Member i's client endpoint, host:port.
  std::string endpoint(int i) const;
  // Member i's metrics URL, http://host:port.
  std::string metrics_url(int i) const;
  // Member i's pid, or -1 once it was killed.
  pid_t pid(int i) const;
  // The temp dir with data dirs and logs (m<i>.log).
  const std::string& dir() const { return dir_; }

  // SIGKILLs member i and reaps it. False if it was already gone.
  bool Kill(int i);
  // SIGSTOPs member i and returns once it has stopped: it keeps its sockets
  // open but answers nothing.
  bool Freeze(int i);
  // SIGCONTs member i.
  bool Thaw(int i);

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    int metrics_port = 0;
    pid_t pid = -1;
  };

  explicit EtcdCluster(std::string dir) : dir_(std::move(dir)) {}

  std::string StartMembers(int members);
  std::string WaitHealthy();
  std::string LogTail(int i) const;
  void StopAll();

  std::string dir_;
  std::vector<Member> members_;
};

}  // namespace conch::testing
