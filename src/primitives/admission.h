// The semaphore's admission rule: which queued claims hold units.
//
// Claims are ordered by create revision (arrival). Walking them in order
// with a running sum of weights:
//  - a --spread claim whose host already holds through an earlier --spread
//    claim is *skipped*: it neither holds nor blocks, and keeps its place;
//  - otherwise, if nothing earlier is blocked and the sum plus its weight
//    fits in max, it *holds* and its weight is added;
//  - otherwise it *waits* and blocks every later claim (strict FIFO: a heavy
//    claim at the head of the line holds back lighter ones behind it).
//
// The rule depends only on the ordered set of claims, so every process that
// sees the same keys reaches the same answer. Safety rests on monotonicity:
// deleting claims or appending new ones never takes a unit from a claim
// that holds. That is why --spread claims have weight 1: a skipped claim
// then only ever takes the place of its host-mate, unit for unit
// (AdmissionTest.HoldersKeepTheirUnitsWhateverLeaves checks this).
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace conch::primitives {

struct ClaimInfo {
  int64_t create_revision = 0;
  int64_t weight = 1;
  bool spread = false;
  std::string host;
};

enum class Admission { kHolds, kWaits, kSkipped };

// `claims` must be sorted by create revision. Returns one verdict per claim.
std::vector<Admission> Admit(const std::vector<ClaimInfo>& claims, int64_t max);

}  // namespace conch::primitives
