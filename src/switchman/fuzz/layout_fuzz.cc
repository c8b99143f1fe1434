// Fuzzes the parsers of node names other clients write (queue entries,
// mutex entries, leases) and the decisions taken on a listing of them.
// The input is a listing: child names separated by newlines; the first
// line's first byte picks our own sequence number.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "switchman/layout.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> children;
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    children.emplace_back(input.substr(start, end - start));
    start = end + 1;
  }
  const int64_t self = size > 0 ? data[0] % 16 : 0;
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
