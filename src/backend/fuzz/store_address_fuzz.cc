// libFuzzer target for backend::ParseStoreAddress, the parser of a whole
// --endpoints value that picks the store, and backend::CheckTtl. Beyond "no
// crash, no sanitizer report", it checks the contract in backend/store.h:
//   - every error is kInvalidArgument with a one-line message without
//     control bytes;
//   - on success there is at least one member, the kind is ZooKeeper
//     exactly when the first non-empty entry starts with "zk://", every
//     member parses as an endpoint, and a chroot only comes with ZooKeeper,
//     starts with '/' and does not end with one;
//   - the result written back ("zk://" + members + chroot, or the members)
//     parses to the same address;
//   - CheckTtl accepts a TTL built from the input's first bytes exactly
//     when it is at least 1 s and whole seconds (etcd) or whole
//     milliseconds up to 24 h (ZooKeeper).
// A broken contract aborts through CONCH_CHECK, which libFuzzer reports as a
// crash and saves the input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "backend/etcd/endpoints.h"
#include "backend/store.h"
#include "base/fuzz/fuzz_util.h"
#include "base/status.h"

namespace conch {
namespace {

using backend::StoreAddress;
using backend::StoreKind;

std::string Join(const StoreAddress& a) {
  std::string out = a.kind == StoreKind::kZooKeeper ? "zk://" : "";
  for (size_t i = 0; i < a.members.size(); ++i) {
    out += (i > 0 ? "," : "") + a.members[i];
  }
  return out + a.chroot;
}

std::string_view FirstEntry(std::string_view text) {
  for (;;) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty() || comma == std::string_view::npos) return item;
    text.remove_prefix(comma + 1);
  }
}

void CheckAddress(std::string_view text) {
  Result<StoreAddress> a = backend::ParseStoreAddress(text);
  if (!a.ok()) {
    fuzz::CheckUserError(a.status());
    return;
  }
  CONCH_CHECK(!a->members.empty());
  const bool zk = FirstEntry(text).starts_with("zk://");
  CONCH_CHECK((a->kind == StoreKind::kZooKeeper) == zk);
  for (const std::string& m : a->members) {
    CONCH_CHECK(backend::ParseEndpoint(m, 2181).ok());
  }
  if (!a->chroot.empty()) {
    CONCH_CHECK(zk);
    CONCH_CHECK(a->chroot.front() == '/' && a->chroot.back() != '/');
  }
  Result<StoreAddress> again = backend::ParseStoreAddress(Join(*a));
  CONCH_CHECK(again.ok());
  CONCH_CHECK(again->kind == a->kind);
  CONCH_CHECK(again->members == a->members);
  CONCH_CHECK(again->chroot == a->chroot);
}

void CheckTtl(const uint8_t* data, size_t size) {
  int64_t nanos = 0;
  std::memcpy(&nanos, data, std::min(size, sizeof(nanos)));
  const Duration ttl{nanos};
  for (StoreKind kind : {StoreKind::kEtcd, StoreKind::kZooKeeper}) {
    Status s = backend::CheckTtl(kind, ttl);
    const Duration grain = kind == StoreKind::kEtcd
                               ? Duration(std::chrono::seconds(1))
                               : Duration(std::chrono::milliseconds(1));
    bool fits =
        ttl >= std::chrono::seconds(1) && ttl % grain == Duration::zero();
    if (kind == StoreKind::kZooKeeper)
      fits = fits && ttl <= std::chrono::hours(24);
    CONCH_CHECK(s.ok() == fits);
    if (!s.ok()) fuzz::CheckUserError(s);
  }
}

}  // namespace
}  // namespace conch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  conch::CheckAddress(conch::fuzz::AsText(data, size));
  conch::CheckTtl(data, size);
  return 0;
}
