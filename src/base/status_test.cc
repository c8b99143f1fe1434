#include "base/status.h"

#include <errno.h>

#include <gtest/gtest.h>

namespace conch {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, WithPrefixesContextOnce) {
  Status s = Error(Code::kUnavailable, "etcd: connection refused")
                 .With("acquire office \"db\"");
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(), "acquire office \"db\": etcd: connection refused");
}

TEST(StatusTest, WithLeavesOkAlone) {
  EXPECT_TRUE(Status::Ok().With("context").ok());
}

TEST(StatusTest, FromErrnoMapsCommonCodes) {
  EXPECT_EQ(FromErrno("open x", ENOENT).code(), Code::kNotFound);
  EXPECT_EQ(FromErrno("connect", ECONNREFUSED).code(), Code::kUnavailable);
  EXPECT_EQ(FromErrno("exec", EACCES).code(), Code::kInvalidArgument);
  EXPECT_EQ(FromErrno("x", ETIMEDOUT).code(), Code::kDeadlineExceeded);
  EXPECT_EQ(FromErrno("open x", ENOENT).message().rfind("open x: ", 0), 0u);
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good = 7;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad = Error(Code::kNotFound, "missing");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace conch
