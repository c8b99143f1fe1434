// CleanEnvTest: a GoogleTest fixture for tests of anything that reads the
// CONCH_* variables. Each test starts with none of them set and leaves none
// behind. For tests only.
#pragma once

#include <cstdlib>

#include <gtest/gtest.h>

namespace conch::config {

class CleanEnvTest : public ::testing::Test {
 protected:
  void SetUp() override { Clear(); }
  void TearDown() override { Clear(); }

 private:
  static void Clear() {
    for (const char* name : {"CONCH_ENDPOINTS", "CONCH_DIAL_TIMEOUT",
                             "CONCH_TTL", "CONCH_STATUS_ADDR", "CONCH_NODE"}) {
      unsetenv(name);  // NOLINT(concurrency-mt-unsafe): tests run one thread
    }
  }
};

}  // namespace conch::config
