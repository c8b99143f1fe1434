// libFuzzer target for the argument parsers of `conch elect` and `conch
// sema` (cli/elect_flags.h, cli/sema_flags.h): the very flag tables,
// CONCH_* variables and checks the commands run. The input, split on NUL
// bytes, reads like a shell line:
//   [CONCH_TTL=3s] [CONCH_DIAL_TIMEOUT=1s] [CONCH_ENDPOINTS=a:1] elect args...
//   [CONCH_TTL=3s] ... sema args...
// Leading NAME=VALUE words set those variables (the ones not given are
// unset), the next word picks the command, and the rest are its arguments.
// Beyond "no crash, no sanitizer report", it checks:
//   - every error is kInvalidArgument with a non-empty one-line message
//     without control bytes;
//   - a malformed CONCH_TTL or CONCH_DIAL_TIMEOUT is an error unless help
//     was asked for, and help needs an -h or --help word;
//   - on success, the promises the commands rely on:
//     - the name is one of the words and a valid name;
//     - the global settings pass ValidateGlobal, and each comes from its
//       variable or its default when no word names its flag;
//     - unless --who, --watch or --assert (elect) or --who (sema): a
//       command, which is the words after a "--"; a ttl and kill-after that
//       can fail closed (ValidateHoldTiming accepts them; at least 1s, in
//       whole seconds on etcd and milliseconds on ZooKeeper; kill-after
//       below the ttl less a third of it and min(ttl/6, 1s)); endpoints that
//       name one store; a positive
//       hook timeout; not both --nonblock and --restart;
//     - in those read-only modes, no command;
//     - sema: 1 <= weight <= max, --spread means weight 1, --max was given,
//       the weight is 1 and the wait forever when not named, and --wait 0
//       means --nonblock;
//   - the parsed flags, written back as a command line with every flag
//     explicit, parse to the same flags;
//   - the usage text lists every flag of the command.
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
#include <string>
#include <string_view>
#include <vector>

#include "backend/store.h"
#include "base/duration.h"
#include "base/fuzz/command_line.h"
#include "base/fuzz/fuzz_util.h"
#include "base/status.h"
#include "cli/elect_flags.h"
#include "cli/run_flags.h"
#include "cli/sema_flags.h"
#include "config/global.h"
#include "primitives/hold_deadline.h"
#include "primitives/keys.h"

namespace conch {
namespace {

using cli::ElectFlags;
using cli::RunFlags;
using cli::SemaFlags;
using std::chrono::seconds;

constexpr std::array<const char*, 3> kEnvNames = {
    "CONCH_ENDPOINTS", "CONCH_DIAL_TIMEOUT", "CONCH_TTL"};

using Line = fuzz::CommandLine;
using fuzz::AsksForHelp;
using fuzz::Mentions;

Line ReadLine(std::string_view input) {
  return fuzz::ReadCommandLine(input, kEnvNames);
}

void SetEnvironment(const Line& line) { fuzz::SetEnvironment(line, kEnvNames); }

// The global settings the environment alone gives, written independently
// of config/global.cc: a variable that is set and not empty replaces the
// default. nullopt when a duration variable does not parse.
std::optional<config::GlobalConfig> FromEnvironment(const Line& line) {
  config::GlobalConfig expected;
  auto given = [&](const char* name) -> const std::string* {
    auto it = line.env.find(name);
    return it == line.env.end() || it->second.empty() ? nullptr : &it->second;
  };
  if (const std::string* v = given("CONCH_ENDPOINTS")) expected.endpoints = *v;
  for (auto [name, dst] :
       {std::pair{"CONCH_DIAL_TIMEOUT", &expected.dial_timeout},
        std::pair{"CONCH_TTL", &expected.ttl}}) {
    if (const std::string* v = given(name)) {
      Result<Duration> d = ParseDuration(*v);
      if (!d.ok()) return std::nullopt;
      *dst = *d;
    }
  }
  return expected;
}

void CheckName(std::string_view what, const std::string& name,
               const Line& line) {
  CONCH_CHECK(std::ranges::find(line.args, name) != line.args.end());
  CONCH_CHECK(primitives::ValidateName(what, name).ok());
  CONCH_CHECK(!name.empty() && name.find('/') == std::string::npos);
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

// The promises of a command that runs: what ValidateRunFlags stands for,
// restated from the README and primitives/hold_deadline.h.
void CheckRunMode(const RunFlags& run, const Line& line) {
  // The command is the words after a "--", which ends the line.
  CONCH_CHECK(!run.command.empty());
  CONCH_CHECK(run.command.size() < line.args.size());
  const size_t separator = line.args.size() - run.command.size() - 1;
  CONCH_CHECK(line.args[separator] == "--");
  CONCH_CHECK(std::equal(
      run.command.begin(), run.command.end(),
      line.args.begin() + static_cast<std::ptrdiff_t>(separator) + 1));

  // The child can be killed before the lease could expire.
  const Duration ttl = run.global.ttl;
  CONCH_CHECK(primitives::ValidateHoldTiming(ttl, run.kill_after).ok());
  // A TTL the store can grant: whole seconds on etcd, whole milliseconds
  // on ZooKeeper, at least 1 s on both.
  Result<backend::StoreAddress> store =
      backend::ParseStoreAddress(run.global.endpoints);
  CONCH_CHECK(store.ok());
  const Duration grain = store->kind == backend::StoreKind::kZooKeeper
                             ? Duration(std::chrono::milliseconds(1))
                             : Duration(seconds(1));
  CONCH_CHECK(ttl >= seconds(1) && ttl % grain == Duration::zero());
  CONCH_CHECK(run.kill_after >= Duration::zero());
  CONCH_CHECK(run.kill_after <
              ttl - ttl / 3 - std::min<Duration>(ttl / 6, seconds(1)));
  // Not given, --kill-after is its default of 5 s if that fits the TTL,
  // else the largest that does.
  if (!Mentions(line, "kill-after")) {
    const Duration fits = primitives::ValidateHoldTiming(ttl, seconds(5)).ok()
                              ? Duration(seconds(5))
                              : primitives::MaxKillAfter(ttl);
    CONCH_CHECK(run.kill_after == fits);
    CONCH_CHECK(run.kill_after_adapted == (fits != seconds(5)));
  }

  CONCH_CHECK(run.hook_timeout > Duration::zero());
  CONCH_CHECK(!(run.nonblock && run.restart));
}

std::string BoolFlag(const char* name, bool value) {
  return std::string("--") + name + (value ? "=true" : "=false");
}

std::string DurationFlag(const char* name, Duration value) {
  return std::string("--") + name + "=" + FormatDuration(value);
}

// The run flags written back with every flag explicit; the command is left
// to the caller, as it goes last.
std::vector<std::string> RunArgs(const RunFlags& run) {
  return {"--endpoints=" + run.global.endpoints,
          DurationFlag("dial-timeout", run.global.dial_timeout),
          DurationFlag("ttl", run.global.ttl),
          BoolFlag("quiet", run.global.quiet),
          BoolFlag("restart", run.restart),
          DurationFlag("kill-after", run.kill_after),
          DurationFlag("wait", run.wait),
          BoolFlag("nonblock", run.nonblock),
          "--on-acquire=" + run.on_acquire,
          "--on-lose=" + run.on_lose,
          DurationFlag("hook-timeout", run.hook_timeout)};
}

void AppendCommand(const RunFlags& run, std::vector<std::string>& args) {
  if (run.command.empty()) return;
  args.emplace_back("--");
  args.insert(args.end(), run.command.begin(), run.command.end());
}

bool SameRun(const RunFlags& a, const RunFlags& b) {
  return a.global.endpoints == b.global.endpoints &&
         a.global.dial_timeout == b.global.dial_timeout &&
         a.global.ttl == b.global.ttl && a.global.quiet == b.global.quiet &&
         a.command == b.command && a.restart == b.restart &&
         a.kill_after == b.kill_after && a.wait == b.wait &&
         a.nonblock == b.nonblock && a.on_acquire == b.on_acquire &&
         a.on_lose == b.on_lose && a.hook_timeout == b.hook_timeout;
}

void CheckUsage(const std::string& usage,
                std::initializer_list<const char*> flags) {
  for (const char* flag : flags) {
    CONCH_CHECK(usage.find(std::string("  --") + flag) != std::string::npos);
  }
}

void CheckElectRoundTrip(const ElectFlags& f) {
  std::vector<std::string> args = RunArgs(f.run);
  args.insert(args.begin(), f.office);
  for (const std::string& more :
       {BoolFlag("who", f.who), BoolFlag("watch", f.watch),
        BoolFlag("assert", f.assert_held), BoolFlag("json", f.json),
        "--min-rev=" + std::to_string(f.min_rev)}) {
    args.push_back(more);
  }
  AppendCommand(f.run, args);
  Result<ElectFlags> again = cli::ParseElectFlags(args);
  CONCH_CHECK(again.ok());
  CONCH_CHECK(SameRun(again->run, f.run));
  CONCH_CHECK(again->office == f.office && again->who == f.who &&
              again->watch == f.watch && again->assert_held == f.assert_held &&
              again->json == f.json && again->min_rev == f.min_rev &&
              !again->help);
}

void CheckElect(const Line& line,
                const std::optional<config::GlobalConfig>& from_env) {
  Result<ElectFlags> f = cli::ParseElectFlags(line.args);
  if (!f.ok()) {
    fuzz::CheckUserError(f.status());
    return;
  }
  if (f->help) {
    CONCH_CHECK(AsksForHelp(line));
    CONCH_CHECK(f->office.empty() && f->run.command.empty());
    CheckUsage(
        cli::ElectUsage(),
        {"restart", "kill-after", "nonblock", "on-acquire", "on-lose",
         "hook-timeout", "wait", "who", "watch", "assert", "min-rev", "json"});
    return;
  }
  CONCH_CHECK(from_env.has_value());
  CheckName("office", f->office, line);
  CheckGlobal(f->run.global, line, *from_env);
  if (f->who || f->watch || f->assert_held) {
    CONCH_CHECK(f->run.command.empty());
  } else {
    CheckRunMode(f->run, line);
  }
  if (!Mentions(line, "wait")) CONCH_CHECK(f->run.wait == Duration::zero());
  CheckElectRoundTrip(*f);
}

void CheckSemaRoundTrip(const SemaFlags& f) {
  std::vector<std::string> args = RunArgs(f.run);
  args.insert(args.begin(), f.name);
  for (const std::string& more :
       {"--max=" + std::to_string(f.max),
        "--weight=" + std::to_string(f.weight), BoolFlag("spread", f.spread),
        BoolFlag("who", f.who), BoolFlag("json", f.json)}) {
    args.push_back(more);
  }
  AppendCommand(f.run, args);
  Result<SemaFlags> again = cli::ParseSemaFlags(args);
  CONCH_CHECK(again.ok());
  CONCH_CHECK(SameRun(again->run, f.run));
  CONCH_CHECK(again->name == f.name && again->max == f.max &&
              again->weight == f.weight && again->spread == f.spread &&
              again->who == f.who && again->json == f.json && !again->help);
}

// --max was given and at least 1; the weight is in 1..max, 1 with --spread
// and 1 when not given.
void CheckUnits(const SemaFlags& f, const Line& line) {
  CONCH_CHECK(Mentions(line, "max"));
  CONCH_CHECK(f.max >= 1);
  CONCH_CHECK(f.weight >= 1 && f.weight <= f.max);
  if (f.spread) CONCH_CHECK(f.weight == 1);
  if (!Mentions(line, "weight")) CONCH_CHECK(f.weight == 1);
}

void CheckSema(const Line& line,
               const std::optional<config::GlobalConfig>& from_env) {
  Result<SemaFlags> f = cli::ParseSemaFlags(line.args);
  if (!f.ok()) {
    fuzz::CheckUserError(f.status());
    return;
  }
  if (f->help) {
    CONCH_CHECK(AsksForHelp(line));
    CONCH_CHECK(f->name.empty() && f->run.command.empty());
    CheckUsage(
        cli::SemaUsage(),
        {"max", "weight", "spread", "restart", "kill-after", "nonblock",
         "on-acquire", "on-lose", "hook-timeout", "wait", "who", "json"});
    return;
  }
  CONCH_CHECK(from_env.has_value());
  CheckName("semaphore", f->name, line);
  CheckGlobal(f->run.global, line, *from_env);
  CheckUnits(*f, line);
  if (!Mentions(line, "wait")) CONCH_CHECK(f->run.wait < Duration::zero());
  if (f->who) {
    CONCH_CHECK(f->run.command.empty());
  } else {
    CheckRunMode(f->run, line);
    if (f->run.wait == Duration::zero()) CONCH_CHECK(f->run.nonblock);
  }
  CheckSemaRoundTrip(*f);
}

void CheckLine(std::string_view input) {
  const Line line = ReadLine(input);
  SetEnvironment(line);
  const std::optional<config::GlobalConfig> from_env = FromEnvironment(line);
  if (line.command == "elect") CheckElect(line, from_env);
  if (line.command == "sema") CheckSema(line, from_env);
}

}  // namespace
}  // namespace conch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  conch::CheckLine(conch::fuzz::AsText(data, size));
  return 0;
}
