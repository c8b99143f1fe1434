#include "switchman/crontab.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <span>
#include <utility>

#include "base/strings.h"
#include "switchman/options.h"

namespace conch::switchman {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  return s;
}

// The next blank-separated field of `rest`, which is advanced past it.
std::string_view NextField(std::string_view& rest) {
  rest = TrimLeft(rest);
  size_t end = 0;
  while (end < rest.size() && !IsBlank(rest[end])) ++end;
  std::string_view field = rest.substr(0, end);
  rest.remove_prefix(end);
  return field;
}

}  // namespace

// ---------------------------------------------------------------------------
// Shell words.

namespace {

bool IsOperatorStart(char c) {
  return c == ';' || c == '&' || c == '|' || c == '<' || c == '>' || c == '(' ||
         c == ')' || c == '\n';
}

size_t OperatorLength(std::string_view line, size_t i) {
  static constexpr std::array<std::string_view, 9> kTwo{
      "&&", "||", ";;", ">>", "<<", ">&", "<&", "<>", ">|"};
  std::string_view two = line.substr(i, 2);
  return std::find(kTwo.begin(), kTwo.end(), two) != kTwo.end() ? 2 : 1;
}

// Reads a double-quoted part starting at the quote at `i` into `text`;
// returns the index after the closing quote.
Result<size_t> ReadDoubleQuoted(std::string_view line, size_t i,
                                std::string& text) {
  for (++i; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') return i + 1;
    if (c == '\\' && i + 1 < line.size() &&
        std::string_view("$`\"\\\n").find(line[i + 1]) !=
            std::string_view::npos) {
      if (line[i + 1] != '\n') text += line[i + 1];
      ++i;
      continue;
    }
    text += c;
  }
  return Error(Code::kInvalidArgument, "unterminated double quote");
}

// Reads one word starting at `i` into `text`; returns the index after it.
// `quoted` tells whether any part of it was quoted or escaped.
Result<size_t> ReadWord(std::string_view line, size_t i, std::string& text,
                        bool& quoted) {
  while (i < line.size() && !IsBlank(line[i]) && !IsOperatorStart(line[i])) {
    const char c = line[i];
    if (c == '\\') {
      quoted = true;
      if (i + 1 < line.size() && line[i + 1] != '\n') text += line[i + 1];
      i += 2;
    } else if (c == '\'') {
      quoted = true;
      const size_t close = line.find('\'', i + 1);
      if (close == std::string_view::npos) {
        return Error(Code::kInvalidArgument, "unterminated single quote");
      }
      text += line.substr(i + 1, close - i - 1);
      i = close + 1;
    } else if (c == '"') {
      quoted = true;
      Result<size_t> end = ReadDoubleQuoted(line, i, text);
      if (!end.ok()) return end;
      i = *end;
    } else {
      text += c;
      ++i;
    }
  }
  return std::min(i, line.size());
}

}  // namespace

Result<std::vector<ShellToken>> TokenizeShell(std::string_view line) {
  using Kind = ShellToken::Kind;
  std::vector<ShellToken> out;
  size_t i = 0;
  while (i < line.size()) {
    if (IsBlank(line[i])) {
      ++i;
      continue;
    }
    if (line[i] == '#') break;  // a comment, to the end of the line
    if (IsOperatorStart(line[i])) {
      const size_t n = OperatorLength(line, i);
      out.push_back(
          {Kind::kOperator, std::string(line.substr(i, n)), i, i + n});
      i += n;
      continue;
    }
    std::string text;
    bool quoted = false;
    Result<size_t> end = ReadWord(line, i, text, quoted);
    if (!end.ok()) return end.status();
    // An IO number: unquoted digits right before a redirection ("2>&1").
    if (!quoted && AllDigits(text) && *end < line.size() &&
        (line[*end] == '<' || line[*end] == '>')) {
      const size_t n = OperatorLength(line, *end);
      out.push_back({Kind::kOperator, std::string(line.substr(i, *end + n - i)),
                     i, *end + n});
      i = *end + n;
      continue;
    }
    out.push_back({Kind::kWord, std::move(text), i, *end});
    i = *end;
  }
  return out;
}

Result<std::vector<std::string>> SplitShellWords(std::string_view line) {
  Result<std::vector<ShellToken>> tokens = TokenizeShell(line);
  if (!tokens.ok()) return tokens.status();
  std::vector<std::string> words;
  for (const ShellToken& t : *tokens) {
    if (t.kind != ShellToken::Kind::kWord) break;
    words.push_back(t.text);
  }
  return words;
}

// ---------------------------------------------------------------------------
// Crontabs.

CrontabKind CrontabKindForPath(std::string_view path) {
  if (path == "/etc/crontab") return CrontabKind::kSystem;
  constexpr std::string_view kCronD = "/etc/cron.d/";
  if (path.starts_with(kCronD) &&
      path.substr(kCronD.size()).find('/') == std::string_view::npos) {
    return CrontabKind::kSystem;
  }
  return CrontabKind::kAuto;
}

namespace {

struct FieldSpec {
  const char* what;
  int min;
  int max;
  std::span<const std::string_view> names;  // allowed besides numbers
};

constexpr std::array<std::string_view, 12> kMonthNames{
    "jan", "feb", "mar", "apr", "may", "jun",
    "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kDayNames{"sun", "mon", "tue", "wed",
                                                    "thu", "fri", "sat"};

constexpr std::array<FieldSpec, 5> kFields{{
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day of month", 1, 31, {}},
    {"month", 1, 12, kMonthNames},
    {"day of week", 0, 7, kDayNames},
}};

bool IsNumberIn(std::string_view s, int min, int max) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return AllDigits(s) && ec == std::errc() && ptr == s.data() + s.size() &&
         v >= min && v <= max;
}

bool IsFieldValue(std::string_view s, const FieldSpec& spec) {
  if (IsNumberIn(s, spec.min, spec.max)) return true;
  std::string lower(s);
  for (char& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return std::find(spec.names.begin(), spec.names.end(), lower) !=
         spec.names.end();
}

// One item of a list: "*", N or N-M, optionally "/STEP".
bool IsFieldItem(std::string_view item, const FieldSpec& spec) {
  const size_t slash = item.find('/');
  std::string_view range = item.substr(0, slash);
  if (slash != std::string_view::npos &&
      !IsNumberIn(item.substr(slash + 1), 1, 1000)) {
    return false;
  }
  if (range == "*") return true;
  const size_t dash = range.find('-');
  if (dash == std::string_view::npos) return IsFieldValue(range, spec);
  return IsFieldValue(range.substr(0, dash), spec) &&
         IsFieldValue(range.substr(dash + 1), spec);
}

bool IsField(std::string_view field, const FieldSpec& spec) {
  size_t start = 0;
  for (;;) {
    const size_t comma = field.find(',', start);
    if (!IsFieldItem(field.substr(start, comma - start), spec)) return false;
    if (comma == std::string_view::npos) return true;
    start = comma + 1;
  }
}

// The name of a NAME=value line (NAME maybe quoted, blanks before "="), or
// nullopt if the line is not one.
std::optional<std::string> EnvName(std::string_view s) {
  const char quote = !s.empty() && (s[0] == '"' || s[0] == '\'') ? s[0] : '\0';
  if (quote != 0) s.remove_prefix(1);
  size_t n = 0;
  auto is_name_char = [](char c) {
    return c == '_' || std::isalnum(static_cast<unsigned char>(c)) != 0;
  };
  while (n < s.size() && is_name_char(s[n])) ++n;
  if (n == 0 || IsDigit(s[0])) return std::nullopt;
  std::string name(s.substr(0, n));
  s.remove_prefix(n);
  if (quote != 0) {
    if (s.empty() || s[0] != quote) return std::nullopt;
    s.remove_prefix(1);
  }
  s = TrimLeft(s);
  if (s.empty() || s[0] != '=') return std::nullopt;
  return name;
}

// The schedule at the start of `rest` (advanced past it), checked.
Result<std::string> ReadSchedule(std::string_view& rest) {
  static constexpr std::array<std::string_view, 8> kKeywords{
      "@reboot", "@yearly", "@annually", "@monthly",
      "@weekly", "@daily",  "@midnight", "@hourly"};
  if (TrimLeft(rest).starts_with("@")) {
    std::string_view keyword = NextField(rest);
    if (std::find(kKeywords.begin(), kKeywords.end(), keyword) ==
        kKeywords.end()) {
      return Error(Code::kInvalidArgument,
                   "unknown schedule " + Quote(keyword));
    }
    return std::string(keyword);
  }
  std::vector<std::string> fields;
  for (const FieldSpec& spec : kFields) {
    std::string_view field = NextField(rest);
    if (field.empty()) {
      return Error(Code::kInvalidArgument,
                   std::string("missing ") + spec.what + " field");
    }
    if (!IsField(field, spec)) {
      return Error(Code::kInvalidArgument,
                   std::string("bad ") + spec.what + " field " + Quote(field));
    }
    fields.emplace_back(field);
  }
  return Join(fields, " ");
}

// What cron runs: up to the first unescaped "%", with "\%" as "%".
std::string CronCommand(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '%') {
      out += '%';
      ++i;
    } else if (text[i] == '%') {
      break;
    } else {
      out += text[i];
    }
  }
  return out;
}

// One line: a job, nullopt for a line to skip, or an error. Notes
// POSIXLY_CORRECT assignments in `posixly_correct`.
Result<std::optional<CronJob>> ParseCronLine(std::string_view line,
                                             CrontabKind kind,
                                             bool& posixly_correct) {
  std::string_view s = TrimLeft(line);
  if (s.empty() || s[0] == '#') return std::optional<CronJob>();
  if (s[0] != '@' && s[0] != '*' && !IsDigit(s[0])) {
    std::optional<std::string> name = EnvName(s);
    if (!name) {
      return Error(Code::kInvalidArgument,
                   "not a job, comment or NAME=value: " + Quote(s));
    }
    // Getopt::Long asks only whether it is defined, so any value counts.
    if (*name == "POSIXLY_CORRECT") posixly_correct = true;
    return std::optional<CronJob>();
  }
  CronJob job;
  Result<std::string> schedule = ReadSchedule(s);
  if (!schedule.ok()) return schedule.status();
  job.schedule = *schedule;
  if (kind == CrontabKind::kSystem) {
    job.user = std::string(NextField(s));
    if (job.user.empty()) return Error(Code::kInvalidArgument, "no user");
  }
  job.command = CronCommand(TrimLeft(s));
  if (TrimLeft(job.command).empty()) {
    return Error(Code::kInvalidArgument, "no command");
  }
  job.posixly_correct = posixly_correct;
  return std::optional<CronJob>(std::move(job));
}

}  // namespace

Result<std::vector<CronJob>> ParseCrontab(std::string_view text,
                                          CrontabKind kind) {
  std::vector<CronJob> jobs;
  bool posixly_correct = false;
  int number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    start = end + 1;
    ++number;
    Result<std::optional<CronJob>> job =
        ParseCronLine(line, kind, posixly_correct);
    if (!job.ok()) return job.status().With("line " + std::to_string(number));
    if (*job) {
      (*job)->line = number;
      jobs.push_back(std::move(**job));
    }
  }
  return jobs;
}

namespace {

bool IsWordNamed(const ShellToken& t, std::string_view base) {
  return t.kind == ShellToken::Kind::kWord && PerlBasename(t.text) == base;
}

}  // namespace

std::vector<SwitchmanCall> FindSwitchmanCalls(const CronJob& job,
                                              CrontabKind kind) {
  Result<std::vector<ShellToken>> tokens = TokenizeShell(job.command);
  if (!tokens.ok()) {
    if (job.command.find("switchman") == std::string::npos) return {};
    return {{job.line, job.command, {}, job.posixly_correct, true}};
  }
  const std::vector<ShellToken>& t = *tokens;
  size_t first = 0;
  // A user field named "switchman" in front of the real invocation.
  if (kind == CrontabKind::kAuto && t.size() >= 2 &&
      IsWordNamed(t[0], "switchman") &&
      (IsWordNamed(t[1], "switchman") || IsWordNamed(t[1], "conch"))) {
    first = 1;
  }
  std::vector<SwitchmanCall> calls;
  for (size_t i = first; i < t.size(); ++i) {
    if (!IsWordNamed(t[i], "switchman")) continue;
    const size_t start = i > first && IsWordNamed(t[i - 1], "conch")
                             ? t[i - 1].begin
                             : t[i].begin;
    SwitchmanCall call;
    call.line = job.line;
    call.posixly_correct = job.posixly_correct;
    size_t j = i + 1;
    while (j < t.size() && t[j].kind == ShellToken::Kind::kWord) {
      call.args.push_back(t[j++].text);
    }
    call.text = job.command.substr(start, t[j - 1].end - start);
    calls.push_back(std::move(call));
    i = j;  // the operator after the arguments, or the end
  }
  return calls;
}

}  // namespace conch::switchman
