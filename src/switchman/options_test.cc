#include "switchman/options.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace conch::switchman {
namespace {

using Args = std::vector<std::string>;

Options MustParse(const Args& args, const ParseSettings& settings = {}) {
  Result<Options> options = ParseOptions(args, settings);
  EXPECT_TRUE(options.ok()) << options.status().ToString();
  if (!options.ok()) return {};
  return *options;
}

std::string ParseError(const Args& args, const ParseSettings& settings = {}) {
  Result<Options> options = ParseOptions(args, settings);
  EXPECT_FALSE(options.ok());
  if (options.ok()) return "";
  EXPECT_EQ(options.status().code(), Code::kInvalidArgument);
  return options.status().message();
}

constexpr std::string_view kParseFailed =
    "Couldn't parse options, see switchman -h for help: ";

TEST(SwitchmanOptionsTest, DefaultsWithJustACommand) {
  Options o = MustParse({"cmd"});
  EXPECT_EQ(o.action, Action::kRun);
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.config_path, "");
  EXPECT_EQ(o.group, "");
  EXPECT_TRUE(o.leases.empty());
  EXPECT_EQ(o.lockname, "cmd");
  EXPECT_TRUE(o.lockname_is_default);
  EXPECT_TRUE(o.lock);
  EXPECT_EQ(o.command, Args{"cmd"});
  EXPECT_EQ(o.exec, (ExecSpec{{"cmd"}, false}));
}

TEST(SwitchmanOptionsTest, EverySpellingOfAValuedOptionIsTheSame) {
  for (const Args& args : std::vector<Args>{
           {"-c", "x"},
           {"--config", "x"},
           {"-config", "x"},  // one dash is enough for long names
           {"--config=x"},
           {"-c=x"},  // getopt_compat splits "=" after one dash too
           {"-config=x"},
           {"+c", "x"},  // and "+" starts options as well
           {"+config=x"},
           {"-C", "x"},  // case-insensitive, single letters too
           {"--CONFIG", "x"},
           {"--Conf", "x"},  // unique abbreviations
           {"-co", "x"},
           {"--config", "y", "--config", "x"},  // the last one counts
       }) {
    Args full = args;
    full.push_back("cmd");
    Options o = MustParse(full);
    EXPECT_EQ(o.config_path, "x") << ::testing::PrintToString(args);
    EXPECT_EQ(o.command, Args{"cmd"}) << ::testing::PrintToString(args);
  }
}

TEST(SwitchmanOptionsTest, UniqueAbbreviationsAreAccepted) {
  EXPECT_EQ(MustParse({"--lockn", "n", "x"}).lockname, "n");
  EXPECT_EQ(MustParse({"--lockna", "n", "x"}).lockname, "n");
  EXPECT_EQ(MustParse({"--le", "r=1:1", "x"}).leases.size(), 1U);
  EXPECT_EQ(MustParse({"--lea", "r=1:1", "x"}).leases.size(), 1U);
  EXPECT_EQ(MustParse({"--gr", "web", "x"}).group, "web");
  EXPECT_EQ(MustParse({"--grou", "web", "x"}).group, "web");
  EXPECT_EQ(MustParse({"--he"}).action, Action::kHelp);
  EXPECT_EQ(MustParse({"--vers"}).action, Action::kVersion);
  // "n" and "no" match both "nolock" and "no-lock", which are one option.
  EXPECT_FALSE(MustParse({"--n", "x"}).lock);
  EXPECT_FALSE(MustParse({"--no", "x"}).lock);
  EXPECT_FALSE(MustParse({"--no-l", "x"}).lock);
  EXPECT_FALSE(MustParse({"--nol", "x"}).lock);
}

TEST(SwitchmanOptionsTest, AmbiguousAbbreviationsAreErrors) {
  EXPECT_EQ(ParseError({"--l", "x"}),
            std::string(kParseFailed) +
                "Option \"--l\" is ambiguous (lease, lock, lockname)");
  EXPECT_EQ(ParseError({"--lo", "x"}),
            std::string(kParseFailed) +
                "Option \"--lo\" is ambiguous (lock, lockname)");
  EXPECT_EQ(ParseError({"-LOC", "x"}),
            std::string(kParseFailed) +
                "Option \"-LOC\" is ambiguous (lock, lockname)");
}

TEST(SwitchmanOptionsTest, AnExactNameBeatsLongerNames) {
  // "lock" is also a prefix of "lockname", "c" of "config", "h" of "help".
  EXPECT_TRUE(MustParse({"--nolock", "--lock", "x"}).lock);
  EXPECT_EQ(MustParse({"--lock", "x"}).lockname, "x");
  EXPECT_EQ(MustParse({"-c", "f", "x"}).config_path, "f");
  EXPECT_EQ(MustParse({"-h"}).action, Action::kHelp);
  EXPECT_EQ(MustParse({"-v"}).action, Action::kVersion);
  EXPECT_EQ(MustParse({"-g", "w", "x"}).group, "w");
}

TEST(SwitchmanOptionsTest, NamesIgnoreCase) {
  EXPECT_EQ(MustParse({"-H"}).action, Action::kHelp);
  EXPECT_EQ(MustParse({"--HELP"}).action, Action::kHelp);
  EXPECT_EQ(MustParse({"-V"}).action, Action::kVersion);
  EXPECT_FALSE(MustParse({"--NoLock", "x"}).lock);
  EXPECT_FALSE(MustParse({"--No-Lock", "x"}).lock);
  EXPECT_EQ(MustParse({"--LockName", "n", "x"}).lockname, "n");
  EXPECT_EQ(MustParse({"-G", "w", "x"}).group, "w");
}

TEST(SwitchmanOptionsTest, LockAndItsNegations) {
  EXPECT_TRUE(MustParse({"--lock", "x"}).lock);
  EXPECT_FALSE(MustParse({"--no-lock", "x"}).lock);
  EXPECT_FALSE(MustParse({"--nolock", "x"}).lock);
  EXPECT_FALSE(MustParse({"-nolock", "x"}).lock);
  EXPECT_FALSE(MustParse({"--lock", "--nolock", "x"}).lock);
  EXPECT_TRUE(MustParse({"--nolock", "--lock", "x"}).lock);
  EXPECT_EQ(ParseError({"--lock=1", "x"}),
            std::string(kParseFailed) +
                "Option \"--lock\" does not take an argument");
  EXPECT_EQ(ParseError({"--nolock=0", "x"}),
            std::string(kParseFailed) +
                "Option \"--nolock\" does not take an argument");
}

TEST(SwitchmanOptionsTest, HelpAndVersionActWhenReached) {
  for (const Args& args : std::vector<Args>{
           {"-h"},
           {"--help"},
           {"--bogus", "-h"},  // earlier errors were only warnings
           {"-h", "--bogus"},  // later words are never looked at
           {"cmd", "-h"},      // permute: -h after CMD is still an option
           {"-h", "-v"},
       }) {
    Result<Options> o = ParseOptions(args);
    ASSERT_TRUE(o.ok()) << ::testing::PrintToString(args);
    EXPECT_EQ(o->action, Action::kHelp) << ::testing::PrintToString(args);
    EXPECT_EQ(o->exit_code, kHelpExitCode);
    EXPECT_EQ(kHelpExitCode, 1);  // the original's pod2usage(-exitval => 1)
  }
  Options version = MustParse({"-v", "-h"});
  EXPECT_EQ(version.action, Action::kVersion);
  EXPECT_EQ(version.exit_code, 1);
  EXPECT_EQ(MustParse({"--version"}).action, Action::kVersion);
}

TEST(SwitchmanOptionsTest, HelpAfterDoubleDashOrAsAValueIsNotHelp) {
  EXPECT_EQ(MustParse({"--", "-h"}).command, Args{"-h"});
  Options o = MustParse({"-c", "-h", "cmd"});
  EXPECT_EQ(o.action, Action::kRun);
  EXPECT_EQ(o.config_path, "-h");
  EXPECT_EQ(ParseError({"--help=1", "cmd"}),
            std::string(kParseFailed) +
                "Option \"--help\" does not take an argument");
}

TEST(SwitchmanOptionsTest, PermuteCollectsWordsAroundOptions) {
  Options o = MustParse({"cmd", "-g", "web", "arg", "--lockname", "n", "x"});
  EXPECT_EQ(o.group, "web");
  EXPECT_EQ(o.lockname, "n");
  EXPECT_EQ(o.command, (Args{"cmd", "arg", "x"}));
}

TEST(SwitchmanOptionsTest, DoubleDashEndsOptionsAndRestFollowsTheWords) {
  Options o = MustParse(
      {"a", "--lockname", "n", "b", "--", "c", "--lock", "-g", "x", "--", "d"});
  EXPECT_EQ(o.command, (Args{"a", "b", "c", "--lock", "-g", "x", "--", "d"}));
  EXPECT_EQ(o.group, "");
  EXPECT_EQ(o.lockname, "n");
  EXPECT_EQ(MustParse({"--", "--"}).command, Args{"--"});
}

TEST(SwitchmanOptionsTest, AValueIsTheNextWordWhateverItLooksLike) {
  Options o = MustParse({"--lockname", "--", "-g", "-h", "cmd"});
  EXPECT_EQ(o.lockname, "--");
  EXPECT_EQ(o.group, "-h");
  EXPECT_EQ(o.command, Args{"cmd"});
  EXPECT_EQ(MustParse({"-c", "--lock", "cmd"}).config_path, "--lock");
}

TEST(SwitchmanOptionsTest, LoneDashIsAWordAndLonePlusIsAnError) {
  Options o = MustParse({"-"});
  EXPECT_EQ(o.command, Args{"-"});
  EXPECT_EQ(o.lockname, "-");
  EXPECT_EQ(MustParse({"cat", "-"}).command, (Args{"cat", "-"}));
  EXPECT_EQ(ParseError({"+", "x"}),
            std::string(kParseFailed) + "Missing option after \"+\"");
}

TEST(SwitchmanOptionsTest, UnknownOptionsIncludeCommandArgumentsBeforeDashes) {
  EXPECT_EQ(ParseError({"--bogus", "x"}),
            std::string(kParseFailed) + "Unknown option: \"--bogus\"");
  EXPECT_EQ(ParseError({"---lock", "x"}),
            std::string(kParseFailed) + "Unknown option: \"---lock\"");
  EXPECT_EQ(ParseError({"--=x", "x"}),
            std::string(kParseFailed) + "Unknown option: \"--=x\"");
  // As in the original, CMD's own options need "--" in front of CMD.
  EXPECT_EQ(ParseError({"sleep", "-1"}),
            std::string(kParseFailed) + "Unknown option: \"-1\"");
  EXPECT_EQ(ParseError({"date", "+%s"}),
            std::string(kParseFailed) + "Unknown option: \"+%s\"");
  EXPECT_EQ(MustParse({"--", "date", "+%s"}).command, (Args{"date", "+%s"}));
}

TEST(SwitchmanOptionsTest, MissingValues) {
  EXPECT_EQ(
      ParseError({"x", "--config"}),
      std::string(kParseFailed) + "Option \"--config\" requires an argument");
  EXPECT_EQ(
      ParseError({"--config=", "x"}),
      std::string(kParseFailed) + "Option \"--config\" requires an argument");
  EXPECT_EQ(
      ParseError({"--lease=", "x"}),
      std::string(kParseFailed) + "Option \"--lease\" requires an argument");
  // A separate empty word is a value, and an empty -c means "not given".
  EXPECT_EQ(MustParse({"--config", "", "x"}).config_path, "");
}

TEST(SwitchmanOptionsTest, ErrorsAreCollectedAndNamed) {
  ParseSettings settings;
  settings.prog = "/usr/local/bin/switchman";
  EXPECT_EQ(ParseError({"--bogus", "--l", "--lease", "rr", "x"}, settings),
            "Couldn't parse options, see /usr/local/bin/switchman -h for "
            "help: Unknown option: \"--bogus\"; Option \"--l\" is ambiguous "
            "(lease, lock, lockname); Option \"--lease\", key \"rr\", "
            "requires a value");
  // A parse error is reported before a missing command.
  EXPECT_EQ(ParseError({"--bogus"}),
            std::string(kParseFailed) + "Unknown option: \"--bogus\"");
}

TEST(SwitchmanOptionsTest, NoCommand) {
  EXPECT_EQ(ParseError({}), "No command provided");
  EXPECT_EQ(ParseError({"-g", "web"}), "No command provided");
  EXPECT_EQ(ParseError({"--"}), "No command provided");
  EXPECT_EQ(ParseError({"--lockname", "n", "--"}), "No command provided");
}

TEST(SwitchmanOptionsTest, LeasesKeepFirstOrderAndLastValue) {
  Options o = MustParse({"--lease", "rr=1:1", "--lease", "FQDN_mem=4096:MEMMB",
                         "--lease=rr=3:3", "cmd"});
  ASSERT_EQ(o.leases.size(), 2U);
  EXPECT_EQ(o.leases[0], (LeaseOption{"rr", "3:3"}));
  EXPECT_EQ(o.leases[1], (LeaseOption{"FQDN_mem", "4096:MEMMB"}));
  EXPECT_EQ(o.leases[0].Arg(), "rr=3:3");
}

TEST(SwitchmanOptionsTest, LeaseSplitsAtTheFirstEquals) {
  Options o =
      MustParse({"--lease", "a=b=c", "--lease", "=5", "--lease", "e=", "cmd"});
  ASSERT_EQ(o.leases.size(), 3U);
  EXPECT_EQ(o.leases[0], (LeaseOption{"a", "b=c"}));
  EXPECT_EQ(o.leases[1], (LeaseOption{"", "5"}));
  EXPECT_EQ(o.leases[2], (LeaseOption{"e", ""}));
  EXPECT_EQ(ParseError({"--lease", "rr", "cmd"}),
            std::string(kParseFailed) +
                "Option \"--lease\", key \"rr\", requires a value");
}

TEST(SwitchmanOptionsTest, FalseConfigAndGroupMeanNotGiven) {
  EXPECT_EQ(MustParse({"-c", "0", "x"}).config_path, "");
  EXPECT_EQ(MustParse({"-g", "0", "x"}).group, "");
  EXPECT_EQ(MustParse({"-g", "", "x"}).group, "");
  EXPECT_EQ(MustParse({"-g", "00", "x"}).group, "00");
}

TEST(SwitchmanOptionsTest, PosixlyCorrectFollowsGetoptLongsPosixMode) {
  ParseSettings posix;
  posix.posixly_correct = true;
  // The first plain word ends the options; "--" after it is part of CMD.
  Options o = MustParse({"-g", "web", "cmd", "-g", "x", "--", "y"}, posix);
  EXPECT_EQ(o.group, "web");
  EXPECT_EQ(o.command, (Args{"cmd", "-g", "x", "--", "y"}));
  EXPECT_EQ(MustParse({"--", "a"}, posix).command, Args{"a"});
  // No abbreviations, no "+" starter, no "=" after a single dash.
  EXPECT_EQ(ParseError({"--lockn", "n", "x"}, posix),
            std::string(kParseFailed) + "Unknown option: \"--lockn\"");
  EXPECT_EQ(MustParse({"+c", "x"}, posix).command, (Args{"+c", "x"}));
  EXPECT_EQ(ParseError({"-c=x", "cmd"}, posix),
            std::string(kParseFailed) + "Unknown option: \"-c=x\"");
  EXPECT_EQ(MustParse({"--config=x", "cmd"}, posix).config_path, "x");
  // Names still ignore case.
  EXPECT_EQ(MustParse({"--CONFIG", "x", "cmd"}, posix).config_path, "x");
}

TEST(SwitchmanOptionsTest, DefaultLocknameIsTheBasenameOfTheFirstWord) {
  EXPECT_EQ(MustParse({"sleep 10"}).lockname, "sleep 10");
  EXPECT_EQ(MustParse({"echo x > /tmp/f"}).lockname, "f");
  EXPECT_EQ(MustParse({"/usr/bin/foo", "a/b"}).lockname, "foo");
  EXPECT_EQ(MustParse({"--", "./run.sh", "-x"}).lockname, "run.sh");
}

TEST(SwitchmanOptionsTest, FalseExplicitLocknameIsReplacedByTheDefault) {
  for (const std::string name : {"", "0"}) {
    Options o = MustParse({"--lockname", name, "/bin/ls"});
    EXPECT_EQ(o.lockname, "ls");
    EXPECT_TRUE(o.lockname_is_default);
  }
  Options o = MustParse({"--lockname", "00", "/bin/ls"});
  EXPECT_EQ(o.lockname, "00");
  EXPECT_FALSE(o.lockname_is_default);
}

TEST(SwitchmanOptionsTest, LocknameRulesApplyToExplicitAndDefaultNames) {
  EXPECT_EQ(ParseError({"--lockname", "a/b", "x"}),
            "lockname must not contain '/'");
  // basename("") is "./" and basename("/") is "/".
  EXPECT_EQ(ParseError({""}), "lockname must not contain '/'");
  EXPECT_EQ(ParseError({"/"}), "lockname must not contain '/'");
  EXPECT_EQ(
      ParseError({"--lockname", std::string(513, 'n'), "x"}).substr(0, 22),
      "lockname is too long: ");
  EXPECT_EQ(MustParse({"--lockname", std::string(512, 'n'), "x"}).lockname,
            std::string(512, 'n'));
}

TEST(SwitchmanOptionsTest, PerlBasename) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "./"},
      {"/", "/"},
      {"///", "/"},
      {"a", "a"},
      {"a/", "a"},
      {"a//", "a"},
      {"/a", "a"},
      {"/a/b", "b"},
      {"/a/b/", "b"},
      {"a/b//", "b"},
      {"//a//", "a"},
      {".", "."},
      {"..", ".."},
      {"./", "."},
      {"sleep 10", "sleep 10"},
      {"echo x > /tmp/f", "f"},
      {"echo x > /tmp/", "tmp"},
      {"a\nb/c\n", "c\n"},
  };
  for (const auto& [path, base] : cases) {
    EXPECT_EQ(PerlBasename(path), base) << ::testing::PrintToString(path);
  }
  EXPECT_EQ(DefaultLockname({}), "");
  EXPECT_EQ(DefaultLockname({"/bin/x", "y"}), "x");
}

TEST(SwitchmanOptionsTest, ValidateLockname) {
  EXPECT_TRUE(ValidateLockname("x").ok());
  EXPECT_TRUE(ValidateLockname("sleep 10").ok());
  EXPECT_TRUE(ValidateLockname(std::string(kMaxLocknameBytes, 'a')).ok());
  Status too_long = ValidateLockname(std::string(513, 'a'));
  EXPECT_EQ(too_long.code(), Code::kInvalidArgument);
  EXPECT_EQ(too_long.message(), "lockname is too long: \"" +
                                    std::string(64, 'a') +
                                    "...\" (513 bytes, at most 512)");
  // Length is in bytes (the original sees undecoded bytes), and is checked
  // before the slash.
  std::string cyrillic;
  for (int i = 0; i < 257; ++i) cyrillic += "\xD0\x96";  // 257 x U+0416
  EXPECT_FALSE(ValidateLockname(cyrillic).ok());
  EXPECT_EQ(ValidateLockname(std::string(600, '/')).message().substr(0, 21),
            "lockname is too long:");
  EXPECT_EQ(ValidateLockname("a/b").message(), "lockname must not contain '/'");
  EXPECT_EQ(ValidateLockname(".").message(),
            "lockname must not be \".\" or \"..\"");
  EXPECT_FALSE(ValidateLockname("..").ok());
  EXPECT_TRUE(ValidateLockname("...").ok());
}

TEST(SwitchmanOptionsTest, ExecSeveralWordsAreExecutedAsGiven) {
  EXPECT_EQ(*ExecSpecFor({"echo", "a b", "$HOME"}),
            (ExecSpec{{"echo", "a b", "$HOME"}, false}));
  EXPECT_EQ(*ExecSpecFor({"", "x"}), (ExecSpec{{"", "x"}, false}));
}

TEST(SwitchmanOptionsTest, ExecOneWordWithoutMetacharactersIsSplit) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"sleep 10", {"sleep", "10"}},
      {"  sleep \t 10  ", {"sleep", "10"}},
      {"cmd\t\v\f\rarg", {"cmd", "arg"}},
      {"cmd\n", {"cmd"}},             // a final newline is dropped
      {"\n\ncmd x\n", {"cmd", "x"}},  // leading whitespace is skipped
      {"cmd #x !y %z ^w", {"cmd", "#x", "!y", "%z", "^w"}},
      {"cmd a=b", {"cmd", "a=b"}},
      {"A-B=1 x", {"A-B=1", "x"}},  // "-" is not a word character
      {".foo", {".foo"}},
      {"execfoo", {"execfoo"}},
      {"exec", {"exec"}},
      {"/bin/true", {"/bin/true"}},
  };
  for (const auto& [word, argv] : cases) {
    Result<ExecSpec> spec = ExecSpecFor({word});
    ASSERT_TRUE(spec.ok()) << ::testing::PrintToString(word);
    EXPECT_EQ(*spec, (ExecSpec{argv, false})) << ::testing::PrintToString(word);
  }
}

TEST(SwitchmanOptionsTest, ExecOneWordWithMetacharactersUsesTheShell) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"echo x > /tmp/f", "echo x > /tmp/f"},
      {"  a | b", "a | b"},  // leading whitespace is skipped here too
      {"cmd $x", "cmd $x"},
      {"cmd 'a'", "cmd 'a'"},
      {"cmd \"a\"", "cmd \"a\""},
      {"cmd a\\b", "cmd a\\b"},
      {"cmd x~", "cmd x~"},
      {"cmd {a}", "cmd {a}"},
      {"cmd ?", "cmd ?"},
      {"cmd\na", "cmd\na"},  // an inner newline
      {"cmd 2>&1x", "cmd 2>&1x"},
      {"cmd 2>&1 x", "cmd 2>&1 x"},
      {"cmd x2>&1", "cmd x2>&1"},
      {"cmd 12>&1", "cmd 12>&1"},
      {"cmd 1>&2", "cmd 1>&2"},
      {"2>&1", "2>&1"},
      {". foo", ". foo"},  // the "." builtin
      {".\tfoo", ".\tfoo"},
      {". ", ". "},
      {"exec foo", "exec foo"},
      {"exec\nx", "exec\nx"},
      {"FOO=bar cmd", "FOO=bar cmd"},  // VAR=val
      {"_A9=1 x", "_A9=1 x"},
      {"=x", "=x"},
      {"x=y=z", "x=y=z"},
  };
  for (const auto& [word, script] : cases) {
    Result<ExecSpec> spec = ExecSpecFor({word});
    ASSERT_TRUE(spec.ok()) << ::testing::PrintToString(word);
    EXPECT_EQ(*spec, (ExecSpec{{"/bin/sh", "-c", script}, false}))
        << ::testing::PrintToString(word);
  }
}

TEST(SwitchmanOptionsTest, ExecTrailingStderrRedirectIsDoneWithoutShell) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"cmd 2>&1", {"cmd"}},  {"cmd a 2>&1  ", {"cmd", "a"}},
      {"cmd\t2>&1", {"cmd"}}, {"cmd 2>&1\n", {"cmd"}},
      {"x\v2>&1", {"x"}},
  };
  for (const auto& [word, argv] : cases) {
    Result<ExecSpec> spec = ExecSpecFor({word});
    ASSERT_TRUE(spec.ok()) << ::testing::PrintToString(word);
    EXPECT_EQ(*spec, (ExecSpec{argv, true})) << ::testing::PrintToString(word);
  }
}

TEST(SwitchmanOptionsTest, ExecBlankOrMissingCommandIsAnError) {
  for (const std::string word : {"", "   ", "\n", "\t\r\n"}) {
    Result<ExecSpec> spec = ExecSpecFor({word});
    ASSERT_FALSE(spec.ok());
    EXPECT_EQ(spec.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(spec.status().message().substr(0, 18), "command is blank: ");
  }
  EXPECT_EQ(ExecSpecFor({}).status().message(), "No command provided");
  // Through ParseOptions, with a lock name that passes.
  EXPECT_EQ(ParseError({"--lockname", "n", "  "}), "command is blank: \"  \"");
}

TEST(SwitchmanOptionsTest, ExecStopsAtANulByteAsPerlsCStringDoes) {
  EXPECT_EQ(*ExecSpecFor({std::string("ls\0; rm x", 9)}),
            (ExecSpec{{"ls"}, false}));
}

TEST(SwitchmanOptionsTest, ParseOptionsFillsTheExecSpec) {
  EXPECT_EQ(MustParse({"sleep 10"}).exec, (ExecSpec{{"sleep", "10"}, false}));
  EXPECT_EQ(MustParse({"--", "sh", "-c", "exit 3"}).exec,
            (ExecSpec{{"sh", "-c", "exit 3"}, false}));
}

TEST(SwitchmanOptionsTest, HelpTextCoversOptionsConfigAndExitCodes) {
  const std::string help = HelpText("/opt/bin/switchman");
  EXPECT_EQ(help.rfind("Usage: /opt/bin/switchman [OPTIONS] [--] CMD", 0), 0U);
  for (const char* needle :
       {"-c, --config PATH",
        "-g, --group NAME",
        "--lease RES=COUNT:TOTAL",
        "--lockname NAME",
        "--lock",
        "--no-lock, --nolock",
        "-h, --help",
        "-v, --version",
        "zkhosts",
        "prefix",
        "data_read_len",
        "logfile",
        "loglevel",
        "resources_wait_timeout",
        "termination_timeout",
        "\"groups\"",
        "\"resources\"",
        "CPU",
        "FQDN",
        "MEMMB",
        "128+N",
        "\n  64 ",
        "\n  69 ",
        "\n  70 ",
        "\n  75 ",
        "\n  1 ",
        "switchman -- cmd",
        "switchman --lockname $(hostname)-rr --lease rr=1:1 -- restart-cmd",
        "switchman --lease FQDN_cpu=1:CPU --lease FQDN_mem=4096:MEMMB -- cmd",
        "flock(1)"}) {
    EXPECT_NE(help.find(needle), std::string::npos) << needle;
  }
  EXPECT_EQ(help.back(), '\n');
  // Every line fits a terminal.
  size_t start = 0;
  while (start < help.size()) {
    size_t end = help.find('\n', start);
    EXPECT_LE(end - start, 80U) << help.substr(start, end - start);
    start = end + 1;
  }
}

TEST(SwitchmanOptionsTest, VersionTextStartsLikeTheOriginals) {
  const std::string text = VersionText("0.1.0");
  EXPECT_EQ(text.rfind("switchman 1.16 (conch 0.1.0)\n", 0), 0U);
}

}  // namespace
}  // namespace conch::switchman

namespace conch::switchman {
namespace {

// Ours: -E/--exit-conflict, named so that every abbreviation the original
// accepted keeps its meaning.
TEST(SwitchmanOptionsTest, ExitConflictTakesAStatusFrom0To255) {
  EXPECT_EQ(MustParse({"x"}).conflict_exit_code, std::nullopt);
  EXPECT_EQ(MustParse({"-E", "3", "x"}).conflict_exit_code, 3);
  EXPECT_EQ(MustParse({"-e", "0", "x"}).conflict_exit_code, 0);
  EXPECT_EQ(MustParse({"--exit-conflict=255", "x"}).conflict_exit_code, 255);
  EXPECT_EQ(MustParse({"--exit", "9", "x"}).conflict_exit_code, 9);
  for (const char* bad : {"256", "-1", "x", "", "1.5", "0x1"}) {
    Result<Options> o = ParseOptions({"-E", bad, "x"});
    EXPECT_FALSE(o.ok()) << bad;
  }
  EXPECT_EQ(ParseError({"-E", "300", "x"}),
            "Option --exit-conflict: bad exit status \"300\" (0 to 255)");
  // The original's abbreviations still mean what they meant.
  EXPECT_EQ(MustParse({"--conf", "/c", "x"}).config_path, "/c");
  EXPECT_FALSE(MustParse({"--n", "x"}).lock);
}

TEST(SwitchmanOptionsTest, ParseExitCode) {
  EXPECT_EQ(ParseExitCode("0"), 0);
  EXPECT_EQ(ParseExitCode("075"), 75);
  EXPECT_EQ(ParseExitCode("255"), 255);
  EXPECT_EQ(ParseExitCode("256"), std::nullopt);
  EXPECT_EQ(ParseExitCode("1000"), std::nullopt);
  EXPECT_EQ(ParseExitCode(""), std::nullopt);
  EXPECT_EQ(ParseExitCode("+1"), std::nullopt);
}

}  // namespace
}  // namespace conch::switchman
