// libFuzzer target for the key helpers in primitives/keys.h that take user
// or store input: ValidateName (office and semaphore names from the command
// line) and ParseLeaseHex (the last segment of election keys, which any
// client may write). Beyond "no crash, no sanitizer report", it checks:
//   - ValidateName accepts exactly the names its contract describes: 1..128
//     bytes, no '/', no space or control byte, not "." or "..";
//   - ParseLeaseHex accepts exactly 1 or more hex digits with a value below
//     2^64, and LeaseHex of the result is the input in lower case without
//     leading zeros;
//   - LeaseHex of any int64 is lower-case hex without leading zeros that
//     ParseLeaseHex reads back;
//   - every error is kInvalidArgument with a non-empty one-line message
//     without control bytes.
// A broken contract aborts through CONCH_CHECK, which libFuzzer reports as a
// crash and saves the input.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/fuzz/fuzz_util.h"
#include "base/status.h"
#include "primitives/keys.h"

namespace conch {
namespace {

using primitives::LeaseHex;
using primitives::ParseLeaseHex;

bool NameIsValid(std::string_view name) {
  const bool clean = std::ranges::none_of(name, [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return c == '/' || c == ' ' || byte < 0x20 || byte == 0x7F;
  });
  return !name.empty() && name.size() <= primitives::kMaxNameBytes && clean &&
         name != "." && name != "..";
}

void CheckName(std::string_view name) {
  const Status status = primitives::ValidateName("office", name);
  CONCH_CHECK(status.ok() == NameIsValid(name));
  if (!status.ok()) {
    fuzz::CheckUserError(status);
    CONCH_CHECK(status.message().starts_with("office name "));
    return;
  }
  CONCH_CHECK(primitives::ElectPrefix(name) == std::string(primitives::kRoot) +
                                                   "elect/" +
                                                   std::string(name) + "/");
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

// "00A0" -> "a0"; "000" -> "0".
std::string CanonicalHex(std::string_view hex) {
  const size_t first = hex.find_first_not_of('0');
  if (first == std::string_view::npos) return "0";
  std::string out(hex.substr(first));
  std::ranges::transform(out, out.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return out;
}

void CheckLeaseText(std::string_view text) {
  const bool hex = !text.empty() && std::ranges::all_of(text, IsHexDigit);
  const bool fits = hex && CanonicalHex(text).size() <= 16;
  Result<int64_t> lease_id = ParseLeaseHex(text);
  CONCH_CHECK(lease_id.ok() == fits);
  if (!lease_id.ok()) {
    fuzz::CheckUserError(lease_id.status());
    return;
  }
  CONCH_CHECK(LeaseHex(*lease_id) == CanonicalHex(text));
}

void CheckLeaseId(int64_t lease_id) {
  const std::string hex = LeaseHex(lease_id);
  CONCH_CHECK(CanonicalHex(hex) == hex);
  Result<int64_t> back = ParseLeaseHex(hex);
  CONCH_CHECK(back.ok());
  CONCH_CHECK(*back == lease_id);
}

}  // namespace
}  // namespace conch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = conch::fuzz::AsText(data, size);
  conch::CheckName(text);
  conch::CheckLeaseText(text);
  FuzzedDataProvider provider(data, size);
  conch::CheckLeaseId(provider.ConsumeIntegral<int64_t>());
  return 0;
}
