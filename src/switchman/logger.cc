#include "switchman/logger.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "base/strings.h"

namespace conch::switchman {

namespace {

// conch's levels on the original's scale.
int Rank(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return 0;
    case LogLevel::kInfo:
      return 1;
    case LogLevel::kWarn:
      return 2;
    case LogLevel::kError:
      return 3;
  }
  return 3;
}

int Rank(FileLogLevel level) { return static_cast<int>(level); }

void WriteAll(int fd, const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere left to report it
    done += static_cast<size_t>(n);
  }
}

}  // namespace

std::string FormatLogLine(std::time_t when, pid_t pid,
                          std::string_view message) {
  struct tm tm;
  localtime_r(&when, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02d %02d:%02d:%02d\t[%d]\t",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(pid));
  std::string line = stamp;
  line += message;
  line += '\n';
  return line;
}

bool PerlTrueEnv(const char* value) {
  return value != nullptr && *value != '\0' && std::string_view(value) != "0";
}

Status SwitchmanLog::OpenFile(const std::string& path, FileLogLevel level) {
  int fd =
      ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Error(Code::kInvalidArgument,
                 "Failed to open logfile " + path + ": " + ErrnoString(errno));
  }
  file_ = UniqueFd(fd);
  file_level_ = level;
  return Status::Ok();
}

LogLevel SwitchmanLog::threshold() const {
  int lowest = debug_ ? 0 : Rank(LogLevel::kWarn);
  if (file_.valid()) lowest = std::min(lowest, Rank(file_level_));
  return static_cast<LogLevel>(lowest);
}

void SwitchmanLog::Write(LogLevel level, const std::string& message) {
  const int rank = Rank(level);
  const bool to_stderr = debug_ || rank >= Rank(LogLevel::kWarn);
  const bool to_file = file_.valid() && rank >= Rank(file_level_);
  if (!to_stderr && !to_file) return;
  const std::string line =
      FormatLogLine(std::time(nullptr), ::getpid(), message);
  if (to_stderr) WriteAll(STDERR_FILENO, line);
  if (to_file) WriteAll(file_.get(), line);
}

}  // namespace conch::switchman
