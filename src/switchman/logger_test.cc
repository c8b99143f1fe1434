#include "switchman/logger.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace conch::switchman {
namespace {

TEST(FormatLogLineTest, OriginalFormatInLocalTime) {
  setenv("TZ", "UTC", 1);
  tzset();
  // 2026-11-29 12:34:56 UTC
  EXPECT_EQ(FormatLogLine(1795955696, 4242, "Executing true"),
            "2026-11-29 12:34:56\t[4242]\tExecuting true\n");
}

TEST(PerlTrueEnvTest, SetNotEmptyNotZero) {
  EXPECT_FALSE(PerlTrueEnv(nullptr));
  EXPECT_FALSE(PerlTrueEnv(""));
  EXPECT_FALSE(PerlTrueEnv("0"));
  EXPECT_TRUE(PerlTrueEnv("1"));
  EXPECT_TRUE(PerlTrueEnv("00"));
  EXPECT_TRUE(PerlTrueEnv("no"));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SwitchmanLogTest, FileGetsItsLevelAndAbove) {
  char dir[] = "/tmp/swlogXXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/log";
  SwitchmanLog log(false);
  EXPECT_EQ(log.threshold(), LogLevel::kWarn);
  ASSERT_TRUE(log.OpenFile(path, FileLogLevel::kInfo).ok());
  EXPECT_EQ(log.threshold(), LogLevel::kInfo);
  log.Write(LogLevel::kDebug, "not written");
  log.Write(LogLevel::kInfo, "Lock /p/locks/x already exists");
  std::string text = ReadFile(path);
  EXPECT_EQ(text.find("not written"), std::string::npos);
  EXPECT_NE(text.find("\t[" + std::to_string(getpid()) +
                      "]\tLock /p/locks/x already exists\n"),
            std::string::npos)
      << text;
  unlink(path.c_str());
  rmdir(dir);
}

TEST(SwitchmanLogTest, DebugLowersTheThreshold) {
  SwitchmanLog log(true);
  EXPECT_EQ(log.threshold(), LogLevel::kDebug);
}

TEST(SwitchmanLogTest, UnwritableFileIsAUsageError) {
  SwitchmanLog log(false);
  Status s = log.OpenFile("/nonexistent-dir/x/log", FileLogLevel::kInfo);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("Failed to open logfile /nonexistent-dir/x/log"),
            std::string::npos);
}

}  // namespace
}  // namespace conch::switchman
