// The store layout shared with the original Go conch (docs/design.md):
//   /conch/v1/elect/<office>/<lease-id-hex>
//   /conch/v1/sema/<name>/<max>/<lease-id-hex>
// and name validation for offices and semaphores.
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

// Lower-case hex without "0x", as the original prints lease IDs.
std::string LeaseHex(int64_t lease_id);
// Parses LeaseHex's output; nullopt-like failure as kInvalidArgument.
Result<int64_t> ParseLeaseHex(std::string_view hex);

// "/conch/v1/elect/<office>/".
std::string ElectPrefix(std::string_view office);
// "/conch/v1/elect/<office>/<lease hex>".
std::string ElectKey(std::string_view office, int64_t lease_id);

// "/conch/v1/sema/<name>/<max>/".
std::string SemaPrefix(std::string_view name, int64_t max);
// "/conch/v1/sema/<name>/<max>/<lease hex>".
std::string SemaKey(std::string_view name, int64_t max, int64_t lease_id);

// Checks an office or semaphore name: 1..128 bytes, no '/', no control
// characters or spaces. `what` names it in the message ("office").
Status ValidateName(std::string_view what, std::string_view name);

}  // namespace conch::primitives
