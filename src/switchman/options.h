// The command line of switchman, parsed exactly as the original Perl tool
// (App::Switchman 1.16) parses it, so that crontab lines written for it
// keep their meaning:
//
//   switchman [OPTIONS] [--] CMD [ARGS]
//
// The original hands @ARGV to Getopt::Long's GetOptionsFromArray with the
// module's default configuration and the specs
//   c|config=s  g|group=s  h|help  lease=s (a hash)  lockname=s  v|version
//   lock!
// and one of ours, e|exit-conflict=s, whose names extend no abbreviation
// of the original's.
// Getopt::Long's defaults (its source, Getopt/Long.pm 2.52, ConfigDefaults
// and FindOption; see also its manual, "Configuring Getopt::Long") give
// these rules, all mirrored here:
//   - "--", "-" and "+" all start an option, so "-config x", "--config x"
//     and "+config x" are the same (getopt_compat); a lone "-" is a plain
//     word and a lone "+" is an error ("Missing option after +").
//   - Names are case-insensitive, single letters too (-C is -c).
//   - A unique prefix of a name is enough (--lockn, -conf, --n for
//     --nolock); a prefix of several names is an error (--l matches lease,
//     lock and lockname; --lo matches lock and lockname). An exact name
//     always wins (--lock, -c).
//   - "--opt=value" and "--opt value"; with any starter, the value is split
//     off at the first "=" after the first character of the name.
//     "--config=" is an error (an empty value needs "--config ''").
//   - A value is the next word whatever it looks like: "-c -h" reads the
//     config "-h", "--lockname --" the lock name "--".
//   - --lease takes RES=VALUE, split at the first "=" (RES may be empty,
//     VALUE may hold more "="); a word without "=" is an error.
//   - --lock, --help and --version take no value ("--lock=1" is an error);
//     --nolock and --no-lock turn the lock off.
//   - Permute: words that are not options are collected for CMD and
//     parsing goes on, so "switchman cmd -g web" still reads -g; "--" ends
//     the options, and CMD is the collected words followed by everything
//     after "--".
//   - Errors do not stop the scan: each is noted, and the run fails at the
//     end. -h and -v act when they are reached, so "--bogus -h" shows the
//     help, while the words after -h are never looked at.
//   - When POSIXLY_CORRECT is set in the environment, Getopt::Long instead
//     takes no abbreviations, no "+" starter and no "=" after a single
//     "-", and stops at the first word that is not an option (that word and
//     everything after it, "--" included, are CMD).
// Where Getopt::Long warns (for example "Unknown option: foo") and the
// original then dies with "Couldn't parse options, see <prog> -h for help",
// this module gives one line that holds both.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace conch::switchman {

// The exit status of the original after -h or -v, which crontab wrappers
// may test for.
inline constexpr int kHelpExitCode = 1;

// The longest lock name the original accepts, in bytes.
inline constexpr size_t kMaxLocknameBytes = 512;

enum class Action {
  kRun,      // run CMD
  kHelp,     // -h/--help: print HelpText() to stdout, exit kHelpExitCode
  kVersion,  // -v/--version: print VersionText() to stdout, exit likewise
};

// One --lease RES=VALUE, not yet expanded or evaluated (see lease.h).
struct LeaseOption {
  std::string resource;  // before the first "="; may be empty
  std::string value;     // after it; may be empty or hold more "="
  // "RES=VALUE", the form ParseLease() in lease.h takes.
  std::string Arg() const { return resource + "=" + value; }
  bool operator==(const LeaseOption&) const = default;
};

// How CMD is executed, following Perl's exec LIST (see ExecSpecFor).
struct ExecSpec {
  // For execvp(argv[0], argv). In the shell case this is {"/bin/sh", "-c",
  // CMD}; Perl passes "sh" as argv[0], which only the shell's $0 shows.
  std::vector<std::string> argv;
  // Perl's "CMD 2>&1" shortcut: it dup2()s stdout onto stderr itself and
  // execs the words before " 2>&1" without a shell. A spawner that cannot
  // do that may run {"/bin/sh", "-c", CMD} instead, which differs only
  // where sh splits words differently from Perl (\v, \f, \r, "#").
  bool stderr_to_stdout = false;
  bool operator==(const ExecSpec&) const = default;
};

// The parsed command line. After kHelp or kVersion only `action` and
// `exit_code` mean anything.
struct Options {
  Action action = Action::kRun;
  int exit_code = 0;  // kHelpExitCode after -h and -v, else 0

  // -c. Empty when not given; "" and "0" also count as not given, as in
  // the original (Perl false), so that the default path applies
  // (ChooseConfigPath in config.h).
  std::string config_path;
  // -g. Empty when not given; "" and "0" also mean no group, as in the
  // original.
  std::string group;
  // Every --lease in the order each RES first appeared, with the last
  // VALUE given for that RES (the original keeps them in a Perl hash).
  std::vector<LeaseOption> leases;
  // The lock name in effect: --lockname, or when that is absent, "" or
  // "0", DefaultLockname(command). Checked with ValidateLockname.
  std::string lockname;
  bool lockname_is_default = true;
  bool lock = true;  // --lock (default) / --nolock / --no-lock
  // -E/--exit-conflict N (ours): the exit status when CMD did not run
  // because of the lock, the queue or the group; nullopt when not given.
  std::optional<int> conflict_exit_code;

  std::vector<std::string> command;  // CMD and ARGS, never empty for kRun
  ExecSpec exec;                     // ExecSpecFor(command)
};

struct ParseSettings {
  // The program name for messages, as the original's $0 ("see <prog> -h").
  std::string prog = "switchman";
  // Whether POSIXLY_CORRECT is set in the environment (see above).
  bool posixly_correct = false;
};

// Parses the arguments after argv[0]. Returns kHelp or kVersion as soon as
// -h or -v is reached, even after bad options. Otherwise every error is
// kInvalidArgument with one line, for exit 64:
//   - "Couldn't parse options, see <prog> -h for help: " followed by each
//     problem, "; "-separated: Unknown option: "--x"; Option "--l" is
//     ambiguous (lease, lock, lockname); Option "--config" requires an
//     argument; Option "--lease", key "rr", requires a value; Option
//     "--lock" does not take an argument; Missing option after "+";
//   - "No command provided" when no CMD is left;
//   - a bad lock name (ValidateLockname) or a blank command (ExecSpecFor).
// The original checks the lock name only after reading its config; the
// caller sees it first here.
Result<Options> ParseOptions(const std::vector<std::string>& args,
                             const ParseSettings& settings = {});

// An exit status for --exit-conflict or conflict_exit_code: decimal digits
// only, 0 to 255; nullopt otherwise.
std::optional<int> ParseExitCode(std::string_view text);

// File::Basename::basename() on Unix: trailing slashes are dropped (but
// "/" stays "/"), then everything up to the last "/" goes; an empty result
// becomes what was cut off, so basename("") is "./" and basename("/") is
// "/". "sleep 10" -> "sleep 10", "echo x > /tmp/f" -> "f", "a/b//" -> "b".
std::string PerlBasename(std::string_view path);

// The original's default lock name: PerlBasename(command[0]), or "" for an
// empty command.
std::string DefaultLockname(const std::vector<std::string>& command);

// The original's rules, in its order: more than kMaxLocknameBytes bytes ->
// "lockname is too long: <name>"; containing "/" -> "lockname must not
// contain '/'". Added here: "." and ".." (ZooKeeper refuses them as node
// names, so the original failed later at the store). kInvalidArgument.
Status ValidateLockname(std::string_view lockname);

// How Perl's exec(@command) runs CMD (pp_exec and Perl_do_exec3 in doio.c):
//   - Two or more words: execvp(words[0], words), no shell, no splitting.
//   - One word: C string semantics (it ends at a NUL byte); leading
//     whitespace (space, \t, \n, \r, \v, \f) is skipped, then the word goes
//     to {"/bin/sh", "-c", rest} if it
//       * starts with ". " or "exec " (any whitespace after the name),
//       * starts with [A-Za-z0-9_]* followed by "=" (VAR=val),
//       * or contains any of  $ & * ( ) { } [ ] ' " ; \ | ? < > ~ `
//         or a newline that is not its last character,
//     except that a trailing " 2>&1" (whitespace before it, only whitespace
//     after it) with no metacharacter before it sets stderr_to_stdout and
//     is cut off. Otherwise a final newline is dropped and the word is
//     split on whitespace into argv.
// Perl also retries a split word through the shell when execvp fails with
// ENOEXEC; glibc's execvp already runs such a file with /bin/sh.
// kInvalidArgument for no words ("No command provided") or one word with
// nothing but whitespace, which Perl cannot exec at all.
Result<ExecSpec> ExecSpecFor(const std::vector<std::string>& command);

// Our manual for switchman, printed by -h, in the original's spirit:
// usage, options, config keys, prefix data, groups, leases, exit statuses
// and examples. Ends with a newline.
std::string HelpText(std::string_view prog);

// What -v prints: "switchman 1.16 (conch <conch_version>)" and a line on
// what this is. The first word pair matches the original's first line.
std::string VersionText(std::string_view conch_version);

}  // namespace conch::switchman
