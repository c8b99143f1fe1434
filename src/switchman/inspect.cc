#include "switchman/inspect.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <span>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "backend/store.h"
#include "backend/zookeeper/zk_conn.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "switchman/layout.h"
#include "switchman/options.h"

namespace conch::switchman {

namespace {

namespace zk = backend::zk;

constexpr std::string_view kProg = "switchman";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  return s;
}

// The next blank-separated field of `rest`, which is advanced past it.
std::string_view NextField(std::string_view& rest) {
  rest = TrimLeft(rest);
  size_t end = 0;
  while (end < rest.size() && !IsBlank(rest[end])) ++end;
  std::string_view field = rest.substr(0, end);
  rest.remove_prefix(end);
  return field;
}

// Output errors (a closed stdout) are not reported: the exit code still
// tells the outcome.
void Print(std::FILE* stream, const std::string& text) {
  static_cast<void>(std::fwrite(text.data(), 1, text.size(), stream));
}

std::string Usage(std::string_view subcommand) {
  if (subcommand == "ls") {
    return "usage: conch switchman ls [-c CFG] [--json]\n";
  }
  if (subcommand == "check-groups") {
    return "usage: conch switchman check-groups CRONTAB [-c CFG] [--system] "
           "[-v]\n";
  }
  return "usage: conch switchman check-hosts [-c CFG] [CONFIG]\n";
}

}  // namespace

// ---------------------------------------------------------------------------
// Arguments.

namespace {

// The value of -c in one of its spellings at args[*i], advancing *i past a
// separate value. nullopt if args[*i] is not -c at all.
std::optional<Result<std::string>> ConfigValue(
    const std::vector<std::string>& args, size_t* i) {
  const std::string& a = args[*i];
  if (a == "-c" || a == "--config") {
    if (*i + 1 >= args.size()) {
      return Result<std::string>(
          Error(Code::kInvalidArgument, "option " + a + " requires a value"));
    }
    return Result<std::string>(args[++*i]);
  }
  if (a.starts_with("--config=")) return Result<std::string>(a.substr(9));
  if (a.size() > 2 && a.starts_with("-c")) {
    return Result<std::string>(a.substr(2));
  }
  return std::nullopt;
}

Status CheckPositionals(std::string_view subcommand, const InspectArgs& out,
                        bool config_given) {
  const size_t n = out.positionals.size();
  if (subcommand == "ls" && n != 0) {
    return Error(Code::kInvalidArgument,
                 "unexpected argument " + Quote(out.positionals.front()));
  }
  if (subcommand == "check-groups" && n != 1) {
    return Error(Code::kInvalidArgument,
                 n == 0 ? "missing CRONTAB" : "expected one CRONTAB");
  }
  if (subcommand == "check-hosts" && (n > 1 || (n == 1 && config_given))) {
    return Error(Code::kInvalidArgument,
                 "expected one config, as -c CFG or CONFIG");
  }
  return Status::Ok();
}

}  // namespace

Result<InspectArgs> ParseInspectArgs(std::string_view subcommand,
                                     const std::vector<std::string>& args) {
  const std::string context(subcommand);
  InspectArgs out;
  bool config_given = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out.positionals.insert(out.positionals.end(),
                             args.begin() + static_cast<ptrdiff_t>(i) + 1,
                             args.end());
      break;
    }
    if (a == "-h" || a == "--help") {
      out.help = true;
      return out;
    }
    std::optional<Result<std::string>> config = ConfigValue(args, &i);
    if (config) {
      if (!config->ok()) return config->status().With(context);
      out.config = **config;
      config_given = true;
    } else if (a == "--json" && subcommand == "ls") {
      out.json = true;
    } else if (a == "--system" && subcommand == "check-groups") {
      out.system = true;
    } else if ((a == "-v" || a == "--verbose") &&
               subcommand == "check-groups") {
      out.verbose = true;
    } else if (a.size() > 1 && a.front() == '-') {
      return Error(Code::kInvalidArgument,
                   context + ": unknown option " + Quote(a));
    } else {
      out.positionals.push_back(a);
    }
  }
  Status positionals = CheckPositionals(subcommand, out, config_given);
  if (!positionals.ok()) return positionals.With(context);
  return out;
}

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

// ---------------------------------------------------------------------------
// Reading ZooKeeper.

namespace {

// Opens a connection to the config's ensemble and waits for it.
Result<std::shared_ptr<zk::ZkConn>> Dial(const Config& config,
                                         Duration dial_timeout) {
  Result<backend::StoreAddress> address =
      backend::ParseStoreAddress("zk://" + config.zkhosts);
  if (!address.ok()) {
    return address.status().With("zkhosts " + Quote(config.zkhosts));
  }
  zk::ConnOptions options;
  options.members = address->members;
  options.chroot = address->chroot;
  options.dial_timeout = dial_timeout;
  Result<std::shared_ptr<zk::ZkConn>> conn = zk::ZkConn::Open(options);
  if (!conn.ok()) return conn.status();
  Status up = (*conn)->WaitConnected(SystemClock::Get().Now() + dial_timeout);
  if (!up.ok()) return up;
  return conn;
}

// Sends every request at once. ZOK and ZNONODE (a node gone between the
// listing and the read) are replies; any other code is an error.
Result<std::vector<zk::Reply>> Batch(zk::ZkConn& conn, const std::string& what,
                                     const std::vector<zk::Request>& requests,
                                     MonoTime deadline) {
  if (requests.empty()) return std::vector<zk::Reply>();
  Result<std::vector<zk::Reply>> replies =
      conn.RunAll(what, requests, deadline);
  if (!replies.ok()) return replies.status();
  for (size_t i = 0; i < replies->size(); ++i) {
    const int rc = (*replies)[i].rc;
    if (rc != ZOK && rc != ZNONODE) {
      return zk::FromZk(rc, what + " " + requests[i].path);
    }
  }
  return replies;
}

// The prefix data from a Get reply: data_read_len bytes at most, as the
// original reads it.
Result<PrefixData> PrefixFromReply(const zk::Reply& reply,
                                   const Config& config) {
  if (reply.rc == ZNONODE) return ParsePrefixData("", 0);
  const auto limit = static_cast<size_t>(config.data_read_len);
  const size_t length =
      reply.stat ? static_cast<size_t>(std::max(reply.stat->dataLength, 0))
                 : reply.value.size();
  const std::string_view value = reply.value;
  return ParsePrefixData(value.substr(0, limit), length);
}

StoredNode NodeFromReply(std::string name, const zk::Reply& reply) {
  return {std::move(name), reply.value, reply.stat ? reply.stat->ctime : 0};
}

// Where the answer to one request of a batch goes.
struct Target {
  std::vector<StoredNode>* into = nullptr;
  std::string name;
  std::string path;
};

// Lists the queues and leases found under `top`, and reads the locks.
// Returns the nodes whose data is still to be read.
Result<std::vector<Target>> ReadListings(zk::ZkConn& conn,
                                         const std::string& what,
                                         const Layout& layout,
                                         const std::vector<zk::Reply>& top,
                                         MonoTime deadline, RawTree& tree) {
  const std::vector<std::string>& locks = top[1].children;
  const std::vector<std::string>& queues = top[2].children;
  const std::vector<std::string>& semaphores = top[3].children;
  std::vector<zk::Request> requests;
  requests.reserve(locks.size() + queues.size() + semaphores.size());
  for (const std::string& l : locks) {
    requests.push_back(zk::GetRequest(layout.lock(l)));
  }
  for (const std::string& q : queues) {
    requests.push_back(zk::ChildrenRequest(layout.queue(q)));
  }
  for (const std::string& s : semaphores) {
    requests.push_back(zk::ChildrenRequest(layout.leases(s)));
  }
  Result<std::vector<zk::Reply>> replies =
      Batch(conn, what, requests, deadline);
  if (!replies.ok()) return replies.status();
  const std::vector<zk::Reply>& r = *replies;
  std::vector<Target> pending;
  size_t i = 0;
  for (const std::string& l : locks) {
    const zk::Reply& reply = r[i++];
    if (reply.rc == ZOK) tree.locks.push_back(NodeFromReply(l, reply));
  }
  for (const std::string& q : queues) {
    const zk::Reply& reply = r[i++];
    if (reply.rc != ZOK) continue;
    std::vector<StoredNode>& entries = tree.queues[q];
    for (const std::string& c : reply.children) {
      pending.push_back({&entries, c, layout.queue(q) + "/" + c});
    }
  }
  for (const std::string& s : semaphores) {
    // A semaphore without a leases node yet is still a resource in use.
    const zk::Reply& reply = r[i++];
    std::vector<StoredNode>& leases = tree.semaphores[s];
    for (const std::string& c : reply.children) {
      pending.push_back({&leases, c, layout.leases(s) + "/" + c});
    }
  }
  return pending;
}

// Reads the data of every queue entry and lease in `pending`.
Status ReadNodes(zk::ZkConn& conn, const std::string& what,
                 const std::vector<Target>& pending, MonoTime deadline) {
  std::vector<zk::Request> requests;
  requests.reserve(pending.size());
  for (const Target& t : pending) requests.push_back(zk::GetRequest(t.path));
  Result<std::vector<zk::Reply>> replies =
      Batch(conn, what, requests, deadline);
  if (!replies.ok()) return replies.status();
  for (size_t i = 0; i < pending.size(); ++i) {
    const zk::Reply& reply = (*replies)[i];
    if (reply.rc == ZOK) {
      pending[i].into->push_back(NodeFromReply(pending[i].name, reply));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<RawTree> ReadTree(const Config& config, Duration dial_timeout) {
  const std::string what = "read " + config.prefix;
  Result<std::shared_ptr<zk::ZkConn>> conn = Dial(config, dial_timeout);
  if (!conn.ok()) return conn.status().With(what);
  const MonoTime deadline = SystemClock::Get().Now() + kInspectReadTimeout;
  const Layout layout(config.prefix);
  RawTree tree;
  // 1. The prefix data and the three directories.
  Result<std::vector<zk::Reply>> top = Batch(
      **conn, what,
      {zk::GetRequest(layout.prefix()), zk::ChildrenRequest(layout.locks()),
       zk::ChildrenRequest(layout.queues()),
       zk::ChildrenRequest(layout.semaphores())},
      deadline);
  if (!top.ok()) return top.status();
  if (top->front().rc == ZNONODE) {
    tree.prefix_problem = "prefix node " + config.prefix + " does not exist";
  } else if (Result<PrefixData> data = PrefixFromReply(top->front(), config);
             data.ok()) {
    tree.listed = data->resources;
  } else {
    tree.prefix_problem = data.status().message();
  }
  // 2. The locks' data, the queues' entries and the semaphores' leases.
  Result<std::vector<Target>> pending =
      ReadListings(**conn, what, layout, *top, deadline, tree);
  if (!pending.ok()) return pending.status();
  // 3. The data of each queue entry and lease.
  Status read = ReadNodes(**conn, what, *pending, deadline);
  if (!read.ok()) return read;
  return tree;
}

Result<PrefixData> ReadPrefixData(const Config& config, Duration dial_timeout) {
  const std::string what = "read prefix " + config.prefix;
  Result<std::shared_ptr<zk::ZkConn>> conn = Dial(config, dial_timeout);
  if (!conn.ok()) return conn.status().With(what);
  Result<std::vector<zk::Reply>> reply =
      Batch(**conn, what, {zk::GetRequest(config.prefix)},
            SystemClock::Get().Now() + kInspectReadTimeout);
  if (!reply.ok()) return reply.status();
  return PrefixFromReply(reply->front(), config);
}

// ---------------------------------------------------------------------------
// Shell words.

namespace {

bool IsOperatorStart(char c) {
  return c == ';' || c == '&' || c == '|' || c == '<' || c == '>' || c == '(' ||
         c == ')' || c == '\n';
}

size_t OperatorLength(std::string_view line, size_t i) {
  static constexpr std::array<std::string_view, 9> kTwo{
      "&&", "||", ";;", ">>", "<<", ">&", "<&", "<>", ">|"};
  std::string_view two = line.substr(i, 2);
  return std::find(kTwo.begin(), kTwo.end(), two) != kTwo.end() ? 2 : 1;
}

// Reads a double-quoted part starting at the quote at `i` into `text`;
// returns the index after the closing quote.
Result<size_t> ReadDoubleQuoted(std::string_view line, size_t i,
                                std::string& text) {
  for (++i; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') return i + 1;
    if (c == '\\' && i + 1 < line.size() &&
        std::string_view("$`\"\\\n").find(line[i + 1]) !=
            std::string_view::npos) {
      if (line[i + 1] != '\n') text += line[i + 1];
      ++i;
      continue;
    }
    text += c;
  }
  return Error(Code::kInvalidArgument, "unterminated double quote");
}

// Reads one word starting at `i` into `text`; returns the index after it.
// `quoted` tells whether any part of it was quoted or escaped.
Result<size_t> ReadWord(std::string_view line, size_t i, std::string& text,
                        bool& quoted) {
  while (i < line.size() && !IsBlank(line[i]) && !IsOperatorStart(line[i])) {
    const char c = line[i];
    if (c == '\\') {
      quoted = true;
      if (i + 1 < line.size() && line[i + 1] != '\n') text += line[i + 1];
      i += 2;
    } else if (c == '\'') {
      quoted = true;
      const size_t close = line.find('\'', i + 1);
      if (close == std::string_view::npos) {
        return Error(Code::kInvalidArgument, "unterminated single quote");
      }
      text += line.substr(i + 1, close - i - 1);
      i = close + 1;
    } else if (c == '"') {
      quoted = true;
      Result<size_t> end = ReadDoubleQuoted(line, i, text);
      if (!end.ok()) return end;
      i = *end;
    } else {
      text += c;
      ++i;
    }
  }
  return std::min(i, line.size());
}

}  // namespace

Result<std::vector<ShellToken>> TokenizeShell(std::string_view line) {
  using Kind = ShellToken::Kind;
  std::vector<ShellToken> out;
  size_t i = 0;
  while (i < line.size()) {
    if (IsBlank(line[i])) {
      ++i;
      continue;
    }
    if (line[i] == '#') break;  // a comment, to the end of the line
    if (IsOperatorStart(line[i])) {
      const size_t n = OperatorLength(line, i);
      out.push_back(
          {Kind::kOperator, std::string(line.substr(i, n)), i, i + n});
      i += n;
      continue;
    }
    std::string text;
    bool quoted = false;
    Result<size_t> end = ReadWord(line, i, text, quoted);
    if (!end.ok()) return end.status();
    // An IO number: unquoted digits right before a redirection ("2>&1").
    if (!quoted && AllDigits(text) && *end < line.size() &&
        (line[*end] == '<' || line[*end] == '>')) {
      const size_t n = OperatorLength(line, *end);
      out.push_back({Kind::kOperator, std::string(line.substr(i, *end + n - i)),
                     i, *end + n});
      i = *end + n;
      continue;
    }
    out.push_back({Kind::kWord, std::move(text), i, *end});
    i = *end;
  }
  return out;
}

Result<std::vector<std::string>> SplitShellWords(std::string_view line) {
  Result<std::vector<ShellToken>> tokens = TokenizeShell(line);
  if (!tokens.ok()) return tokens.status();
  std::vector<std::string> words;
  for (const ShellToken& t : *tokens) {
    if (t.kind != ShellToken::Kind::kWord) break;
    words.push_back(t.text);
  }
  return words;
}

// ---------------------------------------------------------------------------
// Crontabs.

CrontabKind CrontabKindForPath(std::string_view path) {
  if (path == "/etc/crontab") return CrontabKind::kSystem;
  constexpr std::string_view kCronD = "/etc/cron.d/";
  if (path.starts_with(kCronD) &&
      path.substr(kCronD.size()).find('/') == std::string_view::npos) {
    return CrontabKind::kSystem;
  }
  return CrontabKind::kAuto;
}

namespace {

struct FieldSpec {
  const char* what;
  int min;
  int max;
  std::span<const std::string_view> names;  // allowed besides numbers
};

constexpr std::array<std::string_view, 12> kMonthNames{
    "jan", "feb", "mar", "apr", "may", "jun",
    "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kDayNames{"sun", "mon", "tue", "wed",
                                                    "thu", "fri", "sat"};

constexpr std::array<FieldSpec, 5> kFields{{
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day of month", 1, 31, {}},
    {"month", 1, 12, kMonthNames},
    {"day of week", 0, 7, kDayNames},
}};

bool IsNumberIn(std::string_view s, int min, int max) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return AllDigits(s) && ec == std::errc() && ptr == s.data() + s.size() &&
         v >= min && v <= max;
}

bool IsFieldValue(std::string_view s, const FieldSpec& spec) {
  if (IsNumberIn(s, spec.min, spec.max)) return true;
  std::string lower(s);
  for (char& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return std::find(spec.names.begin(), spec.names.end(), lower) !=
         spec.names.end();
}

// One item of a list: "*", N or N-M, optionally "/STEP".
bool IsFieldItem(std::string_view item, const FieldSpec& spec) {
  const size_t slash = item.find('/');
  std::string_view range = item.substr(0, slash);
  if (slash != std::string_view::npos &&
      !IsNumberIn(item.substr(slash + 1), 1, 1000)) {
    return false;
  }
  if (range == "*") return true;
  const size_t dash = range.find('-');
  if (dash == std::string_view::npos) return IsFieldValue(range, spec);
  return IsFieldValue(range.substr(0, dash), spec) &&
         IsFieldValue(range.substr(dash + 1), spec);
}

bool IsField(std::string_view field, const FieldSpec& spec) {
  size_t start = 0;
  for (;;) {
    const size_t comma = field.find(',', start);
    if (!IsFieldItem(field.substr(start, comma - start), spec)) return false;
    if (comma == std::string_view::npos) return true;
    start = comma + 1;
  }
}

// The name of a NAME=value line (NAME maybe quoted, blanks before "="), or
// nullopt if the line is not one.
std::optional<std::string> EnvName(std::string_view s) {
  const char quote = !s.empty() && (s[0] == '"' || s[0] == '\'') ? s[0] : '\0';
  if (quote != 0) s.remove_prefix(1);
  size_t n = 0;
  auto is_name_char = [](char c) {
    return c == '_' || std::isalnum(static_cast<unsigned char>(c)) != 0;
  };
  while (n < s.size() && is_name_char(s[n])) ++n;
  if (n == 0 || IsDigit(s[0])) return std::nullopt;
  std::string name(s.substr(0, n));
  s.remove_prefix(n);
  if (quote != 0) {
    if (s.empty() || s[0] != quote) return std::nullopt;
    s.remove_prefix(1);
  }
  s = TrimLeft(s);
  if (s.empty() || s[0] != '=') return std::nullopt;
  return name;
}

// The schedule at the start of `rest` (advanced past it), checked.
Result<std::string> ReadSchedule(std::string_view& rest) {
  static constexpr std::array<std::string_view, 8> kKeywords{
      "@reboot", "@yearly", "@annually", "@monthly",
      "@weekly", "@daily",  "@midnight", "@hourly"};
  if (TrimLeft(rest).starts_with("@")) {
    std::string_view keyword = NextField(rest);
    if (std::find(kKeywords.begin(), kKeywords.end(), keyword) ==
        kKeywords.end()) {
      return Error(Code::kInvalidArgument,
                   "unknown schedule " + Quote(keyword));
    }
    return std::string(keyword);
  }
  std::vector<std::string> fields;
  for (const FieldSpec& spec : kFields) {
    std::string_view field = NextField(rest);
    if (field.empty()) {
      return Error(Code::kInvalidArgument,
                   std::string("missing ") + spec.what + " field");
    }
    if (!IsField(field, spec)) {
      return Error(Code::kInvalidArgument,
                   std::string("bad ") + spec.what + " field " + Quote(field));
    }
    fields.emplace_back(field);
  }
  return Join(fields, " ");
}

// What cron runs: up to the first unescaped "%", with "\%" as "%".
std::string CronCommand(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '%') {
      out += '%';
      ++i;
    } else if (text[i] == '%') {
      break;
    } else {
      out += text[i];
    }
  }
  return out;
}

// One line: a job, nullopt for a line to skip, or an error. Notes
// POSIXLY_CORRECT assignments in `posixly_correct`.
Result<std::optional<CronJob>> ParseCronLine(std::string_view line,
                                             CrontabKind kind,
                                             bool& posixly_correct) {
  std::string_view s = TrimLeft(line);
  if (s.empty() || s[0] == '#') return std::optional<CronJob>();
  if (s[0] != '@' && s[0] != '*' && !IsDigit(s[0])) {
    std::optional<std::string> name = EnvName(s);
    if (!name) {
      return Error(Code::kInvalidArgument,
                   "not a job, comment or NAME=value: " + Quote(s));
    }
    // Getopt::Long asks only whether it is defined, so any value counts.
    if (*name == "POSIXLY_CORRECT") posixly_correct = true;
    return std::optional<CronJob>();
  }
  CronJob job;
  Result<std::string> schedule = ReadSchedule(s);
  if (!schedule.ok()) return schedule.status();
  job.schedule = *schedule;
  if (kind == CrontabKind::kSystem) {
    job.user = std::string(NextField(s));
    if (job.user.empty()) return Error(Code::kInvalidArgument, "no user");
  }
  job.command = CronCommand(TrimLeft(s));
  if (TrimLeft(job.command).empty()) {
    return Error(Code::kInvalidArgument, "no command");
  }
  job.posixly_correct = posixly_correct;
  return std::optional<CronJob>(std::move(job));
}

}  // namespace

Result<std::vector<CronJob>> ParseCrontab(std::string_view text,
                                          CrontabKind kind) {
  std::vector<CronJob> jobs;
  bool posixly_correct = false;
  int number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    start = end + 1;
    ++number;
    Result<std::optional<CronJob>> job =
        ParseCronLine(line, kind, posixly_correct);
    if (!job.ok()) return job.status().With("line " + std::to_string(number));
    if (*job) {
      (*job)->line = number;
      jobs.push_back(std::move(**job));
    }
  }
  return jobs;
}

namespace {

bool IsWordNamed(const ShellToken& t, std::string_view base) {
  return t.kind == ShellToken::Kind::kWord && PerlBasename(t.text) == base;
}

}  // namespace

std::vector<SwitchmanCall> FindSwitchmanCalls(const CronJob& job,
                                              CrontabKind kind) {
  Result<std::vector<ShellToken>> tokens = TokenizeShell(job.command);
  if (!tokens.ok()) {
    if (job.command.find("switchman") == std::string::npos) return {};
    return {{job.line, job.command, {}, job.posixly_correct, true}};
  }
  const std::vector<ShellToken>& t = *tokens;
  size_t first = 0;
  // A user field named "switchman" in front of the real invocation.
  if (kind == CrontabKind::kAuto && t.size() >= 2 &&
      IsWordNamed(t[0], "switchman") &&
      (IsWordNamed(t[1], "switchman") || IsWordNamed(t[1], "conch"))) {
    first = 1;
  }
  std::vector<SwitchmanCall> calls;
  for (size_t i = first; i < t.size(); ++i) {
    if (!IsWordNamed(t[i], "switchman")) continue;
    const size_t start = i > first && IsWordNamed(t[i - 1], "conch")
                             ? t[i - 1].begin
                             : t[i].begin;
    SwitchmanCall call;
    call.line = job.line;
    call.posixly_correct = job.posixly_correct;
    size_t j = i + 1;
    while (j < t.size() && t[j].kind == ShellToken::Kind::kWord) {
      call.args.push_back(t[j++].text);
    }
    call.text = job.command.substr(start, t[j - 1].end - start);
    calls.push_back(std::move(call));
    i = j;  // the operator after the arguments, or the end
  }
  return calls;
}

// ---------------------------------------------------------------------------
// check-groups: judgement.

namespace {

// ZooKeeper could not be read at all: the check cannot judge anything.
bool IsStoreFailure(const Status& status) {
  return status.code() == Code::kUnavailable ||
         status.code() == Code::kDeadlineExceeded ||
         status.code() == Code::kSessionLost;
}

// The options of a call that would run its command; an error if the call
// cannot be split, its options do not parse, or it asks for -h or -v.
Result<Options> RunnableOptions(const SwitchmanCall& call) {
  if (call.unparsable) {
    return Error(Code::kInvalidArgument,
                 "the command does not split into words (unterminated quote)");
  }
  ParseSettings settings;
  settings.posixly_correct = call.posixly_correct;
  Result<Options> options = ParseOptions(call.args, settings);
  if (!options.ok()) return options.status();
  if (options->action != Action::kRun) {
    return Error(Code::kInvalidArgument,
                 "-h or -v: switchman prints and exits, running nothing");
  }
  return options;
}

// The config a call reads: its own -c, else check-groups' -c, else the
// default. "0" means not given, as the original's Perl truth has it.
std::string ConfigPathFor(const Options& options, std::string_view fallback) {
  if (!options.config_path.empty()) return options.config_path;
  if (!fallback.empty() && fallback != "0") return std::string(fallback);
  return std::string(kDefaultConfigPath);
}

}  // namespace

Result<std::vector<FailedCall>> JudgeSwitchmanCalls(
    const std::vector<SwitchmanCall>& calls, std::string_view fallback_config,
    const PrefixLoader& load) {
  std::map<std::string, Result<PrefixData>> loaded;
  std::vector<FailedCall> failed;
  for (const SwitchmanCall& call : calls) {
    Result<Options> options = RunnableOptions(call);
    if (!options.ok()) {
      failed.push_back({call, options.status().message()});
      continue;
    }
    // No -g: the job runs on every host, which is fine. (The original's
    // check reported such jobs as failures.)
    if (options->group.empty()) continue;
    const std::string path = ConfigPathFor(*options, fallback_config);
    auto it = loaded.find(path);
    if (it == loaded.end()) it = loaded.emplace(path, load(path)).first;
    const Result<PrefixData>& data = it->second;
    if (!data.ok() && IsStoreFailure(data.status())) return data.status();
    Status group = data.ok() ? ResolveGroup(*data, options->group).status()
                             : data.status();
    if (!group.ok()) failed.push_back({call, group.message()});
  }
  return failed;
}

std::string FormatGroupsVerdict(std::string_view crontab,
                                const std::vector<FailedCall>& failed) {
  if (failed.empty()) return "OK";
  std::vector<std::string> texts;
  texts.reserve(failed.size());
  for (const FailedCall& f : failed) texts.push_back(f.call.text);
  return std::string(crontab) + ": " + Join(texts, ", ");
}

// ---------------------------------------------------------------------------
// check-hosts.

std::vector<std::string> HostsToProbe(const PrefixData& data) {
  std::vector<std::string> hosts;
  std::set<std::string> seen;
  for (const auto& [name, items] : data.groups) {
    Result<GroupMembers> members = ResolveGroup(data, name);
    if (!members.ok()) continue;
    for (const std::string& host : members->hosts) {
      if (seen.insert(host).second) hosts.push_back(host);
    }
  }
  return hosts;
}

std::vector<std::string> DeadGroups(
    const PrefixData& data,
    const std::function<bool(const std::string&)>& is_up) {
  std::vector<std::string> dead;
  for (const auto& [name, items] : data.groups) {
    Result<GroupMembers> members = ResolveGroup(data, name);
    if (!members.ok() ||
        std::none_of(members->hosts.begin(), members->hosts.end(), is_up)) {
      dead.push_back(name);
    }
  }
  return dead;  // data.groups is a std::map: already sorted
}

namespace {

// A connect in flight.
struct Attempt {
  std::string host;
  UniqueFd fd;
};

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};

// Resolves `host` and starts a non-blocking connect to each address. Adds
// `host` to `up` if a connect completes or is refused at once; the others
// still in flight go to `pending`.
void StartProbe(const std::string& host, const std::string& service,
                std::set<std::string>& up, std::vector<Attempt>& pending) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* raw = nullptr;
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &raw) != 0) return;
  std::unique_ptr<addrinfo, AddrInfoDeleter> list(raw);
  for (addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(socket(ai->ai_family,
                       ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       ai->ai_protocol));
    if (!fd.valid()) continue;
    if (connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0 ||
        errno == ECONNREFUSED) {
      up.insert(host);  // Net::Ping: a refusal is an answer
      return;
    }
    if (errno == EINPROGRESS) pending.push_back({host, std::move(fd)});
  }
}

// Waits for the connects in `pending` until `deadline`, adding the hosts
// that answer to `up`.
void FinishProbes(std::vector<Attempt> pending, MonoTime deadline,
                  std::set<std::string>& up) {
  for (;;) {
    std::erase_if(pending,
                  [&](const Attempt& a) { return up.contains(a.host); });
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (pending.empty() || left.count() <= 0) return;
    std::vector<pollfd> fds;
    fds.reserve(pending.size());
    for (const Attempt& a : pending) fds.push_back({a.fd.get(), POLLOUT, 0});
    const int n = poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // timed out (or poll failed): the rest are down
    std::vector<Attempt> still;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) {
        still.push_back(std::move(pending[i]));
        continue;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      if (getsockopt(fds[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
          (err == 0 || err == ECONNREFUSED)) {
        up.insert(pending[i].host);
      }
    }
    pending = std::move(still);
  }
}

}  // namespace

std::set<std::string> ProbeHosts(const std::vector<std::string>& hosts,
                                 uint16_t port, Duration timeout) {
  const MonoTime deadline = std::chrono::steady_clock::now() + timeout;
  const std::string service = std::to_string(port);
  std::set<std::string> up;
  std::set<std::string> started;
  std::vector<Attempt> pending;
  for (const std::string& host : hosts) {
    if (started.insert(host).second) StartProbe(host, service, up, pending);
  }
  FinishProbes(std::move(pending), deadline, up);
  return up;
}

Result<uint16_t> ProbePortFromEnv(const char* env_value) {
  if (env_value == nullptr) return kDefaultProbePort;
  std::string_view text(env_value);
  unsigned port = 0;
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), port);
  if (!AllDigits(text) || ec != std::errc() ||
      ptr != text.data() + text.size() || port < 1 || port > 65535) {
    return Error(Code::kInvalidArgument, std::string(kProbePortEnv) + "=" +
                                             Quote(text) +
                                             ": not a port from 1 to 65535");
  }
  return static_cast<uint16_t>(port);
}

std::string FormatHostsVerdict(const std::vector<std::string>& dead_groups) {
  if (dead_groups.empty()) return "OK";
  return "groups: " + Join(dead_groups, ", ");
}

// ---------------------------------------------------------------------------
// The subcommands.

namespace {

// Parses a subcommand's arguments. Returns the exit code when there is
// nothing more to do (help, or a usage error already reported).
std::optional<int> Arguments(std::string_view subcommand,
                             const std::vector<std::string>& args,
                             InspectArgs& out) {
  Result<InspectArgs> parsed = ParseInspectArgs(subcommand, args);
  if (!parsed.ok()) {
    Print(stderr, std::string(kProg) + ": " + parsed.status().message() + "\n" +
                      Usage(subcommand));
    return kInspectExitUsage;
  }
  if (parsed->help) {
    Print(stdout, Usage(subcommand));
    return kInspectExitOk;
  }
  out = std::move(*parsed);
  return std::nullopt;
}

// The config named by -c, or the default one.
Result<Config> LoadChosenConfig(const std::string& flag_value) {
  Result<std::string> path = ChooseConfigPath(flag_value, kProg);
  if (!path.ok()) return path.status();
  return LoadConfig(*path);
}

// The whole of a file of at most `max_bytes`.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return FromErrno("open " + path, errno);
  std::string text;
  std::array<char, 65536> buf{};
  for (;;) {
    const ssize_t n = read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FromErrno("read " + path, errno);
    if (n == 0) return text;
    text.append(buf.data(), static_cast<size_t>(n));
    if (text.size() > max_bytes) {
      return Error(
          Code::kInvalidArgument,
          path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
}

}  // namespace

int RunLs(const std::vector<std::string>& args) {
  InspectArgs a;
  if (std::optional<int> done = Arguments("ls", args, a)) return *done;
  // 1. The config: -c or the default.
  Result<Config> config = LoadChosenConfig(a.config);
  if (!config.ok()) {
    Print(stderr, std::string(kProg) + ": " + config.status().message() + "\n");
    return kInspectExitUsage;
  }
  // 2. Everything under the prefix, in one go.
  Result<RawTree> tree = ReadTree(*config);
  if (!tree.ok()) {
    Print(stderr, std::string(kProg) + ": " + tree.status().message() + "\n");
    return tree.status().code() == Code::kInvalidArgument
               ? kInspectExitUsage
               : kInspectExitUnavailable;
  }
  if (!tree->prefix_problem.empty()) {
    Print(stderr,
          std::string(kProg) + ": warning: " + tree->prefix_problem + "\n");
  }
  // 3. Interpret and print.
  Snapshot snapshot = AssembleSnapshot(*tree);
  Print(stdout, a.json ? FormatLsJson(snapshot) : FormatLs(snapshot));
  return kInspectExitOk;
}

int RunCheckGroups(const std::vector<std::string>& args) {
  constexpr size_t kMaxCrontabBytes = 4 << 20;
  InspectArgs a;
  if (std::optional<int> done = Arguments("check-groups", args, a)) {
    return *done;
  }
  const std::string& path = a.positionals.front();
  const CrontabKind kind =
      a.system ? CrontabKind::kSystem : CrontabKindForPath(path);
  // 1. Read and parse the crontab.
  Result<std::string> text = ReadSmallFile(path, kMaxCrontabBytes);
  if (!text.ok()) {
    Print(stdout, "cannot read crontab " + path + ": " +
                      text.status().message() + "\n");
    return kNagiosCritical;
  }
  Result<std::vector<CronJob>> jobs = ParseCrontab(*text, kind);
  if (!jobs.ok()) {
    Print(stdout,
          "invalid crontab " + path + ": " + jobs.status().message() + "\n");
    return kNagiosCritical;
  }
  // 2. Find the switchman calls and judge their groups.
  std::vector<SwitchmanCall> calls;
  for (const CronJob& job : *jobs) {
    for (SwitchmanCall& call : FindSwitchmanCalls(job, kind)) {
      calls.push_back(std::move(call));
    }
  }
  auto load = [](const std::string& config_path) -> Result<PrefixData> {
    Result<Config> config = LoadConfig(config_path);
    if (!config.ok()) return config.status();
    return ReadPrefixData(*config);
  };
  Result<std::vector<FailedCall>> failed =
      JudgeSwitchmanCalls(calls, a.config, load);
  if (!failed.ok()) {
    Print(stdout, failed.status().message() + "\n");
    return kNagiosCritical;
  }
  // 3. The verdict.
  if (a.verbose) {
    for (const FailedCall& f : *failed) {
      Print(stderr, "line " + std::to_string(f.call.line) + ": " + f.call.text +
                        ": " + f.reason + "\n");
    }
  }
  Print(stdout, FormatGroupsVerdict(path, *failed) + "\n");
  return failed->empty() ? kInspectExitOk : kNagiosCritical;
}

int RunCheckHosts(const std::vector<std::string>& args) {
  InspectArgs a;
  if (std::optional<int> done = Arguments("check-hosts", args, a)) return *done;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read before any thread starts
  Result<uint16_t> port = ProbePortFromEnv(std::getenv(kProbePortEnv));
  if (!port.ok()) {
    Print(stderr, std::string(kProg) + ": " + port.status().message() + "\n");
    return kInspectExitUsage;
  }
  // 1. The config and the prefix data.
  const std::string flag =
      a.positionals.empty() ? a.config : a.positionals.front();
  Result<Config> config = LoadChosenConfig(flag);
  if (!config.ok()) {
    Print(stdout, config.status().message() + "\n");
    return kNagiosCritical;
  }
  Result<PrefixData> data = ReadPrefixData(*config);
  if (!data.ok()) {
    Print(stdout, data.status().message() + "\n");
    return kNagiosCritical;
  }
  // 2. Probe every member of every group at once.
  std::set<std::string> up =
      ProbeHosts(HostsToProbe(*data), *port, kProbeTimeout);
  // 3. The groups nobody answered for.
  std::vector<std::string> dead = DeadGroups(
      *data, [&](const std::string& host) { return up.contains(host); });
  Print(stdout, FormatHostsVerdict(dead) + "\n");
  return dead.empty() ? kInspectExitOk : kNagiosCritical;
}

}  // namespace conch::switchman
