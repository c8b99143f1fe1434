// Text helpers for messages.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace conch {

// Quotes user input for a one-line message: wraps it in double quotes,
// escapes quotes, backslashes and control bytes (\x0a), and shortens input
// longer than 64 bytes at a UTF-8 character boundary, marked with "...".
std::string Quote(std::string_view text);

// The items with `separator` between them: Join({"a", "b"}, ",") = "a,b".
std::string Join(const std::vector<std::string>& items,
                 std::string_view separator);

// The longest prefix of `text` of at most `max_bytes` bytes that does not
// end inside a UTF-8 multi-byte character (at most 3 bytes shorter).
std::string_view Utf8Prefix(std::string_view text, size_t max_bytes);

// `text` cut at every `separator`, empty pieces kept: "a,,b" gives
// {"a", "", "b"}; "" gives {""}.
std::vector<std::string> Split(std::string_view text, char separator);

}  // namespace conch
