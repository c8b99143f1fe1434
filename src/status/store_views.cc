#include "status/store_views.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "primitives/admission.h"
#include "primitives/holder.h"
#include "primitives/keys.h"
#include "primitives/semaphore.h"

namespace conch::status {
namespace {

using backend::KeyValue;
using nlohmann::ordered_json;

std::string ElectRoot() { return std::string(primitives::kRoot) + "elect/"; }
std::string SemaRoot() { return std::string(primitives::kRoot) + "sema/"; }

// Values come from the store: bytes that are not UTF-8 are replaced rather
// than failing the page.
std::string Dump(const ordered_json& j) {
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

primitives::Holder HolderOf(const KeyValue& kv) {
  return primitives::DecodeHolder(kv.value).value_or(primitives::Holder{});
}

// One claim of a semaphore's holders or waitlist.
ordered_json Entry(const KeyValue& kv, const primitives::Holder& holder) {
  ordered_json j;
  j["host"] = holder.host;
  j["pid"] = holder.pid;
  j["started"] = holder.started;
  j["cmd"] = holder.cmd;
  j["create_revision"] = kv.create_revision;
  return j;
}

// A semaphore key below the root: "<name>/<max>/<id>". The name may hold
// '/' (the original did not forbid it); max is a decimal integer.
struct SemaKey {
  std::string name;
  int64_t max = 0;
};

std::optional<SemaKey> ParseSemaKey(std::string_view rest) {
  size_t id_at = rest.rfind('/');
  if (id_at == std::string_view::npos || id_at + 1 == rest.size()) {
    return std::nullopt;
  }
  std::string_view before = rest.substr(0, id_at);
  size_t max_at = before.rfind('/');
  if (max_at == std::string_view::npos || max_at == 0) return std::nullopt;
  std::string_view max = before.substr(max_at + 1);
  SemaKey out;
  out.name = std::string(before.substr(0, max_at));
  if (max.empty() || max.find_first_not_of("0123456789") != max.npos) {
    return std::nullopt;
  }
  auto [end, ec] =
      std::from_chars(max.data(), max.data() + max.size(), out.max);
  if (ec != std::errc() || end != max.data() + max.size()) return std::nullopt;
  return out;
}

// One semaphore's item: its claims split into holders and waitlist.
ordered_json SemaItem(const SemaKey& sema,
                      std::vector<const KeyValue*> claims) {
  std::sort(claims.begin(), claims.end(),
            [](const KeyValue* a, const KeyValue* b) {
              return a->create_revision < b->create_revision;
            });
  // Who holds is what `conch sema --who` shows: the admission rule over
  // the queue (weights and --spread included), which also reads the
  // original's unweighted claims right.
  std::vector<primitives::ClaimInfo> infos;
  infos.reserve(claims.size());
  for (const KeyValue* kv : claims)
    infos.push_back(primitives::ClaimFromKey(*kv));
  std::vector<primitives::Admission> verdict =
      primitives::Admit(infos, sema.max);
  ordered_json item;
  item["name"] = sema.name;
  item["max"] = sema.max;
  item["holders"] = ordered_json::array();
  item["waitlist"] = ordered_json::array();
  for (size_t i = 0; i < claims.size(); ++i) {
    bool holds = verdict[i] == primitives::Admission::kHolds;
    item[holds ? "holders" : "waitlist"].push_back(
        Entry(*claims[i], HolderOf(*claims[i])));
  }
  return item;
}

}  // namespace

std::string ElectJsonOf(const std::vector<KeyValue>& kvs) {
  const std::string root = ElectRoot();
  // Office -> its leader so far: the key of lowest create revision.
  std::map<std::string, const KeyValue*> leaders;
  for (const KeyValue& kv : kvs) {
    if (!kv.key.starts_with(root)) continue;
    std::string_view rest = std::string_view(kv.key).substr(root.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0 ||
        slash + 1 == rest.size()) {
      continue;  // not "<office>/<id>"
    }
    auto [it, fresh] = leaders.emplace(std::string(rest.substr(0, slash)), &kv);
    if (!fresh && kv.create_revision < it->second->create_revision) {
      it->second = &kv;
    }
  }
  ordered_json out = ordered_json::array();
  for (const auto& [office, kv] : leaders) {
    primitives::Holder holder = HolderOf(*kv);
    ordered_json item;
    item["office"] = office;
    item["leader"] = holder.host;
    item["pid"] = holder.pid;
    item["started"] = holder.started;
    item["cmd"] = holder.cmd;
    item["create_revision"] = kv->create_revision;
    out.push_back(std::move(item));
  }
  return Dump(out);
}

std::string SemaJsonOf(const std::vector<KeyValue>& kvs) {
  const std::string root = SemaRoot();
  std::map<std::pair<std::string, int64_t>, std::vector<const KeyValue*>> semas;
  for (const KeyValue& kv : kvs) {
    if (!kv.key.starts_with(root)) continue;
    std::optional<SemaKey> sema =
        ParseSemaKey(std::string_view(kv.key).substr(root.size()));
    if (!sema) continue;
    semas[{sema->name, sema->max}].push_back(&kv);
  }
  ordered_json out = ordered_json::array();
  for (auto& [id, claims] : semas) {
    out.push_back(SemaItem(SemaKey{id.first, id.second}, std::move(claims)));
  }
  return Dump(out);
}

Result<std::string> ElectJson(backend::Backend& backend, MonoTime deadline) {
  Result<std::vector<KeyValue>> kvs = backend.ListTree(ElectRoot(), deadline);
  if (!kvs.ok()) return kvs.status().With("elect view");
  return ElectJsonOf(*kvs);
}

Result<std::string> SemaJson(backend::Backend& backend, MonoTime deadline) {
  Result<std::vector<KeyValue>> kvs = backend.ListTree(SemaRoot(), deadline);
  if (!kvs.ok()) return kvs.status().With("sema view");
  return SemaJsonOf(*kvs);
}

}  // namespace conch::status
