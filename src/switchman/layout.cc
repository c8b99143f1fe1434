#include "switchman/layout.h"

#include <algorithm>
#include <charconv>

namespace conch::switchman {

namespace {

std::string Join(std::string_view a, std::string_view b) {
  std::string out(a);
  out += '/';
  out += b;
  return out;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
}

// A decimal integer, optionally negative; nullopt on anything else or on
// overflow.
std::optional<int64_t> ToInt(std::string_view s, bool allow_minus) {
  std::string_view digits = s;
  if (allow_minus && !digits.empty() && digits.front() == '-') {
    digits.remove_prefix(1);
  }
  if (!AllDigits(digits)) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// The sequence suffix of `name` after `stem`, or nullopt. The server
// writes 10 digits; like the original, any number of digits is read (a node
// made by hand), by value.
std::optional<int64_t> SequenceAfter(std::string_view name, size_t stem) {
  return ToInt(name.substr(stem), false);
}

// The entry with the greatest sequence below `self_seq` among `entries`.
std::optional<Sequenced> GreatestBelow(const std::vector<Sequenced>& entries,
                                       int64_t self_seq) {
  std::optional<Sequenced> best;
  for (const Sequenced& e : entries) {
    if (e.seq < self_seq && (!best || e.seq > best->seq)) best = e;
  }
  return best;
}

bool HasSeq(const std::vector<Sequenced>& entries, int64_t seq) {
  return std::any_of(entries.begin(), entries.end(),
                     [&](const Sequenced& e) { return e.seq == seq; });
}

}  // namespace

std::string Layout::lock(std::string_view lockname) const {
  return Join(locks(), lockname);
}
std::string Layout::queue(std::string_view res) const {
  return Join(queues(), res);
}
std::string Layout::queue_entry_prefix(std::string_view res,
                                       std::string_view lockname) const {
  return Join(queue(res), lockname) + "-";
}
std::string Layout::semaphore(std::string_view res) const {
  return Join(semaphores(), res);
}
std::string Layout::mutex(std::string_view res) const {
  return semaphore(res) + "/lock";
}
std::string Layout::mutex_entry_prefix(std::string_view res) const {
  return mutex(res) + "/acquire-";
}
std::string Layout::leases(std::string_view res) const {
  return semaphore(res) + "/leases";
}
std::string Layout::lease_entry_prefix(std::string_view res, int64_t count,
                                       int64_t total) const {
  return leases(res) + "/" + std::to_string(count) + "_" +
         std::to_string(total) + "_";
}

std::optional<Sequenced> ParseQueueEntry(std::string_view name) {
  const size_t dash = name.rfind('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::optional<int64_t> seq = SequenceAfter(name, dash + 1);
  if (!seq) return std::nullopt;
  return Sequenced{std::string(name), *seq};
}

bool IsQueueEntryOf(std::string_view name, std::string_view lockname) {
  // "^<lockname>-\d+$": any number of digits, as the original matches.
  if (name.size() < lockname.size() + 2) return false;
  if (name.substr(0, lockname.size()) != lockname) return false;
  if (name[lockname.size()] != '-') return false;
  return AllDigits(name.substr(lockname.size() + 1));
}

std::optional<Sequenced> ParseMutexEntry(std::string_view name) {
  constexpr std::string_view kStem = "acquire-";
  if (name.substr(0, kStem.size()) != kStem) return std::nullopt;
  std::optional<int64_t> seq = SequenceAfter(name, kStem.size());
  if (!seq) return std::nullopt;
  return Sequenced{std::string(name), *seq};
}

std::optional<LeaseNode> ParseLeaseNode(std::string_view name) {
  const size_t first = name.find('_');
  if (first == std::string_view::npos) return std::nullopt;
  const size_t second = name.find('_', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  std::optional<int64_t> count = ToInt(name.substr(0, first), true);
  std::optional<int64_t> total =
      ToInt(name.substr(first + 1, second - first - 1), false);
  std::optional<int64_t> seq = SequenceAfter(name, second + 1);
  if (!count || !total || !seq) return std::nullopt;
  return LeaseNode{std::string(name), *count, *total, *seq};
}

Result<std::optional<Sequenced>> QueuePredecessor(
    const std::vector<std::string>& children, int64_t self_seq,
    std::string_view queue_path) {
  std::vector<Sequenced> entries;
  entries.reserve(children.size());
  for (const std::string& child : children) {
    std::optional<Sequenced> e = ParseQueueEntry(child);
    if (!e) {
      return Error(
          Code::kFailedPrecondition,
          "Unexpected item " + child + " in queue " + std::string(queue_path));
    }
    entries.push_back(std::move(*e));
  }
  if (!HasSeq(entries, self_seq)) {
    return Error(Code::kNotFound, "Lost position " + std::to_string(self_seq) +
                                      " in queue " + std::string(queue_path));
  }
  return GreatestBelow(entries, self_seq);
}

Result<std::optional<Sequenced>> MutexPredecessor(
    const std::vector<std::string>& children, int64_t self_seq,
    std::string_view mutex_path) {
  std::vector<Sequenced> entries;
  for (const std::string& child : children) {
    if (std::optional<Sequenced> e = ParseMutexEntry(child)) {
      entries.push_back(std::move(*e));
    }
  }
  if (!HasSeq(entries, self_seq)) {
    return Error(Code::kNotFound, "lost our entry " + std::to_string(self_seq) +
                                      " in the semaphore's mutex " +
                                      std::string(mutex_path));
  }
  return GreatestBelow(entries, self_seq);
}

Result<int64_t> LeasesInUse(const std::vector<std::string>& children,
                            int64_t total, std::string_view leases_path) {
  int64_t sum = 0;
  for (const std::string& child : children) {
    std::optional<LeaseNode> lease = ParseLeaseNode(child);
    if (!lease) {
      return Error(Code::kFailedPrecondition,
                   "Unexpected lease " + std::string(leases_path) + "/" +
                       child + ": not <count>_<total>_<sequence>");
    }
    if (lease->total != total) {
      return Error(Code::kFailedPrecondition,
                   "Totals mismatch: " + std::string(leases_path) + "/" +
                       child + " " + std::to_string(total));
    }
    if (__builtin_add_overflow(sum, lease->count, &sum)) {
      return Error(Code::kFailedPrecondition, "the counts of the leases in " +
                                                  std::string(leases_path) +
                                                  " overflow");
    }
  }
  return sum;
}

}  // namespace conch::switchman
