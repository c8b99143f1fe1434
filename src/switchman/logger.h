// switchman's log: lines in the original's format,
//   YYYY-MM-DD HH:MM:SS<TAB>[<pid>]<TAB><message>
// in local time, on stderr and in the optional `logfile`, each output with
// its own level, as the original's Log::Dispatch set-up has them:
//   - stderr: warnings and above, everything when DEBUG is true in Perl's
//     sense (set, not "" and not "0");
//   - the log file (appended to): `loglevel` and above.
// conch's levels map onto the original's names: debug, info, warning
// (kWarn) and critical (kError). Installed as base/log.h's sink, so every
// line of conch's modules (supervisor, ZooKeeper client) lands here too.
//
// Thread contract: Write() is safe from any thread (one write(2) per line
// and output); OpenFile() belongs to main before any thread starts.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <string>
#include <string_view>

#include "base/log.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "switchman/config.h"

namespace conch::switchman {

// One line, with its newline: the local time of `when`, the pid, the
// message (which is not altered).
std::string FormatLogLine(std::time_t when, pid_t pid,
                          std::string_view message);

// Perl truth of an environment value: set, not "" and not "0".
bool PerlTrueEnv(const char* value);

class SwitchmanLog final : public LogSink {
 public:
  // `debug`: stderr shows debug and info lines too.
  explicit SwitchmanLog(bool debug) : debug_(debug) {}

  // Appends to `path` (created 0644 when missing, close-on-exec) from now
  // on, lines of `level` and above. kInvalidArgument "Failed to open
  // logfile <path>: <reason>".
  Status OpenFile(const std::string& path, FileLogLevel level);

  // The least severe level any output takes: what SetLogLevel must let
  // through.
  LogLevel threshold() const;

  void Write(LogLevel level, const std::string& message) override;

 private:
  const bool debug_;
  UniqueFd file_;
  FileLogLevel file_level_ = FileLogLevel::kInfo;
};

}  // namespace conch::switchman
