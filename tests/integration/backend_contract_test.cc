// The Backend contract, checked against a real store. Faults are real: the
// lease is revoked with etcdctl, keys are written behind our back, members
// are killed.
#include <thread>

#include <gtest/gtest.h>

#include "servers/tcp_proxy.h"
#include "store_fixture.h"

namespace conch::testing {
namespace {

using backend::Event;
using std::chrono::milliseconds;
using std::chrono::seconds;

class BackendContractTest : public StoreTest {
 protected:
  void SetUp() override {
    CONCH_REQUIRE_ETCD();
    StartStore();
  }

  backend::Lease Grant(Duration ttl = seconds(5)) {
    Result<backend::Lease> l = backend_->GrantLease(ttl, Soon());
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? *l : backend::Lease{};
  }

  std::string Hex(int64_t id) {
    char buf[24];
    snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(id));
    return buf;
  }
};

TEST_P(BackendContractTest, GrantedLeaseHasAtLeastTheRequestedTtl) {
  backend::Lease l = Grant(seconds(7));
  EXPECT_NE(l.id, 0);
  EXPECT_GE(l.ttl, seconds(7));
}

TEST_P(BackendContractTest, RevokeDeletesBoundKeysAndIsFinal) {
  backend::Lease l = Grant();
  std::string key = Prefix() + "a";
  ASSERT_TRUE(backend_->CreateContender(Prefix(), key, "v", l.id, Soon()).ok());
  ASSERT_TRUE(backend_->RevokeLease(l.id, Soon()).ok());
  auto listing = backend_->List(Prefix(), 0, Soon());
  ASSERT_TRUE(listing.ok());
  EXPECT_TRUE(listing->first.empty());
  EXPECT_EQ(backend_->RevokeLease(l.id, Soon()).code(), Code::kNotFound);
}

TEST_P(BackendContractTest, CreateContenderReportsTheOldestKey) {
  backend::Lease a = Grant(), b = Grant();
  auto first =
      backend_->CreateContender(Prefix(), Prefix() + "z", "A", a.id, Soon());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  ASSERT_TRUE(first->first);
  EXPECT_EQ(first->first->key, Prefix() + "z");
  EXPECT_EQ(first->self.create_revision, first->revision);

  // "a" sorts before "z" but was created later: creation order wins.
  auto second =
      backend_->CreateContender(Prefix(), Prefix() + "a", "B", b.id, Soon());
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->created);
  ASSERT_TRUE(second->first);
  EXPECT_EQ(second->first->key, Prefix() + "z");
  EXPECT_GT(second->self.create_revision, first->self.create_revision);
  EXPECT_EQ(second->self.lease, b.id);
}

TEST_P(BackendContractTest, CreateContenderIsIdempotentForTheSameLease) {
  backend::Lease a = Grant();
  auto one =
      backend_->CreateContender(Prefix(), Prefix() + "k", "v", a.id, Soon());
  auto two =
      backend_->CreateContender(Prefix(), Prefix() + "k", "v", a.id, Soon());
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_TRUE(one->created);
  EXPECT_FALSE(two->created);
  EXPECT_EQ(two->self.create_revision, one->self.create_revision);
}

TEST_P(BackendContractTest, CreateContenderRefusesAKeyUnderAnotherLease) {
  EtcdctlResult put =
      RunEtcdctl(cluster_->endpoints(), {"put", Prefix() + "k", "foreign"});
  ASSERT_EQ(put.exit_code, 0) << put.errors;
  backend::Lease a = Grant();
  auto c =
      backend_->CreateContender(Prefix(), Prefix() + "k", "v", a.id, Soon());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kAlreadyExists);
}

TEST_P(BackendContractTest, FindPredecessorWalksTheQueue) {
  std::vector<backend::Contender> cs;
  for (const char* name : {"c1", "c2", "c3"}) {
    backend::Lease l = Grant();
    auto c = backend_->CreateContender(Prefix(), Prefix() + name, name, l.id,
                                       Soon());
    ASSERT_TRUE(c.ok());
    cs.push_back(*c);
  }
  auto p1 =
      backend_->FindPredecessor(Prefix(), cs[0].self.create_revision, Soon());
  ASSERT_TRUE(p1.ok());
  EXPECT_FALSE(p1->previous);
  auto p3 =
      backend_->FindPredecessor(Prefix(), cs[2].self.create_revision, Soon());
  ASSERT_TRUE(p3.ok());
  ASSERT_TRUE(p3->previous && p3->first);
  EXPECT_EQ(p3->previous->key, Prefix() + "c2");
  EXPECT_EQ(p3->first->key, Prefix() + "c1");
  EXPECT_GE(p3->revision, cs[2].revision);
}

TEST_P(BackendContractTest, ListIsInCreationOrderAndHonoursLimit) {
  for (const char* name : {"z", "a", "m"}) {
    backend::Lease l = Grant();
    ASSERT_TRUE(
        backend_->CreateContender(Prefix(), Prefix() + name, name, l.id, Soon())
            .ok());
  }
  auto all = backend_->List(Prefix(), 0, Soon());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->first.size(), 3u);
  EXPECT_EQ(all->first[0].value, "z");
  EXPECT_EQ(all->first[1].value, "a");
  EXPECT_EQ(all->first[2].value, "m");
  auto one = backend_->List(Prefix(), 1, Soon());
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->first.size(), 1u);
  EXPECT_EQ(one->first[0].value, "z");
}

TEST_P(BackendContractTest, DeleteIfOwnedIsFencedOnCreateRevision) {
  backend::Lease l = Grant();
  std::string key = Prefix() + "k";
  auto c = backend_->CreateContender(Prefix(), key, "v", l.id, Soon());
  ASSERT_TRUE(c.ok());
  auto stale =
      backend_->DeleteIfOwned(key, c->self.create_revision - 1, Soon());
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(*stale);
  auto mine = backend_->DeleteIfOwned(key, c->self.create_revision, Soon());
  ASSERT_TRUE(mine.ok());
  EXPECT_TRUE(*mine);
  auto again = backend_->DeleteIfOwned(key, c->self.create_revision, Soon());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST_P(BackendContractTest, WatchReportsChangesFromTheStartRevision) {
  backend::Lease l = Grant();
  std::string key = Prefix() + "k";
  auto c = backend_->CreateContender(Prefix(), key, "v", l.id, Soon());
  ASSERT_TRUE(c.ok());
  // The delete happens before the watch starts; starting from the create
  // revision still reports it, so nothing between read and watch is missed.
  ASSERT_TRUE(backend_->RevokeLease(l.id, Soon()).ok());
  backend::EventSink sink;
  auto watch = backend_->StartWatch({{key, false, c->revision + 1}}, &sink, 9);
  auto e = AwaitEvent(
      sink, [](const Event& ev) { return ev.kind == Event::Kind::kWatch; });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->tag, 9u);
  ASSERT_EQ(e->changes.size(), 1u);
  EXPECT_TRUE(e->changes[0].deleted);
  EXPECT_EQ(e->changes[0].kv.key, key);
}

TEST_P(BackendContractTest, PrefixWatchSeesPutsWithTheirLease) {
  backend::EventSink sink;
  auto listing = backend_->List(Prefix(), 0, Soon());
  ASSERT_TRUE(listing.ok());
  auto watch =
      backend_->StartWatch({{Prefix(), true, listing->second + 1}}, &sink, 1);
  backend::Lease l = Grant();
  ASSERT_TRUE(
      backend_->CreateContender(Prefix(), Prefix() + "x", "v", l.id, Soon())
          .ok());
  auto e = AwaitEvent(
      sink, [](const Event& ev) { return ev.kind == Event::Kind::kWatch; });
  ASSERT_TRUE(e);
  ASSERT_EQ(e->changes.size(), 1u);
  EXPECT_FALSE(e->changes[0].deleted);
  EXPECT_EQ(e->changes[0].kv.lease, l.id);
  EXPECT_EQ(e->changes[0].kv.value, "v");
}

TEST_P(BackendContractTest, KeepAliveAcksCarryTtlAndATimeBeforeTheirAnswer) {
  backend::Lease l = Grant(seconds(3));
  backend::EventSink sink;
  MonoTime before = clock().Now();
  auto ka = backend_->StartKeepAlive(l, &sink, 4);
  auto e = AwaitEvent(sink, [](const Event& ev) {
    return ev.kind == Event::Kind::kKeepAliveAck;
  });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->tag, 4u);
  EXPECT_GE(e->sent, before);
  EXPECT_LE(e->sent, clock().Now());
  EXPECT_EQ(e->ttl, seconds(3));
}

// An ack's time is when its renewal was sent, not when the answer came: a
// proxy lets renewals through but holds their answers back.
TEST_P(BackendContractTest, KeepAliveAcksCarryTheSendTimeNotTheArrival) {
  std::string error;
  std::unique_ptr<TcpProxy> proxy =
      TcpProxy::Start(cluster_->endpoint(0), &error);
  ASSERT_NE(proxy, nullptr) << error;
  std::unique_ptr<backend::Backend> via_proxy = Open(proxy->endpoint());
  Result<backend::Lease> l = via_proxy->GrantLease(seconds(3), Soon());
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  backend::EventSink sink;
  auto ka = via_proxy->StartKeepAlive(*l, &sink, 4);
  auto is_ack = [](const Event& ev) {
    return ev.kind == Event::Kind::kKeepAliveAck;
  };
  ASSERT_TRUE(AwaitEvent(sink, is_ack));

  proxy->Hold(TcpProxy::Direction::kToClient);
  MonoTime held = clock().Now();
  // Renewals keep going out while their answers wait: one is due within an
  // interval (1 s) of the hold, its retry half an interval later. Bytes
  // forwarded 1.5 s after the hold show that at least the first went out.
  ASSERT_TRUE(proxy->AwaitForward(
      TcpProxy::Direction::kToServer, held + milliseconds(1500),
      std::chrono::duration_cast<milliseconds>(kPatience)))
      << "no renewal reached the store";
  sink.Drain();  // nothing of ours arrived meanwhile: answers are held
  MonoTime released = clock().Now();
  proxy->Release(TcpProxy::Direction::kToClient);

  auto e = AwaitEvent(sink, is_ack);
  ASSERT_TRUE(e);
  // An arrival stamp would be later than the release.
  EXPECT_LT(e->sent, released);
  EXPECT_GE(e->sent, held - seconds(1));
  EXPECT_EQ(e->ttl, seconds(3));
}

TEST_P(BackendContractTest, KeepAliveReportsARevokedLease) {
  backend::Lease l = Grant(seconds(3));
  backend::EventSink sink;
  auto ka = backend_->StartKeepAlive(l, &sink, 4);
  EtcdctlResult r =
      RunEtcdctl(cluster_->endpoints(), {"lease", "revoke", Hex(l.id)});
  ASSERT_EQ(r.exit_code, 0) << r.errors;
  auto e = AwaitEvent(sink, [](const Event& ev) {
    return ev.kind == Event::Kind::kSessionLost;
  });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status.code(), Code::kSessionLost);
}

TEST_P(BackendContractTest, UnreachableStoreFailsByTheDeadline) {
  std::unique_ptr<backend::Backend> dead = Open("127.0.0.1:1");
  ASSERT_NE(dead, nullptr);
  MonoTime start = clock().Now();
  Result<backend::Lease> l =
      dead->GrantLease(seconds(5), start + milliseconds(700));
  Duration took = clock().Now() - start;
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(l.status().code() == Code::kUnavailable ||
              l.status().code() == Code::kDeadlineExceeded)
      << l.status().ToString();
  // It waited for the store (wait-for-ready) rather than failing at once,
  // and gave up by its deadline rather than hanging; the upper bound only
  // catches a hang.
  EXPECT_GE(took, milliseconds(700));
  EXPECT_LT(took, seconds(10));
}

INSTANTIATE_TEST_SUITE_P(Stores, BackendContractTest,
                         ::testing::Values(StoreKind::kEtcd), StoreName);

class BackendFailoverTest : public StoreTest {
 protected:
  void SetUp() override {
    CONCH_REQUIRE_ETCD();
    StartStore(3);
  }
};

TEST_P(BackendFailoverTest, KeepAliveAndCallsSurviveTheFirstMembersDeath) {
  // m0 is reached through a proxy, which shows that it is the member the
  // client really talks to before it dies.
  std::string error;
  std::unique_ptr<TcpProxy> m0 = TcpProxy::Start(cluster_->endpoint(0), &error);
  ASSERT_NE(m0, nullptr) << error;
  std::unique_ptr<backend::Backend> client =
      Open(m0->endpoint() + "," + cluster_->endpoint(1) + "," +
           cluster_->endpoint(2));
  Result<backend::Lease> l = client->GrantLease(seconds(3), Soon());
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  backend::EventSink sink;
  auto ka = client->StartKeepAlive(*l, &sink, 1);
  auto is_ack = [](const Event& ev) {
    return ev.kind == Event::Kind::kKeepAliveAck;
  };
  ASSERT_TRUE(AwaitEvent(sink, is_ack));
  ASSERT_GE(m0->accepted(), 1) << "the client did not start on m0";

  ASSERT_TRUE(cluster_->Kill(0));
  MonoTime killed = clock().Now();
  // A renewal answered after the death, with a TTL, proves the lease never
  // expired: an expired lease is answered with TTL 0 (kSessionLost).
  auto e = AwaitEvent(sink, [&](const Event& ev) {
    return ev.kind == Event::Kind::kSessionLost ||
           (is_ack(ev) && ev.sent > killed);
  });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, Event::Kind::kKeepAliveAck) << e->status.ToString();
  EXPECT_EQ(e->ttl, seconds(3));
  auto listing = client->List("/", 1, Soon());
  EXPECT_TRUE(listing.ok()) << listing.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Stores, BackendFailoverTest,
                         ::testing::Values(StoreKind::kEtcd), StoreName);

}  // namespace
}  // namespace conch::testing
