#include "switchman/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <set>
#include <unordered_set>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "base/unique_fd.h"
#include "switchman/options.h"

namespace conch::switchman {

namespace {

using Json = nlohmann::json;

constexpr size_t kMaxConfigBytes = size_t{1} << 20;

// Escapes control bytes (and, with `ascii_only`, every byte >= 0x80) as
// \xHH, for text that goes into a one-line message unquoted.
std::string Escape(std::string_view text, bool ascii_only = false) {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F || (ascii_only && byte >= 0x80)) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    } else {
      out += c;
    }
  }
  return out;
}

// Records the message of the first syntax error; accepts everything else.
// nlohmann's DOM parser only reports failure without exceptions, so a SAX
// pass with this handler finds the message first.
class ErrorCatcher final : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return true; }
  bool boolean(bool /*value*/) override { return true; }
  bool number_integer(number_integer_t /*value*/) override { return true; }
  bool number_unsigned(number_unsigned_t /*value*/) override { return true; }
  bool number_float(number_float_t /*value*/,
                    const string_t& /*text*/) override {
    return true;
  }
  bool string(string_t& /*value*/) override { return true; }
  bool binary(binary_t& /*value*/) override { return true; }
  bool start_object(std::size_t /*size*/) override { return true; }
  bool key(string_t& /*value*/) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t /*size*/) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t /*position*/, const std::string& /*token*/,
                   const nlohmann::json::exception& ex) override {
    message = ex.what();
    return false;
  }

  std::string message;
};

// Strict JSON (no comments), without exceptions. The error is the parser's
// message without its "[json.exception...] " tag, on one ASCII line.
Result<Json> ParseJson(std::string_view text) {
  ErrorCatcher catcher;
  if (!Json::sax_parse(text.begin(), text.end(), &catcher)) {
    std::string message = catcher.message;
    if (message.starts_with("[json.exception.")) {
      if (size_t end = message.find("] "); end != std::string::npos) {
        message.erase(0, end + 2);
      }
    }
    return Error(Code::kInvalidArgument, Escape(message, true));
  }
  Json value = Json::parse(text.begin(), text.end(), nullptr,
                           /*allow_exceptions=*/false);
  CONCH_CHECK(!value.is_discarded());  // the SAX pass accepted it
  return value;
}

// Perl's truth of a decoded JSON value.
bool PerlTrue(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      return false;
    case Json::value_t::boolean:
      return value.get<bool>();
    case Json::value_t::number_integer:
      return value.get<int64_t>() != 0;
    case Json::value_t::number_unsigned:
      return value.get<uint64_t>() != 0;
    case Json::value_t::number_float:
      return value.get<double>() != 0.0;
    case Json::value_t::string: {
      const auto& text = value.get_ref<const std::string&>();
      return !text.empty() && text != "0";
    }
    case Json::value_t::array:
    case Json::value_t::object:
    case Json::value_t::binary:
      return true;
  }
  return true;
}

// How Perl prints a number decoded from JSON: whole values as integers
// (JSON::PP turns 1e3 into the integer 1000), others as "%.15g"; zero,
// negative zero included, as "0".
std::string PerlNumber(double value) {
  if (value == 0.0) return "0";
  if (std::trunc(value) == value && std::fabs(value) < 9.2e18) {
    return std::to_string(static_cast<int64_t>(value));
  }
  std::array<char, 40> buf{};
  const int n = std::snprintf(buf.data(), buf.size(), "%.15g", value);
  return {buf.data(), static_cast<size_t>(std::clamp(n, 0, 39))};
}

// A scalar as Perl stringifies it; nullopt for null, arrays and objects.
std::optional<std::string> PerlString(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return value.get<std::string>();
    case Json::value_t::boolean:
      return value.get<bool>() ? "1" : "0";
    case Json::value_t::number_integer:
      return std::to_string(value.get<int64_t>());
    case Json::value_t::number_unsigned:
      return std::to_string(value.get<uint64_t>());
    case Json::value_t::number_float:
      return PerlNumber(value.get<double>());
    default:
      return std::nullopt;
  }
}

// A JSON value for a message: strings quoted, containers elided (dumping
// them could recurse as deep as the input nests).
std::string Literal(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return Quote(value.get_ref<const std::string&>());
    case Json::value_t::array:
      return "[...]";
    case Json::value_t::object:
      return "{...}";
    default:
      return value.dump();
  }
}

// The config file's "in <path>" suffix.
std::string In(std::string_view path) { return " in " + Escape(path); }

const Json* Find(const Json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

// The original's m{^[0-9]+$} (or ^\d+$, taken as ASCII here) on the Perl
// string of the value, plus our upper bound.
Result<int64_t> ConfigNumber(const Json& object, std::string_view key,
                             int64_t fallback, std::string_view path) {
  const Json* value = Find(object, key);
  if (value == nullptr) return fallback;
  auto bad = [&](std::string_view why) {
    return Error(Code::kInvalidArgument, "bad " + std::string(key) + ": " +
                                             Literal(*value) +
                                             std::string(why) + In(path));
  };
  std::optional<std::string> text = PerlString(*value);
  if (!text) return bad("");
  std::string_view digits = *text;
  if (digits.ends_with('\n')) digits.remove_suffix(1);  // Perl's "$"
  if (digits.empty()) return bad("");
  int64_t number = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return bad("");
    number = number * 10 + (c - '0');
    if (number > kMaxConfigNumber) {
      return bad(" (at most " + std::to_string(kMaxConfigNumber) + ")");
    }
  }
  return number;
}

// A key that must hold a string (or a scalar Perl would stringify) when
// true. nullopt when absent or false.
Result<std::optional<std::string>> ConfigString(const Json& object,
                                                std::string_view key,
                                                std::string_view path) {
  const Json* value = Find(object, key);
  if (value == nullptr || !PerlTrue(*value)) {
    return std::optional<std::string>();
  }
  std::optional<std::string> text = PerlString(*value);
  if (!text) {
    return Error(Code::kInvalidArgument,
                 std::string(key) + " must be a string" + In(path));
  }
  return text;
}

// ^(?:/[^/]+)+$
bool GoodPrefix(std::string_view prefix) {
  return prefix.size() >= 2 && prefix.front() == '/' && prefix.back() != '/' &&
         prefix.find("//") == std::string_view::npos;
}

Result<FileLogLevel> ParseLogLevel(const std::string& name,
                                   std::string_view path) {
  if (name == "debug") return FileLogLevel::kDebug;
  if (name == "info") return FileLogLevel::kInfo;
  if (name == "warning") return FileLogLevel::kWarning;
  if (name == "critical") return FileLogLevel::kCritical;
  return Error(Code::kInvalidArgument,
               "bad loglevel: " + Quote(name) +
                   " (expected debug, info, warning or critical)" + In(path));
}

// UTF-8 length of the Perl whitespace character at text[i], or 0.
size_t PerlSpaceAt(std::string_view text, size_t i) {
  auto byte = [&](size_t k) {
    return k < text.size() ? static_cast<unsigned char>(text[k]) : 0;
  };
  const unsigned char c = byte(i);
  if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;
  if (c == 0xC2 && (byte(i + 1) == 0x85 || byte(i + 1) == 0xA0)) return 2;
  if (c == 0xE1 && byte(i + 1) == 0x9A && byte(i + 2) == 0x80) return 3;
  if (c == 0xE3 && byte(i + 1) == 0x80 && byte(i + 2) == 0x80) return 3;
  if (c == 0xE2 && byte(i + 1) == 0x80) {
    const unsigned char d = byte(i + 2);
    if ((d >= 0x80 && d <= 0x8A) || d == 0xA8 || d == 0xA9 || d == 0xAF) {
      return 3;
    }
  }
  if (c == 0xE2 && byte(i + 1) == 0x81 && byte(i + 2) == 0x9F) return 3;
  return 0;
}

// Strips Perl whitespace from both ends of one line (without its "\n").
std::string_view TrimLine(std::string_view line) {
  size_t start = 0;
  while (size_t n = PerlSpaceAt(line, start)) start += n;
  // The end: scan forward, remembering where the last non-space ended, so
  // that multi-byte spaces are recognised from their lead byte.
  size_t end = start;
  size_t i = start;
  while (i < line.size()) {
    if (size_t n = PerlSpaceAt(line, i)) {
      i += n;
    } else {
      ++i;
      end = i;
    }
  }
  return line.substr(start, end - start);
}

// The original's checks of decoded prefix data, in its order.
Status CheckPrefixJson(const Json& json) {
  if (!PerlTrue(json)) {
    // Its decoder returns undef or a false scalar without an error.
    return Error(Code::kInvalidArgument,
                 "Could not decode data: " + Literal(json) + " is false");
  }
  if (!json.is_object()) {
    return Error(Code::kInvalidArgument, "Bad prefix data: hashref expected");
  }
  const Json* resources = Find(json, "resources");
  if (resources != nullptr && PerlTrue(*resources) && !resources->is_array()) {
    return Error(Code::kInvalidArgument,
                 "Bad prefix data: resources should be an array");
  }
  const Json* groups = Find(json, "groups");
  if (groups != nullptr && PerlTrue(*groups) && !groups->is_object()) {
    return Error(Code::kInvalidArgument,
                 "Bad prefix data: groups should be a hash");
  }
  return Status::Ok();
}

// The items of a list, or of a scalar taken as a one-item list, as Perl
// strings; null, arrays and objects are dropped.
std::vector<std::string> Items(const Json& value) {
  std::vector<std::string> items;
  if (!value.is_array()) {
    if (std::optional<std::string> item = PerlString(value)) {
      items.push_back(std::move(*item));
    }
    return items;
  }
  for (const Json& element : value) {
    if (std::optional<std::string> item = PerlString(element)) {
      items.push_back(std::move(*item));
    }
  }
  return items;
}

}  // namespace

std::string TrimLines(std::string_view text) {
  std::string out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos) newline = text.size();
    std::string_view line = TrimLine(text.substr(pos, newline - pos));
    if (!line.empty()) {
      if (!out.empty()) out += '\n';
      out += line;
    }
    pos = newline + 1;
  }
  return out;
}

Result<Config> ParseConfig(std::string_view text, std::string_view path) {
  Result<Json> parsed = ParseJson(TrimLines(text));
  if (!parsed.ok()) {
    return Error(Code::kInvalidArgument, "malformed JSON" + In(path) + ": " +
                                             parsed.status().message());
  }
  const Json& json = *parsed;
  if (!json.is_object()) {
    return Error(
        Code::kInvalidArgument,
        "the config must be a JSON object, not " + Literal(json) + In(path));
  }

  // In the original's order: its reader, then Moo's isa checks.
  Config config;
  Result<std::optional<std::string>> zkhosts =
      ConfigString(json, "zkhosts", path);
  if (!zkhosts.ok()) return zkhosts.status();
  if (!*zkhosts) {
    return Error(Code::kInvalidArgument, "zkhosts is not defined" + In(path));
  }
  config.zkhosts = **zkhosts;

  const Json* prefix = Find(json, "prefix");
  if (prefix == nullptr || !PerlTrue(*prefix)) {
    return Error(Code::kInvalidArgument, "prefix is not defined" + In(path));
  }
  Result<int64_t> data_read_len =
      ConfigNumber(json, "data_read_len", config.data_read_len, path);
  if (!data_read_len.ok()) return data_read_len.status();
  config.data_read_len = *data_read_len;
  std::optional<std::string> prefix_text = PerlString(*prefix);
  if (!prefix_text || !GoodPrefix(*prefix_text)) {
    return Error(Code::kInvalidArgument,
                 "bad prefix: " + Literal(*prefix) + In(path));
  }
  config.prefix = *prefix_text;

  Result<int64_t> wait =
      ConfigNumber(json, "resources_wait_timeout",
                   config.resources_wait_timeout.count(), path);
  if (!wait.ok()) return wait.status();
  config.resources_wait_timeout = std::chrono::seconds(*wait);
  Result<int64_t> term = ConfigNumber(json, "termination_timeout",
                                      config.termination_timeout.count(), path);
  if (!term.ok()) return term.status();
  config.termination_timeout = std::chrono::seconds(*term);

  Result<std::optional<std::string>> logfile =
      ConfigString(json, "logfile", path);
  if (!logfile.ok()) return logfile.status();
  config.logfile = logfile->value_or("");
  Result<std::optional<std::string>> loglevel =
      ConfigString(json, "loglevel", path);
  if (!loglevel.ok()) return loglevel.status();
  if (*loglevel) {
    Result<FileLogLevel> level = ParseLogLevel(**loglevel, path);
    if (!level.ok()) return level.status();
    config.loglevel = *level;
  }

  // Ours: the ZooKeeper session timeout the original could not change.
  Result<int64_t> session = ConfigNumber(json, "session_timeout",
                                         config.session_timeout.count(), path);
  if (!session.ok()) return session.status();
  if (*session < 1) {
    return Error(Code::kInvalidArgument,
                 "bad session_timeout: 0 (at least 1 second)" + In(path));
  }
  config.session_timeout = std::chrono::seconds(*session);

  // Ours: the exit status of the "did not run" cases (-E/--exit-conflict).
  Result<std::optional<std::string>> conflict =
      ConfigString(json, "conflict_exit_code", path);
  if (!conflict.ok()) return conflict.status();
  if (*conflict) {
    std::optional<int> code = ParseExitCode(**conflict);
    if (!code) {
      return Error(Code::kInvalidArgument,
                   "bad conflict_exit_code: " + Quote(**conflict) +
                       " (0 to 255)" + In(path));
    }
    config.conflict_exit_code = *code;
  }
  return config;
}

Result<std::string> ChooseConfigPath(std::string_view flag_value,
                                     std::string_view prog,
                                     std::string_view default_path) {
  if (!flag_value.empty() && flag_value != "0") return std::string(flag_value);
  const std::string fallback(default_path);
  struct stat st {};
  if (::stat(fallback.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    return fallback;
  }
  return Error(Code::kInvalidArgument,
               Escape(fallback) + " is absent and --config is missing, see " +
                   std::string(prog) + " -h for help");
}

Result<Config> LoadConfig(std::string_view path) {
  const std::string name(path);
  const std::string failed = "Failed to open " + Escape(path) + ": ";
  UniqueFd fd(::open(name.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Error(Code::kInvalidArgument, failed + ErrnoString(errno));
  }
  std::string text;
  std::array<char, 8192> buf{};
  while (text.size() <= kMaxConfigBytes) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Error(Code::kInvalidArgument, failed + ErrnoString(errno));
    }
    if (n == 0) return ParseConfig(text, path);
    text.append(buf.data(), static_cast<size_t>(n));
  }
  return Error(
      Code::kInvalidArgument,
      failed + "larger than " + std::to_string(kMaxConfigBytes) + " bytes");
}

Result<PrefixData> ParsePrefixData(std::string_view data, size_t node_length) {
  if (node_length > data.size()) {
    return Error(Code::kInvalidArgument,
                 "Could not decode data: prefix data truncated at " +
                     std::to_string(data.size()) + " bytes (the node holds " +
                     std::to_string(node_length) +
                     "); raise data_read_len in the config");
  }
  PrefixData out;
  if (data.empty() || data == "0") return out;  // Perl-false data
  Result<Json> parsed = ParseJson(data);
  if (!parsed.ok()) return parsed.status().With("Could not decode data");
  CONCH_RETURN_IF_ERROR(CheckPrefixJson(*parsed));
  if (const Json* resources = Find(*parsed, "resources");
      resources != nullptr && resources->is_array()) {
    out.resources = Items(*resources);
  }
  if (const Json* groups = Find(*parsed, "groups");
      groups != nullptr && groups->is_object()) {
    for (const auto& [name, value] : groups->items()) {
      std::optional<std::vector<std::string>>& items = out.groups[name];
      if (PerlTrue(value)) items = Items(value);  // else "not described"
    }
  }
  return out;
}

bool GroupMembers::Contains(std::string_view fqdn) const {
  return std::ranges::find(hosts, fqdn) != hosts.end();
}

Result<PrefixData> ParsePrefixRead(std::string_view value, size_t node_length,
                                   int64_t data_read_len) {
  return ParsePrefixData(value.substr(0, static_cast<size_t>(data_read_len)),
                         node_length);
}

Result<GroupMembers> ResolveGroup(const PrefixData& data,
                                  std::string_view group) {
  // get_group_hosts is recursive; this is the same depth-first walk with an
  // explicit stack, so hosts come out in the same order.
  struct Frame {
    const std::vector<std::string>* items;
    size_t next = 0;
  };
  GroupMembers out;
  std::unordered_set<std::string> added;
  std::set<std::string, std::less<>> seen{std::string(group)};
  std::vector<Frame> stack;

  // Adds the hosts named directly in `name` and pushes it for its
  // subgroups.
  auto enter = [&](std::string_view name) -> Status {
    auto it = data.groups.find(name);
    if (it == data.groups.end() || !it->second) {
      return Error(Code::kNotFound,
                   "Group <" + Escape(name) + "> is not described");
    }
    for (const std::string& item : *it->second) {
      if (data.groups.contains(item)) continue;
      if (added.insert(item).second) out.hosts.push_back(item);
    }
    stack.push_back({&*it->second});
    return Status::Ok();
  };

  CONCH_RETURN_IF_ERROR(enter(group));
  while (!stack.empty()) {
    Frame& frame = stack.back();
    if (frame.next == frame.items->size()) {
      stack.pop_back();
      continue;
    }
    const std::string& item = (*frame.items)[frame.next++];
    if (!data.groups.contains(item) || !seen.insert(item).second) continue;
    CONCH_RETURN_IF_ERROR(enter(item));  // may reallocate `stack`
  }
  return out;
}

}  // namespace conch::switchman
