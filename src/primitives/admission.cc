#include "primitives/admission.h"

#include <set>

namespace conch::primitives {

std::vector<Admission> Admit(const std::vector<ClaimInfo>& claims,
                             int64_t max) {
  std::vector<Admission> out;
  out.reserve(claims.size());
  int64_t used = 0;
  bool blocked = false;
  std::set<std::string> spread_hosts;  // hosts holding through --spread
  for (const ClaimInfo& c : claims) {
    if (c.spread && spread_hosts.count(c.host) != 0) {
      out.push_back(Admission::kSkipped);
    } else if (!blocked && used + c.weight <= max) {
      out.push_back(Admission::kHolds);
      used += c.weight;
      if (c.spread) spread_hosts.insert(c.host);
    } else {
      out.push_back(Admission::kWaits);
      blocked = true;
    }
  }
  return out;
}

}  // namespace conch::primitives
