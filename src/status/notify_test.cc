#include "status/notify.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "base/unique_fd.h"

namespace conch::status {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;

// Plays systemd: a datagram socket in a temp dir, named in NOTIFY_SOCKET
// for the test's duration. The watchdog variables are cleared too, and
// everything is unset again at the end.
class NotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/conch-notify-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/notify.sock";
    socket_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(socket_.valid()) << std::strerror(errno);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(path_.size(), sizeof(addr.sun_path));
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    ASSERT_EQ(
        ::bind(socket_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
        0)
        << std::strerror(errno);
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
  }

  void TearDown() override {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    socket_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // The next datagram, or "" if none comes within `wait_ms`.
  std::string Receive(int wait_ms = 5000) {
    pollfd p{socket_.get(), POLLIN, 0};
    if (::poll(&p, 1, wait_ms) != 1) return "";
    char buf[4096];
    ssize_t n = ::recv(socket_.get(), buf, sizeof(buf), MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

  std::string dir_;
  std::string path_;
  UniqueFd socket_;
};

TEST_F(NotifyTest, SendsEachStateAsOneDatagram) {
  SystemdNotifier notifier;
  EXPECT_TRUE(notifier.enabled());
  ASSERT_TRUE(notifier.Ready().ok());
  EXPECT_EQ(Receive(), "READY=1");
  ASSERT_TRUE(notifier.Status("3 jobs, 1 running").ok());
  EXPECT_EQ(Receive(), "STATUS=3 jobs, 1 running");
  ASSERT_TRUE(notifier.Watchdog().ok());
  EXPECT_EQ(Receive(), "WATCHDOG=1");
  ASSERT_TRUE(notifier.Stopping().ok());
  EXPECT_EQ(Receive(), "STOPPING=1");
}

TEST_F(NotifyTest, StatusTextStaysOneLine) {
  SystemdNotifier notifier;
  ASSERT_TRUE(notifier.Status("two\nlines").ok());
  EXPECT_EQ(Receive(), "STATUS=two lines");
}

TEST_F(NotifyTest, WithoutNotifySocketEverythingIsANoOp) {
  ::unsetenv("NOTIFY_SOCKET");
  ::setenv("WATCHDOG_USEC", "2000000", 1);
  SystemdNotifier notifier;
  EXPECT_FALSE(notifier.enabled());
  EXPECT_TRUE(notifier.Ready().ok());
  EXPECT_TRUE(notifier.Status("x").ok());
  EXPECT_TRUE(notifier.Watchdog().ok());
  EXPECT_TRUE(notifier.Stopping().ok());
  EXPECT_EQ(notifier.WatchdogInterval(), std::nullopt);
  EXPECT_EQ(Receive(/*wait_ms=*/0), "");
}

TEST_F(NotifyTest, AnEmptyNotifySocketIsNotEnabled) {
  ::setenv("NOTIFY_SOCKET", "", 1);
  EXPECT_FALSE(SystemdNotifier().enabled());
}

TEST_F(NotifyTest, WatchdogIntervalIsHalfTheConfiguredOne) {
  ::setenv("WATCHDOG_USEC", "3000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  SystemdNotifier notifier;
  EXPECT_EQ(notifier.WatchdogInterval(), microseconds(1500000));
  ::unsetenv("WATCHDOG_PID");  // no PID: the watchdog is for whoever reads it
  EXPECT_EQ(notifier.WatchdogInterval(), seconds(1) + microseconds(500000));
}

TEST_F(NotifyTest, NoWatchdogWhenUnsetOrMeantForAnotherProcess) {
  SystemdNotifier notifier;
  EXPECT_EQ(notifier.WatchdogInterval(), std::nullopt);
  ::setenv("WATCHDOG_USEC", "3000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  EXPECT_EQ(notifier.WatchdogInterval(), std::nullopt);
}

TEST_F(NotifyTest, AVanishedSocketIsUnavailable) {
  SystemdNotifier notifier;
  socket_.reset();
  std::filesystem::remove(path_);
  Status s = notifier.Ready();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("notify systemd: READY=1: "), std::string::npos)
      << s.ToString();
}

}  // namespace
}  // namespace conch::status
