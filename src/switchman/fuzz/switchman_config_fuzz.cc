// libFuzzer target for switchman's config file and prefix znode data
// (switchman/config.h). The same input is parsed as a config file and as
// prefix data (complete, and as if cut at data_read_len), and every group of
// accepted prefix data is resolved. Beyond "no crash, no sanitizer report",
// it checks the contracts:
//   - Every error is kInvalidArgument (kNotFound for an undescribed group)
//     with a non-empty one-line message without control bytes.
//   - An accepted config has a true zkhosts, a prefix matching
//     ^(/[^/]+)+$ and numbers within 0..kMaxConfigNumber.
//   - TrimLines is idempotent and leaves no ASCII whitespace at line ends.
//   - Cut data is always refused; data that is "" or "0" is empty.
//   - A resolved group lists each host once, never a group name, and
//     Contains() every one of them.
// A broken contract aborts through CONCH_CHECK, which libFuzzer reports as a
// crash and saves the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

#include "base/fuzz/fuzz_util.h"
#include "base/status.h"
#include "switchman/config.h"

namespace conch {
namespace {

// Groups resolved per input, to keep each run fast.
constexpr size_t kMaxGroupsResolved = 64;

void CheckError(const Status& status, Code code) {
  CONCH_CHECK(status.code() == code);
  CONCH_CHECK(!status.message().empty());
  CONCH_CHECK(std::ranges::none_of(status.message(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7F;
  }));
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

void CheckTrimLines(std::string_view input) {
  const std::string trimmed = switchman::TrimLines(input);
  CONCH_CHECK(switchman::TrimLines(trimmed) == trimmed);
  size_t start = 0;
  while (start < trimmed.size()) {
    size_t end = trimmed.find('\n', start);
    if (end == std::string::npos) end = trimmed.size();
    CONCH_CHECK(end > start);  // no empty lines
    CONCH_CHECK(!IsAsciiSpace(trimmed[start]));
    CONCH_CHECK(!IsAsciiSpace(trimmed[end - 1]));
    start = end + 1;
  }
}

void CheckConfig(std::string_view input) {
  Result<switchman::Config> config =
      switchman::ParseConfig(input, "/etc/switchman.conf");
  if (!config.ok()) {
    CheckError(config.status(), Code::kInvalidArgument);
    return;
  }
  CONCH_CHECK(!config->zkhosts.empty() && config->zkhosts != "0");
  const std::string& prefix = config->prefix;
  CONCH_CHECK(prefix.size() >= 2 && prefix.front() == '/' &&
              prefix.back() != '/' && prefix.find("//") == std::string::npos);
  CONCH_CHECK(config->data_read_len >= 0 &&
              config->data_read_len <= switchman::kMaxConfigNumber);
  CONCH_CHECK(config->resources_wait_timeout.count() >= 0 &&
              config->resources_wait_timeout.count() <=
                  switchman::kMaxConfigNumber);
  CONCH_CHECK(config->termination_timeout.count() >= 0 &&
              config->termination_timeout.count() <=
                  switchman::kMaxConfigNumber);
}

void CheckGroups(const switchman::PrefixData& data) {
  size_t resolved = 0;
  for (const auto& [name, items] : data.groups) {
    if (++resolved > kMaxGroupsResolved) break;
    Result<switchman::GroupMembers> members =
        switchman::ResolveGroup(data, name);
    if (!members.ok()) {
      CheckError(members.status(), Code::kNotFound);
      continue;
    }
    CONCH_CHECK(items.has_value());
    std::unordered_set<std::string> unique;
    for (const std::string& host : members->hosts) {
      CONCH_CHECK(unique.insert(host).second);
      CONCH_CHECK(!data.groups.contains(host));
      CONCH_CHECK(members->Contains(host));
    }
  }
  Result<switchman::GroupMembers> absent =
      switchman::ResolveGroup(data, "\x01no such group");
  if (!data.groups.contains("\x01no such group")) {
    CheckError(absent.status(), Code::kNotFound);
  }
}

void CheckPrefixData(std::string_view input) {
  Result<switchman::PrefixData> cut =
      switchman::ParsePrefixData(input, input.size() + 1);
  CheckError(cut.status(), Code::kInvalidArgument);

  Result<switchman::PrefixData> data =
      switchman::ParsePrefixData(input, input.size());
  if (!data.ok()) {
    CheckError(data.status(), Code::kInvalidArgument);
    return;
  }
  if (input.empty() || input == "0") {
    CONCH_CHECK(data->groups.empty() && data->resources.empty());
  }
  CheckGroups(*data);
}

}  // namespace
}  // namespace conch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = conch::fuzz::AsText(data, size);
  conch::CheckTrimLines(input);
  conch::CheckConfig(input);
  conch::CheckPrefixData(input);
  return 0;
}
