#include "backend/zookeeper/zk_names.h"

#include <algorithm>
#include <tuple>

#include "base/strings.h"

namespace conch::backend::zk {
namespace {

constexpr size_t kSequenceDigits = 10;
constexpr size_t kMaxHexDigits = 16;

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Absolute, no empty component between the leading '/' and `end`.
bool WellFormed(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  return path.find("//") == std::string_view::npos;
}

bool OlderThan(const ChildName& a, const ChildName& b) {
  return std::tie(a.sequence, a.name) < std::tie(b.sequence, b.name);
}

}  // namespace

std::string SessionHex(int64_t session_id) {
  auto bits = static_cast<uint64_t>(session_id);
  std::string out;
  do {
    out.push_back("0123456789abcdef"[bits & 0xf]);
    bits >>= 4;
  } while (bits != 0);
  std::reverse(out.begin(), out.end());
  return out;
}

Status CheckPrefix(std::string_view prefix) {
  if (!WellFormed(prefix) || prefix.back() != '/') {
    return Error(Code::kInvalidArgument,
                 "zookeeper prefix " + Quote(prefix) +
                     ": want an absolute path ending in '/'");
  }
  return Status::Ok();
}

Status CheckKey(std::string_view key) {
  if (!WellFormed(key) || (key.size() > 1 && key.back() == '/')) {
    return Error(Code::kInvalidArgument,
                 "zookeeper key " + Quote(key) +
                     ": want an absolute path not ending in '/'");
  }
  return Status::Ok();
}

std::string ParentOfPrefix(std::string_view prefix) {
  if (prefix.size() <= 1) return "/";
  return std::string(prefix.substr(0, prefix.size() - 1));
}

std::string ParentOf(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return path;
  return path.substr(slash + 1);
}

std::optional<ChildName> ParseChildName(std::string_view name) {
  size_t dash = name.find('-');
  if (dash == 0 || dash == std::string_view::npos || dash > kMaxHexDigits) {
    return std::nullopt;
  }
  std::string_view hex = name.substr(0, dash);
  std::string_view seq = name.substr(dash + 1);
  if (seq.size() != kSequenceDigits) return std::nullopt;
  if (!std::all_of(hex.begin(), hex.end(), IsLowerHex)) return std::nullopt;
  if (!std::all_of(seq.begin(), seq.end(), IsDigit)) return std::nullopt;
  uint64_t session = 0;
  for (char c : hex) {
    session =
        session * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  int64_t sequence = 0;
  for (char c : seq) sequence = sequence * 10 + (c - '0');
  ChildName out;
  out.name = std::string(name);
  out.session = static_cast<int64_t>(session);
  out.sequence = sequence;
  return out;
}

std::vector<ChildName> SortChildren(const std::vector<std::string>& names,
                                    std::vector<std::string>* ignored) {
  std::vector<ChildName> out;
  out.reserve(names.size());
  for (const std::string& name : names) {
    if (std::optional<ChildName> child = ParseChildName(name)) {
      out.push_back(std::move(*child));
    } else if (ignored != nullptr) {
      ignored->push_back(name);
    }
  }
  std::sort(out.begin(), out.end(), OlderThan);
  return out;
}

std::vector<ChildName> SortRecords(const std::vector<std::string>& names) {
  std::vector<ChildName> out;
  out.reserve(names.size());
  for (const std::string& name : names) out.push_back(ChildName{name, 0, 0});
  std::sort(out.begin(), out.end(), OlderThan);
  return out;
}

std::vector<ChildName> ChildrenOf(const std::vector<ChildName>& sorted,
                                  std::string_view session_hex) {
  std::vector<ChildName> out;
  for (const ChildName& child : sorted) {
    std::string_view name = child.name;
    if (name.size() > session_hex.size() && name.starts_with(session_hex) &&
        name[session_hex.size()] == '-') {
      out.push_back(child);
    }
  }
  return out;
}

Position Locate(const std::vector<ChildName>& sorted, std::string_view self) {
  Position out;
  if (!sorted.empty()) out.first = sorted.front();
  std::optional<ChildName> parsed = ParseChildName(self);
  for (const ChildName& child : sorted) {
    if (child.name == self) out.self_present = true;
    if (parsed && OlderThan(child, *parsed)) out.previous = child;
  }
  return out;
}

std::vector<ChildName> Through(const std::vector<ChildName>& sorted,
                               int64_t sequence) {
  std::vector<ChildName> out;
  for (const ChildName& child : sorted) {
    if (child.sequence <= sequence) out.push_back(child);
  }
  return out;
}

std::vector<ChildChange> DiffChildren(const std::vector<ChildName>& before,
                                      const std::vector<ChildName>& after) {
  // Both lists are sorted by (sequence, name), and a name carries its
  // sequence: a merge walk finds the differences in order.
  std::vector<ChildChange> out;
  size_t b = 0;
  size_t a = 0;
  while (b < before.size() || a < after.size()) {
    if (a == after.size() ||
        (b < before.size() && OlderThan(before[b], after[a]))) {
      out.push_back(ChildChange{before[b++].name, true});
    } else if (b == before.size() || OlderThan(after[a], before[b])) {
      out.push_back(ChildChange{after[a++].name, false});
    } else {
      ++a;  // the same child in both
      ++b;
    }
  }
  return out;
}

}  // namespace conch::backend::zk
