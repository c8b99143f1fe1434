// Duration: conch's one time-span type, with the text form users write in
// flags and config ("300ms", "1m30s") and the form conch prints.
//
// The syntax and the printed form follow Go's time.ParseDuration and
// time.Duration.String(), so durations copied from the original tool's
// documentation and configs mean the same thing here.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace conch {

// Signed 64-bit nanoseconds: about +-292 years.
using Duration = std::chrono::nanoseconds;

// Parses a duration written as an optional sign ('-' or '+') followed by one
// or more terms, each a decimal number with an optional fraction and a unit:
// "300ms", "-1.5h", "2h45m", "1m30s", ".5s", "1.s", "1h1h" (= 2h).
//   - Units: "ns", "us", "µs" (U+00B5 micro sign), "μs" (U+03BC Greek mu),
//     "ms", "s", "m", "h". There are no days: they vary in length.
//   - Each number needs at least one digit, before or after the '.'.
//   - "0", "+0" and "-0" alone mean zero and need no unit.
//   - No spaces anywhere.
//   - A fraction is truncated toward zero to whole nanoseconds, computed
//     exactly ("1.0000000001s" is 1s, "1.9999999999s" is 1.999999999s).
//     Go rounds through float64 here, which can differ by a nanosecond on
//     inputs with more digits than a float64 carries.
//
// Conch extension, not in Go: a bare non-negative integer with no sign, no
// fraction and no unit means seconds ("10" is 10s), as flock(1)'s timeouts do.
// "-10" and "1.5" are still errors.
//
// Errors are all kInvalidArgument, with a one-line lower-case message that
// quotes the input (control bytes escaped, long input shortened), e.g.
//   invalid duration "5x": unknown unit "x" (use ns, us, ms, s, m, h)
// Causes: empty text, no number where one is expected, a missing or unknown
// unit, and a value outside Duration's range (magnitudes up to 2^63 ns are
// accepted only when negative, so Duration::min() parses).
Result<Duration> ParseDuration(std::string_view text);

// Formats like Go's Duration.String(): the shortest exact form, with no
// trailing zeros in the fraction.
//   - Under one second, a single unit chosen by size: "0s", "750ns",
//     "1.5µs" (U+00B5), "500ms".
//   - From one second up, hours, minutes and seconds, with every smaller
//     unit written once a larger one is: "1s", "1m30s", "1h0m0s",
//     "2h45m3.25s". No days.
//   - Negative values get a leading '-': "-2s".
// ParseDuration(FormatDuration(d)) == d for every d, including
// Duration::min() and Duration::max().
std::string FormatDuration(Duration d);

}  // namespace conch
