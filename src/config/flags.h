// FlagSet: command-line flags with the original Go conch's rules, which
// users' scripts already follow:
//   -x and --x are the same flag; --x v and --x=v both set it;
//   a bool is set by --x and can be cleared with --x=false;
//   "--" ends the flags and starts the command.
// Unlike Go's flag package (and the original), every error is one clear
// line for exit 64, and a stray word before "--" is an error rather than the
// silent end of parsing. CLI11 cannot express single-dash long flags, which
// is why this is ours (docs/design.md).
//
// Thread contract: owner thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace conch::config {

class FlagSet {
 public:
  explicit FlagSet(std::string usage_line)
      : usage_line_(std::move(usage_line)) {}

  // Registers a flag writing into *dst, which also holds its default.
  void Bool(const std::string& name, bool* dst, const std::string& help);
  void String(const std::string& name, std::string* dst,
              const std::string& help, const std::string& placeholder = "S");
  void Duration(const std::string& name, conch::Duration* dst,
                const std::string& help);
  void Int(const std::string& name, int64_t* dst, const std::string& help);
  // A flag that may be given many times; each value is appended.
  void Strings(const std::string& name, std::vector<std::string>* dst,
               const std::string& help, const std::string& placeholder = "S");

  // Parses args. Words that are not flags go to positionals() (at most
  // `max_positionals`); everything after "--" goes to command().
  // kInvalidArgument on an unknown flag, a missing or bad value, or too
  // many positionals. -h/--help sets help_requested() and stops.
  Status Parse(const std::vector<std::string>& args, size_t max_positionals);

  bool help_requested() const { return help_; }
  bool IsSet(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }
  const std::vector<std::string>& command() const { return command_; }
  bool has_command_separator() const { return separator_; }

  // The usage line followed by one line per flag with its default.
  std::string Usage() const;

 private:
  enum class Kind { kBool, kString, kDuration, kInt, kStrings };
  struct Flag {
    std::string name;
    Kind kind;
    void* dst;
    std::string help;
    std::string placeholder;
    std::string default_text;
    bool set = false;
  };
  Flag* Find(const std::string& name);
  Status Assign(Flag& flag, const std::string& value);

  std::string usage_line_;
  std::vector<Flag> flags_;
  std::vector<std::string> positionals_;
  std::vector<std::string> command_;
  bool separator_ = false;
  bool help_ = false;
};

}  // namespace conch::config
