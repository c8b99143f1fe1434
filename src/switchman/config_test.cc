#include "switchman/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace conch::switchman {
namespace {

using Hosts = std::set<std::string>;
using Items = std::vector<std::string>;

constexpr std::string_view kPath = "/etc/switchman.conf";

// A config with the two required keys followed by `extra` ("" or ", ...").
std::string ConfigText(const std::string& extra) {
  return R"({"zkhosts": "zk1:2181,zk2:2181", "prefix": "/sw")" + extra + "}";
}

Config MustParseConfig(const std::string& text) {
  Result<Config> config = ParseConfig(text, kPath);
  EXPECT_TRUE(config.ok()) << text << ": " << config.status().ToString();
  if (!config.ok()) return {};
  return *config;
}

std::string ConfigError(const std::string& text) {
  Result<Config> config = ParseConfig(text, kPath);
  EXPECT_FALSE(config.ok()) << text;
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(config.status().message().find('\n'), std::string::npos);
  return config.status().message();
}

PrefixData MustParsePrefix(const std::string& data) {
  Result<PrefixData> parsed = ParsePrefixData(data, data.size());
  EXPECT_TRUE(parsed.ok()) << data << ": " << parsed.status().ToString();
  if (!parsed.ok()) return {};
  return *parsed;
}

std::string PrefixError(const std::string& data) {
  Result<PrefixData> parsed = ParsePrefixData(data, data.size());
  EXPECT_FALSE(parsed.ok()) << data;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(parsed.status().message().find('\n'), std::string::npos);
  return parsed.status().message();
}

Hosts Resolve(const std::string& prefix_data, const std::string& group) {
  Result<GroupMembers> members =
      ResolveGroup(MustParsePrefix(prefix_data), group);
  EXPECT_TRUE(members.ok()) << members.status().ToString();
  if (!members.ok()) return {};
  return {members->hosts.begin(), members->hosts.end()};
}

// A scratch directory, removed with what the test put in it.
class TempDir {
 public:
  TempDir() {
    std::string name = "/tmp/switchman_config_test.XXXXXX";
    const char* made = ::mkdtemp(name.data());
    EXPECT_NE(made, nullptr);
    path_ = made == nullptr ? "/nonexistent" : made;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    for (const std::string& file : files_) ::unlink(file.c_str());
    for (const std::string& dir : dirs_) ::rmdir(dir.c_str());
    ::rmdir(path_.c_str());
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string file = Add(name);
    std::FILE* f = std::fopen(file.c_str(), "we");
    EXPECT_NE(f, nullptr) << file;
    if (f == nullptr) return file;
    EXPECT_EQ(std::fwrite(text.data(), 1, text.size(), f), text.size());
    EXPECT_EQ(std::fclose(f), 0);
    return file;
  }
  std::string Symlink(const std::string& name, const std::string& target) {
    std::string file = Add(name);
    EXPECT_EQ(::symlink(target.c_str(), file.c_str()), 0);
    return file;
  }
  std::string Mkdir(const std::string& name) {
    std::string dir = path_ + "/" + name;
    EXPECT_EQ(::mkdir(dir.c_str(), 0700), 0);
    dirs_.push_back(dir);
    return dir;
  }
  std::string Missing(const std::string& name) const {
    return path_ + "/" + name;
  }

 private:
  std::string Add(const std::string& name) {
    files_.push_back(path_ + "/" + name);
    return files_.back();
  }

  std::string path_;
  std::vector<std::string> files_;
  std::vector<std::string> dirs_;
};

// ---- The config file --------------------------------------------------

TEST(SwitchmanConfigTest, DefaultsOfTheOriginal) {
  Config config = MustParseConfig(ConfigText(""));
  EXPECT_EQ(config.zkhosts, "zk1:2181,zk2:2181");
  EXPECT_EQ(config.prefix, "/sw");
  EXPECT_EQ(config.termination_timeout, std::chrono::seconds(10));
  EXPECT_EQ(config.data_read_len, 65535);
  EXPECT_EQ(config.resources_wait_timeout, std::chrono::seconds(0));
  EXPECT_EQ(config.logfile, "");
  EXPECT_EQ(config.loglevel, FileLogLevel::kInfo);
}

TEST(SwitchmanConfigTest, ExplicitValuesAreKept) {
  Config config = MustParseConfig(ConfigText(
      R"(, "termination_timeout": 100, "data_read_len": 16383,
         "resources_wait_timeout": 3600, "logfile": "/var/log/sw.log",
         "loglevel": "debug")"));
  EXPECT_EQ(config.termination_timeout, std::chrono::seconds(100));
  EXPECT_EQ(config.data_read_len, 16383);
  EXPECT_EQ(config.resources_wait_timeout, std::chrono::seconds(3600));
  EXPECT_EQ(config.logfile, "/var/log/sw.log");
  EXPECT_EQ(config.loglevel, FileLogLevel::kDebug);
}

TEST(SwitchmanConfigTest, NullIsTheSameAsAbsent) {
  Config config = MustParseConfig(ConfigText(
      R"(, "termination_timeout": null, "data_read_len": null,
         "resources_wait_timeout": null, "logfile": null, "loglevel": null)"));
  EXPECT_EQ(config.termination_timeout, std::chrono::seconds(10));
  EXPECT_EQ(config.data_read_len, 65535);
  EXPECT_EQ(config.resources_wait_timeout, std::chrono::seconds(0));
  EXPECT_EQ(config.logfile, "");
  EXPECT_EQ(config.loglevel, FileLogLevel::kInfo);
}

// The original checks m{^[0-9]+$} on the value as Perl prints it.
TEST(SwitchmanConfigTest, NumbersAreDigitsAsPerlSeesThem) {
  const std::vector<std::pair<std::string, int64_t>> good = {
      {"10", 10},
      {"\"10\"", 10},
      {"\"010\"", 10},
      {"10.0", 10},
      {"1e3", 1000},
      {"1E2", 100},
      {"10.5e1", 105},
      {"true", 1},
      {"false", 0},
      {"0", 0},
      {"\"0\"", 0},
      {"-0", 0},
      {"-0.0", 0},
      {R"("10\n")", 10},  // Perl's $ before a final \n
      {"2147483647", kMaxConfigNumber},
  };
  const std::vector<std::string> bad = {
      "-1",
      "1.5",
      "\"\"",
      "\" 10\"",
      "\"10 \"",
      "\"1e3\"",
      "\"+1\"",
      "\"0x10\"",
      "\"abc\"",
      "[1]",
      "{}",
      R"("10\n\n")",
      "2147483648",
      "\"99999999999999999999\"",
      "1e300",
      R"("\u0661\u0660")",  // Arabic-Indic digits: Perl's \d, not ours
  };
  for (const char* key :
       {"data_read_len", "resources_wait_timeout", "termination_timeout"}) {
    for (const auto& [literal, value] : good) {
      Config config = MustParseConfig(
          ConfigText(", \"" + std::string(key) + "\": " + literal));
      const int64_t got = std::string(key) == "data_read_len"
                              ? config.data_read_len
                          : std::string(key) == "termination_timeout"
                              ? config.termination_timeout.count()
                              : config.resources_wait_timeout.count();
      EXPECT_EQ(got, value) << key << " = " << literal;
    }
    for (const std::string& literal : bad) {
      const std::string error =
          ConfigError(ConfigText(", \"" + std::string(key) + "\": " + literal));
      EXPECT_EQ(error.rfind("bad " + std::string(key) + ": ", 0), 0U)
          << literal << " -> " << error;
      EXPECT_TRUE(error.ends_with(" in /etc/switchman.conf")) << error;
    }
  }
}

TEST(SwitchmanConfigTest, NumberMessagesShowTheJsonValue) {
  EXPECT_EQ(ConfigError(ConfigText(R"(, "data_read_len": "abc")")),
            "bad data_read_len: \"abc\" in /etc/switchman.conf");
  EXPECT_EQ(ConfigError(ConfigText(R"(, "termination_timeout": -1)")),
            "bad termination_timeout: -1 in /etc/switchman.conf");
  EXPECT_EQ(ConfigError(ConfigText(R"(, "resources_wait_timeout": 1.5)")),
            "bad resources_wait_timeout: 1.5 in /etc/switchman.conf");
  EXPECT_EQ(ConfigError(ConfigText(R"(, "data_read_len": [1, 2])")),
            "bad data_read_len: [...] in /etc/switchman.conf");
  EXPECT_EQ(ConfigError(ConfigText(R"(, "data_read_len": 4294967296)")),
            "bad data_read_len: 4294967296 (at most 2147483647) in "
            "/etc/switchman.conf");
}

TEST(SwitchmanConfigTest, ZkhostsIsRequiredAndTrue) {
  for (const std::string& text : {
           std::string(R"({"prefix": "/sw"})"),
           std::string(R"({"zkhosts": "", "prefix": "/sw"})"),
           std::string(R"({"zkhosts": "0", "prefix": "/sw"})"),
           std::string(R"({"zkhosts": 0, "prefix": "/sw"})"),
           std::string(R"({"zkhosts": false, "prefix": "/sw"})"),
           std::string(R"({"zkhosts": null, "prefix": "/sw"})"),
       }) {
    EXPECT_EQ(ConfigError(text),
              "zkhosts is not defined in /etc/switchman.conf");
  }
  EXPECT_EQ(ConfigError(R"({"zkhosts": ["zk1:2181"], "prefix": "/sw"})"),
            "zkhosts must be a string in /etc/switchman.conf");
}

TEST(SwitchmanConfigTest, ZkhostsMayCarryAChroot) {
  // The original refuses this ("zk chroot is not supported in older
  // versions"); the C client handles it.
  Config config = MustParseConfig(
      R"({"zkhosts": "zk1:2181,zk2:2181/apps", "prefix": "/sw"})");
  EXPECT_EQ(config.zkhosts, "zk1:2181,zk2:2181/apps");
}

TEST(SwitchmanConfigTest, PrefixIsRequiredAndTrue) {
  for (const std::string value : {"", "\"\"", "\"0\"", "0", "null", "false"}) {
    const std::string text =
        value.empty() ? R"({"zkhosts": "zk:1"})"
                      : R"({"zkhosts": "zk:1", "prefix": )" + value + "}";
    EXPECT_EQ(ConfigError(text), "prefix is not defined in /etc/switchman.conf")
        << value;
  }
}

TEST(SwitchmanConfigTest, PrefixMustBeAnAbsoluteNodePath) {
  for (const std::string good : {"/a", "/a/b", "/0", "/a b/c", "/.x/y."}) {
    EXPECT_EQ(
        MustParseConfig(R"({"zkhosts": "zk:1", "prefix": ")" + good + "\"}")
            .prefix,
        good);
  }
  for (const std::string bad :
       {"\"/\"", "\"a\"", "\"a/b\"", "\"/a/\"", "\"//a\"", "\"/a//b\"", "5",
        "true", "[\"/a\"]"}) {
    const std::string error =
        ConfigError(R"({"zkhosts": "zk:1", "prefix": )" + bad + "}");
    EXPECT_EQ(error.rfind("bad prefix: ", 0), 0U) << bad << " -> " << error;
  }
  EXPECT_EQ(ConfigError(R"({"zkhosts": "zk:1", "prefix": "/a/"})"),
            "bad prefix: \"/a/\" in /etc/switchman.conf");
}

TEST(SwitchmanConfigTest, ChecksRunInTheOriginalsOrder) {
  // Its reader checks zkhosts, then prefix; Moo then checks data_read_len
  // before the prefix pattern, then the two timeouts.
  EXPECT_EQ(ConfigError(R"({"data_read_len": "x"})"),
            "zkhosts is not defined in /etc/switchman.conf");
  EXPECT_EQ(ConfigError(R"({"zkhosts": "zk:1", "data_read_len": "x"})"),
            "prefix is not defined in /etc/switchman.conf");
  EXPECT_EQ(ConfigError(R"({"zkhosts": "zk:1", "prefix": "bad",
                            "data_read_len": "x"})"),
            "bad data_read_len: \"x\" in /etc/switchman.conf");
  EXPECT_EQ(ConfigError(R"({"zkhosts": "zk:1", "prefix": "bad",
                            "termination_timeout": "x"})"),
            "bad prefix: \"bad\" in /etc/switchman.conf");
  EXPECT_EQ(ConfigError(ConfigText(R"(, "termination_timeout": "x",
                                       "resources_wait_timeout": "y")")),
            "bad resources_wait_timeout: \"y\" in /etc/switchman.conf");
}

TEST(SwitchmanConfigTest, LoglevelIsOneOfFourNames) {
  const std::vector<std::pair<std::string, FileLogLevel>> good = {
      {"\"debug\"", FileLogLevel::kDebug},
      {"\"info\"", FileLogLevel::kInfo},
      {"\"warning\"", FileLogLevel::kWarning},
      {"\"critical\"", FileLogLevel::kCritical},
      {"\"\"", FileLogLevel::kInfo},  // false: the original's || 'info'
      {"\"0\"", FileLogLevel::kInfo},
      {"false", FileLogLevel::kInfo},
  };
  for (const auto& [literal, level] : good) {
    EXPECT_EQ(
        MustParseConfig(ConfigText(", \"loglevel\": " + literal)).loglevel,
        level)
        << literal;
  }
  EXPECT_EQ(ConfigError(ConfigText(R"(, "loglevel": "error")")),
            "bad loglevel: \"error\" (expected debug, info, warning or "
            "critical) in /etc/switchman.conf");
  EXPECT_FALSE(ParseConfig(ConfigText(R"(, "loglevel": "INFO")"), kPath).ok());
  EXPECT_FALSE(ParseConfig(ConfigText(R"(, "loglevel": 3)"), kPath).ok());
  EXPECT_EQ(ConfigError(ConfigText(R"(, "loglevel": ["info"])")),
            "loglevel must be a string in /etc/switchman.conf");
}

TEST(SwitchmanConfigTest, LogfileFalseMeansNone) {
  for (const std::string literal : {"\"\"", "\"0\"", "false", "0"}) {
    EXPECT_EQ(MustParseConfig(ConfigText(", \"logfile\": " + literal)).logfile,
              "")
        << literal;
  }
  EXPECT_EQ(ConfigError(ConfigText(R"(, "logfile": {"a": 1})")),
            "logfile must be a string in /etc/switchman.conf");
}

TEST(SwitchmanConfigTest, UnknownKeysAreIgnoredAndTheLastDuplicateWins) {
  Config config = MustParseConfig(ConfigText(
      R"(, "session_timeout": 5, "x": {"y": [1, 2]},
         "termination_timeout": 1, "termination_timeout": 2)"));
  EXPECT_EQ(config.termination_timeout, std::chrono::seconds(2));
}

TEST(SwitchmanConfigTest, MustBeStrictJsonHoldingAnObject) {
  EXPECT_EQ(ConfigError("[]"),
            "the config must be a JSON object, not [...] in "
            "/etc/switchman.conf");
  EXPECT_EQ(ConfigError("\"x\""),
            "the config must be a JSON object, not \"x\" in "
            "/etc/switchman.conf");
  EXPECT_FALSE(ParseConfig("null", kPath).ok());
  for (const std::string& text : {
           std::string("{"), std::string(""),
           ConfigText(","),                         // trailing comma
           "// comment\n" + ConfigText(""),         // no comments
           ConfigText("") + " x",                   // trailing text
           std::string("{'zkhosts': 'a'}"),         // single quotes
           std::string("{\"zkhosts\": \"a\tb\"}"),  // raw control byte
       }) {
    const std::string error = ConfigError(text);
    EXPECT_EQ(error.rfind("malformed JSON in /etc/switchman.conf: ", 0), 0U)
        << text << " -> " << error;
    for (char c : error) {
      EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20) << error;
    }
  }
}

TEST(SwitchmanConfigTest, LineEdgesMayHoldAnyPerlWhitespace) {
  // A no-break space, vertical tab, form feed and ideographic space at line
  // ends are stripped by the original before JSON sees them.
  const std::string text =
      "{\n\xC2\xA0\"zkhosts\": \"zk:1\",\xC2\xA0\n\v\"prefix\":\"/x\"\f\r\n"
      "\xE3\x80\x80}\n";
  Config config = MustParseConfig(text);
  EXPECT_EQ(config.prefix, "/x");
  // Inside a line they are still not JSON whitespace.
  EXPECT_FALSE(
      ParseConfig("{\"zkhosts\":\xC2\xA0\"zk:1\", \"prefix\": \"/x\"}", kPath)
          .ok());
}

TEST(SwitchmanConfigTest, TrimLines) {
  EXPECT_EQ(TrimLines("  {\n\t\"a\": 1  \n}\n"), "{\n\"a\": 1\n}");
  EXPECT_EQ(TrimLines("a\n\n  \n\nb"), "a\nb");
  EXPECT_EQ(TrimLines("a \r\n b"), "a\nb");
  EXPECT_EQ(TrimLines("a  b"), "a  b");
  EXPECT_EQ(TrimLines("\xE2\x80\x80x\xE2\x80\x8A\xE2\x80\xA8"), "x");
  EXPECT_EQ(TrimLines("\xC2\x85x\xE1\x9A\x80\xE2\x80\xAF\xE2\x81\x9F"), "x");
  // Not whitespace: U+200B (zero width space) and invalid UTF-8.
  EXPECT_EQ(TrimLines("\xE2\x80\x8Bx"), "\xE2\x80\x8Bx");
  EXPECT_EQ(TrimLines(" \xC2x "), "\xC2x");
  EXPECT_EQ(TrimLines(""), "");
  EXPECT_EQ(TrimLines("\n\n"), "");
}

TEST(SwitchmanConfigTest, ChooseConfigPathFollowsTheOriginal) {
  TempDir dir;
  const std::string regular = dir.Write("switchman.conf", ConfigText(""));
  const std::string link = dir.Symlink("link.conf", regular);
  const std::string subdir = dir.Mkdir("conf.d");
  const std::string missing = dir.Missing("absent.conf");

  EXPECT_EQ(*ChooseConfigPath("/x.conf", "switchman", missing), "/x.conf");
  // "" and "0" are Perl-false: as if -c were not given.
  for (const char* flag : {"", "0"}) {
    EXPECT_EQ(*ChooseConfigPath(flag, "switchman", regular), regular);
    EXPECT_EQ(*ChooseConfigPath(flag, "switchman", link), link);
  }
  for (const std::string& absent : {missing, subdir}) {
    Result<std::string> chosen = ChooseConfigPath("", "sm", absent);
    ASSERT_FALSE(chosen.ok());
    EXPECT_EQ(chosen.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(
        chosen.status().message(),
        absent + " is absent and --config is missing, see sm -h for help");
  }
}

TEST(SwitchmanConfigTest, DefaultConfigPathIsTheOriginals) {
  EXPECT_EQ(kDefaultConfigPath, "/etc/switchman.conf");
}

TEST(SwitchmanConfigTest, LoadConfigReadsAndParsesTheFile) {
  TempDir dir;
  const std::string file = dir.Write(
      "a.conf", "{\n  \"zkhosts\": \"zk:1\",\n  \"prefix\": \"/p\"\n}\n");
  Result<Config> config = LoadConfig(file);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->prefix, "/p");

  const std::string bad = dir.Write("b.conf", R"({"zkhosts": "zk:1"})");
  EXPECT_EQ(LoadConfig(bad).status().message(),
            "prefix is not defined in " + bad);

  const std::string missing = dir.Missing("none.conf");
  EXPECT_EQ(LoadConfig(missing).status().message(),
            "Failed to open " + missing + ": No such file or directory");
  EXPECT_EQ(LoadConfig(missing).status().code(), Code::kInvalidArgument);

  const std::string subdir = dir.Mkdir("d");
  EXPECT_EQ(LoadConfig(subdir).status().message().rfind(
                "Failed to open " + subdir + ": ", 0),
            0U);

  const std::string huge =
      dir.Write("huge.conf", std::string((size_t{1} << 20) + 1, ' '));
  EXPECT_EQ(LoadConfig(huge).status().message(),
            "Failed to open " + huge + ": larger than 1048576 bytes");
}

// ---- The prefix znode ---------------------------------------------------

TEST(SwitchmanPrefixDataTest, EmptyOrZeroDataIsEmpty) {
  for (const std::string data : {"", "0", "{}"}) {
    PrefixData parsed = MustParsePrefix(data);
    EXPECT_TRUE(parsed.groups.empty()) << data;
    EXPECT_TRUE(parsed.resources.empty()) << data;
  }
}

TEST(SwitchmanPrefixDataTest, ParsesGroupsAndResources) {
  PrefixData parsed = MustParsePrefix(
      R"({"groups": {"a": ["h1", "h2"], "b": "a", "c": []},
          "resources": ["rr", "FQDN_cpu"]})");
  EXPECT_EQ(parsed.resources, (Items{"rr", "FQDN_cpu"}));
  ASSERT_EQ(parsed.groups.size(), 3U);
  EXPECT_EQ(parsed.groups["a"], (Items{"h1", "h2"}));
  EXPECT_EQ(parsed.groups["b"], Items{"a"});
  EXPECT_EQ(parsed.groups["c"], Items{});  // [] is true: described, empty
}

TEST(SwitchmanPrefixDataTest, InvalidJsonCouldNotBeDecoded) {
  for (const std::string data : {"x", "{", "{\"a\":1}x", "  ", "00",
                                 "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}"}) {
    const std::string error = PrefixError(data);
    EXPECT_EQ(error.rfind("Could not decode data: ", 0), 0U) << error;
    for (char c : error) {
      auto byte = static_cast<unsigned char>(c);
      EXPECT_TRUE(byte >= 0x20 && byte < 0x7F) << error;
    }
  }
}

TEST(SwitchmanPrefixDataTest, FalseTopLevelValuesCouldNotBeDecoded) {
  // The original's decoder returns them without an error, and its check
  // then fails with an empty reason.
  for (const std::string data : {"null", "false", "0.0", "\"\"", "\"0\""}) {
    EXPECT_EQ(PrefixError(data).rfind("Could not decode data: ", 0), 0U)
        << data;
  }
  EXPECT_EQ(PrefixError("null"), "Could not decode data: null is false");
}

TEST(SwitchmanPrefixDataTest, TrueNonObjectsAreRefused) {
  for (const std::string data : {"\"x\"", "[]", "[1]", "5", "true"}) {
    EXPECT_EQ(PrefixError(data), "Bad prefix data: hashref expected") << data;
  }
}

TEST(SwitchmanPrefixDataTest, SectionsOfTheWrongType) {
  for (const std::string data :
       {R"({"resources": "rr"})", R"({"resources": {}})", R"({"resources": 1})",
        R"({"resources": true})",
        // resources is checked before groups
        R"({"resources": "rr", "groups": []})"}) {
    EXPECT_EQ(PrefixError(data),
              "Bad prefix data: resources should be an array")
        << data;
  }
  for (const std::string data :
       {R"({"groups": []})", R"({"groups": "g"})", R"({"groups": 2})"}) {
    EXPECT_EQ(PrefixError(data), "Bad prefix data: groups should be a hash")
        << data;
  }
}

TEST(SwitchmanPrefixDataTest, FalseSectionsAreEmpty) {
  for (const std::string value : {"null", "false", "0", "\"\"", "\"0\""}) {
    std::string data = R"({"resources": )";
    data += value;
    data += R"(, "groups": )";
    data += value;
    data += "}";
    PrefixData parsed = MustParsePrefix(data);
    EXPECT_TRUE(parsed.resources.empty()) << value;
    EXPECT_TRUE(parsed.groups.empty()) << value;
  }
}

TEST(SwitchmanPrefixDataTest, ScalarItemsAreStringifiedOthersDropped) {
  PrefixData parsed = MustParsePrefix(
      R"({"resources": ["rr", 5, 1.5, true, null, ["x"], {"y": 1}, 1e3],
          "groups": {"n": 7, "t": true, "o": {"h": 1},
                     "l": ["h", 2, false, null, [], {}, 0.5]}})");
  EXPECT_EQ(parsed.resources, (Items{"rr", "5", "1.5", "1", "1000"}));
  EXPECT_EQ(parsed.groups["n"], Items{"7"});
  EXPECT_EQ(parsed.groups["t"], Items{"1"});
  EXPECT_EQ(parsed.groups["o"], Items{});
  EXPECT_EQ(parsed.groups["l"], (Items{"h", "2", "0", "0.5"}));
}

TEST(SwitchmanPrefixDataTest, FalseGroupValuesAreNotDescribed) {
  PrefixData parsed = MustParsePrefix(
      R"({"groups": {"a": "", "b": "0", "c": 0, "d": null, "e": false}})");
  ASSERT_EQ(parsed.groups.size(), 5U);
  for (const auto& [name, items] : parsed.groups) {
    EXPECT_FALSE(items.has_value()) << name;
  }
}

TEST(SwitchmanPrefixDataTest, TruncatedDataSaysSo) {
  const std::string data = R"({"groups": {}})";
  Result<PrefixData> cut = ParsePrefixData(data, 70000);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(cut.status().message(),
            "Could not decode data: prefix data truncated at 14 bytes (the "
            "node holds 70000); raise data_read_len in the config");
  // Even empty data: data_read_len 0 reads nothing of a non-empty node.
  EXPECT_FALSE(ParsePrefixData("", 10).ok());
  // A node no longer than what was read is complete.
  EXPECT_TRUE(ParsePrefixData(data, data.size()).ok());
  EXPECT_TRUE(ParsePrefixData(data, 3).ok());
}

// ---- Groups -------------------------------------------------------------

// The four tables of the original's tests (t/*.t), compared as sets.
TEST(SwitchmanGroupTest, PlainList) {
  EXPECT_EQ(Resolve(R"({"groups": {"a": ["abc", "def"]}})", "a"),
            (Hosts{"abc", "def"}));
}

TEST(SwitchmanGroupTest, AliasString) {
  EXPECT_EQ(Resolve(R"({"groups": {"a": ["abc", "def"], "b": "a"}})", "b"),
            (Hosts{"abc", "def"}));
}

TEST(SwitchmanGroupTest, Chain) {
  EXPECT_EQ(
      Resolve(R"({"groups": {"a": ["abc", "def"], "b": "a", "c": "b"}})", "c"),
      (Hosts{"abc", "def"}));
}

TEST(SwitchmanGroupTest, CycleTerminates) {
  EXPECT_EQ(Resolve(R"({"groups": {"a": ["abc", "def", "b"], "b": "a"}})", "a"),
            (Hosts{"abc", "def"}));
  EXPECT_EQ(Resolve(R"({"groups": {"a": "a"}})", "a"), Hosts{});
}

TEST(SwitchmanGroupTest, OrderIsDepthFirstAndDuplicatesAreDropped) {
  Result<GroupMembers> members = ResolveGroup(MustParsePrefix(R"({"groups": {
          "all": ["x", "web", "y", "db", "x", "web"],
          "web": ["w1", "db", "w2"],
          "db": ["d1", "w1"]}})"),
                                              "all");
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(members->hosts, (Items{"x", "y", "w1", "w2", "d1"}));
}

TEST(SwitchmanGroupTest, UndescribedGroups) {
  PrefixData data = MustParsePrefix(
      R"({"groups": {"a": ["h1", "b"], "b": "", "c": ["h2"]}})");
  Result<GroupMembers> missing = ResolveGroup(data, "nosuchgroup");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(), "Group <nosuchgroup> is not described");
  // A false group, requested or reached as a subgroup.
  EXPECT_EQ(ResolveGroup(data, "b").status().message(),
            "Group <b> is not described");
  EXPECT_EQ(ResolveGroup(data, "a").status().message(),
            "Group <b> is not described");
  EXPECT_TRUE(ResolveGroup(data, "c").ok());
  EXPECT_EQ(ResolveGroup(PrefixData{}, "x").status().code(), Code::kNotFound);
  EXPECT_EQ(ResolveGroup(data, "a\nb").status().message(),
            "Group <a\\x0ab> is not described");
}

TEST(SwitchmanGroupTest, AMisspeltSubgroupIsAHost) {
  EXPECT_EQ(Resolve(R"({"groups": {"a": ["webb", "h"], "web": ["w1"]}})", "a"),
            (Hosts{"webb", "h"}));
}

TEST(SwitchmanGroupTest, MembershipIsExactFqdnMatch) {
  Result<GroupMembers> members = ResolveGroup(
      MustParsePrefix(R"({"groups": {"g": ["host1.example.com", "db"],
                                     "db": "db1.example.com"}})"),
      "g");
  ASSERT_TRUE(members.ok());
  EXPECT_TRUE(members->Contains("host1.example.com"));
  EXPECT_TRUE(members->Contains("db1.example.com"));
  EXPECT_FALSE(members->Contains("host1"));
  EXPECT_FALSE(members->Contains("HOST1.example.com"));
  EXPECT_FALSE(members->Contains("host1.example.com."));
  EXPECT_FALSE(members->Contains("db"));  // a subgroup is not a member
  EXPECT_FALSE(members->Contains(""));
}

TEST(SwitchmanGroupTest, DeepNestingNeedsNoRecursion) {
  constexpr int kDepth = 200000;
  PrefixData data;
  for (int i = 0; i < kDepth; ++i) {
    data.groups["g" + std::to_string(i)] =
        Items{"g" + std::to_string(i + 1), "h" + std::to_string(i)};
  }
  data.groups["g" + std::to_string(kDepth)] = Items{"g0", "last"};
  Result<GroupMembers> members = ResolveGroup(data, "g0");
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(members->hosts.size(), static_cast<size_t>(kDepth) + 1);
  EXPECT_TRUE(members->Contains("last"));
  EXPECT_EQ(members->hosts.front(), "h0");
}

}  // namespace
}  // namespace conch::switchman

namespace conch::switchman {
namespace {

// Keys of ours, which the original ignores as unknown.
TEST(SwitchmanConfigTest, SessionTimeoutAndConflictExitCode) {
  Config config = MustParseConfig(ConfigText(""));
  EXPECT_EQ(config.session_timeout, std::chrono::seconds(10));
  EXPECT_EQ(config.conflict_exit_code, std::nullopt);
  config = MustParseConfig(
      ConfigText(R"(, "session_timeout": 4, "conflict_exit_code": 3)"));
  EXPECT_EQ(config.session_timeout, std::chrono::seconds(4));
  EXPECT_EQ(config.conflict_exit_code, 3);
  config = MustParseConfig(ConfigText(R"(, "conflict_exit_code": "75")"));
  EXPECT_EQ(config.conflict_exit_code, 75);
  EXPECT_NE(ConfigError(ConfigText(R"(, "session_timeout": 0)"))
                .find("bad session_timeout"),
            std::string::npos);
  EXPECT_NE(ConfigError(ConfigText(R"(, "session_timeout": "x")"))
                .find("bad session_timeout"),
            std::string::npos);
  EXPECT_NE(ConfigError(ConfigText(R"(, "conflict_exit_code": 256)"))
                .find("bad conflict_exit_code: \"256\" (0 to 255)"),
            std::string::npos);
}

}  // namespace
}  // namespace conch::switchman
