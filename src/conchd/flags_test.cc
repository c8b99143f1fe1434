#include "conchd/flags.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include "config/clean_env_test.h"

namespace conch::conchd {
namespace {

using ConchdFlagsTest = config::CleanEnvTest;

TEST_F(ConchdFlagsTest, FlagsAndTheirVariables) {
  setenv("CONCH_STATUS_ADDR", ":8080", 1);  // NOLINT: one thread
  setenv("CONCH_NODE", "n1", 1);            // NOLINT: one thread
  Result<ConchdFlags> f = ParseConchdFlags(
      {"--tag", "role=db", "--history", "5", "--kill-after", "2s"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->options.status_addr, ":8080");
  EXPECT_EQ(f->options.node, "n1");
  EXPECT_EQ(f->options.tags.at("role"), "db");
  EXPECT_EQ(f->options.history, 5);
  EXPECT_EQ(f->options.kill_after, std::chrono::seconds(2));
  Result<ConchdFlags> flag_wins =
      ParseConchdFlags({"--status-addr", "127.0.0.1:9", "--node", "n2"});
  ASSERT_TRUE(flag_wins.ok());
  EXPECT_EQ(flag_wins->options.status_addr, "127.0.0.1:9");
  EXPECT_EQ(flag_wins->options.node, "n2");
}

TEST_F(ConchdFlagsTest, BadInputIsRefused) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--history", "0"},
        std::vector<std::string>{"--tag", "x"},
        std::vector<std::string>{"positional"},
        std::vector<std::string>{"--", "cmd"},
        std::vector<std::string>{"--ttl", "2s", "--kill-after", "5s"}}) {
    Result<ConchdFlags> f = ParseConchdFlags(args);
    ASSERT_FALSE(f.ok()) << args[0];
    EXPECT_EQ(f.status().code(), Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace conch::conchd
