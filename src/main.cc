// conch's entry point: block signals before any thread exists, then hand the
// arguments to the command table. Nothing else happens here.
#include <malloc.h>

#include <string>
#include <vector>

#include "base/signals.h"
#include "cli/cli.h"

int main(int argc, char** argv) {
  // One malloc arena: gRPC's threads would otherwise each dirty an arena of
  // their own, which is most of a small wrapper's private memory.
  mallopt(M_ARENA_MAX, 1);
  conch::BlockSignals();
  std::vector<std::string> args(argv + 1, argv + argc);
  return conch::cli::RunCli(args);
}
