#include "primitives/keys.h"

#include <charconv>
#include <cstdio>

#include "base/strings.h"

namespace conch::primitives {

std::string LeaseHex(int64_t lease_id) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%llx",
                static_cast<unsigned long long>(lease_id));
  return buf;
}

Result<int64_t> ParseLeaseHex(std::string_view hex) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
  if (hex.empty() || ec != std::errc() || p != hex.data() + hex.size()) {
    return Error(Code::kInvalidArgument, "bad lease id " + Quote(hex));
  }
  return static_cast<int64_t>(v);
}

std::string ElectPrefix(std::string_view office) {
  std::string p(kRoot);
  p += "elect/";
  p += office;
  p += '/';
  return p;
}

std::string SemaPrefix(std::string_view name, int64_t max) {
  std::string p(kRoot);
  p += "sema/";
  p += name;
  p += '/';
  p += std::to_string(max);
  p += '/';
  return p;
}

Status ValidateName(std::string_view what, std::string_view name) {
  std::string quoted = Quote(name);
  if (name.empty()) {
    return Error(Code::kInvalidArgument, std::string(what) + " name is empty");
  }
  if (name.size() > kMaxNameBytes) {
    return Error(Code::kInvalidArgument,
                 std::string(what) + " name is " + std::to_string(name.size()) +
                     " bytes; the limit is " + std::to_string(kMaxNameBytes));
  }
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (c == '/') {
      return Error(Code::kInvalidArgument,
                   std::string(what) + " name " + quoted +
                       " contains '/'; names are one path segment");
    }
    if (u < 0x20 || u == 0x7f || c == ' ') {
      return Error(Code::kInvalidArgument,
                   std::string(what) + " name " + quoted +
                       " contains a space or control character");
    }
  }
  if (name == "." || name == "..") {
    return Error(Code::kInvalidArgument,
                 std::string(what) + " name " + quoted + " is reserved");
  }
  return Status::Ok();
}

}  // namespace conch::primitives
