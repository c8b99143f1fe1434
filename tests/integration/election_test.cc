// The election primitive against a real store: FIFO order, handover
// without re-reading when the leader leaves, and loss on outside faults.
#include "primitives/election.h"

#include <array>

#include <gtest/gtest.h>

#include "base/signals.h"
#include "primitives/keys.h"
#include "store_fixture.h"

namespace conch::testing {
namespace {

using primitives::Election;
using std::chrono::milliseconds;
using std::chrono::seconds;

class ElectionTest : public StoreTest {
 protected:
  void SetUp() override {
    CONCH_REQUIRE_ETCD();
    StartStore();
  }

  std::unique_ptr<Election> Candidate(const std::string& office,
                                      const std::string& value) {
    primitives::ElectionOptions o;
    o.office = office;
    o.value = value;
    o.session.ttl = seconds(3);
    o.session.kill_after = seconds(1);
    o.session.request_timeout = seconds(3);
    auto e = std::make_unique<Election>(backend_.get(), o);
    Status s = e->Acquire();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return e;
  }

  // Pumps `e` until `state` or the timeout.
  static bool PumpUntil(Election& e, Election::State state,
                        Duration timeout = seconds(2)) {
    MonoTime until = MonoNow() + timeout;
    while (e.state() != state && MonoNow() < until) {
      std::array<int, 1> fds = {e.fd()};
      Result<int> r =
          WaitReadable(fds, std::min(until, MonoNow() + milliseconds(100)));
      if (r.ok() && *r == 0) {
        Status s = e.Pump();
        EXPECT_TRUE(s.ok()) << s.ToString();
      }
    }
    return e.state() == state;
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
  EXPECT_EQ(a->key(), primitives::ElectKey(Office(), a->lease_id()));
  EXPECT_TRUE(a->deadline().Usable(MonoNow()));
}

TEST_P(ElectionTest, CandidatesAreServedInArrivalOrder) {
  auto a = Candidate(Office(), "a");
  auto b = Candidate(Office(), "b");
  auto c = Candidate(Office(), "c");
  ASSERT_EQ(a->state(), Election::State::kHeld);
  EXPECT_EQ(b->state(), Election::State::kWaiting);
  EXPECT_EQ(c->state(), Election::State::kWaiting);

  ASSERT_TRUE(a->Release().ok());
  EXPECT_TRUE(PumpUntil(*b, Election::State::kHeld));
  // c watches b only: a's leaving does not promote c.
  EXPECT_FALSE(PumpUntil(*c, Election::State::kHeld, milliseconds(300)));
  EXPECT_GT(c->revision(), b->revision());

  ASSERT_TRUE(b->Release().ok());
  EXPECT_TRUE(PumpUntil(*c, Election::State::kHeld));
}

TEST_P(ElectionTest, AWaiterLeavingOutOfOrderKeepsTheQueueIntact) {
  auto a = Candidate(Office(), "a");
  auto b = Candidate(Office(), "b");
  auto c = Candidate(Office(), "c");
  ASSERT_TRUE(b->Release().ok());  // c's predecessor leaves the queue
  EXPECT_FALSE(PumpUntil(*c, Election::State::kHeld, milliseconds(300)));
  EXPECT_EQ(c->state(), Election::State::kWaiting);  // now behind a
  ASSERT_TRUE(a->Release().ok());
  EXPECT_TRUE(PumpUntil(*c, Election::State::kHeld));
}

TEST_P(ElectionTest, DeletingTheLeadersKeyEndsItsLeadership) {
  auto a = Candidate(Office(), "a");
  ASSERT_EQ(a->state(), Election::State::kHeld);
  EtcdctlResult r = RunEtcdctl(cluster_->endpoints(), {"del", a->key()});
  ASSERT_EQ(r.exit_code, 0) << r.errors;
  EXPECT_TRUE(PumpUntil(*a, Election::State::kLost));
  EXPECT_NE(a->loss().message().find("deleted"), std::string::npos);
}

TEST_P(ElectionTest, OverwritingTheLeadersKeyEndsItsLeadership) {
  auto a = Candidate(Office(), "a");
  EtcdctlResult r = RunEtcdctl(cluster_->endpoints(), {"put", a->key(), "x"});
  ASSERT_EQ(r.exit_code, 0) << r.errors;
  EXPECT_TRUE(PumpUntil(*a, Election::State::kLost));
  EXPECT_NE(a->loss().message().find("replaced"), std::string::npos);
}

TEST_P(ElectionTest, RevokingTheLeaseEndsLeadershipAndPromotesTheNext) {
  auto a = Candidate(Office(), "a");
  auto b = Candidate(Office(), "b");
  EtcdctlResult r =
      RunEtcdctl(cluster_->endpoints(),
                 {"lease", "revoke", primitives::LeaseHex(a->lease_id())});
  ASSERT_EQ(r.exit_code, 0) << r.errors;
  EXPECT_TRUE(PumpUntil(*a, Election::State::kLost));
  EXPECT_TRUE(PumpUntil(*b, Election::State::kHeld));
}

TEST_P(ElectionTest, RenewalsMoveTheDeadlineForward) {
  auto a = Candidate(Office(), "a");
  MonoTime first = a->deadline().valid_until();
  MonoTime until = MonoNow() + seconds(3);
  while (a->deadline().valid_until() == first && MonoNow() < until) {
    std::array<int, 1> fds = {a->fd()};
    Result<int> ready = WaitReadable(fds, until);
    if (ready.ok() && *ready == 0) {
      ASSERT_TRUE(a->Pump().ok());
    }
  }
  EXPECT_GT(a->deadline().valid_until(), first);
  EXPECT_EQ(a->state(), Election::State::kHeld);
}

TEST_P(ElectionTest, ResignFreesTheOfficeAtOnce) {
  auto a = Candidate(Office(), "a");
  ASSERT_TRUE(a->Release().ok());
  auto listing = backend_->List(primitives::ElectPrefix(Office()), 0, Soon());
  ASSERT_TRUE(listing.ok());
  EXPECT_TRUE(listing->first.empty());
}

INSTANTIATE_TEST_SUITE_P(Stores, ElectionTest,
                         ::testing::Values(StoreKind::kEtcd), StoreName);

}  // namespace
}  // namespace conch::testing
