// The Backend contract, checked against both real stores with the same
// tests. Faults are real: the session is ended from outside (etcdctl lease
// revoke; a second ZooKeeper client closing the session with its
// credentials), keys are written behind our back by another client, members
// are killed, answers are held back by a proxy.
#include <algorithm>
#include <thread>

#include <gtest/gtest.h>

#include "backend/zookeeper/zk_backend.h"
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
    CONCH_REQUIRE_STORE();
    StartStore();
  }

  // A session on backend_ reporting into `sink` (a throwaway one if null).
  std::unique_ptr<backend::Session> Open(Duration ttl = seconds(5),
                                         backend::EventSink* sink = nullptr,
                                         backend::Backend* on = nullptr) {
    if (sink == nullptr) sink = &spare_sink_;
    if (on == nullptr) on = backend_.get();
    Result<std::unique_ptr<backend::Session>> s =
        on->OpenSession(ttl, Soon(), sink, 4);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  using StoreTest::Open;

  backend::Contender Contend(backend::Session& s, const std::string& value,
                             const std::string& prefix = "") {
    Result<backend::Contender> c = backend_->CreateContender(
        s, prefix.empty() ? Prefix() : prefix, value, Soon());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : backend::Contender{};
  }

  backend::EventSink spare_sink_;
};

TEST_P(BackendContractTest, SessionReportsTheGrantedTtl) {
  auto s = Open(seconds(7));
  ASSERT_NE(s, nullptr);
  EXPECT_NE(s->id(), 0);
  // Both test servers grant 7 s as asked (etcd's minimum and ZooKeeper's
  // [min, max] session timeouts lie around it).
  EXPECT_EQ(s->ttl(), seconds(7));
}

TEST_P(BackendContractTest, EndDeletesTheSessionsKeysAndIsFinal) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  backend::Contender c = Contend(*s, "v");
  ASSERT_FALSE(c.self.key.empty());
  ASSERT_TRUE(s->End(Soon()).ok());
  // Gone at once, for every client: no TTL to wait out.
  std::unique_ptr<backend::Backend> other = Open(store_->endpoints());
  Result<std::optional<backend::KeyValue>> kv = other->Get(c.self.key, Soon());
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  EXPECT_FALSE(*kv);
  Result<std::vector<backend::KeyValue>> all = other->List(Prefix(), 0, Soon());
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_TRUE(all->empty());
  EXPECT_EQ(s->End(Soon()).code(), Code::kNotFound);
}

TEST_P(BackendContractTest, ContendersAreOrderedByCreation) {
  auto a = Open(), b = Open();
  ASSERT_TRUE(a && b);
  backend::Contender first = Contend(*a, "A");
  EXPECT_TRUE(first.created);
  ASSERT_TRUE(first.first);
  EXPECT_EQ(first.first->key, first.self.key);
  EXPECT_TRUE(first.self.key.starts_with(Prefix()));
  EXPECT_EQ(first.self.session, a->id());
  EXPECT_GT(first.self.create_revision, 0);

  backend::Contender second = Contend(*b, "B");
  EXPECT_TRUE(second.created);
  ASSERT_TRUE(second.first);
  EXPECT_EQ(second.first->key, first.self.key);
  EXPECT_NE(second.self.key, first.self.key);
  EXPECT_GT(second.self.create_revision, first.self.create_revision);
  EXPECT_EQ(second.self.session, b->id());
}

TEST_P(BackendContractTest, ASecondCreateFindsTheFirstInsteadOfQueueingTwice) {
  auto a = Open();
  ASSERT_NE(a, nullptr);
  backend::Contender one = Contend(*a, "v");
  backend::Contender two = Contend(*a, "v");
  EXPECT_TRUE(one.created);
  EXPECT_FALSE(two.created);
  EXPECT_EQ(two.self.key, one.self.key);
  EXPECT_EQ(two.self.create_revision, one.self.create_revision);
  Result<std::vector<backend::KeyValue>> all =
      backend_->List(Prefix(), 0, Soon());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST_P(BackendContractTest, OneSessionHoldsSeveralContenders) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  backend::Contender x = Contend(*s, "x", Prefix() + "x/");
  backend::Contender y = Contend(*s, "y", Prefix() + "y/");
  EXPECT_TRUE(x.created && y.created);
  EXPECT_EQ(x.self.session, s->id());
  EXPECT_EQ(y.self.session, s->id());
  ASSERT_TRUE(s->End(Soon()).ok());
  EXPECT_FALSE(Read(x.self.key));
  EXPECT_FALSE(Read(y.self.key));
}

TEST_P(BackendContractTest, FindPredecessorWalksTheQueue) {
  std::vector<std::unique_ptr<backend::Session>> sessions;
  std::vector<backend::Contender> cs;
  for (const char* value : {"c1", "c2", "c3"}) {
    sessions.push_back(Open());
    ASSERT_NE(sessions.back(), nullptr);
    cs.push_back(Contend(*sessions.back(), value));
  }
  auto p1 = backend_->FindPredecessor(Prefix(), cs[0].self, Soon());
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  EXPECT_TRUE(p1->self_present);
  EXPECT_FALSE(p1->previous);
  auto p3 = backend_->FindPredecessor(Prefix(), cs[2].self, Soon());
  ASSERT_TRUE(p3.ok());
  EXPECT_TRUE(p3->self_present);
  ASSERT_TRUE(p3->previous && p3->first);
  EXPECT_EQ(p3->previous->key, cs[1].self.key);
  EXPECT_EQ(p3->first->key, cs[0].self.key);

  ASSERT_TRUE(sessions[1]->End(Soon()).ok());
  auto after = backend_->FindPredecessor(Prefix(), cs[2].self, Soon());
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE(after->previous);
  EXPECT_EQ(after->previous->key, cs[0].self.key);

  ASSERT_TRUE(sessions[2]->End(Soon()).ok());
  auto gone = backend_->FindPredecessor(Prefix(), cs[2].self, Soon());
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->self_present);
}

TEST_P(BackendContractTest, ListsAreInCreationOrderWithValues) {
  std::vector<std::unique_ptr<backend::Session>> sessions;
  std::vector<backend::Contender> cs;
  for (const char* value : {"z", "a", "m"}) {
    sessions.push_back(Open());
    ASSERT_NE(sessions.back(), nullptr);
    cs.push_back(Contend(*sessions.back(), value));
  }
  auto all = backend_->List(Prefix(), 0, Soon());
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*all)[i].key, cs[i].self.key);
    EXPECT_EQ((*all)[i].value, cs[i].self.value);
    EXPECT_EQ((*all)[i].create_revision, cs[i].self.create_revision);
    EXPECT_EQ((*all)[i].session, sessions[i]->id());
  }
  auto one = backend_->List(Prefix(), 1, Soon());
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].value, "z");

  auto through = backend_->ListThrough(Prefix(), cs[1].self, Soon());
  ASSERT_TRUE(through.ok()) << through.status().ToString();
  ASSERT_EQ(through->size(), 2u);
  EXPECT_EQ((*through)[0].value, "z");
  EXPECT_EQ((*through)[1].value, "a");

  auto empty = backend_->List(Prefix() + "none/", 0, Soon());
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->empty());
}

TEST_P(BackendContractTest, GuardedWritesTouchOnlyTheSameKey) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  backend::Contender c = Contend(*s, "v");
  backend::KeyValue stale = c.self;
  stale.create_revision -= 1;
  auto put_stale = backend_->PutIfOwned(stale, "w", Soon());
  ASSERT_TRUE(put_stale.ok()) << put_stale.status().ToString();
  EXPECT_FALSE(*put_stale);
  auto put = backend_->PutIfOwned(c.self, "w", Soon());
  ASSERT_TRUE(put.ok());
  EXPECT_TRUE(*put);
  std::optional<backend::KeyValue> now = Read(c.self.key);
  ASSERT_TRUE(now);
  EXPECT_EQ(now->value, "w");
  EXPECT_EQ(now->create_revision, c.self.create_revision);
  EXPECT_EQ(now->session, s->id());

  auto del_stale = backend_->DeleteIfOwned(stale, Soon());
  ASSERT_TRUE(del_stale.ok());
  EXPECT_FALSE(*del_stale);
  auto del = backend_->DeleteIfOwned(c.self, Soon());
  ASSERT_TRUE(del.ok());
  EXPECT_TRUE(*del);
  auto again = backend_->DeleteIfOwned(c.self, Soon());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto put_gone = backend_->PutIfOwned(c.self, "x", Soon());
  ASSERT_TRUE(put_gone.ok());
  EXPECT_FALSE(*put_gone);
}

// A watch goes live, then reports each later change: a rewrite with the new
// value, and the deletion.
TEST_P(BackendContractTest, KeyWatchGoesLiveThenReportsWritesAndDeletion) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  backend::Contender c = Contend(*s, "v");
  backend::EventSink sink;
  auto watch = backend_->StartWatch({{c.self.key, false}}, &sink, 9);
  auto live = AwaitEvent(
      sink, [](const Event& e) { return e.kind == Event::Kind::kWatchLive; });
  ASSERT_TRUE(live);
  EXPECT_EQ(live->tag, 9u);
  EXPECT_EQ(live->spec, 0u);

  std::unique_ptr<backend::Backend> other = Open(store_->endpoints());
  ASSERT_TRUE(other->PutIfOwned(c.self, "w", Soon()).ok());
  auto put = AwaitEvent(
      sink, [](const Event& e) { return e.kind == Event::Kind::kWatch; });
  ASSERT_TRUE(put);
  EXPECT_FALSE(put->change.deleted);
  EXPECT_EQ(put->change.key, c.self.key);
  ASSERT_TRUE(put->change.kv);
  EXPECT_EQ(put->change.kv->value, "w");
  EXPECT_EQ(put->change.kv->create_revision, c.self.create_revision);

  ASSERT_TRUE(other->DeleteIfOwned(c.self, Soon()).ok());
  auto del = AwaitEvent(
      sink, [](const Event& e) { return e.kind == Event::Kind::kWatch; });
  ASSERT_TRUE(del);
  EXPECT_TRUE(del->change.deleted);
  EXPECT_EQ(del->change.key, c.self.key);
}

TEST_P(BackendContractTest, PrefixWatchReportsContendersComingAndGoing) {
  backend::EventSink sink;
  auto watch = backend_->StartWatch({{Prefix(), true}}, &sink, 1);
  ASSERT_TRUE(AwaitEvent(
      sink, [](const Event& e) { return e.kind == Event::Kind::kWatchLive; }));
  auto s = Open();
  ASSERT_NE(s, nullptr);
  backend::Contender c = Contend(*s, "v");
  auto created = AwaitEvent(
      sink, [](const Event& e) { return e.kind == Event::Kind::kWatch; });
  ASSERT_TRUE(created);
  EXPECT_FALSE(created->change.deleted);
  EXPECT_EQ(created->change.key, c.self.key);

  ASSERT_TRUE(s->End(Soon()).ok());
  auto gone = AwaitEvent(sink, [](const Event& e) {
    return e.kind == Event::Kind::kWatch && e.change.deleted;
  });
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->change.key, c.self.key);
}

// Records: keys the caller names. Put creates or replaces, Delete says
// whether there was something, ListRecords gives one level in name order.
TEST_P(BackendContractTest, RecordsArePutListedInNameOrderAndDeleted) {
  const std::string dir = Prefix() + "jobs/";
  for (const char* name : {"zeta", "alpha", "mid.dle"}) {
    Status put =
        backend_->Put(dir + name, std::string("v-") + name, nullptr, Soon());
    ASSERT_TRUE(put.ok()) << put.ToString();
  }
  // A deeper key is not a record of `dir`.
  ASSERT_TRUE(backend_->Put(dir + "alpha/deeper", "x", nullptr, Soon()).ok());
  ASSERT_TRUE(backend_->Put(dir + "alpha", "v-alpha2", nullptr, Soon()).ok());
  auto all = backend_->ListRecords(dir, true, Soon());
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].key, dir + "alpha");
  EXPECT_EQ((*all)[0].value, "v-alpha2");
  EXPECT_EQ((*all)[1].key, dir + "mid.dle");
  EXPECT_EQ((*all)[2].key, dir + "zeta");
  EXPECT_EQ((*all)[2].value, "v-zeta");
  EXPECT_GT((*all)[2].create_revision, 0);
  auto names = backend_->ListRecords(dir, false, Soon());
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names->size(), 3u);
  EXPECT_EQ((*names)[1].key, dir + "mid.dle");

  auto del = backend_->Delete(dir + "zeta", Soon());
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_TRUE(*del);
  auto again = backend_->Delete(dir + "zeta", Soon());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_FALSE(Read(dir + "zeta"));
  auto none = backend_->ListRecords(Prefix() + "nothing/", true, Soon());
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
}

TEST_P(BackendContractTest, ARecordPutInASessionEndsWithIt) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  const std::string key = Prefix() + "nodes/me";
  ASSERT_TRUE(backend_->Put(key, "up", s.get(), Soon()).ok());
  ASSERT_TRUE(backend_->Put(key, "up2", s.get(), Soon()).ok());
  std::optional<backend::KeyValue> kv = Read(key);
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->value, "up2");
  EXPECT_EQ(kv->session, s->id());
  ASSERT_TRUE(s->End(Soon()).ok());
  EXPECT_FALSE(Read(key));
}

// Claims in a series: each place once, never behind a later one, and a
// retry that finds its own value counts as the claim.
TEST_P(BackendContractTest, ClaimsInOrderTakeEachPlaceOnceAndNeverGoBack) {
  const std::string dir = Prefix() + "fire/";
  auto first = backend_->ClaimInOrder(dir, "0000000100", "a", Soon());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(*first);
  EXPECT_EQ((*first)->key, dir + "0000000100");
  EXPECT_GT((*first)->create_revision, 0);

  std::unique_ptr<backend::Backend> other = Open(store_->endpoints());
  auto taken = other->ClaimInOrder(dir, "0000000100", "b", Soon());
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_FALSE(*taken);
  auto mine = other->ClaimInOrder(dir, "0000000100", "a", Soon());
  ASSERT_TRUE(mine.ok());
  ASSERT_TRUE(*mine);
  EXPECT_EQ((*mine)->create_revision, (*first)->create_revision);

  auto later = other->ClaimInOrder(dir, "0000000200", "c", Soon());
  ASSERT_TRUE(later.ok());
  ASSERT_TRUE(*later);
  // An earlier place, never claimed, has passed: refused, nothing left.
  auto behind = backend_->ClaimInOrder(dir, "0000000150", "d", Soon());
  ASSERT_TRUE(behind.ok()) << behind.status().ToString();
  EXPECT_FALSE(*behind);
  EXPECT_FALSE(Read(dir + "0000000150"));
  auto names = backend_->ListRecords(dir, true, Soon());
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names->size(), 2u);
  EXPECT_EQ((*names)[0].value, "a");
  EXPECT_EQ((*names)[1].value, "c");
}

TEST_P(BackendContractTest, RecordsWatchReportsAnyNameComingAndGoing) {
  const std::string dir = Prefix() + "watched/";
  backend::EventSink sink;
  backend::WatchSpec spec{dir, true, true};
  auto watch = backend_->StartWatch({spec}, &sink, 1);
  ASSERT_TRUE(AwaitEvent(
      sink, [](const Event& e) { return e.kind == Event::Kind::kWatchLive; }));
  std::unique_ptr<backend::Backend> other = Open(store_->endpoints());
  ASSERT_TRUE(other->Put(dir + "nightly", "{}", nullptr, Soon()).ok());
  auto created = AwaitEvent(
      sink, [](const Event& e) { return e.kind == Event::Kind::kWatch; });
  ASSERT_TRUE(created);
  EXPECT_FALSE(created->change.deleted);
  EXPECT_EQ(created->change.key, dir + "nightly");
  ASSERT_TRUE(other->Delete(dir + "nightly", Soon()).ok());
  auto gone = AwaitEvent(sink, [](const Event& e) {
    return e.kind == Event::Kind::kWatch && e.change.deleted;
  });
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->change.key, dir + "nightly");
}

// A tree: every key at any depth, by key, with values; the parents that
// ZooKeeper keeps (and one emptied by a session's end) are not keys.
TEST_P(BackendContractTest, TreeListsEveryKeyAtAnyDepthInKeyOrder) {
  const std::string tree = Prefix() + "tree/";
  auto s = Open();
  auto gone = Open();
  ASSERT_TRUE(s && gone);
  std::vector<backend::KeyValue> want;
  for (const char* queue : {"elect/web/", "elect/db/", "sema/pool/2/"}) {
    backend::Contender c = Contend(*s, std::string("v-") + queue, tree + queue);
    ASSERT_FALSE(c.self.key.empty());
    want.push_back(c.self);
  }
  for (const char* record : {"top", "jobs/nightly", "a/b/c/d/e/f/g/h"}) {
    const std::string key = tree + record;
    ASSERT_TRUE(
        backend_->Put(key, std::string("r-") + record, nullptr, Soon()).ok());
    std::optional<backend::KeyValue> kv = Read(key);
    ASSERT_TRUE(kv);
    want.push_back(*kv);
  }
  ASSERT_FALSE(Contend(*gone, "x", tree + "elect/vacant/").self.key.empty());
  ASSERT_TRUE(gone->End(Soon()).ok());
  std::sort(want.begin(), want.end(),
            [](const backend::KeyValue& a, const backend::KeyValue& b) {
              return a.key < b.key;
            });

  auto all = backend_->ListTree(tree, Soon());
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*all)[i].key, want[i].key);
    EXPECT_EQ((*all)[i].value, want[i].value);
    EXPECT_EQ((*all)[i].create_revision, want[i].create_revision);
    EXPECT_EQ((*all)[i].session, want[i].session);
  }
  EXPECT_EQ((*all)[0].key, tree + "a/b/c/d/e/f/g/h");
  EXPECT_EQ((*all)[want.size() - 1].key, tree + "top");

  // One level of the tree is a tree too.
  auto elect = backend_->ListTree(tree + "elect/", Soon());
  ASSERT_TRUE(elect.ok()) << elect.status().ToString();
  ASSERT_EQ(elect->size(), 2u);
  EXPECT_EQ((*elect)[0].value, "v-elect/db/");
  EXPECT_EQ((*elect)[1].value, "v-elect/web/");

  auto none = backend_->ListTree(Prefix() + "none/", Soon());
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
}

TEST_P(BackendContractTest, TreeRefusesKeysTooDeep) {
  const std::string tree = Prefix() + "deep/";
  ASSERT_TRUE(
      backend_->Put(tree + "1/2/3/4/5/6/7/8/9", "x", nullptr, Soon()).ok());
  auto all = backend_->ListTree(tree, Soon());
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(all.status().message().find("more than 8 levels"),
            std::string::npos)
      << all.status().ToString();
}

TEST_P(BackendContractTest, RenewalsCarryTheTtlAndATimeBeforeTheirAnswer) {
  backend::EventSink sink;
  MonoTime before = clock().Now();
  auto s = Open(seconds(3), &sink);
  ASSERT_NE(s, nullptr);
  auto e = AwaitEvent(
      sink, [](const Event& ev) { return ev.kind == Event::Kind::kRenewed; });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->tag, 4u);
  EXPECT_GE(e->sent, before);
  EXPECT_LE(e->sent, clock().Now());
  EXPECT_EQ(e->ttl, seconds(3));
}

// A proof of life counts from a send, never from an arrival: a proxy lets
// requests through but holds the store's answers back.
TEST_P(BackendContractTest, RenewalsCarryASendTimeNotTheArrival) {
  std::string error;
  std::unique_ptr<TcpProxy> proxy =
      TcpProxy::Start(store_->endpoint(0), &error);
  ASSERT_NE(proxy, nullptr) << error;
  std::unique_ptr<backend::Backend> via_proxy =
      Open(store_->Url(proxy->endpoint()));
  backend::EventSink sink;
  auto s = Open(seconds(3), &sink, via_proxy.get());
  ASSERT_NE(s, nullptr);
  auto is_renewal = [](const Event& ev) {
    return ev.kind == Event::Kind::kRenewed;
  };
  ASSERT_TRUE(AwaitEvent(sink, is_renewal));

  proxy->Hold(TcpProxy::Direction::kToClient);
  MonoTime held = clock().Now();
  // Renewals keep going out while their answers wait: bytes forwarded
  // RenewalWithin() after the hold show that at least one went out.
  ASSERT_TRUE(proxy->AwaitForward(
      TcpProxy::Direction::kToServer, held + RenewalWithin(),
      std::chrono::duration_cast<milliseconds>(kPatience)))
      << "no renewal reached the store";
  sink.Drain();  // nothing of ours arrived meanwhile: answers are held
  MonoTime released = clock().Now();
  proxy->Release(TcpProxy::Direction::kToClient);

  auto e = AwaitEvent(sink, is_renewal);
  ASSERT_TRUE(e);
  // An arrival stamp would be later than the release.
  EXPECT_LT(e->sent, released);
  EXPECT_GE(e->sent, held - seconds(3));
  EXPECT_EQ(e->ttl, seconds(3));
}

TEST_P(BackendContractTest, ASessionEndedFromOutsideIsReportedLost) {
  backend::EventSink sink;
  auto s = Open(seconds(3), &sink);
  ASSERT_NE(s, nullptr);
  backend::Contender c = Contend(*s, "v");
  EndFromOutside(*s);
  auto e = AwaitEvent(sink, [](const Event& ev) {
    return ev.kind == Event::Kind::kSessionLost;
  });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status.code(), Code::kSessionLost);
  EXPECT_FALSE(Read(c.self.key));
}

TEST_P(BackendContractTest, UnreachableStoreFailsByTheDeadline) {
  std::unique_ptr<backend::Backend> dead = Open(store_->Url("127.0.0.1:1"));
  ASSERT_NE(dead, nullptr);
  MonoTime start = clock().Now();
  backend::EventSink sink;
  Result<std::unique_ptr<backend::Session>> s =
      dead->OpenSession(seconds(5), start + milliseconds(700), &sink, 1);
  Duration took = clock().Now() - start;
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().code() == Code::kUnavailable ||
              s.status().code() == Code::kDeadlineExceeded)
      << s.status().ToString();
  // It waited for the store rather than failing at once, and gave up by its
  // deadline rather than hanging; the upper bound only catches a hang.
  EXPECT_GE(took, milliseconds(700));
  EXPECT_LT(took, seconds(10));
  EXPECT_NE(s.status().message().find("127.0.0.1:1"), std::string::npos)
      << s.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Stores, BackendContractTest, BothStores(), StoreName);

// etcd only: its contender keys are the original's <prefix><lease-hex>, so
// a key written there by someone else is refused rather than shared.
class EtcdLayoutTest : public StoreTest {
 protected:
  void SetUp() override {
    CONCH_REQUIRE_STORE();
    StartStore();
  }
};

TEST_P(EtcdLayoutTest, ContenderKeysAreTheOriginalsAndForeignOnesRefused) {
  backend::EventSink sink;
  auto s = backend_->OpenSession(seconds(5), Soon(), &sink, 1);
  ASSERT_TRUE(s.ok());
  char hex[24];
  snprintf(hex, sizeof(hex), "%llx",
           static_cast<unsigned long long>((*s)->id()));
  EtcdctlResult put =
      RunEtcdctl(store_->endpoints(), {"put", Prefix() + hex, "foreign"});
  ASSERT_EQ(put.exit_code, 0) << put.errors;
  auto c = backend_->CreateContender(**s, Prefix(), "v", Soon());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kAlreadyExists);

  auto t = backend_->CreateContender(**s, Prefix() + "o/", "v", Soon());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->self.key, Prefix() + "o/" + hex);
}

INSTANTIATE_TEST_SUITE_P(Stores, EtcdLayoutTest,
                         ::testing::Values(StoreKind::kEtcd), StoreName);

class BackendFailoverTest : public StoreTest {
 protected:
  void SetUp() override {
    CONCH_REQUIRE_STORE();
    StartStore(3);
  }
};

TEST_P(BackendFailoverTest, RenewalsAndCallsSurviveTheDeathOfTheirMember) {
  // Every member is reached through a proxy, which shows which member the
  // client really talks to: that one is killed.
  std::string error;
  std::vector<std::unique_ptr<TcpProxy>> proxies;
  std::string hosts;
  for (int i = 0; i < store_->size(); ++i) {
    proxies.push_back(TcpProxy::Start(store_->endpoint(i), &error));
    ASSERT_NE(proxies.back(), nullptr) << error;
    hosts += (i > 0 ? "," : "") + proxies.back()->endpoint();
  }
  std::unique_ptr<backend::Backend> client = Open(store_->Url(hosts));
  backend::EventSink sink;
  Result<std::unique_ptr<backend::Session>> s =
      client->OpenSession(seconds(3), Soon(), &sink, 1);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto is_renewal = [](const Event& ev) {
    return ev.kind == Event::Kind::kRenewed;
  };
  ASSERT_TRUE(AwaitEvent(sink, is_renewal));
  int used = -1;
  for (int i = 0; i < store_->size(); ++i) {
    if (proxies[i]->accepted() > 0) used = i;
  }
  ASSERT_GE(used, 0) << "no member saw the client";

  ASSERT_TRUE(store_->Kill(used));
  MonoTime killed = clock().Now();
  // A renewal sent after the death, with a TTL, proves the session never
  // expired.
  auto e = AwaitEvent(sink, [&](const Event& ev) {
    return ev.kind == Event::Kind::kSessionLost ||
           (is_renewal(ev) && ev.sent > killed);
  });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, Event::Kind::kRenewed) << e->status.ToString();
  EXPECT_EQ(e->ttl, seconds(3));
  auto listing = client->List("/conch-test/none/", 1, Soon());
  EXPECT_TRUE(listing.ok()) << listing.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Stores, BackendFailoverTest, BothStores(), StoreName);

}  // namespace
}  // namespace conch::testing
