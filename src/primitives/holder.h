// The holder record stored as the value of every held or queued key, in
// the original's JSON shape so that either tool reads the other's:
//   {"host":"web1","pid":4242,"started":"2026-11-22T07:28:36Z","cmd":"a b"}
// "cmd" is omitted when empty. Semaphore claims add "weight" (when not 1),
// "spread" (when true) and "held" (once admitted); the original ignores
// fields it does not know.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace conch::primitives {

inline constexpr size_t kMaxCmdBytes = 256;

struct Holder {
  std::string host;
  long long pid = 0;
  std::string started;  // RFC 3339 UTC, when the wrapper started
  std::string cmd;      // argv joined by spaces, at most 256 bytes
  int64_t weight = 1;   // semaphore units this claim takes
  bool spread = false;  // semaphore: at most one claim per host holds
  bool held = false;    // semaphore: set once the claim was admitted
};

std::string EncodeHolder(const Holder& holder);

// Parses a stored value; nullopt if it is not a JSON object. Missing or
// mistyped fields stay empty/zero.
std::optional<Holder> DecodeHolder(const std::string& value);

// argv joined by single spaces and cut to kMaxCmdBytes bytes.
std::string JoinCommand(const std::vector<std::string>& argv);

// This machine's host name ("unknown-host" if it cannot be read).
std::string LocalHostname();

}  // namespace conch::primitives
