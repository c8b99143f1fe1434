#include "backend/etcd/endpoints.h"
#include "backend/store.h"
#include "base/duration.h"
#include "base/strings.h"

namespace conch::backend {

namespace {

constexpr std::string_view kZkScheme = "zk://";
constexpr int kZkDefaultPort = 2181;

std::vector<std::string> SplitCommas(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    // Empty entries are skipped, as --endpoints always allowed ("a,,b").
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// A ZooKeeper chroot: "/a/b", no empty, "." or ".." components, no
// trailing '/', no control bytes.
Status CheckChroot(const std::string& chroot) {
  auto bad = [&](const std::string& why) {
    return Error(Code::kInvalidArgument,
                 "zookeeper chroot " + Quote(chroot) + ": " + why);
  };
  if (chroot.size() < 2) return bad("want /path");
  if (chroot.back() == '/') return bad("ends with '/'");
  size_t start = 1;
  while (start <= chroot.size()) {
    size_t slash = chroot.find('/', start);
    if (slash == std::string::npos) slash = chroot.size();
    std::string_view part =
        std::string_view(chroot).substr(start, slash - start);
    if (part.empty()) return bad("empty path component");
    if (part == "." || part == "..") return bad("relative path component");
    for (char c : part) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) return bad("control character");
    }
    start = slash + 1;
  }
  return Status::Ok();
}

Result<StoreAddress> ParseZooKeeper(const std::vector<std::string>& items) {
  StoreAddress out;
  out.kind = StoreKind::kZooKeeper;
  for (size_t i = 0; i < items.size(); ++i) {
    std::string item = items[i];
    if (item.starts_with(kZkScheme)) item = item.substr(kZkScheme.size());
    if (item.find("://") != std::string::npos) {
      return Error(
          Code::kInvalidArgument,
          "endpoints mix zookeeper and another store: " + Quote(items[i]));
    }
    size_t slash = item.find('/');
    if (slash != std::string::npos) {
      if (i + 1 != items.size()) {
        return Error(Code::kInvalidArgument,
                     "endpoint " + Quote(items[i]) +
                         ": a zookeeper chroot follows the last host only");
      }
      out.chroot = item.substr(slash);
      item = item.substr(0, slash);
      CONCH_RETURN_IF_ERROR(CheckChroot(out.chroot));
    }
    Result<HostPort> hp = ParseEndpoint(item, kZkDefaultPort);
    if (!hp.ok()) return hp.status();
    std::string host = hp->host.find(':') != std::string::npos
                           ? "[" + hp->host + "]"
                           : hp->host;
    out.members.push_back(host + ":" + std::to_string(hp->port));
  }
  return out;
}

}  // namespace

Result<StoreAddress> ParseStoreAddress(std::string_view endpoints) {
  std::vector<std::string> items = SplitCommas(endpoints);
  if (items.empty()) {
    return Error(Code::kInvalidArgument, "--endpoints is empty");
  }
  if (items.front().starts_with(kZkScheme)) return ParseZooKeeper(items);
  StoreAddress out;
  out.kind = StoreKind::kEtcd;
  for (const std::string& item : items) {
    if (item.starts_with(kZkScheme)) {
      return Error(Code::kInvalidArgument,
                   "endpoints mix etcd and zookeeper: " + Quote(item) +
                       " follows an etcd endpoint");
    }
    Result<HostPort> hp = ParseEndpoint(item);
    if (!hp.ok()) return hp.status();
    out.members.push_back(item);
  }
  return out;
}

Status CheckTtl(StoreKind kind, Duration ttl) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  const char* store = kind == StoreKind::kEtcd ? "etcd leases are whole seconds"
                                               : "zookeeper sessions";
  if (ttl < seconds(1)) {
    return Error(Code::kInvalidArgument, "--ttl " + FormatDuration(ttl) +
                                             " is too short: " + store +
                                             ", at least 1s");
  }
  switch (kind) {
    case StoreKind::kEtcd:
      if (ttl % seconds(1) != Duration::zero()) {
        return Error(Code::kInvalidArgument,
                     "--ttl " + FormatDuration(ttl) +
                         " is not a whole number of seconds, as etcd "
                         "leases are");
      }
      break;
    case StoreKind::kZooKeeper:
      if (ttl % milliseconds(1) != Duration::zero()) {
        return Error(Code::kInvalidArgument,
                     "--ttl " + FormatDuration(ttl) +
                         " is not a whole number of milliseconds, as "
                         "zookeeper session timeouts are");
      }
      if (ttl > std::chrono::hours(24)) {
        return Error(Code::kInvalidArgument,
                     "--ttl " + FormatDuration(ttl) +
                         " is too long for a zookeeper session timeout");
      }
      break;
  }
  return Status::Ok();
}

}  // namespace conch::backend
