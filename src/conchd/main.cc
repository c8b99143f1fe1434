// conchd: the distributed cron's daemon, as its own binary so that the
// HTTP library and what it loads stay out of `conch` (whose start-up time
// every wrapped command pays). `conch conchd` runs this binary.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/signals.h"
#include "conchd/daemon.h"
#include "conchd/flags.h"
#include "supervisor/spawn.h"

int main(int argc, char** argv) {
  mallopt(M_ARENA_MAX, 1);  // one arena, as conch: idle memory stays small
  conch::BlockSignals();
  conch::supervisor::NoteInheritedFds();
  conch::SetLogPrefix("conchd");
  if (const char* debug = std::getenv("CONCH_DEBUG");
      debug && *debug && *debug != '0') {
    conch::SetLogLevel(conch::LogLevel::kDebug);
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  conch::Result<conch::conchd::ConchdFlags> f =
      conch::conchd::ParseConchdFlags(args);
  if (!f.ok()) {
    std::fprintf(stderr, "conchd: %s (see conchd --help)\n",
                 f.status().message().c_str());
    return 64;
  }
  if (f->help) {
    std::fputs(conch::conchd::ConchdUsage().c_str(), stdout);
    return 0;
  }
  if (f->options.global.quiet) conch::SetLogLevel(conch::LogLevel::kWarn);
  return conch::conchd::RunDaemon(f->options);
}
