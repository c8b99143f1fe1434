// The flags of `conch cron add|rm|ls|pause|resume|run|history`, parsed
// without a store so that the flags fuzzer runs them as they are. One flag
// set serves every action, as in the original; each action then refuses
// what it does not take.
//
// Thread contract: owner thread only (reads CONCH_* variables).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/global.h"
#include "cron/job.h"

namespace conch::cli {

struct CronFlags {
  config::GlobalConfig global;
  std::string action;  // add, rm, ls, pause, resume, run, history
  std::string name;    // the job; empty for ls
  bool help = false;

  // add
  std::string schedule;
  std::string tz;
  std::string run_ttl = "10m";
  cron::Overlap overlap = cron::Overlap::kForbid;
  cron::Missed missed = cron::Missed::kSkip;
  Duration starting_deadline{0};
  Duration kill_after = std::chrono::seconds(5);
  std::map<std::string, std::string> tags;
  std::vector<std::string> hosts;
  std::vector<std::string> command;

  // ls, history
  bool last = false;
  bool json = false;
  bool output = false;  // history: print each run's kept output

  // run
  Duration wait = std::chrono::seconds(10);
};

// Parses `conch cron <action> [<name>] [flags] [-- cmd...]`. kInvalidArgument
// with one line: no or an unknown action, a missing or bad <name>, flags the
// action does not take, add without --schedule or a command, a schedule
// that does not parse (naming the field), a bad zone, duration or policy,
// a --tag that is not k=v.
Result<CronFlags> ParseCronFlags(const std::vector<std::string>& args);

// The usage text for `conch cron --help`.
std::string CronUsage();

}  // namespace conch::cli
