#include "primitives/keys.h"

#include <gtest/gtest.h>

namespace conch::primitives {
namespace {

TEST(KeysTest, LayoutMatchesTheOriginal) {
  EXPECT_EQ(ElectPrefix("db"), "/conch/v1/elect/db/");
  EXPECT_EQ(LeaseHex(0x694d9a4b6e3c2a11), "694d9a4b6e3c2a11");
  EXPECT_EQ(LeaseHex(-1), "ffffffffffffffff");
  EXPECT_EQ(SemaPrefix("sema1", 3), "/conch/v1/sema/sema1/3/");
}

TEST(KeysTest, LeaseHexRoundTrips) {
  for (int64_t id :
       {int64_t{1}, int64_t{0xabc}, int64_t{0x7fffffffffffffff}, int64_t{-2}}) {
    Result<int64_t> back = ParseLeaseHex(LeaseHex(id));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, id);
  }
  EXPECT_FALSE(ParseLeaseHex("").ok());
  EXPECT_FALSE(ParseLeaseHex("xyz").ok());
  EXPECT_FALSE(ParseLeaseHex("12 ").ok());
}

TEST(KeysTest, ValidNames) {
  for (const char* name : {"db", "api-leader", "a.b_c", "x"}) {
    EXPECT_TRUE(ValidateName("office", name).ok()) << name;
  }
  EXPECT_TRUE(ValidateName("office", std::string(128, 'a')).ok());
}

TEST(KeysTest, InvalidNamesSayWhy) {
  struct Case {
    std::string name;
    const char* says;
  } cases[] = {
      {"", "empty"},
      {"a/b", "'/'"},
      {std::string(129, 'a'), "limit is 128"},
      {"a b", "space"},
      {"a\nb", "control"},
      {"..", "reserved"},
  };
  for (const Case& c : cases) {
    Status s = ValidateName("office", c.name);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.message();
    EXPECT_EQ(s.message().rfind("office name", 0), 0u) << s.message();
  }
}

}  // namespace
}  // namespace conch::primitives
