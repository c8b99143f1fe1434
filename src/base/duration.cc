#include "base/duration.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "base/strings.h"

namespace conch {
namespace {

// Magnitudes are accumulated unsigned so that 2^63 (the magnitude of
// Duration::min()) is representable while parsing.
constexpr uint64_t kMaxMagnitude = uint64_t{1} << 63;

constexpr uint64_t kNanosecond = 1;
constexpr uint64_t kMicrosecond = 1000 * kNanosecond;
constexpr uint64_t kMillisecond = 1000 * kMicrosecond;
constexpr uint64_t kSecond = 1000 * kMillisecond;
constexpr uint64_t kMinute = 60 * kSecond;
constexpr uint64_t kHour = 60 * kMinute;

struct Unit {
  std::string_view name;
  uint64_t nanos;
};

// Both micro signs are accepted because they look identical and users paste
// either; the bytes are spelled out so the source encoding cannot matter.
constexpr std::array<Unit, 8> kUnits = {{
    {"ns", kNanosecond},
    {"us", kMicrosecond},
    {"\xC2\xB5s", kMicrosecond},  // U+00B5 MICRO SIGN
    {"\xCE\xBCs", kMicrosecond},  // U+03BC GREEK SMALL LETTER MU
    {"ms", kMillisecond},
    {"s", kSecond},
    {"m", kMinute},
    {"h", kHour},
}};

constexpr std::string_view kUnitHint = " (use ns, us, ms, s, m, h)";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Status Invalid(std::string_view text, std::string_view reason) {
  return Error(Code::kInvalidArgument,
               "invalid duration " + Quote(text) + ": " + std::string(reason));
}

Status OutOfRange(std::string_view text) {
  return Invalid(text, "out of range (the limit is 2562047h47m16.854775807s)");
}

// Consumes a run of digits from the front of *rest into *value. Returns false
// if the value exceeds kMaxMagnitude; the digits are consumed either way.
bool ConsumeInteger(std::string_view* rest, uint64_t* value) {
  bool fits = true;
  *value = 0;
  size_t i = 0;
  for (; i < rest->size() && IsDigit((*rest)[i]); ++i) {
    auto digit = static_cast<uint64_t>((*rest)[i] - '0');
    if (*value > (kMaxMagnitude - digit) / 10) fits = false;
    if (fits) *value = *value * 10 + digit;
  }
  rest->remove_prefix(i);
  return fits;
}

// Returns floor(0.<digits> * unit) exactly, however many digits there are.
// Horner's rule from the last digit: t = (digit * unit + t) / 10, using
// floor((a + x) / 10) == floor((a + floor(x)) / 10) for integer a. Every
// intermediate stays below 10 * unit, so nothing overflows.
uint64_t FractionNanos(std::string_view digits, uint64_t unit) {
  uint64_t nanos = 0;
  for (size_t i = digits.size(); i > 0; --i) {
    auto digit = static_cast<uint64_t>(digits[i - 1] - '0');
    nanos = (digit * unit + nanos) / 10;
  }
  return nanos;
}

const Unit* FindUnit(std::string_view name) {
  for (const Unit& unit : kUnits) {
    if (unit.name == name) return &unit;
  }
  return nullptr;
}

// Consumes one "<digits>[.<digits>]<unit>" term from the front of *rest and
// returns its magnitude in nanoseconds. `text` is the whole input, for
// messages.
Result<uint64_t> ConsumeTerm(std::string_view text, std::string_view* rest) {
  const std::string_view term_start = *rest;
  uint64_t whole = 0;
  const size_t size_before = rest->size();
  const bool whole_fits = ConsumeInteger(rest, &whole);
  const bool has_whole = rest->size() != size_before;

  std::string_view fraction;
  if (!rest->empty() && rest->front() == '.') {
    rest->remove_prefix(1);
    size_t n = 0;
    while (n < rest->size() && IsDigit((*rest)[n])) ++n;
    fraction = rest->substr(0, n);
    rest->remove_prefix(n);
  }
  if (!has_whole && fraction.empty()) {
    return Invalid(text, "expected a number at " + Quote(term_start));
  }

  // The unit is everything up to the next number.
  size_t n = 0;
  while (n < rest->size() && !IsDigit((*rest)[n]) && (*rest)[n] != '.') ++n;
  const std::string_view unit_name = rest->substr(0, n);
  rest->remove_prefix(n);
  if (unit_name.empty()) {
    return Invalid(text, "missing unit" + std::string(kUnitHint));
  }
  const Unit* unit = FindUnit(unit_name);
  if (unit == nullptr) {
    return Invalid(text,
                   "unknown unit " + Quote(unit_name) + std::string(kUnitHint));
  }

  if (!whole_fits || whole > kMaxMagnitude / unit->nanos) {
    return OutOfRange(text);
  }
  const uint64_t nanos = whole * unit->nanos;
  // FractionNanos < unit <= 3.6e12, so this sum cannot wrap.
  const uint64_t total = nanos + FractionNanos(fraction, unit->nanos);
  if (total > kMaxMagnitude) return OutOfRange(text);
  return total;
}

// The conch extension: all digits, no unit, meaning seconds.
bool IsBareInteger(std::string_view text) {
  return !text.empty() && std::ranges::all_of(text, IsDigit);
}

Result<Duration> ParseBareSeconds(std::string_view text) {
  std::string_view rest = text;
  uint64_t seconds = 0;
  if (!ConsumeInteger(&rest, &seconds) ||
      seconds > (kMaxMagnitude - 1) / kSecond) {
    return OutOfRange(text);
  }
  return Duration(static_cast<int64_t>(seconds * kSecond));
}

// Appends value / 10^precision as a decimal with no trailing zeros in the
// fraction (and no '.' if the fraction is zero).
void AppendFixed(std::string* out, uint64_t value, int precision) {
  uint64_t scale = 1;
  for (int i = 0; i < precision; ++i) scale *= 10;
  *out += std::to_string(value / scale);
  uint64_t fraction = value % scale;
  if (fraction == 0) return;
  std::string digits(static_cast<size_t>(precision), '0');
  for (size_t i = digits.size(); i > 0; --i) {
    digits[i - 1] = static_cast<char>('0' + fraction % 10);
    fraction /= 10;
  }
  digits.erase(digits.find_last_not_of('0') + 1);
  *out += '.';
  *out += digits;
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return Invalid(text, "empty");
  if (IsBareInteger(text)) return ParseBareSeconds(text);

  std::string_view rest = text;
  const bool negative = rest.front() == '-';
  if (rest.front() == '-' || rest.front() == '+') rest.remove_prefix(1);
  // Go's special case: a lone zero needs no unit.
  if (rest == "0") return Duration(0);
  if (rest.empty()) return Invalid(text, "expected a number after the sign");

  uint64_t magnitude = 0;
  while (!rest.empty()) {
    Result<uint64_t> term = ConsumeTerm(text, &rest);
    if (!term.ok()) return term.status();
    if (*term > kMaxMagnitude - magnitude) return OutOfRange(text);
    magnitude += *term;
  }
  if (!negative && magnitude == kMaxMagnitude) return OutOfRange(text);
  // Unsigned negation then conversion is well defined (modular) in C++20, and
  // maps a magnitude of 2^63 to Duration::min().
  const uint64_t bits = negative ? 0 - magnitude : magnitude;
  return Duration(static_cast<int64_t>(bits));
}

std::string FormatDuration(Duration d) {
  const int64_t count = d.count();
  if (count == 0) return "0s";
  // Negating in unsigned arithmetic handles Duration::min().
  const uint64_t magnitude = count < 0 ? 0 - static_cast<uint64_t>(count)
                                       : static_cast<uint64_t>(count);
  std::string out = count < 0 ? "-" : "";

  // Under a second: one unit, chosen by size.
  if (magnitude < kMicrosecond) {
    AppendFixed(&out, magnitude, 0);
    return out + "ns";
  }
  if (magnitude < kMillisecond) {
    AppendFixed(&out, magnitude, 3);
    return out + "\xC2\xB5s";  // U+00B5, as Go prints it.
  }
  if (magnitude < kSecond) {
    AppendFixed(&out, magnitude, 6);
    return out + "ms";
  }

  // A second or more: [<h>h][<m>m]<s>[.<fraction>]s. Hours are the largest
  // unit because days vary in length.
  const uint64_t hours = magnitude / kHour;
  const uint64_t minutes = magnitude % kHour / kMinute;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  AppendFixed(&out, magnitude % kMinute, 9);
  return out + "s";
}

}  // namespace conch
