#include "primitives/admission.h"

#include <random>

#include <gtest/gtest.h>

namespace conch::primitives {
namespace {

using A = Admission;

std::vector<ClaimInfo> Claims(std::initializer_list<int64_t> weights) {
  std::vector<ClaimInfo> out;
  int64_t rev = 10;
  for (int64_t w : weights) out.push_back({rev++, w, false, "h"});
  return out;
}

TEST(AdmissionTest, UnitClaimsHoldUpToMaxInArrivalOrder) {
  EXPECT_EQ(Admit(Claims({1, 1, 1, 1}), 2),
            (std::vector<A>{A::kHolds, A::kHolds, A::kWaits, A::kWaits}));
  EXPECT_EQ(Admit({}, 3), std::vector<A>{});
}

TEST(AdmissionTest, WeightsAreTakenWhole) {
  EXPECT_EQ(Admit(Claims({2, 1}), 3), (std::vector<A>{A::kHolds, A::kHolds}));
  EXPECT_EQ(Admit(Claims({2, 2}), 3), (std::vector<A>{A::kHolds, A::kWaits}));
}

TEST(AdmissionTest, AHeavyHeadBlocksLighterClaimsBehindIt) {
  EXPECT_EQ(Admit(Claims({2, 2, 1}), 3),
            (std::vector<A>{A::kHolds, A::kWaits, A::kWaits}));
}

TEST(AdmissionTest, AnyHolderLeavingAdmitsTheHead) {
  // The original admitted a waiter only when the holder max places ahead
  // of it left; here whichever holder leaves frees its unit.
  std::vector<ClaimInfo> c = Claims({1, 1, 1});
  c.erase(c.begin() + 1);  // the newer holder leaves
  EXPECT_EQ(Admit(c, 2), (std::vector<A>{A::kHolds, A::kHolds}));
}

TEST(AdmissionTest, SpreadSkipsASecondClaimFromOneHostWithoutBlocking) {
  std::vector<ClaimInfo> c = {{1, 1, true, "a"},
                              {2, 1, true, "a"},
                              {3, 1, true, "b"},
                              {4, 1, false, "a"}};
  EXPECT_EQ(Admit(c, 3),
            (std::vector<A>{A::kHolds, A::kSkipped, A::kHolds, A::kHolds}));
  c.erase(c.begin());  // a's first claim leaves: its host-mate takes over
  EXPECT_EQ(Admit(c, 3), (std::vector<A>{A::kHolds, A::kHolds, A::kHolds}));
}

// The safety property: whatever leaves or arrives, a claim that holds keeps
// holding. Checked over random queues with every deletion and an append.
TEST(AdmissionTest, HoldersKeepTheirUnitsWhateverLeaves) {
  std::mt19937 rng(42);
  for (int round = 0; round < 3000; ++round) {
    int64_t max = 1 + static_cast<int64_t>(rng() % 4);
    int n = 1 + static_cast<int>(rng() % 8);
    std::vector<ClaimInfo> claims;
    for (int i = 0; i < n; ++i) {
      bool spread = rng() % 2 == 0;
      int64_t weight = spread ? 1 : 1 + static_cast<int64_t>(rng() % max);
      claims.push_back(
          {i + 1, weight, spread, std::string(1, 'a' + rng() % 3)});
    }
    std::vector<A> before = Admit(claims, max);
    int64_t used = 0;
    for (size_t i = 0; i < claims.size(); ++i) {
      if (before[i] == A::kHolds) used += claims[i].weight;
    }
    ASSERT_LE(used, max);
    for (size_t gone = 0; gone < claims.size(); ++gone) {
      std::vector<ClaimInfo> after = claims;
      after.erase(after.begin() + static_cast<long>(gone));
      after.push_back({100, 1, rng() % 2 == 0, "a"});
      std::vector<A> verdict = Admit(after, max);
      for (size_t i = 0, j = 0; i < claims.size(); ++i) {
        if (i == gone) continue;
        if (before[i] == A::kHolds) {
          ASSERT_EQ(verdict[j], A::kHolds) << "round " << round;
        }
        ++j;
      }
    }
  }
}

}  // namespace
}  // namespace conch::primitives
