// A test fixture that starts a real store and opens a Backend on it. The
// contract, election and semaphore suites are parameterized by store kind,
// so that both backends must pass the same tests.
//
// Tests that do not fault the store share one standalone server per kind
// for the whole binary (each test works under a prefix of its own); tests
// that kill, freeze or cut a server start their own.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "backend/backend.h"
#include "backend/store.h"
#include "backend/zookeeper/zk_backend.h"
#include "base/signals.h"
#include "primitives/claim.h"
#include "servers/etcd_server.h"
#include "servers/zk_server.h"

namespace conch::testing {

using std::chrono::milliseconds;

enum class StoreKind { kEtcd, kZooKeeper };

inline void PrintTo(StoreKind kind, std::ostream* os) {
  *os << (kind == StoreKind::kEtcd ? "etcd" : "zookeeper");
}

inline std::string StoreName(const ::testing::TestParamInfo<StoreKind>& info) {
  return info.param == StoreKind::kEtcd ? "etcd" : "zookeeper";
}

// Both stores, for INSTANTIATE_TEST_SUITE_P.
inline auto BothStores() {
  return ::testing::Values(StoreKind::kEtcd, StoreKind::kZooKeeper);
}

// A running store of either kind.
class Store {
 public:
  static std::unique_ptr<Store> Start(StoreKind kind, int members,
                                      std::string* error) {
    auto store = std::unique_ptr<Store>(new Store(kind));
    if (kind == StoreKind::kEtcd) {
      EtcdStart started = EtcdCluster::Start(members);
      if (!started.ok()) {
        *error = started.error;
        return nullptr;
      }
      store->etcd_ = std::move(started.cluster);
    } else {
      ZkStart started = ZkEnsemble::Start(members);
      if (!started.ok()) {
        *error = started.error;
        return nullptr;
      }
      store->zk_ = std::move(started.ensemble);
    }
    return store;
  }

  StoreKind kind() const { return kind_; }
  int size() const { return etcd_ ? etcd_->size() : zk_->size(); }
  // --endpoints for every member.
  std::string endpoints() const {
    return etcd_ ? etcd_->endpoints() : zk_->url();
  }
  // Member i's host:port.
  std::string endpoint(int i) const {
    return etcd_ ? etcd_->endpoint(i) : zk_->endpoint(i);
  }
  // --endpoints for a list of host:port, in this store's form.
  std::string Url(const std::string& hosts) const {
    return etcd_ ? hosts : "zk://" + hosts;
  }
  bool Kill(int i) { return etcd_ ? etcd_->Kill(i) : zk_->Kill(i); }
  bool Freeze(int i) { return etcd_ ? etcd_->Freeze(i) : zk_->Freeze(i); }
  bool Thaw(int i) { return etcd_ ? etcd_->Thaw(i) : zk_->Thaw(i); }
  EtcdCluster* etcd() { return etcd_.get(); }
  ZkEnsemble* zk() { return zk_.get(); }

 private:
  explicit Store(StoreKind kind) : kind_(kind) {}
  StoreKind kind_;
  std::unique_ptr<EtcdCluster> etcd_;
  std::unique_ptr<ZkEnsemble> zk_;
};

// First statement of a StoreTest's SetUp: skips the test when its store's
// server is missing, or fails it when ServersRequired() (as in CI).
#define CONCH_REQUIRE_STORE()                         \
  do {                                                \
    if (ServerMissing()) {                            \
      if (::conch::testing::ServersRequired()) {      \
        GTEST_FAIL() << "store server not found and " \
                        "CONCH_REQUIRE_SERVERS=1";    \
      }                                               \
      GTEST_SKIP() << "store server not found";       \
    }                                                 \
  } while (false)

class StoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  // True when the server of the test's store is not installed; see
  // CONCH_REQUIRE_STORE.
  bool ServerMissing() const {
    if (GetParam() == StoreKind::kEtcd) {
      return EtcdBinary().empty() || EtcdctlBinary().empty();
    }
    return ZkJavaBinary().empty() || ZkClasspath().empty();
  }

  // Starts a store of the test's kind, or uses the binary's shared one when
  // `members` is 0, and opens backend_ on it.
  void StartStore(int members = 0) {
    if (members == 0) {
      std::unique_ptr<Store>& shared = SharedStores()[GetParam()];
      if (!shared) {
        std::string error;
        shared = Store::Start(GetParam(), 1, &error);
        ASSERT_NE(shared, nullptr) << error;
      }
      store_ = shared.get();
    } else {
      std::string error;
      own_store_ = Store::Start(GetParam(), members, &error);
      ASSERT_NE(own_store_, nullptr) << error;
      store_ = own_store_.get();
    }
    backend_ = Open(store_->endpoints());
    ASSERT_NE(backend_, nullptr);
  }

  std::unique_ptr<backend::Backend> Open(const std::string& endpoints) {
    backend::BackendOptions o;
    o.endpoints = endpoints;
    o.dial_timeout = std::chrono::seconds(2);
    Result<std::unique_ptr<backend::Backend>> b = backend::OpenBackend(o);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? std::move(b).value() : nullptr;
  }

  // A key prefix of this test's own.
  std::string Prefix() const {
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string("/conch-test/") + info->name() + "/";
  }

  static const Clock& clock() { return SystemClock::Get(); }

  // With a 3 s TTL, how long after any moment a renewal is sure to have
  // gone out (an interval plus slack): etcd renews every ttl/3 (1 s),
  // ZooKeeper every ttl/6 (0.5 s). Tests that hold answers back keep the
  // hold this short: a ZooKeeper client drops a connection silent for 2/3
  // of the TTL (2 s) by itself, and proofs then start over.
  Duration RenewalWithin() const {
    return GetParam() == StoreKind::kEtcd ? milliseconds(1500)
                                          : milliseconds(800);
  }
  // A deadline for one store request.
  static MonoTime Soon() { return clock().Now() + std::chrono::seconds(3); }

  // How long a test waits for something that must happen: long enough to
  // only ever catch a hang, on a loaded machine under sanitizers.
  static constexpr Duration kPatience = std::chrono::seconds(30);

  // Waits up to `timeout` for an event on `sink` matching `pred`; events
  // that do not match are dropped.
  template <typename Pred>
  static std::optional<backend::Event> AwaitEvent(
      backend::EventSink& sink, Pred pred, Duration timeout = kPatience) {
    MonoTime until = clock().Now() + timeout;
    for (;;) {
      for (backend::Event& e : sink.Drain()) {
        if (pred(e)) return std::move(e);
      }
      std::array<int, 1> fds = {sink.fd()};
      Result<int> ready = WaitReadable(fds, until, clock());
      if (!ready.ok() || *ready < 0) return std::nullopt;
    }
  }

  // Pumps each claim whenever it has store events, until `done()` holds
  // or `timeout` passes. Returns done(). A failed Pump() fails the test.
  static bool PumpUntil(const std::vector<primitives::Claim*>& claims,
                        const std::function<bool()>& done,
                        Duration timeout = kPatience) {
    MonoTime until = clock().Now() + timeout;
    std::vector<int> fds;
    for (primitives::Claim* c : claims) fds.push_back(c->fd());
    while (!done()) {
      Result<int> ready = WaitReadable(fds, until, clock());
      if (!ready.ok() || *ready < 0) return done();
      Status s = claims[*ready]->Pump();
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    return true;
  }

  // Pumps `claim` (and the others given) until it reaches `state`.
  static bool PumpUntilState(primitives::Claim& claim,
                             primitives::Claim::State state,
                             std::vector<primitives::Claim*> others = {}) {
    others.push_back(&claim);
    return PumpUntil(others, [&] { return claim.state() == state; });
  }

  // Pumps `claim` until every watcher it started is live, so that changes
  // made from now on will reach it.
  static bool PumpUntilWatching(primitives::Claim& claim) {
    return PumpUntil({&claim}, [&] { return claim.watch_live(); });
  }

  // Rewrites `claim`'s own key with its own value, as a harmless marker
  // change that whoever watches that key must see. Returns false (and
  // fails the test) if it could not.
  bool TouchKey(const primitives::Claim& claim) {
    std::optional<backend::KeyValue> kv = Read(claim.key());
    EXPECT_TRUE(kv) << claim.key() << " is gone";
    if (!kv) return false;
    Result<bool> put = backend_->PutIfOwned(*kv, kv->value, Soon());
    EXPECT_TRUE(put.ok() && *put) << "touch " << kv->key;
    return put.ok() && *put;
  }

  // The key `key` as stored, or nullopt.
  std::optional<backend::KeyValue> Read(const std::string& key) {
    Result<std::optional<backend::KeyValue>> kv = backend_->Get(key, Soon());
    EXPECT_TRUE(kv.ok()) << kv.status().ToString();
    return kv.ok() ? *kv : std::nullopt;
  }

  // Ends `session` from outside the process that holds it: etcdctl revokes
  // the lease; a second ZooKeeper client closes the session with its
  // credentials.
  void EndFromOutside(backend::Session& session) {
    if (GetParam() == StoreKind::kEtcd) {
      char hex[24];
      snprintf(hex, sizeof(hex), "%llx",
               static_cast<unsigned long long>(session.id()));
      EtcdctlResult r =
          RunEtcdctl(store_->endpoints(), {"lease", "revoke", hex});
      ASSERT_EQ(r.exit_code, 0) << r.errors;
    } else {
      Status s =
          backend::ExpireZooKeeperSession(session, store_->endpoints(), Soon());
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }

  // Deletes `key` behind its owner's back, as another client would.
  bool DeleteBehindBack(const std::string& key) {
    std::optional<backend::KeyValue> kv = Read(key);
    if (!kv) return false;
    Result<bool> gone = backend_->DeleteIfOwned(*kv, Soon());
    EXPECT_TRUE(gone.ok()) << gone.status().ToString();
    return gone.ok() && *gone;
  }

  // Stopped, and their temp dirs removed, when the binary exits.
  static std::map<StoreKind, std::unique_ptr<Store>>& SharedStores() {
    static std::map<StoreKind, std::unique_ptr<Store>> stores;
    return stores;
  }

  Store* store_ = nullptr;
  std::unique_ptr<Store> own_store_;
  std::unique_ptr<backend::Backend> backend_;
};

}  // namespace conch::testing
