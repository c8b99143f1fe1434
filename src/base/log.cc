#include "base/log.h"

#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>

namespace conch {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

// Set once by main before any thread starts.
LogSink* g_sink = nullptr;

// Set once by main before any thread starts.
std::string& Prefix() {
  static std::string prefix = "conch";
  return prefix;
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
void SetLogPrefix(const std::string& prefix) { Prefix() = prefix; }
void SetLogSink(LogSink* sink) { g_sink = sink; }

void Log(LogLevel level, const std::string& message) {
  if (static_cast<int>(level) < g_level.load()) return;
  if (g_sink != nullptr) {
    g_sink->Write(level, message);
    return;
  }
  std::string line = Prefix();
  if (g_level.load() == static_cast<int>(LogLevel::kDebug)) {
    // Debug lines carry the wall-clock time in microseconds, so that the
    // logs of several conch processes can be lined up.
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    char stamp[48];
    std::snprintf(stamp, sizeof(stamp), " %02d:%02d:%02d.%06ld", tm.tm_hour,
                  tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
    line += stamp;
  }
  if (level == LogLevel::kWarn) line += ": warning";
  if (level == LogLevel::kError) line += ": error";
  line += ": ";
  line += message;
  line += '\n';
  // One write so that lines from several threads never interleave.
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace conch
