// GlobalConfig: the options every subcommand takes, from flags or CONCH_*
// environment variables (a flag wins; an empty variable counts as unset).
//
//   --endpoints     CONCH_ENDPOINTS     localhost:2379  comma-separated
//   --dial-timeout  CONCH_DIAL_TIMEOUT  5s              bounds every store call
//   --ttl           CONCH_TTL           10s             session TTL
//   --quiet                                             warnings and errors
//   only
//
// Thread contract: parsed once in the owner thread, then read-only.
#pragma once

#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "config/flags.h"

namespace conch::config {

struct GlobalConfig {
  std::string endpoints = "localhost:2379";
  Duration dial_timeout = std::chrono::seconds(5);
  Duration ttl = std::chrono::seconds(10);
  bool quiet = false;

  std::vector<std::string> EndpointList() const;
};

// Loads CONCH_* defaults into `config`, then registers the flags on `flags`
// (which override them when parsed). kInvalidArgument for a malformed
// environment value, naming the variable; the flags are registered even
// then.
Status RegisterGlobalFlags(FlagSet& flags, GlobalConfig* config);

// Checks values after parsing: endpoints not empty, dial timeout > 0.
Status ValidateGlobal(const GlobalConfig& config);

}  // namespace conch::config
