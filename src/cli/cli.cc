#include "cli/cli.h"

#include <cstdio>

#include "cli/exit_codes.h"

namespace conch::cli {

namespace {

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
};

std::string TopUsage() {
  std::string out =
      "usage: conch <command> [arguments] [flags] [-- cmd...]\n\n"
      "Runs a command under a cluster-wide hold kept in etcd v3, and kills it\n"
      "before the hold could pass to anyone else.\n\nCommands:\n";
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

}  // namespace

int RunCli(const std::vector<std::string>& args) {
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
