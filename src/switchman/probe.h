// The host probe of `conch switchman check-hosts` (switchman/inspect.h):
// is anybody there at a host, as the original's Net::Ping "tcp" probe
// decides it.
//
// Thread contract: ProbeHosts blocks (see there) and may be called from any
// thread; ProbePortFromEnv is pure and safe from any thread.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace conch::switchman {

// Net::Ping's defaults, which the original used: the TCP echo port and a
// 5 s timeout.
inline constexpr uint16_t kDefaultProbePort = 7;
inline constexpr Duration kProbeTimeout = std::chrono::seconds(5);

// Test hook: when set, check-hosts probes this port instead of 7. Must be
// a decimal number from 1 to 65535, else check-hosts exits 64.
inline constexpr const char* kProbePortEnv = "CONCH_SWITCHMAN_PROBE_PORT";

// Probes every host at once as Net::Ping's default "tcp" probe does: a TCP
// connect to `port`; a completed connection or a refusal (the host
// answered, no echo service) means up; a timeout, an unreachable network
// or a name that does not resolve means down. Names are resolved with
// getaddrinfo (IPv4 and IPv6; any address that answers will do), one after
// the other, then all connects run in one poll loop. Blocks for the lookups
// plus at most `timeout`. Returns the hosts that are up.
std::set<std::string> ProbeHosts(const std::vector<std::string>& hosts,
                                 uint16_t port, Duration timeout);

// The probe port: kDefaultProbePort when `env_value` (the value of
// kProbePortEnv) is null, else that number. kInvalidArgument if it is not
// 1..65535.
Result<uint16_t> ProbePortFromEnv(const char* env_value);

}  // namespace conch::switchman
