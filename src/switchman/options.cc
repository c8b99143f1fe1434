#include "switchman/options.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "base/strings.h"

namespace conch::switchman {

namespace {

enum class Target {
  kConfig,
  kExitConflict,
  kGroup,
  kLease,
  kLockname,
  kLock,
  kHelp,
  kVersion
};

struct OptionName {
  std::string_view name;  // as Getopt::Long registers it (lower case)
  // What an ambiguous abbreviation collapses on: Getopt::Long's canonical
  // name, prefixed with "no" for the negations of lock!. "--n" matches
  // both "no-lock" and "nolock", which share the key, so it is not
  // ambiguous.
  std::string_view key;
  Target target;
  bool negated = false;
};

// Every name the original's specs register, sorted as Getopt::Long sorts
// them before matching abbreviations; the order shows in its "ambiguous"
// message.
// Ours: e|exit-conflict, named so that no abbreviation the original
// accepted ("--conf", "--lo", "--n") changes meaning.
constexpr std::array<OptionName, 15> kNames = {{
    {"c", "c", Target::kConfig},
    {"config", "c", Target::kConfig},
    {"e", "e", Target::kExitConflict},
    {"exit-conflict", "e", Target::kExitConflict},
    {"g", "g", Target::kGroup},
    {"group", "g", Target::kGroup},
    {"h", "h", Target::kHelp},
    {"help", "h", Target::kHelp},
    {"lease", "lease", Target::kLease},
    {"lock", "lock", Target::kLock},
    {"lockname", "lockname", Target::kLockname},
    {"no-lock", "nolock", Target::kLock, true},
    {"nolock", "nolock", Target::kLock, true},
    {"v", "v", Target::kVersion},
    {"version", "v", Target::kVersion},
}};

// Perl's isSPACE in C code (handy.h): ASCII whitespace including \v.
bool IsPerlSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

// Perl's lc() on a byte string: ASCII letters only.
std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Perl truth for a string: "" and "0" are false.
bool PerlTrue(std::string_view text) { return !text.empty() && text != "0"; }

// The option starter of `arg`, or "" for a plain word: Getopt::Long's
// ^(--|-|\+) (without "+" under POSIXLY_CORRECT), where a lone "-" is a
// plain word. "--" itself is handled by the caller.
std::string_view Starter(std::string_view arg, bool posixly_correct) {
  if (arg == "-") return {};
  if (arg.starts_with("--")) return "--";
  if (arg.starts_with("-")) return "-";
  if (!posixly_correct && arg.starts_with("+")) return "+";
  return {};
}

// Getopt::Long's auto_abbrev: the name `wanted` (lower case) stands for,
// or nullopt after adding an "ambiguous" message to `errors`. A prefix of
// several names that all mean one option is that option's key.
std::optional<std::string> Complete(const std::string& wanted,
                                    std::string_view shown,
                                    std::vector<std::string>& errors) {
  std::vector<const OptionName*> hits;
  for (const OptionName& option : kNames) {
    if (option.name == wanted) return wanted;  // an exact name always wins
    if (option.name.starts_with(wanted)) hits.push_back(&option);
  }
  if (hits.size() == 1) return std::string(hits[0]->name);
  if (hits.empty()) return wanted;
  std::vector<std::string> keys;
  std::vector<std::string> names;
  for (const OptionName* hit : hits) {
    names.emplace_back(hit->name);
    if (std::ranges::find(keys, hit->key) == keys.end()) {
      keys.emplace_back(hit->key);
    }
  }
  if (keys.size() == 1) return keys[0];
  errors.push_back("Option " + Quote(shown) + " is ambiguous (" +
                   Join(names, ", ") + ")");
  return std::nullopt;
}

// Getopt::Long's FindOption name lookup: case-insensitive, with unique
// abbreviations unless POSIXLY_CORRECT. `shown` is the option as typed,
// for messages. Returns nullptr after adding a message to `errors`.
const OptionName* FindName(std::string_view name, std::string_view shown,
                           bool abbreviate, std::vector<std::string>& errors) {
  std::string wanted = AsciiLower(name);
  if (abbreviate && !name.empty()) {
    std::optional<std::string> completed = Complete(wanted, shown, errors);
    if (!completed) return nullptr;
    wanted = *completed;
  }
  for (const OptionName& option : kNames) {
    if (option.name == wanted) return &option;
  }
  if (name.empty()) {
    errors.push_back("Missing option after " + Quote(shown));
  } else {
    errors.push_back("Unknown option: " + Quote(shown));
  }
  return nullptr;
}

// The state of one GetOptionsFromArray pass.
struct Scan {
  std::optional<std::string> config;
  std::optional<std::string> group;
  std::optional<std::string> lockname;
  std::optional<std::string> exit_conflict;
  std::vector<LeaseOption> leases;
  bool lock = true;
  std::optional<Action> info;  // -h or -v was reached
  std::vector<std::string> errors;
};

void AddLease(std::string_view arg, std::vector<LeaseOption>& leases) {
  const size_t eq = arg.find('=');
  LeaseOption lease{std::string(arg.substr(0, eq)),
                    std::string(arg.substr(eq + 1))};
  for (LeaseOption& existing : leases) {
    if (existing.resource == lease.resource) {
      existing.value = std::move(lease.value);
      return;
    }
  }
  leases.push_back(std::move(lease));
}

// Handles the option word args[i] (with its starter already known) and the
// value word after it, if it takes one. Returns the index of the last word
// used.
size_t TakeOption(const std::vector<std::string>& args, size_t i,
                  std::string_view starter, bool posixly_correct, Scan& scan) {
  std::string_view body = args[i];
  body.remove_prefix(starter.size());
  std::string_view name = body;
  std::optional<std::string_view> value;
  // Getopt::Long looks for "=" from the second character of the name, and
  // after a single "-" or "+" only with getopt_compat (off under
  // POSIXLY_CORRECT).
  if (starter == "--" || !posixly_correct) {
    if (size_t eq = body.find('=', 1); eq != std::string_view::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
    }
  }
  const std::string shown = std::string(starter) + std::string(name);
  const OptionName* option =
      FindName(name, shown, !posixly_correct, scan.errors);
  if (option == nullptr) return i;

  switch (option->target) {
    case Target::kLock:
    case Target::kHelp:
    case Target::kVersion:
      if (value) {
        scan.errors.push_back("Option " + Quote(shown) +
                              " does not take an argument");
      } else if (option->target == Target::kLock) {
        scan.lock = !option->negated;
      } else {
        scan.info =
            option->target == Target::kHelp ? Action::kHelp : Action::kVersion;
      }
      return i;
    case Target::kConfig:
    case Target::kExitConflict:
    case Target::kGroup:
    case Target::kLease:
    case Target::kLockname:
      break;
  }

  // A mandatory string: "--opt=" has no value, and otherwise the next word
  // is the value whatever it looks like.
  if (value ? value->empty() : i + 1 >= args.size()) {
    scan.errors.push_back("Option " + Quote(shown) + " requires an argument");
    return i;
  }
  std::string text = value ? std::string(*value) : args[++i];
  switch (option->target) {
    case Target::kConfig:
      scan.config = std::move(text);
      break;
    case Target::kGroup:
      scan.group = std::move(text);
      break;
    case Target::kLockname:
      scan.lockname = std::move(text);
      break;
    case Target::kExitConflict:
      scan.exit_conflict = std::move(text);
      break;
    case Target::kLease:
      if (text.find('=') == std::string::npos) {
        scan.errors.push_back("Option " + Quote(shown) + ", key " +
                              Quote(text) + ", requires a value");
      } else {
        AddLease(text, scan.leases);
      }
      break;
    default:
      break;
  }
  return i;
}

// Whether `cmd` (leading whitespace skipped) is a " 2>&1" whose ">" is at
// `i`: Perl only honours it with whitespace before and nothing but
// whitespace after.
bool IsFinalStderrRedirect(std::string_view cmd, size_t i) {
  if (cmd[i] != '>' || i < 2 || i + 2 >= cmd.size()) return false;
  if (cmd.substr(i - 1, 4) != "2>&1" || !IsPerlSpace(cmd[i - 2])) return false;
  for (size_t after = i + 3; after < cmd.size(); ++after) {
    if (!IsPerlSpace(cmd[after])) return false;
  }
  return true;
}

// Perl_do_exec3's decision for one word: nullopt when it goes to the shell,
// else how much of it is split into words (all of it, or up to a final
// newline or " 2>&1").
std::optional<size_t> SplitEnd(std::string_view cmd) {
  if (cmd.size() > 1 && cmd[0] == '.' && IsPerlSpace(cmd[1])) {
    return std::nullopt;
  }
  if (cmd.size() > 4 && cmd.starts_with("exec") && IsPerlSpace(cmd[4])) {
    return std::nullopt;
  }
  size_t word = 0;  // "catch VAR=val gizmo"
  while (word < cmd.size() && IsWordChar(cmd[word])) ++word;
  if (word < cmd.size() && cmd[word] == '=') return std::nullopt;

  constexpr std::string_view kMetachars = "$&*(){}[]'\";\\|?<>~`\n";
  for (size_t i = 0; i < cmd.size(); ++i) {
    if (kMetachars.find(cmd[i]) == std::string_view::npos) continue;
    if (cmd[i] == '\n' && i + 1 == cmd.size()) return i;
    if (IsFinalStderrRedirect(cmd, i)) return i - 2;
    return std::nullopt;
  }
  return cmd.size();
}

// The body of HelpText(), after the usage line.
constexpr std::string_view kManual = R"TEXT(
Runs CMD under a named lock kept in ZooKeeper: on one host of the cluster at
a time, optionally only on the hosts of a group, and optionally only after
taking a share of some limited resources. It schedules nothing by itself;
start it from cron or another scheduler.

A run: when --group is given and this host is not in that group, exit 0
without running. When the lock is already held, exit 0. Otherwise queue for
every --lease (first come, first served), take the lock, and run CMD. While
CMD runs the lock and the group stay watched: if the lock node goes away,
the ZooKeeper session is lost or the host leaves the group, CMD receives
SIGTERM and, termination_timeout seconds later, SIGKILL.

Options:
  -c, --config PATH      the config file; without it /etc/switchman.conf,
                         when that is a regular file
  -g, --group NAME       run only when this host's FQDN is in group NAME
  --lease RES=COUNT:TOTAL
                         hold COUNT of the TOTAL units of resource RES while
                         CMD runs; repeat it for more resources (for the
                         same RES the last one counts)
  --lockname NAME        the lock's name; by default the last path
                         component of CMD's first word
  --lock                 take the exclusive lock (the default)
  --no-lock, --nolock    do not take it; groups and leases still apply
  -E, --exit-conflict N  exit with N instead of 0 when CMD did not run
                         because of the lock, the queue or the group (see
                         Exit status); also the config key
                         conflict_exit_code
  -h, --help             print this text and exit with status 1
  -v, --version          print the version and exit with status 1

Option names ignore case and may be shortened while they stay unambiguous
(--lockn); one "-" works as well as two. Options are recognised even after
CMD, so put "--" before CMD when its arguments could be taken for options
(words starting with "-" or "+").

CMD: two or more words are executed as given. A single word that contains
a shell metacharacter ($ & * ( ) { } [ ] ' " ; \ | ? < > ~ ` or an inner
newline) is run by /bin/sh -c; a single word without one is split at
whitespace. So  -- "sleep 10"  runs sleep, and its default lock name is
"sleep 10".

Config file (JSON object; unknown keys are ignored):
  zkhosts                 ZooKeeper servers, "zk1:2181,zk2:2181", optionally
                          with a chroot, "zk1:2181/chroot" (required)
  prefix                  the znode for switchman's data, such as
                          "/myproject/switchman" (required)
  data_read_len           how many bytes of the prefix znode to read
                          (default 65535); raise it for large prefix data
  logfile                 a file to append log lines to (default: none)
  loglevel                the least severe level written to logfile: debug,
                          info, warning or critical (default info)
  resources_wait_timeout  seconds allowed for taking all leases; 0 means no
                          limit (default 0)
  termination_timeout     seconds between SIGTERM and SIGKILL when CMD has
                          to be stopped (default 10)
The three numbers are whole and non-negative, as JSON numbers or strings.

Prefix data: the prefix znode holds a JSON object with the groups and the
resources, for example
  {"groups": {"web": ["web1.example.com", "web2.example.com"],
              "batch": "batch1.example.com",
              "all": ["web", "batch", "extra.example.com"]},
   "resources": ["rr", "FQDN_cpu", "FQDN_mem"]}
A group is one host name or a list. A list item that names another group
stands for that group's hosts (nesting and even loops are fine); any other
item is a host, compared exactly with this host's fully qualified name.
Editing a group takes effect on running commands too.

Leases: each RES must be listed in "resources", and leases are taken in
that list's order. COUNT and TOTAL are integers or expressions with
+ - * / % ( ) and int(), and may use these macros:
  CPU     the number of CPUs of this host
  FQDN    this host's fully qualified name
  MEMMB   this host's memory in megabytes
The macros work in RES and in the names under "resources" as well, so
FQDN_mem is a separate resource on every host. Every holder of a resource
must use the same TOTAL. Whoever waits for a lease leaves at once, with
status 0, if the lock appears meanwhile.

Exit status:
  0       CMD ran and succeeded; or it did not run because the lock was
          held, the lock name was already queued, the lock appeared while
          waiting, or this host is not in the group (--exit-conflict
          changes the status of these cases)
  N       CMD exited with status N
  128+N   CMD was killed by signal N
  1       after --help or --version
  64      bad options, config, prefix data or lease
  65      the holders of a resource disagree on its TOTAL
  69      ZooKeeper could not be reached
  70      the lock or the ZooKeeper session was lost while CMD ran
  75      resources_wait_timeout ran out before all leases were taken, or
          the session was lost while waiting
  126     CMD could not be executed; 127: CMD was not found

Environment:
  DEBUG            when true, debug messages go to stderr too
  POSIXLY_CORRECT  when set, options must come before CMD and may not be
                   shortened

Examples:
  switchman -- cmd
      cmd runs on at most one host at a time.
  switchman --lockname $(hostname)-rr --lease rr=1:1 -- restart-cmd
      A rolling restart: the hosts queue for the single unit of "rr", so
      they restart one by one; the lock name is per host.
  switchman --lease FQDN_cpu=1:CPU --lease FQDN_mem=4096:MEMMB -- cmd
      Before running, take one CPU and 4096 MB of this host's memory, and
      the lock.
  switchman -g group1 -- cmd
      cmd runs only on the hosts of group1; move it by editing the group.
  switchman --no-lock -g group1 -- cmd
      cmd runs on every host of group1 at the same time.

See also: flock(1).
)TEXT";

}  // namespace

Result<Options> ParseOptions(const std::vector<std::string>& args,
                             const ParseSettings& settings) {
  const bool posix = settings.posixly_correct;
  Scan scan;
  std::vector<std::string> words;  // plain words, permuted into CMD
  size_t rest = args.size();       // where the words after the options start
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      rest = i + 1;
      break;
    }
    const std::string_view starter = Starter(args[i], posix);
    if (starter.empty()) {
      if (posix) {  // REQUIRE_ORDER: the first plain word ends the options
        rest = i;
        break;
      }
      words.push_back(args[i]);
      continue;
    }
    i = TakeOption(args, i, starter, posix, scan);
    if (scan.info) {
      Options options;
      options.action = *scan.info;
      options.exit_code = kHelpExitCode;
      return options;
    }
  }

  if (!scan.errors.empty()) {
    return Error(Code::kInvalidArgument,
                 "Couldn't parse options, see " + settings.prog +
                     " -h for help: " + Join(scan.errors, "; "));
  }
  words.insert(words.end(), args.begin() + static_cast<std::ptrdiff_t>(rest),
               args.end());
  if (words.empty()) {
    return Error(Code::kInvalidArgument, "No command provided");
  }

  Options options;
  options.command = std::move(words);
  if (scan.config && PerlTrue(*scan.config)) options.config_path = *scan.config;
  if (scan.group && PerlTrue(*scan.group)) options.group = *scan.group;
  options.leases = std::move(scan.leases);
  options.lock = scan.lock;
  if (scan.exit_conflict) {
    std::optional<int> code = ParseExitCode(*scan.exit_conflict);
    if (!code) {
      return Error(Code::kInvalidArgument,
                   "Option --exit-conflict: bad exit status " +
                       Quote(*scan.exit_conflict) + " (0 to 255)");
    }
    options.conflict_exit_code = *code;
  }
  // $options{lockname} ||= basename($arguments->[0]);
  options.lockname_is_default = !scan.lockname || !PerlTrue(*scan.lockname);
  options.lockname = options.lockname_is_default
                         ? DefaultLockname(options.command)
                         : *scan.lockname;
  CONCH_RETURN_IF_ERROR(ValidateLockname(options.lockname));
  Result<ExecSpec> exec = ExecSpecFor(options.command);
  if (!exec.ok()) return exec.status();
  options.exec = std::move(exec).value();
  return options;
}

std::optional<int> ParseExitCode(std::string_view text) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > 255) return std::nullopt;
  return value;
}

std::string PerlBasename(std::string_view path) {
  // _strip_trailing_sep: s{(.)/*\z}{$1}s keeps at least one character.
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  // fileparse: m{^(.*/)?(.*)}s, with "./" for an empty directory part.
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    return path.empty() ? "./" : std::string(path);
  }
  if (slash + 1 == path.size()) return std::string(path.substr(0, slash + 1));
  return std::string(path.substr(slash + 1));
}

std::string DefaultLockname(const std::vector<std::string>& command) {
  if (command.empty()) return "";
  return PerlBasename(command[0]);
}

Status ValidateLockname(std::string_view lockname) {
  if (lockname.size() > kMaxLocknameBytes) {
    return Error(Code::kInvalidArgument,
                 "lockname is too long: " + Quote(lockname) + " (" +
                     std::to_string(lockname.size()) + " bytes, at most " +
                     std::to_string(kMaxLocknameBytes) + ")");
  }
  if (lockname.find('/') != std::string_view::npos) {
    return Error(Code::kInvalidArgument, "lockname must not contain '/'");
  }
  if (lockname == "." || lockname == "..") {
    return Error(Code::kInvalidArgument, R"(lockname must not be "." or "..")");
  }
  return Status::Ok();
}

Result<ExecSpec> ExecSpecFor(const std::vector<std::string>& command) {
  if (command.empty()) {
    return Error(Code::kInvalidArgument, "No command provided");
  }
  if (command.size() > 1) return ExecSpec{command, false};

  // Perl_do_exec3 works on a C string, without its leading whitespace.
  std::string_view cmd = command[0];
  cmd = cmd.substr(0, cmd.find('\0'));
  while (!cmd.empty() && IsPerlSpace(cmd.front())) cmd.remove_prefix(1);

  std::optional<size_t> end = SplitEnd(cmd);
  if (!end) return ExecSpec{{"/bin/sh", "-c", std::string(cmd)}, false};
  ExecSpec spec;
  // A cut before the end that is not a final newline is " 2>&1".
  spec.stderr_to_stdout = *end + 1 < cmd.size();
  size_t pos = 0;
  while (pos < *end) {
    while (pos < *end && IsPerlSpace(cmd[pos])) ++pos;
    const size_t start = pos;
    while (pos < *end && !IsPerlSpace(cmd[pos])) ++pos;
    if (pos > start) spec.argv.emplace_back(cmd.substr(start, pos - start));
  }
  if (spec.argv.empty()) {
    return Error(Code::kInvalidArgument,
                 "command is blank: " + Quote(command[0]));
  }
  return spec;
}

std::string HelpText(std::string_view prog) {
  return "Usage: " + std::string(prog) + " [OPTIONS] [--] CMD [ARGS...]\n" +
         std::string(kManual);
}

std::string VersionText(std::string_view conch_version) {
  return "switchman 1.16 (conch " + std::string(conch_version) +
         ")\n"
         "A drop-in replacement for App::Switchman 1.16, part of conch.\n";
}

}  // namespace conch::switchman
