#include "base/log.h"

#include <unistd.h>

#include <atomic>

namespace conch {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
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
  if (level == LogLevel::kWarn) line += ": warning";
  if (level == LogLevel::kError) line += ": error";
  line += ": ";
  line += message;
  line += '\n';
  // One write so that lines from several threads never interleave.
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace conch
