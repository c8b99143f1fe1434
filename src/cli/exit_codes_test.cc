#include "cli/exit_codes.h"

#include <gtest/gtest.h>

namespace conch::cli {
namespace {

TEST(ExitCodesTest, StartErrorsMapToTheDocumentedCodes) {
  EXPECT_EQ(ExitCodeForStartError(Error(Code::kUnavailable, "x")), 69);
  EXPECT_EQ(ExitCodeForStartError(Error(Code::kDeadlineExceeded, "x")), 69);
  EXPECT_EQ(ExitCodeForStartError(Error(Code::kInvalidArgument, "x")), 64);
  EXPECT_EQ(ExitCodeForStartError(Error(Code::kAlreadyExists, "x")), 75);
  EXPECT_EQ(ExitCodeForStartError(Error(Code::kSessionLost, "x")), 75);
  EXPECT_EQ(ExitCodeForStartError(Error(Code::kInternal, "x")), 75);
}

TEST(ExitCodesTest, SignalsAre128PlusTheNumber) {
  EXPECT_EQ(ExitCodeForSignal(15), 143);
  EXPECT_EQ(ExitCodeForSignal(2), 130);
}

TEST(ExitCodesTest, PublicValuesNeverChange) {
  EXPECT_EQ(kExitUsage, 64);
  EXPECT_EQ(kExitUnavailable, 69);
  EXPECT_EQ(kExitHoldLost, 70);
  EXPECT_EQ(kExitNotAcquired, 75);
  EXPECT_EQ(kExitNotFound, 127);
  EXPECT_EQ(kExitCannotExec, 126);
}

}  // namespace
}  // namespace conch::cli
