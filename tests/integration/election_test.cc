// The election primitive against a real store: FIFO order, handover
// without re-reading when the leader leaves, and loss on outside faults.
#include "primitives/election.h"

#include <array>
#include <thread>

#include <gtest/gtest.h>

#include "base/signals.h"
#include "cli/run_claim.h"
#include "primitives/keys.h"
#include "servers/tcp_proxy.h"
#include "store_fixture.h"

namespace conch::testing {
namespace {

using primitives::Election;
using std::chrono::milliseconds;
using std::chrono::seconds;

class ElectionTest : public StoreTest {
 protected:
  void SetUp() override {
    CONCH_REQUIRE_STORE();
    StartStore();
  }

  std::unique_ptr<Election> Candidate(const std::string& office,
                                      const std::string& value,
                                      backend::Backend* backend = nullptr) {
    primitives::ElectionOptions o;
    o.office = office;
    o.value = value;
    o.session.ttl = seconds(3);
    o.session.kill_after = seconds(1);
    o.session.request_timeout = seconds(3);
    auto e = std::make_unique<Election>(
        backend != nullptr ? backend : backend_.get(), o);
    Status s = e->Acquire();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return e;
  }

  std::string Office() const {
    std::string name =
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) {
      if (c == '/') c = '-';
    }
    return name;
  }
};

TEST_P(ElectionTest, VacantOfficeIsWonAtOnce) {
  auto a = Candidate(Office(), "a");
  EXPECT_EQ(a->state(), Election::State::kHeld);
  EXPECT_GT(a->revision(), 0);
  EXPECT_TRUE(a->key().starts_with(primitives::ElectPrefix(Office())));
  EXPECT_NE(a->session_id(), 0);
  EXPECT_TRUE(a->deadline().Usable(clock().Now()));
}

TEST_P(ElectionTest, CandidatesAreServedInArrivalOrder) {
  auto a = Candidate(Office(), "a");
  auto b = Candidate(Office(), "b");
  auto c = Candidate(Office(), "c");
  ASSERT_EQ(a->state(), Election::State::kHeld);
  EXPECT_EQ(b->state(), Election::State::kWaiting);
  EXPECT_EQ(c->state(), Election::State::kWaiting);
  ASSERT_TRUE(PumpUntilWatching(*c));

  ASSERT_TRUE(a->Release().ok());
  EXPECT_TRUE(PumpUntilState(*b, Election::State::kHeld));
  // c watches b only: a's leaving does not even wake c. Proof: a later
  // change to b's key reaches c, and it is the only change c has seen
  // (changes arrive in order, so a's would have come first).
  ASSERT_TRUE(TouchKey(*b));
  ASSERT_TRUE(
      PumpUntil({c.get()}, [&] { return c->last_change_key() == b->key(); }));
  EXPECT_EQ(c->changes_seen(), 1u);
  EXPECT_EQ(c->state(), Election::State::kWaiting);
  EXPECT_GT(c->revision(), b->revision());

  ASSERT_TRUE(b->Release().ok());
  EXPECT_TRUE(PumpUntilState(*c, Election::State::kHeld));
}

TEST_P(ElectionTest, AWaiterLeavingOutOfOrderKeepsTheQueueIntact) {
  auto a = Candidate(Office(), "a");
  auto b = Candidate(Office(), "b");
  auto c = Candidate(Office(), "c");
  ASSERT_TRUE(PumpUntilWatching(*c));
  ASSERT_TRUE(b->Release().ok());  // c's predecessor leaves the queue
  // c hears of it, re-reads the queue and now waits behind a.
  ASSERT_TRUE(PumpUntil({c.get()}, [&] { return c->changes_seen() >= 1; }));
  EXPECT_EQ(c->state(), Election::State::kWaiting);
  ASSERT_TRUE(a->Release().ok());
  EXPECT_TRUE(PumpUntilState(*c, Election::State::kHeld));
}

TEST_P(ElectionTest, DeletingTheLeadersKeyEndsItsLeadership) {
  auto a = Candidate(Office(), "a");
  ASSERT_EQ(a->state(), Election::State::kHeld);
  ASSERT_TRUE(PumpUntilWatching(*a));
  ASSERT_TRUE(DeleteBehindBack(a->key()));
  EXPECT_TRUE(PumpUntilState(*a, Election::State::kLost));
  EXPECT_NE(a->loss().message().find("deleted"), std::string::npos);
}

// The key may go before the watch on it is live: the read that follows the
// watch going live finds it gone.
TEST_P(ElectionTest, AKeyDeletedBeforeItsWatchIsLiveIsStillNoticed) {
  auto a = Candidate(Office(), "a");
  ASSERT_EQ(a->state(), Election::State::kHeld);
  ASSERT_TRUE(DeleteBehindBack(a->key()));
  EXPECT_TRUE(PumpUntilState(*a, Election::State::kLost));
  EXPECT_NE(a->loss().message().find("deleted"), std::string::npos);
}

TEST_P(ElectionTest, EndingTheSessionEndsLeadershipAndPromotesTheNext) {
  auto a = Candidate(Office(), "a");
  auto b = Candidate(Office(), "b");
  EndFromOutside(a->store_session());
  EXPECT_TRUE(PumpUntilState(*a, Election::State::kLost));
  EXPECT_TRUE(PumpUntilState(*b, Election::State::kHeld));
}

TEST_P(ElectionTest, RenewalsMoveTheDeadlineForward) {
  auto a = Candidate(Office(), "a");
  MonoTime first = a->deadline().valid_until();
  EXPECT_TRUE(PumpUntil({a.get()},
                        [&] { return a->deadline().valid_until() > first; }));
  EXPECT_EQ(a->state(), Election::State::kHeld);
}

// The fail-closed deadline counts from when a renewal was sent, not from
// when its answer came: a proxy holds the store's answers back while the
// renewals themselves go through.
TEST_P(ElectionTest, TheDeadlineCountsFromTheSendOfTheAnsweredRenewal) {
  std::string error;
  std::unique_ptr<TcpProxy> proxy =
      TcpProxy::Start(store_->endpoint(0), &error);
  ASSERT_NE(proxy, nullptr) << error;
  std::unique_ptr<backend::Backend> via_proxy =
      Open(store_->Url(proxy->endpoint()));
  auto a = Candidate(Office(), "a", via_proxy.get());
  ASSERT_EQ(a->state(), Election::State::kHeld);
  MonoTime granted = a->deadline().valid_until();
  ASSERT_TRUE(PumpUntil({a.get()},
                        [&] { return a->deadline().valid_until() > granted; }));

  // Answers wait in the proxy while renewals still reach the store: bytes
  // forwarded RenewalWithin() after the hold show that at least one went
  // out.
  proxy->Hold(TcpProxy::Direction::kToClient);
  MonoTime held = clock().Now();
  MonoTime before = a->deadline().valid_until();
  ASSERT_TRUE(proxy->AwaitForward(
      TcpProxy::Direction::kToServer, held + RenewalWithin(),
      std::chrono::duration_cast<milliseconds>(kPatience)))
      << "no renewal reached the store";
  MonoTime released = clock().Now();
  proxy->Release(TcpProxy::Direction::kToClient);

  ASSERT_TRUE(PumpUntil({a.get()},
                        [&] { return a->deadline().valid_until() > before; }));
  // Counted from an arrival, the deadline would lie beyond released + ttl.
  EXPECT_LT(a->deadline().valid_until(), released + seconds(3));
  EXPECT_EQ(a->state(), Election::State::kHeld);
}

TEST_P(ElectionTest, ResignFreesTheOfficeAtOnce) {
  auto a = Candidate(Office(), "a");
  ASSERT_TRUE(a->Release().ok());
  auto listing = backend_->List(primitives::ElectPrefix(Office()), 0, Soon());
  ASSERT_TRUE(listing.ok());
  EXPECT_TRUE(listing->empty());
}

INSTANTIATE_TEST_SUITE_P(Stores, ElectionTest, BothStores(), StoreName);

// etcd only: a key rewritten by another client loses its lease there, so
// the leader's key is no longer its own. (A ZooKeeper node keeps its owner
// whoever writes its data.)
using EtcdElectionTest = ElectionTest;

TEST_P(EtcdElectionTest, OverwritingTheLeadersKeyEndsItsLeadership) {
  auto a = Candidate(Office(), "a");
  ASSERT_TRUE(PumpUntilWatching(*a));
  EtcdctlResult r = RunEtcdctl(store_->endpoints(), {"put", a->key(), "x"});
  ASSERT_EQ(r.exit_code, 0) << r.errors;
  EXPECT_TRUE(PumpUntilState(*a, Election::State::kLost));
  EXPECT_NE(a->loss().message().find("replaced"), std::string::npos);
}

// A hold taken while the store's answers were slow starts with a deadline
// counted from the grant, already too close to start a command; the run
// waits for the renewals under way rather than give up. (etcd only: the
// ZooKeeper client gives up a connection whose handshake is this slow, so
// the same fault there is a failed connect, not a slow grant.)
TEST_P(EtcdElectionTest, AHoldTakenSlowlyWaitsForARenewalBeforeTheCommand) {
  std::string error;
  std::unique_ptr<TcpProxy> proxy =
      TcpProxy::Start(store_->endpoint(0), &error);
  ASSERT_NE(proxy, nullptr) << error;
  std::unique_ptr<backend::Backend> via_proxy = Open(proxy->endpoint());
  // The channel is ready first, so that the grant goes out at once.
  ASSERT_TRUE(via_proxy->List("/", 1, Soon()).ok());
  primitives::ElectionOptions o;
  o.office = Office();
  o.value = "a";
  o.session.ttl = seconds(3);
  o.session.kill_after = seconds(1);
  o.session.request_timeout = seconds(30);
  Election a(via_proxy.get(), o);

  // Every answer waits 2.5 s in the proxy: longer than the 1.85 s a 3 s
  // TTL leaves before a command would be signalled.
  proxy->Hold(TcpProxy::Direction::kToClient);
  std::jthread release([&] {
    std::this_thread::sleep_for(milliseconds(2500));
    proxy->Release(TcpProxy::Direction::kToClient);
  });
  Status s = a.Acquire();
  release.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(a.state(), Election::State::kHeld);
  ASSERT_FALSE(a.deadline().Usable(clock().Now()))
      << "the grant's deadline should be too close by now";

  Result<SignalFd> signals = SignalFd::Open();
  ASSERT_TRUE(signals.ok()) << signals.status().ToString();
  EventLoop loop(clock());
  std::optional<cli::Round> ended = cli::AwaitUsable(loop, a, *signals);
  EXPECT_FALSE(ended) << "the round ended with " << ended->exit_code;
  EXPECT_TRUE(a.deadline().Usable(clock().Now()));
  EXPECT_EQ(a.state(), Election::State::kHeld);
}

INSTANTIATE_TEST_SUITE_P(Stores, EtcdElectionTest,
                         ::testing::Values(StoreKind::kEtcd), StoreName);

}  // namespace
}  // namespace conch::testing
