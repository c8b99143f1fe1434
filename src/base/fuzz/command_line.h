// Reading a fuzz input as a command line, for the fuzz targets of argument
// parsers: words split on NUL bytes, leading NAME=VALUE words setting the
// named environment variables (the others unset), then a word picking the
// command, then its arguments.
//
// Thread contract: one thread (the fuzzer runs inputs one at a time);
// SetEnvironment changes the process environment.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/fuzz/fuzz_util.h"

namespace conch::fuzz {

struct CommandLine {
  std::map<std::string, std::string> env;  // the variables it sets
  std::string command;                     // the first other word, or ""
  std::vector<std::string> args;
};

inline CommandLine ReadCommandLine(std::string_view input,
                                   std::span<const char* const> env_names) {
  const std::vector<std::string> words = SplitOnNul(input);
  auto known = [&](std::string_view name) {
    return std::any_of(env_names.begin(), env_names.end(),
                       [&](const char* n) { return name == n; });
  };
  CommandLine line;
  size_t i = 0;
  for (; i < words.size(); ++i) {
    const size_t eq = words[i].find('=');
    if (eq == std::string::npos || !known(words[i].substr(0, eq))) break;
    line.env[words[i].substr(0, eq)] = words[i].substr(eq + 1);
  }
  if (i < words.size()) line.command = words[i++];
  line.args.assign(words.begin() + static_cast<std::ptrdiff_t>(i), words.end());
  return line;
}

// Sets the variables the line gives and unsets the other `env_names`.
// glibc's setenv keeps a copy of every value it was ever given, so memory
// would grow with every input; putenv takes strings this function owns and
// reuses.
inline void SetEnvironment(const CommandLine& line,
                           std::span<const char* const> env_names) {
  static std::map<std::string, std::string> entries;
  for (const char* name : env_names) {
    // Now the environment no longer points into entries[name].
    unsetenv(name);  // NOLINT(concurrency-mt-unsafe)
    auto it = line.env.find(name);
    if (it == line.env.end()) continue;
    std::string& entry = entries[name];
    entry = std::string(name) + "=" + it->second;
    putenv(entry.data());  // NOLINT(concurrency-mt-unsafe)
  }
}

// Whether any word could have set the flag: a flag word contains its name.
inline bool Mentions(const CommandLine& line, std::string_view flag) {
  return std::ranges::any_of(line.args, [&](const std::string& word) {
    return word.find(flag) != std::string::npos;
  });
}

// Whether a word asks for help: "-h", "--help", "-help=x" and so on.
inline bool AsksForHelp(const CommandLine& line) {
  return std::ranges::any_of(line.args, [](const std::string& word) {
    std::string_view body(word);
    if (!body.starts_with('-')) return false;
    body.remove_prefix(body.starts_with("--") ? 2 : 1);
    body = body.substr(0, body.find('='));
    return body == "h" || body == "help";
  });
}

}  // namespace conch::fuzz
