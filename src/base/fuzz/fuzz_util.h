// Helpers shared by the libFuzzer targets in this directory: turning fuzz
// bytes into arguments, a UTF-8 check, and the error contract every user
// input parser in conch promises.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace conch::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// "a\0b\0" -> {"a", "b", ""}; empty text -> no arguments at all.
inline std::vector<std::string> SplitOnNul(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t nul = text.find('\0', start);
    out.emplace_back(text.substr(start, nul - start));
    if (nul == std::string_view::npos) return out;
    start = nul + 1;
  }
}

// Well-formed UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates,
// nothing above U+10FFFF, no truncated sequences.
inline bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto lead = static_cast<unsigned char>(text[i]);
    // The sequence length, the payload bits of the lead byte, and the
    // smallest code point that needs this many bytes.
    size_t length = 0;
    uint32_t code_point = 0;
    uint32_t smallest = 0;
    if (lead < 0x80) {
      length = 1;
      code_point = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code_point = lead & 0x1F;
      smallest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code_point = lead & 0x0F;
      smallest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code_point = lead & 0x07;
      smallest = 0x10000;
    } else {
      return false;
    }
    if (text.size() - i < length) return false;
    for (size_t k = 1; k < length; ++k) {
      auto byte = static_cast<unsigned char>(text[i + k]);
      if ((byte & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (byte & 0x3F);
    }
    if (code_point < smallest || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

// The error contract for user input: kInvalidArgument with a non-empty
// message on one line, so that the CLI can print it after "conch: " and
// exit 64. User text is quoted with Quote(), which escapes control bytes, so
// the message has none that could rewrite the user's terminal.
inline void CheckUserError(const Status& status) {
  CONCH_CHECK(status.code() == Code::kInvalidArgument);
  CONCH_CHECK(!status.message().empty());
  CONCH_CHECK(std::ranges::none_of(status.message(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7F;
  }));
}

}  // namespace conch::fuzz
