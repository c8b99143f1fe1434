#include "primitives/holder.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace conch::primitives {

std::string EncodeHolder(const Holder& holder) {
  nlohmann::ordered_json j;
  j["host"] = holder.host;
  j["pid"] = holder.pid;
  j["started"] = holder.started;
  if (!holder.cmd.empty()) j["cmd"] = holder.cmd;
  if (holder.weight != 1) j["weight"] = holder.weight;
  if (holder.spread) j["spread"] = true;
  if (holder.held) j["held"] = true;
  // Invalid UTF-8 in argv is replaced rather than failing the campaign.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<Holder> DecodeHolder(const std::string& value) {
  nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  Holder h;
  if (auto it = j.find("host"); it != j.end() && it->is_string()) {
    h.host = it->get<std::string>();
  }
  if (auto it = j.find("pid"); it != j.end() && it->is_number_integer()) {
    h.pid = it->get<long long>();
  }
  if (auto it = j.find("started"); it != j.end() && it->is_string()) {
    h.started = it->get<std::string>();
  }
  if (auto it = j.find("cmd"); it != j.end() && it->is_string()) {
    h.cmd = it->get<std::string>();
  }
  // A weight that is not a positive integer counts as 1, as in a record
  // written by the original, which has no weights.
  if (auto it = j.find("weight");
      it != j.end() && it->is_number_integer() && it->get<int64_t>() >= 1) {
    h.weight = it->get<int64_t>();
  }
  if (auto it = j.find("spread"); it != j.end() && it->is_boolean()) {
    h.spread = it->get<bool>();
  }
  if (auto it = j.find("held"); it != j.end() && it->is_boolean()) {
    h.held = it->get<bool>();
  }
  return h;
}

std::string JoinCommand(const std::vector<std::string>& argv) {
  std::string out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i > 0) out += ' ';
    out += argv[i];
    if (out.size() >= kMaxCmdBytes) break;
  }
  // Cut at a character boundary: a split UTF-8 character would be replaced
  // by U+FFFD when encoded, making the stored value longer than the limit.
  return std::string(Utf8Prefix(out, kMaxCmdBytes));
}

std::string LocalHostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') {
    return "unknown-host";
  }
  return buf;
}

}  // namespace conch::primitives
