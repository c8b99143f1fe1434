// Logging to stderr, one line per event: "conch: <message>".
// Info lines are dropped under --quiet; warnings and errors always print.
// CONCH_DEBUG=1 adds debug lines, stamped with the wall-clock time in
// microseconds.
//
// Thread contract: safe from any thread (each line is one write(2)).
#pragma once

#include <string>

namespace conch {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

void SetLogLevel(LogLevel level);
void SetLogPrefix(const std::string& prefix);  // default "conch"
void Log(LogLevel level, const std::string& message);

inline void LogInfo(const std::string& m) { Log(LogLevel::kInfo, m); }
inline void LogWarn(const std::string& m) { Log(LogLevel::kWarn, m); }
inline void LogError(const std::string& m) { Log(LogLevel::kError, m); }
inline void LogDebug(const std::string& m) { Log(LogLevel::kDebug, m); }

}  // namespace conch
