// libFuzzer target for ParseDuration and FormatDuration. Beyond "no crash,
// no sanitizer report", it checks the contracts in base/duration.h:
//   - every error is kInvalidArgument with a one-line "invalid duration ..."
//     message without control bytes;
//   - whatever parses formats to text that parses back to the same value,
//     and formatting that again gives the same text;
//   - a '-' in front of signless text with units negates the value;
//   - the first 8 bytes, read as any int64 nanosecond count, round-trip
//     through FormatDuration and ParseDuration.
// A broken contract aborts through CONCH_CHECK, which libFuzzer reports as a
// crash and saves the input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/duration.h"
#include "base/fuzz/fuzz_util.h"
#include "base/status.h"

namespace conch {
namespace {

bool AllDigits(std::string_view text) {
  return std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; });
}

void CheckError(const Status& status) {
  fuzz::CheckUserError(status);
  CONCH_CHECK(status.message().starts_with("invalid duration \""));
}

// Format, re-parse, re-format: the value and the canonical text are stable.
void CheckRoundTrip(Duration d) {
  const std::string text = FormatDuration(d);
  Result<Duration> again = ParseDuration(text);
  CONCH_CHECK(again.ok());
  CONCH_CHECK(*again == d);
  CONCH_CHECK(FormatDuration(*again) == text);
}

void CheckText(std::string_view text) {
  Result<Duration> parsed = ParseDuration(text);
  if (!parsed.ok()) {
    CheckError(parsed.status());
    return;
  }
  CheckRoundTrip(*parsed);

  // Negation. Bare integers (seconds) take no sign, and text that already
  // has one would get two.
  const bool signed_text =
      !text.empty() && (text.front() == '-' || text.front() == '+');
  if (!signed_text && !AllDigits(text)) {
    Result<Duration> negated = ParseDuration("-" + std::string(text));
    CONCH_CHECK(negated.ok());
    CONCH_CHECK(*negated == -*parsed);
  }
}

}  // namespace
}  // namespace conch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  conch::CheckText(text);

  if (size >= sizeof(int64_t)) {
    int64_t nanos = 0;
    std::memcpy(&nanos, data, sizeof(nanos));
    conch::CheckRoundTrip(conch::Duration(nanos));
  }
  return 0;
}
