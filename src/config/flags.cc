#include "config/flags.h"

#include <charconv>

#include "base/duration.h"
#include "base/strings.h"

namespace conch::config {

void FlagSet::Bool(const std::string& name, bool* dst,
                   const std::string& help) {
  flags_.push_back({name, Kind::kBool, dst, help, "", *dst ? "true" : ""});
}

void FlagSet::String(const std::string& name, std::string* dst,
                     const std::string& help, const std::string& placeholder) {
  flags_.push_back({name, Kind::kString, dst, help, placeholder, *dst});
}

void FlagSet::Duration(const std::string& name, conch::Duration* dst,
                       const std::string& help) {
  // A negative default means "no limit"; the help text says so.
  flags_.push_back(
      {name, Kind::kDuration, dst, help, "D",
       *dst < conch::Duration::zero() ? "" : FormatDuration(*dst)});
}

void FlagSet::Int(const std::string& name, int64_t* dst,
                  const std::string& help) {
  flags_.push_back({name, Kind::kInt, dst, help, "N",
                    *dst == 0 ? "" : std::to_string(*dst)});
}

void FlagSet::Strings(const std::string& name, std::vector<std::string>* dst,
                      const std::string& help, const std::string& placeholder) {
  flags_.push_back(
      {name, Kind::kStrings, dst, help + " (repeatable)", placeholder, ""});
}

FlagSet::Flag* FlagSet::Find(const std::string& name) {
  for (Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool FlagSet::IsSet(const std::string& name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return f.set;
  }
  return false;
}

Status FlagSet::Assign(Flag& flag, const std::string& value) {
  std::string where = "flag --" + flag.name;
  switch (flag.kind) {
    case Kind::kBool:
      if (value == "true" || value == "1" || value == "t" || value == "T" ||
          value == "TRUE" || value == "True") {
        *static_cast<bool*>(flag.dst) = true;
      } else if (value == "false" || value == "0" || value == "f" ||
                 value == "F" || value == "FALSE" || value == "False") {
        *static_cast<bool*>(flag.dst) = false;
      } else {
        return Error(Code::kInvalidArgument,
                     where + ": " + Quote(value) + " is not true or false");
      }
      break;
    case Kind::kString:
      *static_cast<std::string*>(flag.dst) = value;
      break;
    case Kind::kStrings:
      static_cast<std::vector<std::string>*>(flag.dst)->push_back(value);
      break;
    case Kind::kDuration: {
      Result<conch::Duration> d = ParseDuration(value);
      if (!d.ok()) return d.status().With(where);
      *static_cast<conch::Duration*>(flag.dst) = *d;
      break;
    }
    case Kind::kInt: {
      int64_t v = 0;
      auto [p, ec] =
          std::from_chars(value.data(), value.data() + value.size(), v);
      if (value.empty() || ec != std::errc() ||
          p != value.data() + value.size()) {
        return Error(Code::kInvalidArgument,
                     where + ": " + Quote(value) + " is not an integer");
      }
      *static_cast<int64_t*>(flag.dst) = v;
      break;
    }
  }
  flag.set = true;
  return Status::Ok();
}

Status FlagSet::Parse(const std::vector<std::string>& args,
                      size_t max_positionals) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      separator_ = true;
      command_.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      return Status::Ok();
    }
    if (arg.size() < 2 || arg[0] != '-') {
      if (positionals_.size() >= max_positionals) {
        return Error(Code::kInvalidArgument,
                     "unexpected argument " + Quote(arg) +
                         " (put the command after \"--\")");
      }
      positionals_.push_back(arg);
      continue;
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string name = body;
    std::string value;
    bool has_value = false;
    if (size_t eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    if (name == "h" || name == "help") {
      help_ = true;
      return Status::Ok();
    }
    Flag* flag = Find(name);
    if (flag == nullptr || name.empty() || name[0] == '-') {
      return Error(Code::kInvalidArgument, "unknown flag " + Quote(arg));
    }
    if (!has_value) {
      if (flag->kind == Kind::kBool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return Error(Code::kInvalidArgument,
                     "flag --" + name + " needs a value");
      }
    }
    CONCH_RETURN_IF_ERROR(Assign(*flag, value));
  }
  return Status::Ok();
}

std::string FlagSet::Usage() const {
  std::string out = usage_line_ + "\n\nFlags:\n";
  for (const Flag& f : flags_) {
    std::string left = "  --" + f.name;
    if (f.kind != Kind::kBool) left += " " + f.placeholder;
    if (left.size() < 24)
      left.resize(24, ' ');
    else
      left += "  ";
    out += left + f.help;
    if (!f.default_text.empty() && f.kind != Kind::kBool) {
      out += " (default " + f.default_text + ")";
    }
    out += "\n";
  }
  return out;
}

}  // namespace conch::config
