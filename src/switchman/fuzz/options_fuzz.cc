// libFuzzer target for switchman's command line (switchman/options.h). The
// input, split on NUL bytes, is the argument list; it is parsed in both
// Getopt::Long modes (default and POSIXLY_CORRECT), and every word also
// goes through the exec rule, the basename rule and the lock name rule.
// Beyond "no crash, no sanitizer report", it checks the contracts:
//   - Every error is kInvalidArgument with a non-empty one-line message
//     without control bytes.
//   - A run has a command, a lock name that passes ValidateLockname (the
//     default one when it says so), the ExecSpecFor of its command, at most
//     one lease per resource, and no "" or "0" config or group.
//   - Words that no option can start ("-x", "+x", "--") are the command,
//     unchanged, in either mode; after a leading "--" everything is.
//   - ExecSpecFor gives a shell command line or words without whitespace.
//   - PerlBasename contains "/" only as "/" or "./".
// A broken contract aborts through CONCH_CHECK, which libFuzzer reports as a
// crash and saves the input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/fuzz/fuzz_util.h"
#include "base/status.h"
#include "switchman/options.h"

namespace conch {
namespace {

using switchman::Action;
using switchman::ExecSpec;
using switchman::Options;

bool IsPerlSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

void CheckRun(const Options& o) {
  CONCH_CHECK(o.exit_code == 0);
  CONCH_CHECK(!o.command.empty());
  CONCH_CHECK(switchman::ValidateLockname(o.lockname).ok());
  if (o.lockname_is_default) {
    CONCH_CHECK(o.lockname == switchman::DefaultLockname(o.command));
  } else {
    CONCH_CHECK(!o.lockname.empty() && o.lockname != "0");
  }
  Result<ExecSpec> exec = switchman::ExecSpecFor(o.command);
  CONCH_CHECK(exec.ok() && *exec == o.exec);
  for (size_t i = 0; i < o.leases.size(); ++i) {
    for (size_t j = i + 1; j < o.leases.size(); ++j) {
      CONCH_CHECK(o.leases[i].resource != o.leases[j].resource);
    }
    CONCH_CHECK(o.leases[i].resource.find('=') == std::string::npos);
  }
  CONCH_CHECK(o.config_path != "0" && o.group != "0");
}

void CheckParse(const std::vector<std::string>& args, bool posix) {
  switchman::ParseSettings settings;
  settings.posixly_correct = posix;
  Result<Options> options = switchman::ParseOptions(args, settings);
  if (!options.ok()) {
    fuzz::CheckUserError(options.status());
  } else if (options->action == Action::kRun) {
    CheckRun(*options);
  } else {
    CONCH_CHECK(options->exit_code == switchman::kHelpExitCode);
  }

  // A model for input without option words: all of it is the command.
  const bool plain = std::ranges::none_of(args, [](const std::string& a) {
    return (a.size() > 1 && (a[0] == '-' || a[0] == '+')) || a == "+";
  });
  if (plain && !args.empty() && options.ok()) {
    CONCH_CHECK(options->command == args);
  }
  if (!args.empty() && args[0] == "--" && args.size() > 1 && options.ok()) {
    CONCH_CHECK(options->command ==
                std::vector<std::string>(args.begin() + 1, args.end()));
  }
}

void CheckExecWord(const std::string& word) {
  Result<ExecSpec> exec = switchman::ExecSpecFor({word});
  if (!exec.ok()) {
    fuzz::CheckUserError(exec.status());
    return;
  }
  if (exec->argv.size() == 3 && exec->argv[0] == "/bin/sh" &&
      exec->argv[1] == "-c" && !exec->stderr_to_stdout) {
    // A shell command line: the word without its leading whitespace.
    CONCH_CHECK(word.find(exec->argv[2]) != std::string::npos);
    return;
  }
  CONCH_CHECK(!exec->argv.empty());
  for (const std::string& arg : exec->argv) {
    CONCH_CHECK(!arg.empty());
    CONCH_CHECK(std::ranges::none_of(arg, IsPerlSpace));
  }
}

void CheckWord(const std::string& word) {
  CheckExecWord(word);

  const std::string base = switchman::PerlBasename(word);
  CONCH_CHECK(!base.empty());
  if (base.find('/') != std::string::npos) {
    CONCH_CHECK(base == "/" || base == "./");
  }
  if (word.find('/') == std::string::npos && !word.empty()) {
    CONCH_CHECK(base == word);
  }

  const Status valid = switchman::ValidateLockname(word);
  if (!valid.ok()) fuzz::CheckUserError(valid);
  CONCH_CHECK(valid.ok() == (word.size() <= switchman::kMaxLocknameBytes &&
                             word.find('/') == std::string::npos &&
                             word != "." && word != ".."));
}

void CheckInput(std::string_view input) {
  const std::vector<std::string> args = fuzz::SplitOnNul(input);
  CheckParse(args, false);
  CheckParse(args, true);
  for (const std::string& word : args) CheckWord(word);
  Result<ExecSpec> exec = switchman::ExecSpecFor(args);
  if (!exec.ok()) fuzz::CheckUserError(exec.status());
  if (args.size() > 1) CONCH_CHECK(exec.ok() && exec->argv == args);
}

}  // namespace
}  // namespace conch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  conch::CheckInput(conch::fuzz::AsText(data, size));
  return 0;
}
