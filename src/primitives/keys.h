// The store layout shared with the original Go conch (docs/design.md): the
// prefixes under which contenders queue,
//   /conch/v1/elect/<office>/
//   /conch/v1/sema/<name>/<max>/
// (the backend names each contender under its prefix), the hex form of
// session ids, and name validation for offices and semaphores.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace conch::primitives {

inline constexpr std::string_view kRoot = "/conch/v1/";
inline constexpr size_t kMaxNameBytes = 128;

// Lower-case hex without "0x", as the original prints lease IDs; conch
// prints ZooKeeper session ids the same way.
std::string LeaseHex(int64_t lease_id);
// Parses LeaseHex's output; nullopt-like failure as kInvalidArgument.
Result<int64_t> ParseLeaseHex(std::string_view hex);

// "/conch/v1/elect/<office>/".
std::string ElectPrefix(std::string_view office);

// "/conch/v1/sema/<name>/<max>/".
std::string SemaPrefix(std::string_view name, int64_t max);

// Checks an office or semaphore name: 1..128 bytes, no '/', no control
// characters or spaces. `what` names it in the message ("office").
Status ValidateName(std::string_view what, std::string_view name);

}  // namespace conch::primitives
