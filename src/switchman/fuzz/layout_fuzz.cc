// Fuzzes the parsers of node names other clients write (queue entries,
// mutex entries, leases) and the decisions taken on a listing of them.
// The input is a listing: child names separated by NUL bytes; the first
// byte picks our own sequence number.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/fuzz/fuzz_util.h"
#include "switchman/layout.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> children =
      conch::fuzz::SplitOnNul(conch::fuzz::AsText(data, size));
  if (children.empty()) return 0;
  const int64_t self = data[0] % 16;
  for (const std::string& child : children) {
    (void)conch::switchman::ParseQueueEntry(child);
    (void)conch::switchman::ParseMutexEntry(child);
    (void)conch::switchman::ParseLeaseNode(child);
    (void)conch::switchman::IsQueueEntryOf(child, children.front());
  }
  (void)conch::switchman::QueuePredecessor(children, self, "/q");
  (void)conch::switchman::MutexPredecessor(children, self, "/m");
  (void)conch::switchman::LeasesInUse(children, self + 1, "/l");
  return 0;
}
