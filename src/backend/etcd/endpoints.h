// Turning conch's --endpoints list into one gRPC target.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace conch::backend {

struct HostPort {
  std::string host;
  int port = 0;
};

// Parses "host:port", "http://host:port", "etcd://host:port", "[v6]:port"
// or "host" (port `default_port`). "https://" is refused: conch speaks
// plain HTTP/2 only.
Result<HostPort> ParseEndpoint(const std::string& endpoint,
                               int default_port = 2379);

// Resolves every endpoint and returns a gRPC target listing all addresses,
// "ipv4:127.0.0.1:2379,127.0.0.1:22379", so that the channel fails over
// between members by itself. IPv4 addresses are used when any exist.
Result<std::string> ResolveTarget(const std::vector<std::string>& endpoints);

}  // namespace conch::backend
