// libFuzzer target for the argument parsers of `conch cron` and `conchd`
// (cli/cron_flags.h, conchd/flags.h): the very flag tables, CONCH_*
// variables and checks the commands run. The input, split on NUL bytes,
// reads like a shell line:
//   [CONCH_TTL=3s] [CONCH_NODE=n1] ... cron <action> [<name>] args...
//   [CONCH_STATUS_ADDR=:8080] ... conchd args...
// Leading NAME=VALUE words set those variables (CONCH_ENDPOINTS,
// CONCH_DIAL_TIMEOUT, CONCH_TTL, CONCH_STATUS_ADDR, CONCH_NODE; the ones not
// given are unset), the next word picks the command, and the rest are its
// arguments. Beyond "no crash, no sanitizer report", it checks:
//   - every error is kInvalidArgument with a non-empty one-line message
//     without control bytes;
//   - a malformed CONCH_TTL or CONCH_DIAL_TIMEOUT is an error unless help
//     was asked for, and help needs an -h or --help word; the usage text
//     then lists every flag of the command;
//   - on success, the global settings pass ValidateGlobal, and each comes
//     from its variable or its default when no word names its flag;
//   - cron: the action is the first word and one of add, rm, ls, pause,
//     resume, run, history; every action but ls has a valid job name, the
//     second word, and ls none; add has a command, the words after a "--"
//     that ends the line, and a schedule that cron::Schedule::Parse accepts
//     with --tz as the default zone (UTC without it), a --tz that loads, a
//     run TTL that parses and is not negative, a starting deadline and
//     kill-after that are not negative, tags k=v with a non-empty k and
//     hosts that are non-empty and without a comma; the other actions keep
//     every add setting at its default and have no command, and each action
//     keeps the flags it does not take at their defaults (run: --wait not
//     negative);
//   - conchd: --history at least 1, a non-empty node, a ttl and kill-after
//     that ValidateHoldTiming accepts, tags k=v with a non-empty k, the
//     status address and node from $CONCH_STATUS_ADDR and $CONCH_NODE (the
//     node: else the host name) and the defaults when no word names them;
//   - the parsed flags, written back as a command line with every flag
//     explicit, parse to the same flags.
// A broken contract aborts through CONCH_CHECK, which libFuzzer reports as a
// crash and saves the input.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/duration.h"
#include "base/fuzz/command_line.h"
#include "base/fuzz/fuzz_util.h"
#include "base/status.h"
#include "base/strings.h"
#include "cli/cron_flags.h"
#include "conchd/flags.h"
#include "config/global.h"
#include "cron/job.h"
#include "cron/schedule.h"
#include "cron/zone.h"
#include "primitives/hold_deadline.h"
#include "primitives/holder.h"

namespace conch {
namespace {

using cli::CronFlags;
using conchd::ConchdFlags;

constexpr std::array<const char*, 5> kEnvNames = {
    "CONCH_ENDPOINTS", "CONCH_DIAL_TIMEOUT", "CONCH_TTL", "CONCH_STATUS_ADDR",
    "CONCH_NODE"};

using Line = fuzz::CommandLine;
using fuzz::AsksForHelp;
using fuzz::Mentions;

Line ReadLine(std::string_view input) {
  return fuzz::ReadCommandLine(input, kEnvNames);
}

void SetEnvironment(const Line& line) { fuzz::SetEnvironment(line, kEnvNames); }

// A variable the line sets to a non-empty value, which is what counts.
const std::string* Given(const Line& line, const char* name) {
  auto it = line.env.find(name);
  return it == line.env.end() || it->second.empty() ? nullptr : &it->second;
}

// The global settings the environment alone gives, written independently
// of config/global.cc: a variable that is set and not empty replaces the
// default. nullopt when a duration variable does not parse.
std::optional<config::GlobalConfig> FromEnvironment(const Line& line) {
  config::GlobalConfig expected;
  if (const std::string* v = Given(line, "CONCH_ENDPOINTS")) {
    expected.endpoints = *v;
  }
  for (auto [name, dst] :
       {std::pair{"CONCH_DIAL_TIMEOUT", &expected.dial_timeout},
        std::pair{"CONCH_TTL", &expected.ttl}}) {
    if (const std::string* v = Given(line, name)) {
      Result<Duration> d = ParseDuration(*v);
      if (!d.ok()) return std::nullopt;
      *dst = *d;
    }
  }
  return expected;
}

void CheckGlobal(const config::GlobalConfig& global, const Line& line,
                 const config::GlobalConfig& from_env) {
  CONCH_CHECK(config::ValidateGlobal(global).ok());
  CONCH_CHECK(!global.EndpointList().empty());
  CONCH_CHECK(global.dial_timeout > Duration::zero());
  if (!Mentions(line, "endpoints")) {
    CONCH_CHECK(global.endpoints == from_env.endpoints);
  }
  if (!Mentions(line, "dial-timeout")) {
    CONCH_CHECK(global.dial_timeout == from_env.dial_timeout);
  }
  if (!Mentions(line, "ttl")) CONCH_CHECK(global.ttl == from_env.ttl);
  if (!Mentions(line, "quiet")) CONCH_CHECK(!global.quiet);
}

void CheckUsage(const std::string& usage,
                std::initializer_list<const char*> flags) {
  for (const char* flag : {"endpoints", "dial-timeout", "ttl", "quiet"}) {
    CONCH_CHECK(usage.find(std::string("  --") + flag) != std::string::npos);
  }
  for (const char* flag : flags) {
    CONCH_CHECK(usage.find(std::string("  --") + flag) != std::string::npos);
  }
}

void CheckTags(const std::map<std::string, std::string>& tags) {
  for (const auto& [key, value] : tags) {
    CONCH_CHECK(!key.empty() && key.find('=') == std::string::npos);
  }
}

std::string BoolFlag(const char* name, bool value) {
  return std::string("--") + name + (value ? "=true" : "=false");
}

std::string DurationFlag(const char* name, Duration value) {
  return std::string("--") + name + "=" + FormatDuration(value);
}

std::vector<std::string> GlobalArgs(const config::GlobalConfig& global) {
  return {"--endpoints=" + global.endpoints,
          DurationFlag("dial-timeout", global.dial_timeout),
          DurationFlag("ttl", global.ttl), BoolFlag("quiet", global.quiet)};
}

bool SameGlobal(const config::GlobalConfig& a, const config::GlobalConfig& b) {
  return a.endpoints == b.endpoints && a.dial_timeout == b.dial_timeout &&
         a.ttl == b.ttl && a.quiet == b.quiet;
}

void AppendTags(const std::map<std::string, std::string>& tags,
                std::vector<std::string>& args) {
  for (const auto& [key, value] : tags) {
    std::string word = "--tag=";
    word += key;
    word += '=';
    word += value;
    args.push_back(std::move(word));
  }
}

// ---- conch cron

const std::set<std::string> kActions = {"add",    "rm",  "ls",     "pause",
                                        "resume", "run", "history"};

// The add settings keep their defaults.
bool AddDefaults(const CronFlags& f) {
  const CronFlags d;
  return f.schedule.empty() && f.tz.empty() && f.run_ttl == d.run_ttl &&
         f.overlap == d.overlap && f.missed == d.missed &&
         f.starting_deadline == d.starting_deadline &&
         f.kill_after == d.kill_after && f.tags.empty() && f.hosts.empty() &&
         f.command.empty();
}

void CheckCronAdd(const CronFlags& f, const Line& line) {
  CONCH_CHECK(!f.schedule.empty());
  // The command is the words after a "--", which ends the line.
  CONCH_CHECK(!f.command.empty());
  CONCH_CHECK(f.command.size() + 1 < line.args.size());
  const size_t separator = line.args.size() - f.command.size() - 1;
  CONCH_CHECK(line.args[separator] == "--");
  CONCH_CHECK(std::equal(
      f.command.begin(), f.command.end(),
      line.args.begin() + static_cast<std::ptrdiff_t>(separator) + 1));

  if (!f.tz.empty()) CONCH_CHECK(cron::LoadZone(f.tz).ok());
  cron::ParseOptions options;
  options.default_zone = f.tz.empty() ? "UTC" : f.tz;
  CONCH_CHECK(cron::Schedule::Parse(f.schedule, options).ok());

  Result<Duration> ttl = ParseDuration(f.run_ttl);
  CONCH_CHECK(ttl.ok() && *ttl >= Duration::zero());
  CONCH_CHECK(f.starting_deadline >= Duration::zero());
  CONCH_CHECK(f.kill_after >= Duration::zero());
  CheckTags(f.tags);
  for (const std::string& host : f.hosts) {
    CONCH_CHECK(!host.empty() && host.find(',') == std::string::npos);
  }
  if (!Mentions(line, "overlap")) {
    CONCH_CHECK(f.overlap == cron::Overlap::kForbid);
  }
  if (!Mentions(line, "missed")) CONCH_CHECK(f.missed == cron::Missed::kSkip);
}

// The action is the first word; every action but ls names a valid job,
// the second word.
void CheckCronAction(const CronFlags& f, const Line& line) {
  CONCH_CHECK(kActions.contains(f.action));
  CONCH_CHECK(!line.args.empty() && line.args[0] == f.action);
  if (f.action == "ls") {
    CONCH_CHECK(f.name.empty());
    return;
  }
  CONCH_CHECK(line.args.size() >= 2 && line.args[1] == f.name);
  CONCH_CHECK(cron::ValidateJobName(f.name).ok());
}

// The flags of ls, history and run keep their defaults on the actions that
// do not take them; run's --wait is not negative.
void CheckCronOtherFlags(const CronFlags& f) {
  const CronFlags defaults;
  if (f.action != "ls") CONCH_CHECK(!f.last);
  if (f.action != "ls" && f.action != "history") CONCH_CHECK(!f.json);
  if (f.action != "history") CONCH_CHECK(!f.output);
  if (f.action == "run") {
    CONCH_CHECK(f.wait >= Duration::zero());
  } else {
    CONCH_CHECK(f.wait == defaults.wait);
  }
}

void CheckCronRoundTrip(const CronFlags& f) {
  std::vector<std::string> args = GlobalArgs(f.global);
  if (f.action != "ls") args.insert(args.begin(), f.name);
  args.insert(args.begin(), f.action);
  if (f.action == "add") {
    args.push_back("--schedule=" + f.schedule);
    if (!f.tz.empty()) args.push_back("--tz=" + f.tz);
    args.push_back("--run-ttl=" + f.run_ttl);
    args.push_back("--overlap=" + std::string(cron::OverlapName(f.overlap)));
    args.push_back("--missed=" + std::string(cron::MissedName(f.missed)));
    args.push_back(DurationFlag("starting-deadline", f.starting_deadline));
    args.push_back(DurationFlag("kill-after", f.kill_after));
    AppendTags(f.tags, args);
    if (!f.hosts.empty()) args.push_back("--hosts=" + Join(f.hosts, ","));
    args.emplace_back("--");
    args.insert(args.end(), f.command.begin(), f.command.end());
  }
  if (f.action == "ls") {
    args.push_back(BoolFlag("last", f.last));
    args.push_back(BoolFlag("json", f.json));
  }
  if (f.action == "history") {
    args.push_back(BoolFlag("json", f.json));
    args.push_back(BoolFlag("output", f.output));
  }
  if (f.action == "run") args.push_back(DurationFlag("wait", f.wait));

  Result<CronFlags> again = cli::ParseCronFlags(args);
  CONCH_CHECK(again.ok());
  CONCH_CHECK(SameGlobal(again->global, f.global));
  CONCH_CHECK(again->action == f.action && again->name == f.name &&
              !again->help && again->schedule == f.schedule &&
              again->tz == f.tz && again->run_ttl == f.run_ttl &&
              again->overlap == f.overlap && again->missed == f.missed &&
              again->starting_deadline == f.starting_deadline &&
              again->kill_after == f.kill_after && again->tags == f.tags &&
              again->hosts == f.hosts && again->command == f.command &&
              again->last == f.last && again->json == f.json &&
              again->output == f.output && again->wait == f.wait);
}

void CheckCron(const Line& line,
               const std::optional<config::GlobalConfig>& from_env) {
  Result<CronFlags> f = cli::ParseCronFlags(line.args);
  if (!f.ok()) {
    fuzz::CheckUserError(f.status());
    return;
  }
  if (f->help) {
    CONCH_CHECK(AsksForHelp(line));
    CONCH_CHECK(f->name.empty() && f->command.empty());
    CheckUsage(
        cli::CronUsage(),
        {"schedule", "tz", "run-ttl", "overlap", "missed", "starting-deadline",
         "kill-after", "tag", "hosts", "last", "json", "output", "wait"});
    return;
  }
  CONCH_CHECK(from_env.has_value());
  CheckCronAction(*f, line);
  CheckGlobal(f->global, line, *from_env);
  if (f->action == "add") {
    CheckCronAdd(*f, line);
  } else {
    CONCH_CHECK(AddDefaults(*f));
  }
  CheckCronOtherFlags(*f);
  CheckCronRoundTrip(*f);
}

// ---- conchd

void CheckConchdRoundTrip(const ConchdFlags& f) {
  const conchd::DaemonOptions& o = f.options;
  std::vector<std::string> args = GlobalArgs(o.global);
  args.push_back("--status-addr=" + o.status_addr);
  AppendTags(o.tags, args);
  args.push_back("--history=" + std::to_string(o.history));
  args.push_back("--node=" + o.node);
  args.push_back(DurationFlag("kill-after", o.kill_after));

  Result<ConchdFlags> again = conchd::ParseConchdFlags(args);
  CONCH_CHECK(again.ok());
  const conchd::DaemonOptions& a = again->options;
  CONCH_CHECK(SameGlobal(a.global, o.global));
  CONCH_CHECK(!again->help && a.status_addr == o.status_addr &&
              a.tags == o.tags && a.history == o.history && a.node == o.node &&
              a.kill_after == o.kill_after);
}

// What no word names comes from $CONCH_STATUS_ADDR and $CONCH_NODE (the
// node: else the host name) or is the default.
void CheckConchdDefaults(const conchd::DaemonOptions& o, const Line& line) {
  const conchd::DaemonOptions defaults;
  if (!Mentions(line, "status-addr")) {
    const std::string* env = Given(line, "CONCH_STATUS_ADDR");
    CONCH_CHECK(o.status_addr == (env ? *env : defaults.status_addr));
  }
  if (!Mentions(line, "node")) {
    const std::string* env = Given(line, "CONCH_NODE");
    CONCH_CHECK(o.node == (env ? *env : primitives::LocalHostname()));
  }
  if (!Mentions(line, "history")) CONCH_CHECK(o.history == defaults.history);
  if (!Mentions(line, "kill-after")) {
    CONCH_CHECK(o.kill_after == defaults.kill_after);
  }
  if (!Mentions(line, "tag")) CONCH_CHECK(o.tags.empty());
}

void CheckConchd(const Line& line,
                 const std::optional<config::GlobalConfig>& from_env) {
  Result<ConchdFlags> f = conchd::ParseConchdFlags(line.args);
  if (!f.ok()) {
    fuzz::CheckUserError(f.status());
    return;
  }
  if (f->help) {
    CONCH_CHECK(AsksForHelp(line));
    CheckUsage(conchd::ConchdUsage(),
               {"status-addr", "tag", "history", "node", "kill-after"});
    return;
  }
  CONCH_CHECK(from_env.has_value());
  const conchd::DaemonOptions& o = f->options;
  CheckGlobal(o.global, line, *from_env);
  CONCH_CHECK(o.history >= 1);
  CONCH_CHECK(!o.node.empty());
  CONCH_CHECK(primitives::ValidateHoldTiming(o.global.ttl, o.kill_after).ok());
  CheckTags(o.tags);
  CheckConchdDefaults(o, line);
  CheckConchdRoundTrip(*f);
}

void CheckLine(std::string_view input) {
  const Line line = ReadLine(input);
  SetEnvironment(line);
  const std::optional<config::GlobalConfig> from_env = FromEnvironment(line);
  if (line.command == "cron") CheckCron(line, from_env);
  if (line.command == "conchd") CheckConchd(line, from_env);
}

}  // namespace
}  // namespace conch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  conch::CheckLine(conch::fuzz::AsText(data, size));
  return 0;
}
