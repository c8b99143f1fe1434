#include "config/global.h"

#include <stdlib.h>

#include <gtest/gtest.h>

#include "config/clean_env_test.h"

namespace conch::config {
namespace {

using std::chrono::seconds;

using GlobalTest = CleanEnvTest;

TEST_F(GlobalTest, DefaultsMatchTheOriginal) {
  GlobalConfig c;
  FlagSet flags("u");
  ASSERT_TRUE(RegisterGlobalFlags(flags, &c).ok());
  ASSERT_TRUE(flags.Parse({}, 0).ok());
  EXPECT_EQ(c.endpoints, "localhost:2379");
  EXPECT_EQ(c.dial_timeout, seconds(5));
  EXPECT_EQ(c.ttl, seconds(10));
  EXPECT_FALSE(c.quiet);
}

TEST_F(GlobalTest, EnvironmentSetsDefaultsAndFlagsWin) {
  setenv("CONCH_ENDPOINTS", "a:1,b:2", 1);
  setenv("CONCH_TTL", "6s", 1);
  setenv("CONCH_DIAL_TIMEOUT", "", 1);  // empty counts as unset
  GlobalConfig c;
  FlagSet flags("u");
  ASSERT_TRUE(RegisterGlobalFlags(flags, &c).ok());
  ASSERT_TRUE(flags.Parse({"--ttl", "4s"}, 0).ok());
  EXPECT_EQ(c.EndpointList(), (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ(c.ttl, seconds(4));
  EXPECT_EQ(c.dial_timeout, seconds(5));
}

TEST_F(GlobalTest, BadEnvironmentNamesTheVariable) {
  setenv("CONCH_TTL", "ten", 1);
  GlobalConfig c;
  FlagSet flags("u");
  Status s = RegisterGlobalFlags(flags, &c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("CONCH_TTL: ", 0), 0u) << s.message();
  // The flags exist all the same, so the variable is what gets reported.
  EXPECT_TRUE(flags.Parse({"--ttl", "3s"}, 0).ok());
}

TEST_F(GlobalTest, EndpointListTrimsAndSkipsEmpties) {
  GlobalConfig c;
  c.endpoints = " a:1 , ,b:2,";
  EXPECT_EQ(c.EndpointList(), (std::vector<std::string>{"a:1", "b:2"}));
  c.endpoints = " , ";
  EXPECT_FALSE(ValidateGlobal(c).ok());
}

}  // namespace
}  // namespace conch::config
