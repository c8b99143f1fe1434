#include "cron/zone.h"

#include <unistd.h>

#include <array>
#include <climits>
#include <cstdlib>
#include <fstream>

#include "base/strings.h"

namespace conch::cron {

namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' || c == '.';
}

// Go's time.LoadLocation refuses paths and "..", and maps "Local" to the
// process's zone; absl's loader would open an absolute path, follow "..",
// and read /etc/localtime for "localtime". Each of those could name a
// different zone on each node, so none is a zone name here.
bool IsPortableName(std::string_view name) {
  if (name.empty() || name == "localtime" || name == "Local") return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part) {
      if (!IsNameChar(c)) return false;
    }
    start = slash + 1;
  }
  return true;
}

std::string_view TrimSpace(std::string_view text) {
  const std::string_view kSpace = " \t\r\n\v\f";
  size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  size_t last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

// "/usr/share/zoneinfo/posix/Europe/Berlin" -> "Europe/Berlin"; text
// without "zoneinfo/" comes back unchanged.
std::string ZoneNameFromPath(std::string_view path) {
  constexpr std::string_view kMarker = "zoneinfo/";
  if (size_t at = path.rfind(kMarker); at != std::string_view::npos) {
    path.remove_prefix(at + kMarker.size());
  }
  constexpr std::string_view kPosix = "posix/";
  if (path.starts_with(kPosix)) path.remove_prefix(kPosix.size());
  return std::string(path);
}

HostZone Fallback(std::string why) {
  return {"UTC", std::move(why) + "; using UTC (pass --tz or a TZ= prefix)"};
}

// The answer from one source that is present: its zone, or UTC with a note
// naming the source.
HostZone FromSource(const std::string& candidate, const std::string& source) {
  if (LoadZone(candidate).ok()) return {candidate, ""};
  return Fallback(source + " names " + Quote(candidate) +
                  ", which is not a time zone name");
}

std::optional<std::string> FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  std::string_view trimmed = TrimSpace(line);
  if (trimmed.empty()) return std::nullopt;
  return std::string(trimmed);
}

std::optional<std::string> LinkTarget(const std::string& path) {
  std::array<char, PATH_MAX> target;
  ssize_t n = readlink(path.c_str(), target.data(), target.size());
  if (n <= 0) return std::nullopt;
  std::string_view text(target.data(), static_cast<size_t>(n));
  if (text.find("zoneinfo/") == std::string_view::npos) return std::nullopt;
  return std::string(text);
}

}  // namespace

Result<absl::TimeZone> LoadZone(std::string_view name) {
  if (!IsPortableName(name)) {
    return Error(Code::kInvalidArgument,
                 "invalid time zone name " + Quote(name) +
                     " (use an IANA name such as \"Europe/Berlin\" or "
                     "\"UTC\")");
  }
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(absl::string_view(name.data(), name.size()), &zone)) {
    return Error(Code::kInvalidArgument, "unknown time zone " + Quote(name));
  }
  return zone;
}

HostZone ResolveHostZone(const HostZoneSources& sources) {
  if (sources.tz_env && !sources.tz_env->empty()) {
    std::string_view tz = *sources.tz_env;
    if (tz.starts_with(':')) tz.remove_prefix(1);
    return FromSource(ZoneNameFromPath(tz), "TZ");
  }
  if (std::optional<std::string> line = FirstLine(sources.timezone_file)) {
    return FromSource(ZoneNameFromPath(*line), sources.timezone_file);
  }
  if (std::optional<std::string> target = LinkTarget(sources.localtime_link)) {
    return FromSource(ZoneNameFromPath(*target), sources.localtime_link);
  }
  return Fallback("no TZ, " + sources.timezone_file + " or " +
                  sources.localtime_link + " symlink names this host's zone");
}

HostZone ResolveHostZone() {
  HostZoneSources sources;
  // Callers resolve the zone on the owner thread before any setenv().
  if (const char* tz = std::getenv("TZ")) {  // NOLINT(concurrency-mt-unsafe)
    sources.tz_env = tz;
  }
  return ResolveHostZone(sources);
}

}  // namespace conch::cron
