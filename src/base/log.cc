#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>

namespace conch {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
const std::chrono::steady_clock::time_point g_start =
    std::chrono::steady_clock::now();
// Set once by main before any thread starts.
std::string& Prefix() {
  static std::string prefix = "conch";
  return prefix;
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
void SetLogPrefix(const std::string& prefix) { Prefix() = prefix; }

void Log(LogLevel level, const std::string& message) {
  if (static_cast<int>(level) < g_level.load()) return;
  std::string line = Prefix();
  if (g_level.load() == static_cast<int>(LogLevel::kDebug)) {
    // Debug runs show milliseconds since start, to see where time goes.
    char stamp[32];
    std::snprintf(stamp, sizeof(stamp), " +%.3fms",
                  std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - g_start)
                      .count());
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
