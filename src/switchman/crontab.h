// Reading crontabs for `conch switchman check-groups` (switchman/inspect.h):
// a shell tokenizer as far as a POSIX shell goes before expansion, a
// crontab parser as cron reads the file, and the finder of the switchman
// calls in a job's command.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace conch::switchman {

// ---------------------------------------------------------------------------
// Shell words.

// One token of a shell command line (POSIX "Token Recognition", without
// expansion).
struct ShellToken {
  enum class Kind { kWord, kOperator };
  Kind kind = Kind::kWord;
  // A word with its quotes and backslashes removed; an operator as written
  // (";", "&&", "||", "|", "&", ";;", "(", ")", "<", ">", ">>", "<<", ">&",
  // "<&", "<>", ">|", or a newline), with the digits of an IO number in
  // front ("2>&").
  std::string text;
  size_t begin = 0;  // the token's bytes in the line: [begin, end)
  size_t end = 0;
  bool operator==(const ShellToken&) const = default;
};

// Splits a command line as a POSIX shell does before expansion: blanks
// (space, tab) separate words; single quotes keep everything; double
// quotes keep everything but a backslash before $ ` " \ or newline;
// an unquoted backslash keeps the next byte; the operators above end a
// word; a "#" at the start of a word starts a comment, which ends the
// tokens. "$", "`", "*" and "~" are kept literally. kInvalidArgument for
// an unterminated quote.
Result<std::vector<ShellToken>> TokenizeShell(std::string_view line);

// The words of `line` up to its first operator, as TokenizeShell splits
// them.
Result<std::vector<std::string>> SplitShellWords(std::string_view line);

// ---------------------------------------------------------------------------
// Crontabs.

// Whether a crontab has a user field between the schedule and the command.
//   kUser: never.
//   kSystem: always (/etc/crontab, /etc/cron.d/*, or --system).
//   kAuto: decided per job by FindSwitchmanCalls: the first word is taken
//          as a user only when it and the next word both look like the
//          switchman invocation ("switchman /usr/bin/switchman -g ...",
//          user "switchman"). Otherwise it does not matter: the invocation
//          is looked for in every word, so a user field that is not
//          "switchman" is simply passed over.
enum class CrontabKind { kUser, kSystem, kAuto };

// kSystem for /etc/crontab and files directly in /etc/cron.d, else kAuto.
CrontabKind CrontabKindForPath(std::string_view path);

// One job line of a crontab.
struct CronJob {
  int line = 0;          // 1-based
  std::string schedule;  // the five fields or the @keyword, as written
  std::string user;      // kSystem only
  // The command as cron gives it to /bin/sh: everything after the schedule
  // (and user), up to the first "%" not preceded by a backslash, with
  // "\%" turned into "%" (cron feeds what follows "%" to stdin).
  std::string command;
  // POSIXLY_CORRECT is set by a NAME=value line above the job, which
  // changes how switchman parses its options (options.h).
  bool posixly_correct = false;
};

// Parses a crontab as cron reads it. Lines are:
//   blank, or "#..." after optional blanks: skipped;
//   NAME=value (NAME a shell name, maybe quoted; blanks around "="
//     allowed): an environment assignment, skipped;
//   five time fields and a command: minute 0-59, hour 0-23, day 1-31,
//     month 1-12 or jan-dec, weekday 0-7 or sun-sat; each field a list of
//     "*", N or N-M, each optionally "/STEP";
//   "@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily",
//     "@midnight" or "@hourly" and a command.
// With kSystem the first word after the schedule is the user. A job line
// without a command, a bad field, an unknown @keyword or any other line is
// kInvalidArgument "line N: ..." (cron refuses such a file as a whole).
Result<std::vector<CronJob>> ParseCrontab(std::string_view text,
                                          CrontabKind kind);

// ---------------------------------------------------------------------------
// Switchman calls.

// One call of switchman inside a cron job's command.
struct SwitchmanCall {
  int line = 0;
  // As written: from the switchman word ("conch" when the call is
  // "conch switchman") to the end of its last argument.
  std::string text;
  std::vector<std::string> args;  // the words after the switchman word
  bool posixly_correct = false;
  bool unparsable = false;  // the command could not be split (a bad quote):
                            // `text` is the whole command, args are empty
};

// The switchman calls in `job`'s command: a word whose basename is
// "switchman" (any path; the original only knew /usr/local/bin/switchman),
// which also covers "conch switchman", starts a call; its arguments are
// the words after it up to the next operator (";", "&&", "|", ">", "&",
// "#"...), split by TokenizeShell. Scanning goes on after them, so a line
// may hold several calls. `kind` is only looked at for kAuto (see
// CrontabKind). A command that does not split is returned as one
// unparsable call if it contains "switchman", else ignored.
std::vector<SwitchmanCall> FindSwitchmanCalls(const CronJob& job,
                                              CrontabKind kind);

}  // namespace conch::switchman
