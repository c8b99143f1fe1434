// libFuzzer target for backend::ParseEndpoint, the parser for each entry of
// --endpoints. ResolveTarget is left out: it asks DNS. Beyond "no crash, no
// sanitizer report", it checks the contract in backend/etcd/endpoints.h:
//   - every error is kInvalidArgument with a one-line message without
//     control bytes that starts with "endpoint \"";
//   - on success the port is in 1..65535 and the host is non-empty with no
//     '/' (a host with a path would only fail later, in DNS);
//   - the result written back as "host:port" (or "[host]:port" when the host
//     needs brackets) parses to the same host and port, with and without
//     "http://" in front.
// A broken contract aborts through CONCH_CHECK, which libFuzzer reports as a
// crash and saves the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "backend/etcd/endpoints.h"
#include "base/fuzz/fuzz_util.h"
#include "base/status.h"

namespace conch {
namespace {

using backend::HostPort;
using backend::ParseEndpoint;

std::string Canonical(const HostPort& hp) {
  const bool brackets =
      hp.host.find(':') != std::string::npos || hp.host.starts_with('[');
  std::string host = brackets ? "[" + hp.host + "]" : hp.host;
  return host + ":" + std::to_string(hp.port);
}

void CheckSuccess(const HostPort& hp) {
  CONCH_CHECK(hp.port >= 1 && hp.port <= 65535);
  CONCH_CHECK(!hp.host.empty());
  CONCH_CHECK(hp.host.find('/') == std::string::npos);

  const std::string canonical = Canonical(hp);
  for (const std::string& again : {canonical, "http://" + canonical}) {
    Result<HostPort> reparsed = ParseEndpoint(again);
    CONCH_CHECK(reparsed.ok());
    CONCH_CHECK(reparsed->host == hp.host);
    CONCH_CHECK(reparsed->port == hp.port);
  }
}

void CheckEndpoint(std::string_view text) {
  Result<HostPort> hp = ParseEndpoint(std::string(text));
  if (!hp.ok()) {
    fuzz::CheckUserError(hp.status());
    CONCH_CHECK(hp.status().message().starts_with("endpoint \""));
    return;
  }
  CheckSuccess(*hp);
}

}  // namespace
}  // namespace conch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  conch::CheckEndpoint(conch::fuzz::AsText(data, size));
  return 0;
}
