#include "base/strings.h"

#include <gtest/gtest.h>

namespace conch {
namespace {

TEST(StringsTest, QuoteEscapesWhatWouldBreakALine) {
  EXPECT_EQ(Quote("db"), "\"db\"");
  EXPECT_EQ(Quote("a\nb"), "\"a\\x0ab\"");
  EXPECT_EQ(Quote("say \"hi\"\\"), "\"say \\\"hi\\\"\\\\\"");
  EXPECT_EQ(Quote(std::string(70, 'x')), "\"" + std::string(64, 'x') + "...\"");
}

TEST(StringsTest, Utf8PrefixNeverSplitsACharacter) {
  std::string s = std::string(255, 'a') + "\xc3\xa9";  // 'é' across the cut
  EXPECT_EQ(Utf8Prefix(s, 256), std::string(255, 'a'));
  EXPECT_EQ(Utf8Prefix(s, 257), s);
  EXPECT_EQ(Utf8Prefix("abc", 2), "ab");
  // Invalid input loses at most three bytes.
  std::string bad = "a" + std::string(10, '\x80');
  EXPECT_EQ(Utf8Prefix(bad, 8).size(), 5u);
}

}  // namespace
}  // namespace conch
