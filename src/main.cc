// conch's entry point: block signals before any thread exists, then hand the
// arguments to the command table, or, when the binary runs under the name
// "switchman" (a link), to the switchman tool. Nothing else happens here.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.h"
#include "base/signals.h"
#include "cli/cli.h"
#include "supervisor/spawn.h"
#include "switchman/run.h"

int main(int argc, char** argv) {
  // One malloc arena: gRPC's threads would otherwise each dirty an arena of
  // their own, which is most of a small wrapper's private memory.
  mallopt(M_ARENA_MAX, 1);
  conch::BlockSignals();
  conch::supervisor::NoteInheritedFds();
  if (const char* debug = getenv("CONCH_DEBUG");
      debug && *debug && *debug != '0') {
    conch::SetLogLevel(conch::LogLevel::kDebug);
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string_view name = argc > 0 ? argv[0] : "conch";
  if (size_t slash = name.rfind('/'); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  int code = name == "switchman"
                 ? conch::switchman::RunSwitchman(args, "switchman")
                 : conch::cli::RunCli(args);
  // Every child is reaped and every hold released by now. Skip static
  // destructors: gRPC's shutdown joins its threads, which costs milliseconds
  // of every run and protects nothing.
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(code);
}
