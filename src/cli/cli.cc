#include "cli/cli.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli/exit_codes.h"
#include "cron/next_cmd.h"
#include "switchman/run.h"

namespace conch::cli {

namespace {

// `conch conchd ...`: the daemon is its own binary (conchd/main.cc), found
// next to this one, else in PATH; it replaces this process.
int RunConchd(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"conchd"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    std::string dir(self, static_cast<size_t>(n));
    dir.resize(dir.rfind('/') + 1);
    std::string sibling = dir + "conchd";
    ::execv(sibling.c_str(), cargv.data());
  }
  ::execvp("conchd", cargv.data());
  std::fprintf(stderr,
               "conch conchd: cannot run the conchd binary (next to conch, "
               "or in PATH): %s\n",
               std::strerror(errno));
  return kExitUnavailable;
}

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

constexpr Command kCommands[] = {
    {"elect", "run a command only while this host is the elected leader",
     RunElect},
    {"sema", "run a command while holding units of a cluster-wide semaphore",
     RunSema},
    {"cron",
     "distributed cron jobs: add, rm, ls, next, pause, resume, run,\n"
     "             history (conchd runs them)",
     RunCron},
    {"conchd",
     "the cron daemon: runs the jobs on this node (the conchd binary)",
     RunConchd},
    {"switchman",
     "the switchman tool (ZooKeeper): lock, leases and groups; also ls,\n"
     "             check-groups, check-hosts",
     switchman::ConchSwitchman},
};

std::string TopUsage() {
  std::string out =
      "usage: conch <command> [arguments] [flags] [-- cmd...]\n\n"
      "Runs a command under a cluster-wide hold kept in etcd v3 or ZooKeeper,\n"
      "and kills it before the hold could pass to anyone else.\n\nCommands:\n";
  for (const Command& c : kCommands) {
    char line[160];
    std::snprintf(line, sizeof(line), "  %-10s %s\n", c.name, c.summary);
    out += line;
  }
  out +=
      "  help       show this help, or a command's: conch help elect\n"
      "  version    print the version\n\n"
      "Exit codes: the command's own code (128+N if killed by signal N);\n"
      "64 usage error; 69 store unreachable; 70 hold lost, command killed;\n"
      "75 not acquired (--nonblock, --wait, failed --on-acquire).\n\n"
      "Run 'conch <command> --help' for a command's flags.\n";
  return out;
}

bool IsFlagWord(const std::string& word) {
  return word.size() > 1 && word[0] == '-' && word != "--";
}

}  // namespace

Result<std::vector<std::string>> HoistGlobalFlags(
    const std::vector<std::string>& args) {
  std::vector<std::string> globals;
  size_t i = 0;
  for (; i < args.size() && IsFlagWord(args[i]); ++i) {
    std::string body = args[i].substr(args[i][1] == '-' ? 2 : 1);
    size_t eq = body.find('=');
    std::string name = body.substr(0, eq);
    if (name == "h" || name == "help") return std::vector<std::string>{"help"};
    if (name == "v" || name == "version") {
      return std::vector<std::string>{"version"};
    }
    if (name == "quiet") {
      globals.push_back(args[i]);
      continue;
    }
    if (name != "endpoints" && name != "dial-timeout" && name != "ttl") {
      return Error(Code::kInvalidArgument,
                   "unknown flag \"" + args[i] +
                       "\" before the command (global flags: --endpoints, "
                       "--dial-timeout, --ttl, --quiet)");
    }
    globals.push_back(args[i]);
    if (eq != std::string::npos) continue;
    if (i + 1 == args.size()) {
      return Error(Code::kInvalidArgument,
                   "flag " + args[i] + " needs a value");
    }
    globals.push_back(args[++i]);
  }
  if (globals.empty()) return args;
  if (i == args.size()) {
    return Error(Code::kInvalidArgument, "no command after the global flags");
  }
  std::vector<std::string> out = {args[i]};
  if (args[i] != "help" && args[i] != "version") {
    out.insert(out.end(), globals.begin(), globals.end());
  }
  out.insert(out.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1,
             args.end());
  return out;
}

int RunCli(const std::vector<std::string>& raw_args) {
  if (!raw_args.empty() && raw_args[0] != "-h" && raw_args[0] != "--help" &&
      raw_args[0] != "-v" && raw_args[0] != "--version" &&
      raw_args[0] != "-version" && IsFlagWord(raw_args[0])) {
    Result<std::vector<std::string>> hoisted = HoistGlobalFlags(raw_args);
    if (!hoisted.ok()) {
      std::fprintf(stderr, "conch: %s (run 'conch help')\n",
                   hoisted.status().message().c_str());
      return kExitUsage;
    }
    return RunCli(*hoisted);
  }
  const std::vector<std::string>& args = raw_args;
  if (args.empty()) {
    std::fputs(TopUsage().c_str(), stderr);
    return kExitUsage;
  }
  const std::string& name = args[0];
  if (name == "help" || name == "-h" || name == "--help") {
    if (args.size() > 1) {
      for (const Command& c : kCommands) {
        if (args[1] == c.name) return c.run({"--help"});
      }
      std::fprintf(stderr, "conch: unknown command \"%s\"\n", args[1].c_str());
      return kExitUsage;
    }
    std::fputs(TopUsage().c_str(), stdout);
    return kExitOk;
  }
  if (name == "version" || name == "-v" || name == "--version" ||
      name == "-version") {
    std::printf("conch %s\n", kVersion);
    return kExitOk;
  }
  for (const Command& c : kCommands) {
    if (name == c.name) {
      return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
    }
  }
  std::fprintf(
      stderr, "conch: unknown command \"%s\" (run 'conch help' for the list)\n",
      name.c_str());
  return kExitUsage;
}

}  // namespace conch::cli
