// The arguments, check-groups' judgement, check-hosts' verdict and the
// three subcommands of switchman/inspect.h. ls' interpretation and
// formatting are in inspect_ls.cc, the ZooKeeper reads in inspect_read.cc.
#include "switchman/inspect.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "base/unique_fd.h"
#include "switchman/options.h"

namespace conch::switchman {

namespace {

constexpr std::string_view kProg = "switchman";

// Output errors (a closed stdout) are not reported: the exit code still
// tells the outcome.
void Print(std::FILE* stream, const std::string& text) {
  static_cast<void>(std::fwrite(text.data(), 1, text.size(), stream));
}

std::string Usage(std::string_view subcommand) {
  if (subcommand == "ls") {
    return "usage: conch switchman ls [-c CFG] [--json]\n";
  }
  if (subcommand == "check-groups") {
    return "usage: conch switchman check-groups CRONTAB [-c CFG] [--system] "
           "[-v]\n";
  }
  return "usage: conch switchman check-hosts [-c CFG] [CONFIG]\n";
}

}  // namespace

// ---------------------------------------------------------------------------
// Arguments.

namespace {

// The value of -c in one of its spellings at args[*i], advancing *i past a
// separate value. nullopt if args[*i] is not -c at all.
std::optional<Result<std::string>> ConfigValue(
    const std::vector<std::string>& args, size_t* i) {
  const std::string& a = args[*i];
  if (a == "-c" || a == "--config") {
    if (*i + 1 >= args.size()) {
      return Result<std::string>(
          Error(Code::kInvalidArgument, "option " + a + " requires a value"));
    }
    return Result<std::string>(args[++*i]);
  }
  if (a.starts_with("--config=")) return Result<std::string>(a.substr(9));
  if (a.size() > 2 && a.starts_with("-c")) {
    return Result<std::string>(a.substr(2));
  }
  return std::nullopt;
}

Status CheckPositionals(std::string_view subcommand, const InspectArgs& out,
                        bool config_given) {
  const size_t n = out.positionals.size();
  if (subcommand == "ls" && n != 0) {
    return Error(Code::kInvalidArgument,
                 "unexpected argument " + Quote(out.positionals.front()));
  }
  if (subcommand == "check-groups" && n != 1) {
    return Error(Code::kInvalidArgument,
                 n == 0 ? "missing CRONTAB" : "expected one CRONTAB");
  }
  if (subcommand == "check-hosts" && (n > 1 || (n == 1 && config_given))) {
    return Error(Code::kInvalidArgument,
                 "expected one config, as -c CFG or CONFIG");
  }
  return Status::Ok();
}

}  // namespace

Result<InspectArgs> ParseInspectArgs(std::string_view subcommand,
                                     const std::vector<std::string>& args) {
  const std::string context(subcommand);
  InspectArgs out;
  bool config_given = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out.positionals.insert(out.positionals.end(),
                             args.begin() + static_cast<ptrdiff_t>(i) + 1,
                             args.end());
      break;
    }
    if (a == "-h" || a == "--help") {
      out.help = true;
      return out;
    }
    std::optional<Result<std::string>> config = ConfigValue(args, &i);
    if (config) {
      if (!config->ok()) return config->status().With(context);
      out.config = **config;
      config_given = true;
    } else if (a == "--json" && subcommand == "ls") {
      out.json = true;
    } else if (a == "--system" && subcommand == "check-groups") {
      out.system = true;
    } else if ((a == "-v" || a == "--verbose") &&
               subcommand == "check-groups") {
      out.verbose = true;
    } else if (a.size() > 1 && a.front() == '-') {
      return Error(Code::kInvalidArgument,
                   context + ": unknown option " + Quote(a));
    } else {
      out.positionals.push_back(a);
    }
  }
  Status positionals = CheckPositionals(subcommand, out, config_given);
  if (!positionals.ok()) return positionals.With(context);
  return out;
}

// ---------------------------------------------------------------------------
// check-groups: judgement.

namespace {

// ZooKeeper could not be read at all: the check cannot judge anything.
bool IsStoreFailure(const Status& status) {
  return status.code() == Code::kUnavailable ||
         status.code() == Code::kDeadlineExceeded ||
         status.code() == Code::kSessionLost;
}

// The options of a call that would run its command; an error if the call
// cannot be split, its options do not parse, or it asks for -h or -v.
Result<Options> RunnableOptions(const SwitchmanCall& call) {
  if (call.unparsable) {
    return Error(Code::kInvalidArgument,
                 "the command does not split into words (unterminated quote)");
  }
  ParseSettings settings;
  settings.posixly_correct = call.posixly_correct;
  Result<Options> options = ParseOptions(call.args, settings);
  if (!options.ok()) return options.status();
  if (options->action != Action::kRun) {
    return Error(Code::kInvalidArgument,
                 "-h or -v: switchman prints and exits, running nothing");
  }
  return options;
}

// The config a call reads: its own -c, else check-groups' -c, else the
// default. "0" means not given, as the original's Perl truth has it.
std::string ConfigPathFor(const Options& options, std::string_view fallback) {
  if (!options.config_path.empty()) return options.config_path;
  if (!fallback.empty() && fallback != "0") return std::string(fallback);
  return std::string(kDefaultConfigPath);
}

}  // namespace

Result<std::vector<FailedCall>> JudgeSwitchmanCalls(
    const std::vector<SwitchmanCall>& calls, std::string_view fallback_config,
    const PrefixLoader& load) {
  std::map<std::string, Result<PrefixData>> loaded;
  std::vector<FailedCall> failed;
  for (const SwitchmanCall& call : calls) {
    Result<Options> options = RunnableOptions(call);
    if (!options.ok()) {
      failed.push_back({call, options.status().message()});
      continue;
    }
    // No -g: the job runs on every host, which is fine. (The original's
    // check reported such jobs as failures.)
    if (options->group.empty()) continue;
    const std::string path = ConfigPathFor(*options, fallback_config);
    auto it = loaded.find(path);
    if (it == loaded.end()) it = loaded.emplace(path, load(path)).first;
    const Result<PrefixData>& data = it->second;
    if (!data.ok() && IsStoreFailure(data.status())) return data.status();
    Status group = data.ok() ? ResolveGroup(*data, options->group).status()
                             : data.status();
    if (!group.ok()) failed.push_back({call, group.message()});
  }
  return failed;
}

std::string FormatGroupsVerdict(std::string_view crontab,
                                const std::vector<FailedCall>& failed) {
  if (failed.empty()) return "OK";
  std::vector<std::string> texts;
  texts.reserve(failed.size());
  for (const FailedCall& f : failed) texts.push_back(f.call.text);
  return std::string(crontab) + ": " + Join(texts, ", ");
}

// ---------------------------------------------------------------------------
// check-hosts.

std::vector<std::string> HostsToProbe(const PrefixData& data) {
  std::vector<std::string> hosts;
  std::set<std::string> seen;
  for (const auto& [name, items] : data.groups) {
    Result<GroupMembers> members = ResolveGroup(data, name);
    if (!members.ok()) continue;
    for (const std::string& host : members->hosts) {
      if (seen.insert(host).second) hosts.push_back(host);
    }
  }
  return hosts;
}

std::vector<std::string> DeadGroups(
    const PrefixData& data,
    const std::function<bool(const std::string&)>& is_up) {
  std::vector<std::string> dead;
  for (const auto& [name, items] : data.groups) {
    Result<GroupMembers> members = ResolveGroup(data, name);
    if (!members.ok() ||
        std::none_of(members->hosts.begin(), members->hosts.end(), is_up)) {
      dead.push_back(name);
    }
  }
  return dead;  // data.groups is a std::map: already sorted
}

std::string FormatHostsVerdict(const std::vector<std::string>& dead_groups) {
  if (dead_groups.empty()) return "OK";
  return "groups: " + Join(dead_groups, ", ");
}

// ---------------------------------------------------------------------------
// The subcommands.

namespace {

// Parses a subcommand's arguments. Returns the exit code when there is
// nothing more to do (help, or a usage error already reported).
std::optional<int> Arguments(std::string_view subcommand,
                             const std::vector<std::string>& args,
                             InspectArgs& out) {
  Result<InspectArgs> parsed = ParseInspectArgs(subcommand, args);
  if (!parsed.ok()) {
    Print(stderr, std::string(kProg) + ": " + parsed.status().message() + "\n" +
                      Usage(subcommand));
    return kInspectExitUsage;
  }
  if (parsed->help) {
    Print(stdout, Usage(subcommand));
    return kInspectExitOk;
  }
  out = std::move(*parsed);
  return std::nullopt;
}

// The config named by -c, or the default one.
Result<Config> LoadChosenConfig(const std::string& flag_value) {
  Result<std::string> path = ChooseConfigPath(flag_value, kProg);
  if (!path.ok()) return path.status();
  return LoadConfig(*path);
}

// The whole of a file of at most `max_bytes`.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return FromErrno("open " + path, errno);
  std::string text;
  std::array<char, 65536> buf{};
  for (;;) {
    const ssize_t n = read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FromErrno("read " + path, errno);
    if (n == 0) return text;
    text.append(buf.data(), static_cast<size_t>(n));
    if (text.size() > max_bytes) {
      return Error(
          Code::kInvalidArgument,
          path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
}

}  // namespace

int RunLs(const std::vector<std::string>& args) {
  InspectArgs a;
  if (std::optional<int> done = Arguments("ls", args, a)) return *done;
  // 1. The config: -c or the default.
  Result<Config> config = LoadChosenConfig(a.config);
  if (!config.ok()) {
    Print(stderr, std::string(kProg) + ": " + config.status().message() + "\n");
    return kInspectExitUsage;
  }
  // 2. Everything under the prefix, in one go.
  Result<RawTree> tree = ReadTree(*config);
  if (!tree.ok()) {
    Print(stderr, std::string(kProg) + ": " + tree.status().message() + "\n");
    return tree.status().code() == Code::kInvalidArgument
               ? kInspectExitUsage
               : kInspectExitUnavailable;
  }
  if (!tree->prefix_problem.empty()) {
    Print(stderr,
          std::string(kProg) + ": warning: " + tree->prefix_problem + "\n");
  }
  // 3. Interpret and print.
  Snapshot snapshot = AssembleSnapshot(*tree);
  Print(stdout, a.json ? FormatLsJson(snapshot) : FormatLs(snapshot));
  return kInspectExitOk;
}

int RunCheckGroups(const std::vector<std::string>& args) {
  constexpr size_t kMaxCrontabBytes = 4 << 20;
  InspectArgs a;
  if (std::optional<int> done = Arguments("check-groups", args, a)) {
    return *done;
  }
  const std::string& path = a.positionals.front();
  const CrontabKind kind =
      a.system ? CrontabKind::kSystem : CrontabKindForPath(path);
  // 1. Read and parse the crontab.
  Result<std::string> text = ReadSmallFile(path, kMaxCrontabBytes);
  if (!text.ok()) {
    Print(stdout, "cannot read crontab " + path + ": " +
                      text.status().message() + "\n");
    return kNagiosCritical;
  }
  Result<std::vector<CronJob>> jobs = ParseCrontab(*text, kind);
  if (!jobs.ok()) {
    Print(stdout,
          "invalid crontab " + path + ": " + jobs.status().message() + "\n");
    return kNagiosCritical;
  }
  // 2. Find the switchman calls and judge their groups.
  std::vector<SwitchmanCall> calls;
  for (const CronJob& job : *jobs) {
    for (SwitchmanCall& call : FindSwitchmanCalls(job, kind)) {
      calls.push_back(std::move(call));
    }
  }
  auto load = [](const std::string& config_path) -> Result<PrefixData> {
    Result<Config> config = LoadConfig(config_path);
    if (!config.ok()) return config.status();
    return ReadPrefixData(*config);
  };
  Result<std::vector<FailedCall>> failed =
      JudgeSwitchmanCalls(calls, a.config, load);
  if (!failed.ok()) {
    Print(stdout, failed.status().message() + "\n");
    return kNagiosCritical;
  }
  // 3. The verdict.
  if (a.verbose) {
    for (const FailedCall& f : *failed) {
      Print(stderr, "line " + std::to_string(f.call.line) + ": " + f.call.text +
                        ": " + f.reason + "\n");
    }
  }
  Print(stdout, FormatGroupsVerdict(path, *failed) + "\n");
  return failed->empty() ? kInspectExitOk : kNagiosCritical;
}

int RunCheckHosts(const std::vector<std::string>& args) {
  InspectArgs a;
  if (std::optional<int> done = Arguments("check-hosts", args, a)) return *done;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read before any thread starts
  Result<uint16_t> port = ProbePortFromEnv(std::getenv(kProbePortEnv));
  if (!port.ok()) {
    Print(stderr, std::string(kProg) + ": " + port.status().message() + "\n");
    return kInspectExitUsage;
  }
  // 1. The config and the prefix data.
  const std::string flag =
      a.positionals.empty() ? a.config : a.positionals.front();
  Result<Config> config = LoadChosenConfig(flag);
  if (!config.ok()) {
    Print(stdout, config.status().message() + "\n");
    return kNagiosCritical;
  }
  Result<PrefixData> data = ReadPrefixData(*config);
  if (!data.ok()) {
    Print(stdout, data.status().message() + "\n");
    return kNagiosCritical;
  }
  // 2. Probe every member of every group at once.
  std::set<std::string> up =
      ProbeHosts(HostsToProbe(*data), *port, kProbeTimeout);
  // 3. The groups nobody answered for.
  std::vector<std::string> dead = DeadGroups(
      *data, [&](const std::string& host) { return up.contains(host); });
  Print(stdout, FormatHostsVerdict(dead) + "\n");
  return dead.empty() ? kInspectExitOk : kNagiosCritical;
}

}  // namespace conch::switchman
