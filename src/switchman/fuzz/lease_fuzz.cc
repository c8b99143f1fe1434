// libFuzzer target for switchman::ParseLease and EvalExpression. The input
// is used twice with fixed host facts: as one whole --lease argument, and as
// a bare expression. Beyond "no crash, no hang, no sanitizer report", it
// checks the contract in switchman/lease.h:
//   - Every error is kInvalidArgument with a non-empty one-line message
//     without control bytes; an evaluator error that names a position names
//     one inside the expression or just after its end.
//   - A value is in lowest terms with a positive denominator and a
//     magnitude below 2^63.
//   - A parsed lease has a usable resource name, 1 <= total and
//     0 <= count <= total, keeps the argument as given, and the same lease
//     written with plain numbers parses to the same values.
// A broken contract aborts through CONCH_CHECK, which libFuzzer reports as a
// crash and saves the input.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "base/fuzz/fuzz_util.h"
#include "base/status.h"
#include "switchman/lease.h"

namespace conch::switchman {
namespace {

// An FQDN with a macro name inside it, so that re-expansion would show.
HostFacts FixedFacts() {
  HostFacts facts;
  facts.cpus = 8;
  facts.fqdn = "CPU1.example.com";
  facts.mem_mb = 15890;
  return facts;
}

int64_t Gcd(int64_t a, int64_t b) {
  while (b != 0) {
    int64_t r = a % b;
    a = b;
    b = r;
  }
  return a < 0 ? -a : a;
}

// The N of "at position N" in an evaluator message, or 0 when there is none.
size_t PositionIn(const std::string& message) {
  constexpr std::string_view kMarker = "at position ";
  size_t at = message.find(kMarker);
  if (at == std::string::npos) return 0;
  size_t n = 0;
  for (size_t i = at + kMarker.size();
       i < message.size() && message[i] >= '0' && message[i] <= '9'; ++i) {
    n = n * 10 + static_cast<size_t>(message[i] - '0');
    CONCH_CHECK(n < (size_t{1} << 40));
  }
  CONCH_CHECK(n >= 1);
  return n;
}

void CheckExpression(std::string_view expr) {
  Result<Fraction> value = EvalExpression(expr);
  if (!value.ok()) {
    fuzz::CheckUserError(value.status());
    size_t position = PositionIn(value.status().message());
    CONCH_CHECK(position <= expr.size() + 1);
    return;
  }
  CONCH_CHECK(value->den > 0);
  CONCH_CHECK(value->num != std::numeric_limits<int64_t>::min());
  CONCH_CHECK(Gcd(value->num, value->den) == 1);
}

void CheckLease(std::string_view arg) {
  const HostFacts facts = FixedFacts();
  Result<Lease> lease = ParseLease(arg, facts);
  if (!lease.ok()) {
    fuzz::CheckUserError(lease.status());
    CONCH_CHECK(lease.status().message().starts_with("--lease \""));
    return;
  }
  CONCH_CHECK(lease->text == arg);
  CONCH_CHECK(!lease->resource.empty());
  CONCH_CHECK(lease->resource != "." && lease->resource != "..");
  CONCH_CHECK(lease->resource.find('/') == std::string::npos);
  for (char c : lease->resource) {
    CONCH_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F);
  }
  CONCH_CHECK(lease->total >= 1);
  CONCH_CHECK(lease->count >= 0 && lease->count <= lease->total);
  // The resource is the expansion of everything before the first "=".
  CONCH_CHECK(lease->resource ==
              ExpandMacros(arg.substr(0, arg.find('=')), facts));

  // The same lease with plain numbers and a fixed resource name.
  std::string plain =
      "r=" + std::to_string(lease->count) + ":" + std::to_string(lease->total);
  Result<Lease> again = ParseLease(plain, facts);
  CONCH_CHECK(again.ok());
  CONCH_CHECK(again->count == lease->count && again->total == lease->total);
}

}  // namespace
}  // namespace conch::switchman

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = conch::fuzz::AsText(data, size);
  conch::switchman::CheckLease(input);
  conch::switchman::CheckExpression(input);
  return 0;
}
