// Logging to stderr, one line per event: "conch: <message>".
// Info lines are dropped under --quiet; warnings and errors always print.
// CONCH_DEBUG=1 adds debug lines, stamped with the wall-clock time in
// microseconds.
//
// A program with another log format (switchman's) installs a LogSink,
// which then receives every line that passes the level instead.
//
// Thread contract: safe from any thread (each line is one write(2)). The
// sink is installed by main before any thread starts.
#pragma once

#include <string>

namespace conch {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Receives every line that passes the level, in place of the default
// "conch: ..." line on stderr. Must be safe from any thread.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(LogLevel level, const std::string& message) = 0;
};

void SetLogLevel(LogLevel level);
// Installs `sink` (not owned; it must live until exit), or the default
// with nullptr.
void SetLogSink(LogSink* sink);
void SetLogPrefix(const std::string& prefix);  // default "conch"
void Log(LogLevel level, const std::string& message);

inline void LogInfo(const std::string& m) { Log(LogLevel::kInfo, m); }
inline void LogWarn(const std::string& m) { Log(LogLevel::kWarn, m); }
inline void LogError(const std::string& m) { Log(LogLevel::kError, m); }
inline void LogDebug(const std::string& m) { Log(LogLevel::kDebug, m); }

}  // namespace conch
