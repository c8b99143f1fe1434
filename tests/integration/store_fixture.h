// A test fixture that starts a real store and opens a Backend on it. The
// contract suite is parameterized by store kind so that every backend must
// pass the same tests; etcd is the one implemented so far.
#pragma once

#include <array>
#include <functional>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "backend/backend.h"
#include "base/signals.h"
#include "primitives/claim.h"
#include "servers/etcd_server.h"

namespace conch::testing {

enum class StoreKind { kEtcd };

inline void PrintTo(StoreKind kind, std::ostream* os) {
  switch (kind) {
    case StoreKind::kEtcd:
      *os << "etcd";
      break;
  }
}

inline std::string StoreName(const ::testing::TestParamInfo<StoreKind>& info) {
  switch (info.param) {
    case StoreKind::kEtcd:
      return "etcd";
  }
  return "unknown";
}

class StoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void StartStore(int members = 1) {
    EtcdStart started = EtcdCluster::Start(members);
    ASSERT_TRUE(started.ok()) << started.error;
    cluster_ = std::move(started.cluster);
    backend_ = Open(cluster_->endpoints());
    ASSERT_NE(backend_, nullptr);
  }

  std::unique_ptr<backend::Backend> Open(const std::string& endpoints) {
    backend::BackendOptions o;
    size_t start = 0;
    for (;;) {
      size_t comma = endpoints.find(',', start);
      o.endpoints.push_back(endpoints.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    o.dial_timeout = std::chrono::seconds(2);
    Result<std::unique_ptr<backend::Backend>> b = backend::OpenEtcd(o);
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

  // Rewrites `claim`'s own key with its own value and lease, as a harmless
  // marker change that whoever watches that key must see. Returns the
  // marker's store revision (0 on failure, which fails the test).
  int64_t TouchKey(const primitives::Claim& claim) {
    std::optional<backend::KeyValue> kv = Read(claim.key());
    EXPECT_TRUE(kv) << claim.key() << " is gone";
    if (!kv) return 0;
    Result<bool> put = backend_->PutIfOwned(kv->key, kv->value, kv->lease,
                                            kv->create_revision, Soon());
    EXPECT_TRUE(put.ok() && *put) << "touch " << kv->key;
    std::optional<backend::KeyValue> after = Read(claim.key());
    return after ? after->mod_revision : 0;
  }

  // The key `key` as stored, or nullopt.
  std::optional<backend::KeyValue> Read(const std::string& key) {
    auto listing = backend_->List(key, 0, Soon());
    EXPECT_TRUE(listing.ok()) << listing.status().ToString();
    if (!listing.ok()) return std::nullopt;
    for (const backend::KeyValue& kv : listing->first) {
      if (kv.key == key) return kv;
    }
    return std::nullopt;
  }

  std::unique_ptr<EtcdCluster> cluster_;
  std::unique_ptr<backend::Backend> backend_;
};

}  // namespace conch::testing
