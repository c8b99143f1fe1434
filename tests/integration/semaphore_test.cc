// The semaphore primitive against a real store: admission whichever holder
// leaves, weights, --spread, loss on outside faults, and herd-free waking.
#include "primitives/semaphore.h"

#include <gtest/gtest.h>

#include "primitives/holder.h"
#include "primitives/keys.h"
#include "store_fixture.h"

namespace conch::testing {
namespace {

using primitives::Claim;
using primitives::Semaphore;
using std::chrono::seconds;

class SemaphoreTest : public StoreTest {
 protected:
  void SetUp() override {
    CONCH_REQUIRE_STORE();
    StartStore();
  }

  std::unique_ptr<Semaphore> Claimant(int64_t max, int64_t weight = 1,
                                      bool spread = false,
                                      const std::string& host = "h1") {
    primitives::SemaphoreOptions o;
    o.name = Name();
    o.max = max;
    o.weight = weight;
    o.spread = spread;
    primitives::Holder holder{host, 1, "2026-01-01T00:00:00Z", "test"};
    holder.weight = weight;
    holder.spread = spread;
    o.value = primitives::EncodeHolder(holder);
    holder.held = true;
    o.held_value = primitives::EncodeHolder(holder);
    o.session.ttl = seconds(30);  // no keep-alive traffic in a test's window
    o.session.kill_after = seconds(1);
    o.session.request_timeout = seconds(3);
    auto s = std::make_unique<Semaphore>(backend_.get(), o);
    Status st = s->Acquire();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return s;
  }

  // Pumps every claim in `all` until `target` reaches `state`.
  static bool PumpUntil(std::vector<Semaphore*> all, Semaphore& target,
                        Claim::State state) {
    std::vector<Claim*> claims(all.begin(), all.end());
    return StoreTest::PumpUntil(claims,
                                [&] { return target.state() == state; });
  }

  std::string Name() const {
    return ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
};

TEST_P(SemaphoreTest, AnyHolderLeavingAdmitsTheHead) {
  auto a = Claimant(2), b = Claimant(2), c = Claimant(2);
  EXPECT_EQ(a->state(), Claim::State::kHeld);
  EXPECT_EQ(b->state(), Claim::State::kHeld);
  EXPECT_EQ(c->state(), Claim::State::kWaiting);
  ASSERT_TRUE(b->Release().ok());  // the newer holder leaves
  EXPECT_TRUE(PumpUntil({a.get(), c.get()}, *c, Claim::State::kHeld));
  EXPECT_EQ(a->state(), Claim::State::kHeld);
}

TEST_P(SemaphoreTest, AReleaseWakesOnlyWhoCanMoveUp) {
  auto a = Claimant(1), b = Claimant(1), c = Claimant(1), d = Claimant(1);
  // b is the head and watches the whole semaphore; c watches b; d, c.
  for (Semaphore* s : {b.get(), c.get(), d.get()}) {
    ASSERT_TRUE(PumpUntilWatching(*s));
  }
  ASSERT_TRUE(a->Release().ok());
  EXPECT_TRUE(PumpUntil({b.get()}, *b, Claim::State::kHeld));
  // b marked itself held, which wakes c, now the head of the line.
  ASSERT_TRUE(
      StoreTest::PumpUntil({c.get()}, [&] { return c->changes_seen() >= 1; }));
  EXPECT_EQ(c->state(), Claim::State::kWaiting);
  // d, behind c, heard nothing: a change to c's key made after all that
  // reaches d, and it is the only change d has seen (changes arrive in
  // order, so an earlier one would have come first).
  ASSERT_TRUE(TouchKey(*c));
  ASSERT_TRUE(StoreTest::PumpUntil(
      {d.get()}, [&] { return d->last_change_key() == c->key(); }));
  EXPECT_EQ(d->changes_seen(), 1u);
  EXPECT_EQ(d->state(), Claim::State::kWaiting);
  ASSERT_TRUE(b->Release().ok());
  EXPECT_TRUE(PumpUntil({c.get(), d.get()}, *c, Claim::State::kHeld));
  EXPECT_EQ(d->state(), Claim::State::kWaiting);
}

TEST_P(SemaphoreTest, WeightsAreTakenWholeInArrivalOrder) {
  auto a = Claimant(3, 2), b = Claimant(3, 2), c = Claimant(3, 1);
  EXPECT_EQ(a->state(), Claim::State::kHeld);
  EXPECT_EQ(b->state(), Claim::State::kWaiting);  // 1 unit free, needs 2
  EXPECT_EQ(c->state(), Claim::State::kWaiting);  // behind the heavy head
  ASSERT_TRUE(a->Release().ok());
  EXPECT_TRUE(PumpUntil({b.get(), c.get()}, *b, Claim::State::kHeld));
  EXPECT_TRUE(PumpUntil({b.get(), c.get()}, *c, Claim::State::kHeld));
}

TEST_P(SemaphoreTest, SpreadAdmitsOneClaimPerHost) {
  auto a = Claimant(2, 1, true, "hostA");
  auto b = Claimant(2, 1, true, "hostA");
  auto c = Claimant(2, 1, true, "hostB");
  EXPECT_EQ(a->state(), Claim::State::kHeld);
  EXPECT_EQ(b->state(), Claim::State::kWaiting);  // skipped, not blocking
  EXPECT_EQ(c->state(), Claim::State::kHeld);
  ASSERT_TRUE(a->Release().ok());
  EXPECT_TRUE(PumpUntil({b.get(), c.get()}, *b, Claim::State::kHeld));
}

TEST_P(SemaphoreTest, AHolderWhoseSessionEndsLosesAndItsUnitsPassOn) {
  auto a = Claimant(1), b = Claimant(1);
  EndFromOutside(a->store_session());
  EXPECT_TRUE(PumpUntil({a.get(), b.get()}, *a, Claim::State::kLost));
  EXPECT_TRUE(PumpUntil({a.get(), b.get()}, *b, Claim::State::kHeld));
}

TEST_P(SemaphoreTest, AdmittedClaimsMarkThemselvesHeld) {
  auto a = Claimant(1), b = Claimant(1);
  auto listing = backend_->List(primitives::SemaPrefix(Name(), 1), 0, Soon());
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->size(), 2u);
  EXPECT_TRUE(primitives::DecodeHolder((*listing)[0].value)->held);
  EXPECT_FALSE(primitives::DecodeHolder((*listing)[1].value)->held);
}

TEST_P(SemaphoreTest, DeletingAHoldersKeyLosesIt) {
  auto a = Claimant(1);
  ASSERT_EQ(a->state(), Claim::State::kHeld);
  ASSERT_TRUE(PumpUntilWatching(*a));
  ASSERT_TRUE(DeleteBehindBack(a->key()));
  EXPECT_TRUE(PumpUntil({a.get()}, *a, Claim::State::kLost));
}

INSTANTIATE_TEST_SUITE_P(Stores, SemaphoreTest, BothStores(), StoreName);

}  // namespace
}  // namespace conch::testing
