// ls: interpreting and formatting the tree that ReadTree (inspect_read.cc)
// reads. Declared in switchman/inspect.h.
#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <set>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "switchman/inspect.h"
#include "switchman/layout.h"

namespace conch::switchman {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}

}  // namespace

// ---------------------------------------------------------------------------
// ls: interpreting the tree.

std::optional<NodeHolder> ParseHolderData(std::string_view data) {
  const size_t space = data.rfind(' ');
  if (space == std::string_view::npos || space == 0) return std::nullopt;
  std::string_view host = data.substr(0, space);
  std::string_view pid_text = data.substr(space + 1);
  const bool clean_host = std::none_of(host.begin(), host.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '\x7f';
  });
  if (!clean_host || !AllDigits(pid_text)) return std::nullopt;
  int64_t pid = 0;
  auto [ptr, ec] =
      std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), pid);
  if (ec != std::errc() || pid <= 0) return std::nullopt;
  return NodeHolder{std::string(host), pid};
}

namespace {

// One piece of a resource template: literal text, or what a macro expands
// to.
struct TemplatePiece {
  enum class Kind { kLiteral, kDigits, kAnything };
  Kind kind = Kind::kLiteral;
  std::string text;  // kLiteral
};

// Finds the macros as ExpandMacros does: scanning left to right, the first
// macro name starting at each position is taken, and scanning resumes after
// it.
std::vector<TemplatePiece> TemplatePieces(std::string_view listed) {
  using Kind = TemplatePiece::Kind;
  static constexpr std::array<std::pair<std::string_view, Kind>, 3> kMacros{{
      {"CPU", Kind::kDigits},
      {"FQDN", Kind::kAnything},
      {"MEMMB", Kind::kDigits},
  }};
  std::vector<TemplatePiece> pieces;
  size_t i = 0;
  while (i < listed.size()) {
    const auto* macro = std::find_if(
        kMacros.begin(), kMacros.end(),
        [&](const auto& m) { return listed.substr(i).starts_with(m.first); });
    if (macro != kMacros.end()) {
      pieces.push_back({macro->second, ""});
      i += macro->first.size();
      continue;
    }
    if (pieces.empty() || pieces.back().kind != Kind::kLiteral) {
      pieces.push_back({Kind::kLiteral, ""});
    }
    pieces.back().text += listed[i++];
  }
  return pieces;
}

bool HasMacro(std::string_view listed) {
  std::vector<TemplatePiece> pieces = TemplatePieces(listed);
  return std::any_of(pieces.begin(), pieces.end(), [](const TemplatePiece& p) {
    return p.kind != TemplatePiece::Kind::kLiteral;
  });
}

}  // namespace

bool MatchesResourceTemplate(std::string_view listed, std::string_view name) {
  using Kind = TemplatePiece::Kind;
  // reach[p]: the pieces so far can match name[0, p). One pass per piece,
  // so the cost is bounded by pieces * |name|^2 whatever the template.
  std::vector<bool> reach(name.size() + 1, false);
  reach[0] = true;
  for (const TemplatePiece& piece : TemplatePieces(listed)) {
    std::vector<bool> next(name.size() + 1, false);
    for (size_t p = 0; p <= name.size(); ++p) {
      if (!reach[p]) continue;
      if (piece.kind == Kind::kLiteral) {
        if (name.substr(p).starts_with(piece.text)) {
          next[p + piece.text.size()] = true;
        }
        continue;
      }
      for (size_t q = p + 1; q <= name.size(); ++q) {
        if (piece.kind == Kind::kDigits && !IsDigit(name[q - 1])) break;
        next[q] = true;
      }
    }
    reach = std::move(next);
  }
  return reach[name.size()];
}

namespace {

QueueInfo AssembleQueue(const std::string& resource,
                        const std::vector<StoredNode>& children) {
  QueueInfo queue;
  queue.resource = resource;
  for (const StoredNode& child : children) {
    std::optional<Sequenced> entry = ParseQueueEntry(child.name);
    if (!entry) {
      queue.unexpected.push_back(child.name);
      continue;
    }
    std::string lockname = child.name.substr(0, child.name.rfind('-'));
    queue.entries.push_back({0, std::move(lockname), entry->seq, child});
  }
  std::sort(queue.entries.begin(), queue.entries.end(),
            [](const QueueEntry& a, const QueueEntry& b) {
              return std::tie(a.seq, a.node.name) <
                     std::tie(b.seq, b.node.name);
            });
  for (size_t i = 0; i < queue.entries.size(); ++i) {
    queue.entries[i].position = static_cast<int64_t>(i) + 1;
  }
  std::sort(queue.unexpected.begin(), queue.unexpected.end());
  return queue;
}

// A resource from its lease nodes; `leases` null when it has no node under
// PREFIX/semaphores.
ResourceInfo SummarizeResource(const std::string& name,
                               const std::vector<StoredNode>* leases) {
  ResourceInfo r;
  r.name = name;
  r.in_store = leases != nullptr;
  if (leases == nullptr) return r;
  std::set<int64_t> totals;
  std::vector<std::pair<int64_t, LeaseInfo>> by_seq;
  for (const StoredNode& child : *leases) {
    std::optional<LeaseNode> lease = ParseLeaseNode(child.name);
    if (!lease) {
      r.unexpected.push_back(child.name);
      continue;
    }
    r.used += lease->count;
    totals.insert(lease->total);
    by_seq.push_back({lease->seq, {lease->count, lease->total, child}});
  }
  std::stable_sort(
      by_seq.begin(), by_seq.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [seq, info] : by_seq) r.holders.push_back(std::move(info));
  r.totals.assign(totals.begin(), totals.end());
  std::sort(r.unexpected.begin(), r.unexpected.end());
  return r;
}

std::vector<ResourceInfo> AssembleResources(const RawTree& tree) {
  std::vector<ResourceInfo> out;
  std::set<std::string> placed;
  // The listed resources in their order: a plain name or each match of a
  // template, else a placeholder that shows 0/?.
  for (const std::string& listed : tree.listed) {
    bool matched = false;
    for (const auto& [name, leases] : tree.semaphores) {
      if (placed.contains(name) || !MatchesResourceTemplate(listed, name)) {
        continue;
      }
      out.push_back(SummarizeResource(name, &leases));
      out.back().listed_as = listed;
      placed.insert(name);
      matched = true;
    }
    if (matched || !placed.insert(listed).second) continue;
    out.push_back(SummarizeResource(listed, nullptr));
    out.back().listed_as = listed;
  }
  for (const auto& [name, leases] : tree.semaphores) {
    if (!placed.contains(name)) {
      out.push_back(SummarizeResource(name, &leases));
    }
  }
  return out;
}

}  // namespace

Snapshot AssembleSnapshot(const RawTree& tree) {
  Snapshot snapshot;
  snapshot.locks = tree.locks;
  std::sort(
      snapshot.locks.begin(), snapshot.locks.end(),
      [](const StoredNode& a, const StoredNode& b) { return a.name < b.name; });
  for (const auto& [resource, children] : tree.queues) {
    snapshot.queues.push_back(AssembleQueue(resource, children));
  }
  snapshot.resources = AssembleResources(tree);
  snapshot.listing_known = tree.prefix_problem.empty();
  return snapshot;
}

// ---------------------------------------------------------------------------
// ls: formatting.

namespace {

time_t EpochSeconds(int64_t epoch_ms) {
  int64_t seconds = epoch_ms / 1000;
  if (epoch_ms % 1000 < 0) --seconds;  // round toward the past
  return static_cast<time_t>(seconds);
}

std::string FormatTm(const struct tm& tm, const char* format) {
  std::array<char, 64> buf{};
  size_t n = std::strftime(buf.data(), buf.size(), format, &tm);
  return {buf.data(), n};
}

// `text` with control bytes as \xNN, so that a cell stays on its line.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      constexpr std::string_view kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

using Row = std::vector<std::string>;

// The HOST and PID cells of a node.
std::pair<std::string, std::string> HolderCells(const StoredNode& node) {
  if (std::optional<NodeHolder> h = ParseHolderData(node.data)) {
    return {Printable(h->host), std::to_string(h->pid)};
  }
  if (node.data.empty()) return {"-", "-"};
  return {Printable(node.data), "-"};
}

std::string RenderTable(const Row& header, const std::vector<Row>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  auto measure = [&](const Row& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(header);
  for (const Row& row : rows) measure(row);
  std::string out;
  auto render = [&](const Row& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += "  ";
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size(), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  render(header);
  for (const Row& row : rows) render(row);
  return out;
}

std::string Section(const std::string& title, const Row& header,
                    const std::vector<Row>& rows) {
  return title + "\n" + (rows.empty() ? "(none)\n" : RenderTable(header, rows));
}

std::vector<Row> LockRows(const Snapshot& snapshot) {
  std::vector<Row> rows;
  for (const StoredNode& lock : snapshot.locks) {
    auto [host, pid] = HolderCells(lock);
    rows.push_back(
        {Printable(lock.name), host, pid, FormatLocalTime(lock.ctime_ms)});
  }
  return rows;
}

std::vector<Row> QueueRows(const Snapshot& snapshot) {
  std::vector<Row> rows;
  for (const QueueInfo& queue : snapshot.queues) {
    const std::string resource = Printable(queue.resource);
    for (const QueueEntry& e : queue.entries) {
      auto [host, pid] = HolderCells(e.node);
      rows.push_back({resource, std::to_string(e.position),
                      Printable(e.lockname), host, pid,
                      FormatLocalTime(e.node.ctime_ms)});
    }
    for (const std::string& name : queue.unexpected) {
      rows.push_back({resource, "-", Printable(name)});
    }
  }
  return rows;
}

std::string ResourceNote(const ResourceInfo& r, bool listing_known) {
  std::vector<std::string> notes;
  if (r.totals.size() > 1) {
    std::vector<std::string> totals;
    for (int64_t t : r.totals) totals.push_back(std::to_string(t));
    notes.push_back("totals disagree: " + Join(totals, ", "));
  }
  if (!r.listed_as && listing_known) {
    notes.emplace_back("not in the prefix resources");
  }
  if (!r.in_store && r.listed_as && HasMacro(r.name)) {
    notes.emplace_back("template, nothing matches");
  }
  for (const std::string& name : r.unexpected) {
    notes.push_back("unexpected node " + Printable(name));
  }
  return Join(notes, "; ");
}

std::vector<Row> ResourceRows(const Snapshot& snapshot) {
  std::vector<Row> rows;
  for (const ResourceInfo& r : snapshot.resources) {
    std::optional<int64_t> total = r.total();
    const std::string used =
        std::to_string(r.used) + "/" + (total ? std::to_string(*total) : "?");
    const std::string note = ResourceNote(r, snapshot.listing_known);
    if (r.holders.empty()) {
      rows.push_back({Printable(r.name), used, "", "", "", "", note});
    }
    for (size_t i = 0; i < r.holders.size(); ++i) {
      const LeaseInfo& lease = r.holders[i];
      auto [host, pid] = HolderCells(lease.node);
      const bool first = i == 0;
      rows.push_back({first ? Printable(r.name) : "", first ? used : "",
                      Printable(lease.node.name), host, pid,
                      FormatLocalTime(lease.node.ctime_ms), first ? note : ""});
    }
  }
  return rows;
}

using Json = nlohmann::ordered_json;

// host, pid, data, since and since_ms of a node, added to `j`.
void AddNodeFields(const StoredNode& node, Json& j) {
  std::optional<NodeHolder> h = ParseHolderData(node.data);
  j["host"] = h ? Json(h->host) : Json(nullptr);
  j["pid"] = h ? Json(h->pid) : Json(nullptr);
  j["data"] = node.data;
  j["since"] = FormatUtcRfc3339(node.ctime_ms);
  j["since_ms"] = node.ctime_ms;
}

Json QueueJson(const QueueInfo& queue) {
  Json entries = Json::array();
  for (const QueueEntry& e : queue.entries) {
    Json j;
    j["position"] = e.position;
    j["lockname"] = e.lockname;
    j["seq"] = e.seq;
    j["node"] = e.node.name;
    AddNodeFields(e.node, j);
    entries.push_back(std::move(j));
  }
  Json q;
  q["resource"] = queue.resource;
  q["entries"] = std::move(entries);
  q["unexpected"] = queue.unexpected;
  return q;
}

Json ResourceJson(const ResourceInfo& r) {
  Json holders = Json::array();
  for (const LeaseInfo& lease : r.holders) {
    Json j;
    j["node"] = lease.node.name;
    j["count"] = lease.count;
    j["total"] = lease.total;
    AddNodeFields(lease.node, j);
    holders.push_back(std::move(j));
  }
  std::optional<int64_t> total = r.total();
  Json j;
  j["name"] = r.name;
  j["listed_as"] = r.listed_as ? Json(*r.listed_as) : Json(nullptr);
  j["in_store"] = r.in_store;
  j["used"] = r.used;
  j["total"] = total ? Json(*total) : Json(nullptr);
  j["totals"] = r.totals;
  j["holders"] = std::move(holders);
  j["unexpected"] = r.unexpected;
  return j;
}

}  // namespace

std::string FormatLocalTime(int64_t epoch_ms) {
  const time_t t = EpochSeconds(epoch_ms);
  struct tm tm {};
  if (localtime_r(&t, &tm) == nullptr) return "?";
  return FormatTm(tm, "%Y-%m-%d %H:%M:%S");
}

std::string FormatUtcRfc3339(int64_t epoch_ms) {
  const time_t t = EpochSeconds(epoch_ms);
  struct tm tm {};
  if (gmtime_r(&t, &tm) == nullptr) return "?";
  return FormatTm(tm, "%Y-%m-%dT%H:%M:%SZ");
}

std::string FormatLs(const Snapshot& snapshot) {
  return Section("LOCKS", {"NAME", "HOST", "PID", "SINCE"},
                 LockRows(snapshot)) +
         "\n" +
         Section("QUEUES",
                 {"RESOURCE", "POS", "LOCKNAME", "HOST", "PID", "SINCE"},
                 QueueRows(snapshot)) +
         "\n" +
         Section("RESOURCES",
                 {"RESOURCE", "USED", "HOLDER", "HOST", "PID", "SINCE", "NOTE"},
                 ResourceRows(snapshot));
}

std::string FormatLsJson(const Snapshot& snapshot) {
  Json locks = Json::array();
  for (const StoredNode& lock : snapshot.locks) {
    Json j;
    j["name"] = lock.name;
    AddNodeFields(lock, j);
    locks.push_back(std::move(j));
  }
  Json queues = Json::array();
  for (const QueueInfo& q : snapshot.queues) queues.push_back(QueueJson(q));
  Json resources = Json::array();
  for (const ResourceInfo& r : snapshot.resources) {
    resources.push_back(ResourceJson(r));
  }
  Json out;
  out["locks"] = std::move(locks);
  out["queues"] = std::move(queues);
  out["resources"] = std::move(resources);
  // Node data and names are store input and need not be UTF-8: replace bad
  // bytes rather than let dump() throw.
  return out.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace conch::switchman
