// libFuzzer target for config::FlagSet::Parse on its own. The input, split
// on NUL bytes, is the argv for a FlagSet with one or two flags of each
// kind, parsed with at most one positional (flags_fuzz.cc runs the real
// tables of `conch elect` and `conch sema`). Beyond "no crash, no sanitizer
// report", it checks the contract in config/flags.h against a small model
// of its rules: which word is a flag, which is a flag's value, and where
// "--" ends the flags.
//   - Every error is kInvalidArgument with a non-empty one-line message
//     without control bytes.
//   - Success means the model found no unknown flag, missing value or extra
//     positional; and input with none of those, whose only flag values are
//     strings, does succeed.
//   - On success there is at most one positional, and it is the model's.
//   - The command is exactly the words after the first "--" that is not a
//     flag's value ("--name -- x" sets name to "--", as Go's flag package
//     does), and there is no command without such a "--".
//   - -h/--help before any "--" sets help_requested() and ends parsing.
//   - The string flag holds the last value given to it, and IsSet says so.
// A broken contract aborts through CONCH_CHECK, which libFuzzer reports as a
// crash and saves the input.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "base/fuzz/fuzz_util.h"
#include "base/status.h"
#include "config/flags.h"

namespace conch {
namespace {

constexpr size_t kMaxPositionals = 1;
constexpr std::string_view kNameDefault = "default-name";

// What the model expects Parse to have seen.
struct Expected {
  bool structural_error = false;   // unknown flag, missing value, extra word
  bool has_checked_value = false;  // a bool, duration or int value was given
  bool help = false;
  bool separator = false;
  std::vector<std::string> positionals;
  std::vector<std::string> command;
  std::optional<std::string> name;  // the last value given to --name
};

enum class FlagKind { kBool, kString, kChecked, kUnknown };

FlagKind KindOf(std::string_view name) {
  if (name == "wait" || name == "v") return FlagKind::kBool;
  if (name == "name") return FlagKind::kString;
  if (name == "ttl" || name == "count") return FlagKind::kChecked;
  return FlagKind::kUnknown;
}

// Models the flag word args[i] ("-x", "--x" or "--x=v") and the value word
// after it when the flag takes one. Returns how many words it used.
size_t ModelFlag(const std::vector<std::string>& args, size_t i, Expected& e) {
  std::string_view body(args[i]);
  body.remove_prefix(body[1] == '-' ? 2 : 1);
  const size_t eq = body.find('=');
  const std::string_view name = body.substr(0, eq);
  if (name == "h" || name == "help") {
    e.help = true;
    return 1;
  }
  const FlagKind kind = KindOf(name);
  std::optional<std::string> value;
  size_t used = 1;
  if (eq != std::string_view::npos) {
    value = std::string(body.substr(eq + 1));
  } else if (kind != FlagKind::kBool && i + 1 < args.size()) {
    value = args[i + 1];
    used = 2;
  }
  e.structural_error =
      kind == FlagKind::kUnknown || (kind != FlagKind::kBool && !value);
  if (kind == FlagKind::kString) e.name = value;
  if (kind == FlagKind::kChecked || (kind == FlagKind::kBool && value)) {
    e.has_checked_value = true;
  }
  return used;
}

// The rules from config/flags.h, written out independently of flags.cc.
Expected Model(const std::vector<std::string>& args) {
  Expected e;
  size_t i = 0;
  while (i < args.size() && !e.structural_error && !e.help) {
    const std::string& arg = args[i];
    if (arg == "--") {
      e.separator = true;
      e.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                       args.end());
      break;
    }
    if (arg.size() >= 2 && arg[0] == '-') {
      i += ModelFlag(args, i, e);
      continue;
    }
    e.structural_error = e.positionals.size() >= kMaxPositionals;
    if (!e.structural_error) e.positionals.push_back(arg);
    ++i;
  }
  return e;
}

void CheckSuccess(const config::FlagSet& flags, const std::string& name,
                  const Expected& e) {
  CONCH_CHECK(!e.structural_error);
  CONCH_CHECK(flags.positionals().size() <= kMaxPositionals);
  CONCH_CHECK(flags.positionals() == e.positionals);
  CONCH_CHECK(flags.help_requested() == e.help);
  CONCH_CHECK(flags.has_command_separator() == e.separator);
  CONCH_CHECK(flags.command() == e.command);
  CONCH_CHECK(name == e.name.value_or(std::string(kNameDefault)));
  CONCH_CHECK(flags.IsSet("name") == e.name.has_value());
}

void CheckArgs(std::string_view input) {
  const std::vector<std::string> args = fuzz::SplitOnNul(input);

  // The flag table of a typical conch command.
  bool wait = false;
  bool verbose = false;
  std::string name(kNameDefault);
  Duration ttl = std::chrono::seconds(10);
  int64_t count = 0;
  config::FlagSet flags("usage: conch fuzz [flags] [office] -- command...");
  flags.Bool("wait", &wait, "wait for the hold");
  flags.Bool("v", &verbose, "log more");
  flags.String("name", &name, "holder name", "NAME");
  flags.Duration("ttl", &ttl, "lease time to live");
  flags.Int("count", &count, "how many");

  const Status status = flags.Parse(args, kMaxPositionals);
  const Expected expected = Model(args);
  if (status.ok()) {
    CheckSuccess(flags, name, expected);
  } else {
    fuzz::CheckUserError(status);
    CONCH_CHECK(expected.structural_error || expected.has_checked_value);
  }

  // Usage lists every flag whatever was parsed.
  const std::string usage = flags.Usage();
  CONCH_CHECK(usage.find("--name NAME") != std::string::npos);
  CONCH_CHECK(usage.find("--count N") != std::string::npos);
}

}  // namespace
}  // namespace conch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  conch::CheckArgs(conch::fuzz::AsText(data, size));
  return 0;
}
