#include "cli/rounds.h"

#include "base/duration.h"
#include "base/log.h"

namespace conch::cli {

int RunRounds(bool restart, RestartBackoff& backoff,
              const std::function<Round(bool first)>& round,
              const std::function<std::optional<int>(Duration)>& pause) {
  for (bool first = true;; first = false) {
    Round r = round(first);
    if (!restart || r.final) return r.exit_code;
    // The run length counts from the command's start, not the queueing.
    Duration delay = backoff.Next(r.run_length);
    LogInfo("queueing again in " + FormatDuration(delay) + " (--restart)");
    if (std::optional<int> code = pause(delay)) return *code;
  }
}

}  // namespace conch::cli
