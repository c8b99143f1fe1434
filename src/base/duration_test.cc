#include "base/duration.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace conch {
namespace {

constexpr int64_t kMaxNanos = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinNanos = std::numeric_limits<int64_t>::min();

struct ValidCase {
  std::string text;
  int64_t nanos;
};

TEST(ParseDurationTest, AcceptsGoSyntax) {
  const std::vector<ValidCase> cases = {
      // Zero, with and without units and signs.
      {"0", 0},
      {"+0", 0},
      {"-0", 0},
      {"0s", 0},
      {"-0s", 0},
      {"0.0h", 0},
      // One unit each.
      {"5ns", 5},
      {"5us", 5'000},
      {"5\xC2\xB5s", 5'000},  // U+00B5 micro sign
      {"5\xCE\xBCs", 5'000},  // U+03BC Greek mu
      {"5ms", 5'000'000},
      {"5s", 5'000'000'000},
      {"5m", 300'000'000'000},
      {"5h", 18'000'000'000'000},
      {"300ms", 300'000'000},
      // Signs.
      {"-5s", -5'000'000'000},
      {"+5s", 5'000'000'000},
      {"-1.5h", -5'400'000'000'000},
      // Several terms, including repeated and unordered units.
      {"2h45m", 9'900'000'000'000},
      {"1m30s", 90'000'000'000},
      {"1h1h", 7'200'000'000'000},
      {"1s1h", 3'601'000'000'000},
      {"1h2m3s4ms5us6ns", 3'723'004'005'006},
      {"-1m30s", -90'000'000'000},
      // Fractions: digits needed on one side of the dot only.
      {".5s", 500'000'000},
      {"1.s", 1'000'000'000},
      {"1.5s", 1'500'000'000},
      {"0.25m", 15'000'000'000},
      {"1.5us", 1'500},
      {"00001.5000s", 1'500'000'000},
      {".5m.5s", 30'500'000'000},
      // Leading zeros do not overflow.
      {"0000000000000000000000000000001ns", 1},
  };
  for (const ValidCase& c : cases) {
    Result<Duration> d = ParseDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status().ToString();
    EXPECT_EQ(d->count(), c.nanos) << c.text;
  }
}

TEST(ParseDurationTest, BareIntegerMeansSeconds) {
  const std::vector<ValidCase> cases = {
      {"10", 10'000'000'000},
      {"00", 0},
      {"1", 1'000'000'000},
      {"007", 7'000'000'000},
      {"9223372036", 9'223'372'036'000'000'000},
  };
  for (const ValidCase& c : cases) {
    Result<Duration> d = ParseDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status().ToString();
    EXPECT_EQ(d->count(), c.nanos) << c.text;
  }
}

TEST(ParseDurationTest, TruncatesFractionsToWholeNanoseconds) {
  const std::vector<ValidCase> cases = {
      {"1.0000000001s", 1'000'000'000},
      {"1.9999999999s", 1'999'999'999},
      {"0.123456789s", 123'456'789},
      {"0.1234567891s", 123'456'789},
      {"0.9ns", 0},
      {"1.999ns", 1},
      {"1.0000000001h", 3'600'000'000'360},  // 0.36 us
      {"0.000000000001h", 3},                // 3.6 ns
      {"0.3333333333333333333333333333333333333h", 1'199'999'999'999},
      {"-1.0000000001s", -1'000'000'000},
      {"-1.9999999999s", -1'999'999'999},
      {"1.00000000000000000000000000000000000000000001s", 1'000'000'000},
  };
  for (const ValidCase& c : cases) {
    Result<Duration> d = ParseDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status().ToString();
    EXPECT_EQ(d->count(), c.nanos) << c.text;
  }
}

TEST(ParseDurationTest, AcceptsTheInt64Limits) {
  const std::vector<ValidCase> cases = {
      {"9223372036854775807ns", kMaxNanos},
      {"-9223372036854775808ns", kMinNanos},
      {"2562047h47m16.854775807s", kMaxNanos},
      {"-2562047h47m16.854775808s", kMinNanos},
      {"2562047.7880152155h", 9'223'372'036'854'775'800},
  };
  for (const ValidCase& c : cases) {
    Result<Duration> d = ParseDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status().ToString();
    EXPECT_EQ(d->count(), c.nanos) << c.text;
  }
}

TEST(ParseDurationTest, RejectsOverflow) {
  const std::vector<std::string> cases = {
      "9223372036854775808ns",
      "-9223372036854775809ns",
      "2562047h47m16.854775808s",
      "-2562047h47m16.854775809s",
      "2562048h",
      "9223372036854775807ns1ns",
      "9223372036854775808ns9223372036854775808ns",  // sums to 2^64
      "-9223372036854775808ns1ns",
      "18446744073709551616ns",
      "99999999999999999999999999999h",
      "9223372037",  // bare seconds
      "99999999999999999999",
  };
  for (const std::string& text : cases) {
    Result<Duration> d = ParseDuration(text);
    ASSERT_FALSE(d.ok()) << text << " parsed as " << d->count();
    EXPECT_EQ(d.status().code(), Code::kInvalidArgument) << text;
    EXPECT_NE(d.status().message().find("out of range"), std::string::npos)
        << d.status().message();
  }
}

struct InvalidCase {
  std::string text;
  std::string message;
};

TEST(ParseDurationTest, RejectsMalformedTextWithOneLineMessages) {
  const std::vector<InvalidCase> cases = {
      {"", R"(invalid duration "": empty)"},
      {"5x",
       R"(invalid duration "5x": unknown unit "x" (use ns, us, ms, s, m, h))"},
      {"5sec",
       R"(invalid duration "5sec": unknown unit "sec" (use ns, us, ms, s, m, h))"},
      {"5S",
       R"(invalid duration "5S": unknown unit "S" (use ns, us, ms, s, m, h))"},
      {"1d",
       R"(invalid duration "1d": unknown unit "d" (use ns, us, ms, s, m, h))"},
      {"5s ",
       R"(invalid duration "5s ": unknown unit "s " (use ns, us, ms, s, m, h))"},
      {"1e3s",
       R"(invalid duration "1e3s": unknown unit "e" (use ns, us, ms, s, m, h))"},
      {"1.5",
       R"(invalid duration "1.5": missing unit (use ns, us, ms, s, m, h))"},
      {"1h30",
       R"(invalid duration "1h30": missing unit (use ns, us, ms, s, m, h))"},
      {"-10",
       R"(invalid duration "-10": missing unit (use ns, us, ms, s, m, h))"},
      {"+10",
       R"(invalid duration "+10": missing unit (use ns, us, ms, s, m, h))"},
      {"1..5s",
       R"(invalid duration "1..5s": missing unit (use ns, us, ms, s, m, h))"},
      {"-", R"(invalid duration "-": expected a number after the sign)"},
      {"+", R"(invalid duration "+": expected a number after the sign)"},
      {"s", R"(invalid duration "s": expected a number at "s")"},
      {".", R"(invalid duration ".": expected a number at ".")"},
      {".s", R"(invalid duration ".s": expected a number at ".s")"},
      {"-.s", R"(invalid duration "-.s": expected a number at ".s")"},
      {" 5s", R"(invalid duration " 5s": expected a number at " 5s")"},
      {"--5s", R"(invalid duration "--5s": expected a number at "-5s")"},
      {"1s.s", R"(invalid duration "1s.s": expected a number at ".s")"},
      // As in Go, a unit runs up to the next digit or '.', so a sign or
      // space after the first term is part of the unit.
      {"1h-5m",
       R"(invalid duration "1h-5m": unknown unit "h-" (use ns, us, ms, s, m, h))"},
      {"1h +5m",
       R"(invalid duration "1h +5m": unknown unit "h +" (use ns, us, ms, s, m, h))"},
      {"5\n",
       R"(invalid duration "5\x0a": unknown unit "\x0a" (use ns, us, ms, s, m, h))"},
      {"\"5s", R"(invalid duration "\"5s": expected a number at "\"5s")"},
  };
  for (const InvalidCase& c : cases) {
    Result<Duration> d = ParseDuration(c.text);
    ASSERT_FALSE(d.ok()) << c.text << " parsed as " << d->count();
    EXPECT_EQ(d.status().code(), Code::kInvalidArgument) << c.text;
    EXPECT_EQ(d.status().message(), c.message);
  }
}

TEST(ParseDurationTest, ShortensLongInputInMessages) {
  // 100 micro signs: 200 bytes, cut at a character boundary.
  std::string text = "1";
  for (int i = 0; i < 100; ++i) text += "\xC2\xB5";
  Result<Duration> d = ParseDuration(text);
  ASSERT_FALSE(d.ok());
  const std::string& message = d.status().message();
  EXPECT_LT(message.size(), 250U) << message;
  EXPECT_NE(message.find("...\""), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  // No half character before the ellipsis.
  const size_t ellipsis = message.find("...\"");
  EXPECT_EQ(message.substr(ellipsis - 2, 2), "\xC2\xB5") << message;
}

struct FormatCase {
  int64_t nanos;
  std::string text;
};

TEST(FormatDurationTest, MatchesGoDurationString) {
  const std::vector<FormatCase> cases = {
      {0, "0s"},
      {1, "1ns"},
      {999, "999ns"},
      {1'000, "1\xC2\xB5s"},
      {1'500, "1.5\xC2\xB5s"},
      {1'001, "1.001\xC2\xB5s"},
      {999'999, "999.999\xC2\xB5s"},
      {1'000'000, "1ms"},
      {500'000'000, "500ms"},
      {1'100'000, "1.1ms"},
      {999'999'999, "999.999999ms"},
      {1'000'000'000, "1s"},
      {-2'000'000'000, "-2s"},
      {1'500'000'000, "1.5s"},
      {1'000'000'001, "1.000000001s"},
      {60'000'000'000, "1m0s"},
      {90'000'000'000, "1m30s"},
      {3'600'000'000'000, "1h0m0s"},
      {3'601'000'000'000, "1h0m1s"},
      {3'723'500'000'000, "1h2m3.5s"},
      {9'900'000'000'000, "2h45m0s"},
      {-5'400'000'000'000, "-1h30m0s"},
      {-1, "-1ns"},
      {-1'500, "-1.5\xC2\xB5s"},
      {kMaxNanos, "2562047h47m16.854775807s"},
      {kMinNanos, "-2562047h47m16.854775808s"},
  };
  for (const FormatCase& c : cases) {
    EXPECT_EQ(FormatDuration(Duration(c.nanos)), c.text) << c.nanos;
  }
}

TEST(DurationRoundTripTest, FormatThenParseIsIdentity) {
  std::vector<int64_t> values = {
      0,       1,         -1,        999,       1'000,         1'001,
      999'999, 1'000'000, kMaxNanos, kMinNanos, kMaxNanos - 1, kMinNanos + 1};
  // Powers of ten and of two, and their neighbours, of both signs.
  for (int64_t p = 1; p <= kMaxNanos / 10; p *= 10) {
    for (int64_t v : {p - 1, p, p + 1, p * 7 + 3}) {
      values.push_back(v);
      values.push_back(-v);
    }
  }
  for (int shift = 0; shift < 63; ++shift) {
    const int64_t v = int64_t{1} << shift;
    values.push_back(v);
    values.push_back(-v);
    values.push_back(v + 12'345);
  }
  for (int64_t v : values) {
    const std::string text = FormatDuration(Duration(v));
    Result<Duration> d = ParseDuration(text);
    ASSERT_TRUE(d.ok()) << v << " -> " << text << ": " << d.status().ToString();
    EXPECT_EQ(d->count(), v) << text;
  }
}

struct CanonicalCase {
  std::string text;
  std::string canonical;
};

TEST(DurationRoundTripTest, ParseThenFormatIsCanonical) {
  const std::vector<CanonicalCase> cases = {
      {"0", "0s"},           {"-0s", "0s"},      {"0.0h", "0s"},
      {"90m", "1h30m0s"},    {"1.5m", "1m30s"},  {"10", "10s"},
      {"1us", "1\xC2\xB5s"}, {"1h1h", "2h0m0s"}, {"+.5s", "500ms"},
      {"1000ms", "1s"},      {"-60s", "-1m0s"},
  };
  for (const CanonicalCase& c : cases) {
    Result<Duration> d = ParseDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status().ToString();
    EXPECT_EQ(FormatDuration(*d), c.canonical) << c.text;
  }
}

}  // namespace
}  // namespace conch
