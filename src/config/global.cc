#include "config/global.h"

#include <cstdlib>

#include "base/duration.h"

namespace conch::config {

namespace {

const char* Env(const char* name) {
  const char* v = std::getenv(name);  // read before any thread starts
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

Status DurationFromEnv(const char* name, Duration* dst) {
  const char* v = Env(name);
  if (v == nullptr) return Status::Ok();
  Result<Duration> d = ParseDuration(v);
  if (!d.ok()) return d.status().With(name);
  *dst = *d;
  return Status::Ok();
}

}  // namespace

std::vector<std::string> GlobalConfig::EndpointList() const {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t comma = endpoints.find(',', start);
    std::string item = endpoints.substr(
        start, comma == std::string::npos ? std::string::npos : comma - start);
    // Trim spaces, which the original did not, so "a, b" works too.
    size_t b = item.find_first_not_of(" \t");
    size_t e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Status RegisterGlobalFlags(FlagSet& flags, GlobalConfig* config) {
  if (const char* v = Env("CONCH_ENDPOINTS")) config->endpoints = v;
  // A bad variable is reported, but the flags are registered all the same,
  // so that it is the variable the error names, not an "unknown" flag.
  Status env = DurationFromEnv("CONCH_DIAL_TIMEOUT", &config->dial_timeout);
  Status ttl = DurationFromEnv("CONCH_TTL", &config->ttl);
  if (env.ok()) env = ttl;
  flags.String("endpoints", &config->endpoints,
               "etcd endpoints, comma-separated host:port [$CONCH_ENDPOINTS]",
               "LIST");
  flags.Duration(
      "dial-timeout", &config->dial_timeout,
      "give up on an unreachable store after this [$CONCH_DIAL_TIMEOUT]");
  flags.Duration("ttl", &config->ttl,
                 "session TTL, whole seconds [$CONCH_TTL]");
  flags.Bool("quiet", &config->quiet, "log warnings and errors only");
  return env;
}

Status ValidateGlobal(const GlobalConfig& config) {
  if (config.EndpointList().empty()) {
    return Error(Code::kInvalidArgument, "--endpoints is empty");
  }
  if (config.dial_timeout <= Duration::zero()) {
    return Error(Code::kInvalidArgument,
                 "--dial-timeout " + FormatDuration(config.dial_timeout) +
                     " must be positive");
  }
  return Status::Ok();
}

}  // namespace conch::config
