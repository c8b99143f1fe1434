// OutputLines: what conchd does with the bytes a job writes to its stdout
// or stderr. Every complete line goes out prefixed with the job's name, so
// that the interleaved output of many jobs on conchd's own streams can be
// told apart; a partial line waits for its end (or for Flush, when the
// stream closes). The last kMaxOutputBytes of what the job wrote, as it
// wrote it, are kept for its result record (`cron history --output`).
//
// Thread contract: owner thread only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace conch::conchd {

class OutputLines {
 public:
  // `prefix` starts every line written out ("nightly| ").
  OutputLines(std::string prefix, size_t keep_bytes, size_t max_line = 65536)
      : prefix_(std::move(prefix)), keep_(keep_bytes), max_line_(max_line) {}

  // Takes bytes the job wrote; returns the complete lines among them (with
  // what was pending), prefixed and newline-terminated, ready to write out.
  // A line longer than max_line is cut and written in pieces.
  std::string Add(std::string_view bytes, std::string* kept);
  // The pending partial line, prefixed and terminated; empty if none.
  std::string Flush();

 private:
  std::string prefix_;
  size_t keep_;
  size_t max_line_;
  std::string pending_;
};

// Appends `bytes` to `kept` and cuts it to its last `keep` bytes.
void KeepTail(std::string* kept, std::string_view bytes, size_t keep);

}  // namespace conch::conchd
