// libFuzzer target for check-groups' crontab reader (switchman/crontab.h).
// The input is a crontab. It is parsed as each CrontabKind, every job's
// switchman calls are found, and the shell tokenizer runs on every line, on
// every command and on the whole input. Beyond "no crash, no sanitizer
// report", it checks the contracts:
//   - Every error is kInvalidArgument with a non-empty one-line message
//     without control bytes; ParseCrontab's starts with "line N: " for a
//     line N of the input.
//   - Jobs come in line order, with a schedule, a command that starts with
//     no blank, and (kSystem) a user without blanks; kUser and kAuto read
//     the same jobs; a crontab that parses as kSystem, with no "%" in a
//     user, parses as kAuto, with the same lines and schedules.
//   - Tokens lie within the input, in order, with only blanks between them
//     and only blanks or a comment after the last; each token's bytes,
//     tokenized alone, give that token again; an operator is written as
//     its text; SplitShellWords gives the words before the first operator.
//   - A switchman call comes from its job, its text is part of the
//     command, and that text splits into the switchman word (after
//     "conch"), then the call's arguments.
//   - Arguments round-trip: quoted for the shell after "switchman", as a
//     command and as a crontab line, they are found again as one call with
//     the same arguments. This holds for every call's arguments, and for
//     each input line taken whole or split at blanks as arguments (which
//     reach bytes a crontab cannot pass, such as "%").
// A broken contract aborts through CONCH_CHECK, which libFuzzer reports as a
// crash and saves the input.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "base/fuzz/fuzz_util.h"
#include "base/status.h"
#include "switchman/crontab.h"
#include "switchman/options.h"

namespace conch {
namespace {

using switchman::CronJob;
using switchman::CrontabKind;
using switchman::ShellToken;
using switchman::SwitchmanCall;

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool IsOperator(std::string_view text) {
  static constexpr std::array<std::string_view, 17> kOperators{
      ";", "&&", "||", "|",  "&",  ";;", "(",  ")", "<",
      ">", ">>", "<<", ">&", "<&", "<>", ">|", "\n"};
  // The digits of an IO number go only before a redirection.
  const size_t digits = text.find_first_not_of("0123456789");
  if (digits == std::string_view::npos) return false;
  if (digits > 0 && text[digits] != '<' && text[digits] != '>') return false;
  return std::ranges::find(kOperators, text.substr(digits)) != kOperators.end();
}

// One token, tokenized alone, is that token again.
void CheckTokenAlone(const ShellToken& token, std::string_view raw) {
  Result<std::vector<ShellToken>> alone = switchman::TokenizeShell(raw);
  CONCH_CHECK(alone.ok());
  CONCH_CHECK(alone->size() == 1);
  const ShellToken& again = alone->front();
  CONCH_CHECK(again.kind == token.kind && again.text == token.text);
  CONCH_CHECK(again.begin == 0 && again.end == raw.size());
}

// One token at `line`[token.begin, token.end), after the end of the one
// before it at `at`.
void CheckToken(std::string_view line, size_t at, const ShellToken& token) {
  CONCH_CHECK(at <= token.begin && token.begin < token.end &&
              token.end <= line.size());
  const std::string_view gap = line.substr(at, token.begin - at);
  CONCH_CHECK(std::ranges::all_of(gap, IsBlank));
  const std::string_view bytes =
      line.substr(token.begin, token.end - token.begin);
  CONCH_CHECK(bytes.front() != '#');
  if (token.kind == ShellToken::Kind::kOperator) {
    CONCH_CHECK(token.text == bytes && IsOperator(token.text));
  } else {
    CONCH_CHECK(token.text.size() <= bytes.size());
    const bool unquoted =
        bytes.find_first_of("'\"\\") == std::string_view::npos;
    CONCH_CHECK(!unquoted || token.text == bytes);
  }
  CheckTokenAlone(token, bytes);
}

void CheckTokens(std::string_view line) {
  Result<std::vector<ShellToken>> tokens = switchman::TokenizeShell(line);
  Result<std::vector<std::string>> words = switchman::SplitShellWords(line);
  CONCH_CHECK(tokens.ok() == words.ok());
  if (!tokens.ok()) {
    fuzz::CheckUserError(tokens.status());
    CONCH_CHECK(line.find_first_of("'\"") != std::string_view::npos);
    return;
  }
  size_t at = 0;  // the end of the previous token
  std::vector<std::string> leading_words;
  bool before_operator = true;
  for (const ShellToken& token : *tokens) {
    CheckToken(line, at, token);
    before_operator = before_operator && token.kind == ShellToken::Kind::kWord;
    if (before_operator) leading_words.push_back(token.text);
    at = token.end;
  }
  // After the last token: blanks, then maybe a comment.
  const std::string_view rest = line.substr(at);
  const size_t text = rest.find_first_not_of(" \t");
  CONCH_CHECK(text == std::string_view::npos || rest[text] == '#');
  CONCH_CHECK(*words == leading_words);
}

// `word` in single quotes, for /bin/sh.
std::string ShellQuote(std::string_view word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Arguments quoted after "switchman" in a command and in a crontab line
// are found again as they are.
void CheckRoundTrip(const std::vector<std::string>& args) {
  std::string command = "switchman";
  for (const std::string& arg : args) command += " " + ShellQuote(arg);
  CronJob job;
  job.line = 1;
  job.command = command;
  const std::vector<SwitchmanCall> again =
      switchman::FindSwitchmanCalls(job, CrontabKind::kUser);
  CONCH_CHECK(again.size() == 1 && !again[0].unparsable);
  CONCH_CHECK(again[0].args == args && again[0].text == command);

  // A crontab line holds no newline, and cron reads "%" as the end of the
  // command unless it is written "\%".
  if (command.find('\n') != std::string::npos) return;
  std::string line = "@daily ";
  for (char c : command) {
    if (c == '%') line += '\\';
    line += c;
  }
  Result<std::vector<CronJob>> jobs =
      switchman::ParseCrontab(line, CrontabKind::kUser);
  CONCH_CHECK(jobs.ok() && jobs->size() == 1);
  CONCH_CHECK(jobs->front().command == command);
  const std::vector<SwitchmanCall> from_crontab =
      switchman::FindSwitchmanCalls(jobs->front(), CrontabKind::kUser);
  CONCH_CHECK(from_crontab.size() == 1 && from_crontab[0].args == args);
}

void CheckCall(const CronJob& job, const SwitchmanCall& call) {
  CONCH_CHECK(call.line == job.line);
  CONCH_CHECK(call.posixly_correct == job.posixly_correct);
  if (call.unparsable) {
    CONCH_CHECK(call.text == job.command && call.args.empty());
    CONCH_CHECK(!switchman::TokenizeShell(job.command).ok());
    CONCH_CHECK(job.command.find("switchman") != std::string::npos);
    return;
  }
  CONCH_CHECK(job.command.find(call.text) != std::string::npos);
  // The text is "[conch] switchman ARGS...", nothing before or after.
  Result<std::vector<std::string>> words =
      switchman::SplitShellWords(call.text);
  CONCH_CHECK(words.ok() && words->size() > call.args.size());
  const size_t lead = words->size() - call.args.size();
  CONCH_CHECK(lead == 1 || lead == 2);
  CONCH_CHECK(switchman::PerlBasename((*words)[lead - 1]) == "switchman");
  if (lead == 2) CONCH_CHECK(switchman::PerlBasename((*words)[0]) == "conch");
  CONCH_CHECK(std::equal(call.args.begin(), call.args.end(),
                         words->begin() + static_cast<ptrdiff_t>(lead)));
  CONCH_CHECK(!IsBlank(call.text.front()) && !IsBlank(call.text.back()));
  CheckRoundTrip(call.args);
}

void CheckCalls(const CronJob& job, CrontabKind kind) {
  const std::vector<SwitchmanCall> calls =
      switchman::FindSwitchmanCalls(job, kind);
  // At most one call per word named switchman.
  Result<std::vector<ShellToken>> tokens =
      switchman::TokenizeShell(job.command);
  if (tokens.ok()) {
    const auto named = std::ranges::count_if(*tokens, [](const ShellToken& t) {
      return t.kind == ShellToken::Kind::kWord &&
             switchman::PerlBasename(t.text) == "switchman";
    });
    CONCH_CHECK(std::ssize(calls) <= named);
  } else {
    CONCH_CHECK(calls.size() <= 1);
  }
  for (const SwitchmanCall& call : calls) CheckCall(job, call);
}

// A refusal names a line of the text: "line N: ...".
void CheckParseError(const Status& status, int line_count) {
  fuzz::CheckUserError(status);
  const std::string_view message = status.message();
  CONCH_CHECK(message.starts_with("line "));
  const size_t colon = message.find(": ");
  CONCH_CHECK(colon != std::string_view::npos);
  const std::string_view number = message.substr(5, colon - 5);
  int line = 0;
  auto [ptr, ec] =
      std::from_chars(number.data(), number.data() + number.size(), line);
  CONCH_CHECK(ec == std::errc() && ptr == number.data() + number.size());
  CONCH_CHECK(line >= 1 && line <= line_count);
}

void CheckJob(const CronJob& job, CrontabKind kind) {
  CONCH_CHECK(!job.schedule.empty());
  CONCH_CHECK(job.schedule.front() == '@' ||
              std::ranges::count(job.schedule, ' ') == 4);
  CONCH_CHECK(!job.command.empty() && !IsBlank(job.command.front()));
  CONCH_CHECK(job.command.find('\n') == std::string::npos);
  CONCH_CHECK(job.user.empty() == (kind != CrontabKind::kSystem));
  CONCH_CHECK(std::ranges::none_of(job.user, IsBlank));
  CheckTokens(job.command);
}

// Returns the jobs, or nothing when the crontab is refused.
std::vector<CronJob> CheckParse(std::string_view text, CrontabKind kind,
                                int line_count, bool& ok) {
  Result<std::vector<CronJob>> jobs = switchman::ParseCrontab(text, kind);
  ok = jobs.ok();
  if (!jobs.ok()) {
    CheckParseError(jobs.status(), line_count);
    return {};
  }
  int previous = 0;
  bool posixly_correct = false;
  for (const CronJob& job : *jobs) {
    CONCH_CHECK(job.line > previous && job.line <= line_count);
    previous = job.line;
    // Once set, POSIXLY_CORRECT stays set for the jobs below.
    CONCH_CHECK(job.posixly_correct || !posixly_correct);
    posixly_correct = job.posixly_correct;
    CheckJob(job, kind);
  }
  return *jobs;
}

bool SameJob(const CronJob& a, const CronJob& b) {
  return a.line == b.line && a.schedule == b.schedule && a.user == b.user &&
         a.command == b.command && a.posixly_correct == b.posixly_correct;
}

// "a\nb" -> {"a", "b"}; "" -> {""}.
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (;;) {
    const size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return lines;
    start = end + 1;
  }
}

// The blank-separated fields of `line`.
std::vector<std::string> Fields(std::string_view line) {
  std::vector<std::string> fields;
  while (!line.empty()) {
    const size_t blank = line.find_first_of(" \t");
    if (blank != 0) fields.emplace_back(line.substr(0, blank));
    if (blank == std::string_view::npos) break;
    line.remove_prefix(blank + 1);
  }
  return fields;
}

void CheckInput(std::string_view text) {
  const int line_count = static_cast<int>(Lines(text).size());
  bool user_ok = false;
  bool auto_ok = false;
  bool system_ok = false;
  const std::vector<CronJob> user =
      CheckParse(text, CrontabKind::kUser, line_count, user_ok);
  const std::vector<CronJob> automatic =
      CheckParse(text, CrontabKind::kAuto, line_count, auto_ok);
  const std::vector<CronJob> system =
      CheckParse(text, CrontabKind::kSystem, line_count, system_ok);

  // The kind matters to ParseCrontab only for the user field.
  CONCH_CHECK(user_ok == auto_ok);
  CONCH_CHECK(std::ranges::equal(user, automatic, SameJob));
  // Read without a user field, a user is part of the command, which a "%"
  // in it cuts short, maybe to nothing ("no command").
  const bool plain_users = std::ranges::none_of(system, [](const CronJob& job) {
    return job.user.find('%') != std::string::npos;
  });
  if (system_ok && plain_users) {
    CONCH_CHECK(auto_ok && system.size() == automatic.size());
    for (size_t i = 0; i < system.size(); ++i) {
      CONCH_CHECK(system[i].line == automatic[i].line);
      CONCH_CHECK(system[i].schedule == automatic[i].schedule);
    }
  }

  for (const CronJob& job : automatic) {
    CheckCalls(job, CrontabKind::kAuto);
    CheckCalls(job, CrontabKind::kUser);
  }
  for (const CronJob& job : system) CheckCalls(job, CrontabKind::kSystem);

  // The tokenizer on its own: each line, and the whole text with its
  // newlines as operators. The round trip on arguments the crontab could
  // not give: each line whole (with "%" and anything else), and its
  // blank-separated fields.
  CheckTokens(text);
  for (std::string_view line : Lines(text)) {
    CheckTokens(line);
    CheckRoundTrip({std::string(line)});
    CheckRoundTrip(Fields(line));
  }

  // The first line as a crontab's path: never kUser.
  const std::string_view path = text.substr(0, text.find('\n'));
  CONCH_CHECK(switchman::CrontabKindForPath(path) != CrontabKind::kUser);
}

}  // namespace
}  // namespace conch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  conch::CheckInput(conch::fuzz::AsText(data, size));
  return 0;
}
