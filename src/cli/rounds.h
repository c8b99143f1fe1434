// RunRounds: the --restart policy between rounds of a claim. A round is one
// queue-wait-run-release cycle (cli/run_claim.cc); this file only decides
// whether another follows and how long to pause first, so that unit tests
// can check it with fake rounds and a fake pause.
//
// Thread contract: owner thread only.
#pragma once

#include <functional>
#include <optional>

#include "base/backoff.h"
#include "base/clock.h"

namespace conch::cli {

// How one round ended.
struct Round {
  int exit_code = 0;
  bool final = false;      // end the process even under --restart
  Duration run_length{0};  // how long the command ran; 0 if it did not
};

// Runs `round` (told whether it is the first) until the process must end,
// and returns the exit code:
//  - without `restart`, after the first round;
//  - with it, after a final round, or when `pause` reports a stop signal.
// Between rounds it asks `pause` to wait backoff.Next(run_length) — so a
// command that ran at least the backoff's reset_after starts the sequence
// over — and `pause` returns the exit code if a stop signal came meanwhile.
int RunRounds(bool restart, RestartBackoff& backoff,
              const std::function<Round(bool first)>& round,
              const std::function<std::optional<int>(Duration)>& pause);

}  // namespace conch::cli
