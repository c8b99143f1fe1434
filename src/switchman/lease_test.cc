#include "switchman/lease.h"

#include <unistd.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace conch::switchman {
namespace {

HostFacts Facts() {
  HostFacts facts;
  facts.cpus = 8;
  facts.fqdn = "host.example.com";
  facts.mem_mb = 15890;
  return facts;
}

std::string ShowResult(const Result<Fraction>& r) {
  if (!r.ok()) return "error: " + r.status().message();
  return std::to_string(r->num) + "/" + std::to_string(r->den);
}

// "resource count/total", or "error: " and the message.
std::string ShowLease(const Result<Lease>& r) {
  if (!r.ok()) return "error: " + r.status().message();
  return r->resource + " " + std::to_string(r->count) + "/" +
         std::to_string(r->total);
}

// The value, or the code's number and the message.
std::string ShowMb(const Result<int64_t>& r) {
  if (!r.ok()) {
    return "error " + std::to_string(static_cast<int>(r.status().code())) +
           ": " + r.status().message();
  }
  return std::to_string(*r);
}

// ---- Macros ----

TEST(ExpandMacrosTest, ReplacesSubstringsInOneLeftToRightPass) {
  struct Case {
    std::string in;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"MYCPUS", "MY8S"},
      {"FQDN_mem", "host.example.com_mem"},
      {"4:int(MEMMB/1024)", "4:int(15890/1024)"},
      {"1:CPU", "1:8"},
      {"CPUFQDNMEMMB", "8host.example.com15890"},
      {"MEMMEMMB", "MEM15890"},
      {"CPCPU", "CP8"},
      {"CPUCPU", "88"},
      {"cpu Cpu FQD MEMM", "cpu Cpu FQD MEMM"},
      {"", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ExpandMacros(c.in, Facts()), c.want) << c.in;
  }
}

TEST(ExpandMacrosTest, ReplacementTextIsNotExpandedAgain) {
  HostFacts facts = Facts();
  facts.fqdn = "CPU.MEMMB.example.com";
  EXPECT_EQ(ExpandMacros("FQDN_cpu", facts), "CPU.MEMMB.example.com_cpu");
  EXPECT_EQ(ExpandMacros("FQDNCPU", facts), "CPU.MEMMB.example.com8");
}

// ---- The evaluator ----

TEST(EvalExpressionTest, ComputesWithPerlMeaning) {
  struct Case {
    std::string expr;
    Fraction want;
  };
  // Each expected value is what perl -e 'print EXPR' prints (as a fraction).
  const std::vector<Case> cases = {
      {"4", {4, 1}},
      {" 42\t", {42, 1}},
      {"0", {0, 1}},
      // "/" is true division; int() truncates toward zero.
      {"7/2", {7, 2}},
      {"-7/2", {-7, 2}},
      {"int(7/2)", {3, 1}},
      {"int(-7/2)", {-3, 1}},
      {"int (7 / 2)", {3, 1}},
      {"int(15890/1024)", {15, 1}},
      {"1/3*3", {1, 1}},
      {"6/4", {3, 2}},
      // "%" truncates its operands, and the result takes the right sign.
      {"7 % 3", {1, 1}},
      {"-7 % 3", {2, 1}},
      {"7 % -3", {-2, 1}},
      {"-7 % -3", {-1, 1}},
      {"6 % 3", {0, 1}},
      {"-6 % 3", {0, 1}},
      {"(7/2) % 2", {1, 1}},
      {"(-7/2) % 5", {2, 1}},
      {"7 % (5/2)", {1, 1}},
      // Precedence and associativity.
      {"2+3*4", {14, 1}},
      {"(2+3)*4", {20, 1}},
      {"10-4-3", {3, 1}},
      {"100/10/5", {2, 1}},
      {"2*3%4", {2, 1}},
      {"7%4*3", {9, 1}},
      {"-7 % 3 * 2", {4, 1}},
      {"2 * -7 % 3", {1, 1}},
      {"-2*3", {-6, 1}},
      // Unary minus and plus.
      {"- -3", {3, 1}},
      {"+5", {5, 1}},
      {"1 - -1", {2, 1}},
      {"1+-1", {0, 1}},
      {"-+-2", {2, 1}},
      {"-(2+3)", {-5, 1}},
      {"int(-(7/2))", {-3, 1}},
      // The extremes.
      {"9223372036854775807", {INT64_MAX, 1}},
      {"-9223372036854775807", {-INT64_MAX, 1}},
      {"int(9223372036854775807/2)", {4611686018427387903, 1}},
      {"9223372036854775807/9223372036854775806", {INT64_MAX, INT64_MAX - 1}},
  };
  for (const Case& c : cases) {
    Result<Fraction> got = EvalExpression(c.expr);
    EXPECT_EQ(ShowResult(got),
              std::to_string(c.want.num) + "/" + std::to_string(c.want.den))
        << c.expr;
  }
}

TEST(EvalExpressionTest, RejectsAnythingElseWithItsPosition) {
  struct Case {
    std::string expr;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"", "empty expression"},
      {" \t ", "empty expression"},
      {"x", R"(unknown name "x" at position 1)"},
      {"1 + MY8S", R"(unknown name "MY8S" at position 5)"},
      {"host.example.com", R"(unknown name "host" at position 1)"},
      {"integer(1)", R"(unknown name "integer" at position 1)"},
      {"8S", R"(bad number "8S" at position 1: only decimal integers are )"
             "allowed"},
      {"7.5", R"(bad number "7.5" at position 1: only decimal integers are )"
              "allowed"},
      {"0x10", R"(bad number "0x10" at position 1: only decimal integers are )"
               "allowed"},
      {"1e3", R"(bad number "1e3" at position 1: only decimal integers are )"
              "allowed"},
      {"1_000", R"(bad number "1_000" at position 1: only decimal integers )"
                "are allowed"},
      {"010", R"(bad number "010" at position 1: Perl would read a leading )"
              "zero as octal"},
      {"2 * 00", R"(bad number "00" at position 5: Perl would read a leading )"
                 "zero as octal"},
      {"9223372036854775808", "number at position 1 is too large"},
      {"1 +", "unexpected end at position 4"},
      {"-", "unexpected end at position 2"},
      {"(1", R"("(" at position 1 is not closed)"},
      {"1)", R"x(unexpected ")" at position 2)x"},
      {"()", R"x(unexpected ")" at position 2)x"},
      {"(1 2)", R"(unexpected "2" at position 4)"},
      {"1 2", R"(unexpected "2" at position 3)"},
      {"int()", R"x(unexpected ")" at position 5)x"},
      {"int 7", R"("int" at position 1 must be followed by "(")"},
      {"3 + int", R"("int" at position 5 must be followed by "(")"},
      {"2**3", R"(unsupported operator "**" at position 2)"},
      {"1--1", R"(unsupported operator "--" at position 2)"},
      {"--1", R"(unsupported operator "--" at position 1)"},
      {"1 + ++1", R"(unsupported operator "++" at position 5)"},
      {"1 # comment", R"(unexpected "#" at position 3)"},
      {"1 ^ 2", R"(unexpected "^" at position 3)"},
      {"2:3", R"(unexpected ":" at position 2)"},
      {"1\x01", "unexpected byte 0x01 at position 2"},
      {"\xc3\xa9", "unexpected byte 0xc3 at position 1"},
      {std::string("1\0", 2), "unexpected byte 0x00 at position 2"},
      {"1/0", "division by zero at position 2"},
      {"1 / (1-1)", "division by zero at position 3"},
      {"5 % 0", "modulus by zero at position 3"},
      {"5 % (1/2)", "modulus by zero at position 3"},
      {"9223372036854775807+1",
       R"(result of "+" at position 20 is out of range (beyond 2^63-1))"},
      {"-9223372036854775807-2",
       R"(result of "-" at position 21 is out of range (beyond 2^63-1))"},
      {"4611686018427387904*2",
       R"(result of "*" at position 20 is out of range (beyond 2^63-1))"},
      {"1/9223372036854775807/2",
       R"(result of "/" at position 22 is out of range (beyond 2^63-1))"},
  };
  for (const Case& c : cases) {
    Result<Fraction> got = EvalExpression(c.expr);
    EXPECT_EQ(ShowResult(got), "error: " + c.want) << c.expr;
    EXPECT_EQ(got.status().code(), Code::kInvalidArgument) << c.expr;
  }
}

TEST(EvalExpressionTest, NestingIsBoundedAt64Levels) {
  const std::string ok = std::string(64, '(') + "1" + std::string(64, ')');
  EXPECT_EQ(ShowResult(EvalExpression(ok)), "1/1");
  const std::string deep = std::string(65, '(') + "1" + std::string(65, ')');
  EXPECT_EQ(ShowResult(EvalExpression(deep)),
            "error: parentheses nested deeper than 64 at position 65");
  std::string deep_int;
  for (int i = 0; i < 65; ++i) deep_int += "int(";
  EXPECT_EQ(ShowResult(EvalExpression(deep_int + "1")),
            "error: parentheses nested deeper than 64 at position 260");
  // A long chain of unary signs is a loop, not recursion.
  std::string signs;
  for (int i = 0; i < 10000; ++i) signs += "- ";
  EXPECT_EQ(ShowResult(EvalExpression(signs + "3")), "3/1");
}

TEST(EvalExpressionTest, DenominatorsThatGrowTooLargeAreErrors) {
  std::string expr = "1";
  for (int i = 0; i < 40; ++i) expr += "/3";
  Result<Fraction> got = EvalExpression(expr);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("out of range"), std::string::npos)
      << got.status().message();
}

// ---- One --lease argument ----

TEST(ParseLeaseTest, ParsesTheManualsExamples) {
  struct Case {
    std::string arg;
    std::string resource;
    int64_t count;
    int64_t total;
  };
  const std::vector<Case> cases = {
      {"rr=1:1", "rr", 1, 1},
      {"FQDN_mem=4:int(MEMMB/1024)", "host.example.com_mem", 4, 15},
      {"FQDN_cpu=1:CPU", "host.example.com_cpu", 1, 8},
      {"FQDN_mem=4096:MEMMB", "host.example.com_mem", 4096, 15890},
      {"MYCPUS=0:1", "MY8S", 0, 1},
      {"db=CPU/2:CPU", "db", 4, 8},
      {"db = 1 : 2 ", "db ", 1, 2},
  };
  for (const Case& c : cases) {
    Result<Lease> lease = ParseLease(c.arg, Facts());
    EXPECT_EQ(ShowLease(lease), c.resource + " " + std::to_string(c.count) +
                                    "/" + std::to_string(c.total))
        << c.arg;
    if (lease.ok()) {
      EXPECT_EQ(lease->text, c.arg);
    }
  }
}

TEST(ParseLeaseTest, EachMistakeGetsItsOwnOneLineMessage) {
  struct Case {
    std::string arg;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"rr", R"(--lease "rr": expected RES=COUNT:TOTAL, found no "=")"},
      {"", R"(--lease "": expected RES=COUNT:TOTAL, found no "=")"},
      {"rr=1", R"(--lease "rr=1": expected COUNT:TOTAL after "=", "1" has )"
               R"(no ":")"},
      {"rr=CPU",
       R"(--lease "rr=CPU": expected COUNT:TOTAL after "=", "8" has no )"
       R"(":")"},
      {"=1:1", R"(--lease "=1:1": empty resource name)"},
      {".=1:1", R"(--lease ".=1:1": resource name "." is not allowed)"},
      {"..=1:1", R"(--lease "..=1:1": resource name ".." is not allowed)"},
      {"a/b=1:1",
       R"(--lease "a/b=1:1": resource name "a/b" must not contain "/")"},
      {"a\nb=1:1",
       R"(--lease "a\x0ab=1:1": resource name "a\x0ab" contains a control )"
       "character"},
      {"rr=1:x",
       R"(--lease "rr=1:x": bad total "x": unknown name "x" at position 1)"},
      {"x=y=1:1", R"(--lease "x=y=1:1": bad count "y=1": unknown name "y" at )"
                  "position 1"},
      {"rr=1:2:3",
       R"(--lease "rr=1:2:3": bad total "2:3": unexpected ":" at position )"
       "2"},
      {"rr=CPUS:8",
       R"(--lease "rr=CPUS:8": bad count "8S": bad number "8S" at )"
       "position 1: only decimal integers are allowed"},
      {"rr=1:int(MEMMB/y)",
       R"x(--lease "rr=1:int(MEMMB/y)": bad total "int(15890/y)": unknown )x"
       R"(name "y" at position 11)"},
      {"rr=:1", R"(--lease "rr=:1": bad count "": empty expression)"},
      {"rr=1:", R"(--lease "rr=1:": bad total "": empty expression)"},
      {"rr=1/2:1",
       R"(--lease "rr=1/2:1": count "1/2" is not an integer (it is 1/2))"},
      {"rr=1:7/2",
       R"(--lease "rr=1:7/2": total "7/2" is not an integer (it is 7/2))"},
      {"rr=1:MEMMB/3",
       R"(--lease "rr=1:MEMMB/3": total "15890/3" is not an integer (it is )"
       "15890/3)"},
      {"rr=0:0", R"(--lease "rr=0:0": total must be at least 1, not 0)"},
      {"rr=1:-1", R"(--lease "rr=1:-1": total must be at least 1, not -1)"},
      {"rr=-1:1", R"(--lease "rr=-1:1": count must not be negative, not -1)"},
      {"rr=5:4", R"(--lease "rr=5:4": count 5 is greater than total 4)"},
      {"rr=9:CPU", R"(--lease "rr=9:CPU": count 9 is greater than total 8)"},
      {"rr=1:1/0",
       R"(--lease "rr=1:1/0": bad total "1/0": division by zero at position )"
       "2"},
  };
  for (const Case& c : cases) {
    Result<Lease> lease = ParseLease(c.arg, Facts());
    EXPECT_EQ(ShowLease(lease), "error: " + c.want);
    EXPECT_EQ(lease.status().code(), Code::kInvalidArgument) << c.arg;
  }
}

TEST(ParseLeaseTest, RefusesTheFqdnMacroWhenTheFqdnIsUnknown) {
  HostFacts facts = Facts();
  facts.fqdn.clear();
  Result<Lease> lease = ParseLease("FQDN_mem=1:1", facts);
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.status().message(),
            R"(--lease "FQDN_mem=1:1": uses FQDN, but this host's FQDN could )"
            "not be determined");
  // Leases without the macro do not need it.
  EXPECT_TRUE(ParseLease("rr=1:CPU", facts).ok());
}

// ---- Host facts ----

TEST(ParseMemTotalMbTest, ReadsMemTotalAsLinuxMemInfoDoes) {
  const std::string meminfo =
      "MemTotal:       24683656 kB\n"
      "MemFree:         1000000 kB\n"
      "HugePages_Total:       0\n";
  EXPECT_EQ(ShowMb(ParseMemTotalMb(meminfo)), "24105");  // int(24683656/1024)

  struct Case {
    std::string text;
    int64_t want;
  };
  const std::vector<Case> cases = {
      {"MemTotal: 1023 kB", 0},
      {"MemTotal:\t2048 kB\n", 2},
      {"MemTotal: 2048 kB\nMemTotal: 4096 kB\n", 4},  // the last one wins
      {"Mem: 1 2 3 4 5 6\nMemTotal: 3072 kB", 3},
      {"MemTotal: 2048 x", 2},  // the unit is not checked
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ShowMb(ParseMemTotalMb(c.text)), std::to_string(c.want))
        << c.text;
  }
}

TEST(ParseMemTotalMbTest, LinesTheRegexDoesNotMatchAreIgnored) {
  const std::vector<std::string> no_memtotal = {
      "",
      "MemFree: 1000 kB\n",
      "MemTotal: 2048\n",      // no unit
      "MemTotal: 2048  kB\n",  // two spaces before the unit
      "MemTotal:2048 kB\n",    // no space after the colon
      "MemTotalX: 2048 kB\n",  // another key
      " MemTotal: 2048 kB\n",  // leading space
      "MemTotal: 2048\tkB\n",  // a tab before the unit
  };
  const std::string internal =
      "error " + std::to_string(static_cast<int>(Code::kInternal)) + ": ";
  for (const std::string& text : no_memtotal) {
    EXPECT_EQ(ShowMb(ParseMemTotalMb(text)),
              internal + "no MemTotal line in /proc/meminfo")
        << text;
  }
  EXPECT_EQ(ParseMemTotalMb("MemTotal: 12a kB").status().message(),
            R"(bad MemTotal in /proc/meminfo: "12a")");
  EXPECT_FALSE(ParseMemTotalMb("MemTotal: 99999999999999999999 kB").ok());
}

TEST(ParseResolvConfDomainTest, TakesTheFirstWordOfTheLastMatchingLine) {
  struct Case {
    std::string text;
    std::optional<std::string> want;
  };
  const std::vector<Case> cases = {
      {"search example.com\n", "example.com"},
      {"nameserver 10.0.0.1\ndomain a.b\nsearch c.d e.f\n", "c.d"},
      {"search c.d\ndomain a.b\n", "a.b"},
      {"  search\tfoo.bar baz\n# search x.y\n", "foo.bar"},
      {"search a.b\r\n", "a.b"},
      {"search .\n", "."},
      {"nameserver 10.0.0.1\n", std::nullopt},
      {"searchfoo x.y\n", std::nullopt},
      {"search\n", std::nullopt},
      {"search   \n", std::nullopt},
      {"Search a.b\n", std::nullopt},
      {"", std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseResolvConfDomain(c.text), c.want) << c.text;
  }
}

// A fake resolver: a table of names, and a log of the names asked for.
struct FakeHosts {
  std::map<std::string, HostEntry> table;
  std::vector<std::string> asked;

  FqdnSources Sources(std::string nodename) {
    FqdnSources sources;
    sources.nodename = std::move(nodename);
    sources.nis_domain = "(none)";
    sources.lookup = [this](const std::string& name) {
      asked.push_back(name);
      auto it = table.find(name);
      return it == table.end() ? std::nullopt
                               : std::optional<HostEntry>(it->second);
    };
    return sources;
  }
};

TEST(HostFqdnTest, MatchesNetDomainHostfqdn) {
  struct Case {
    std::string nodename;
    std::optional<std::string> resolv_conf;
    std::string nis_domain;
    std::optional<std::string> localdomain;
    std::optional<std::string> domain;
    std::map<std::string, HostEntry> hosts;
    std::string want;
  };
  using Hosts = std::map<std::string, HostEntry>;
  // Every expected value was produced by Net::Domain 3.14 (perl 5.36) with
  // these inputs substituted for the host's.
  const std::vector<Case> cases = {
      {"vm",
       "nameserver 1.2.3.4\n",
       "(none)",
       {},
       {},
       Hosts{{"vm", {"vm", {}}}, {"localhost", {"localhost", {}}}},
       "vm"},
      {"vm", "search example.com\n", "(none)", {}, {}, {}, "vm.example.com"},
      {"vm", "search .\n", "(none)", {}, {}, Hosts{{"vm", {"vm", {}}}}, "vm.."},
      {"vm", "domain a.b\nsearch c.d e.f\n", "(none)", {}, {}, {}, "vm.c.d"},
      {"vm",
       std::nullopt,
       "(none)",
       {},
       {},
       Hosts{{"vm", {"vm.corp.net", {"vm"}}}},
       "vm.corp.net"},
      {"vm",
       "",
       "(none)",
       {},
       {},
       Hosts{{"vm", {"vm", {"vm.corp.net"}}}},
       "vm.corp.net"},
      {"vm", "", "(none)", {}, {}, {}, ""},
      {"vm.example.com",
       "search example.com\n",
       "(none)",
       {},
       {},
       Hosts{{"vm.example.com", {"vm.example.com", {}}}},
       "vm.example.com"},
      {"10.0.0.1", "", "(none)", {}, {}, {}, "10.0.0.1"},
      {"vm", "", "(none)", "corp.lan", {}, {}, "vm.corp.lan"},
      {"vm", "", "(none)", "0", "x.y", {}, "vm.x.y"},
      {"vm",
       "",
       "(none)",
       {},
       "lan",
       Hosts{{"vm.lan", {"vm.lan", {}}}},
       "vm.lan"},
      {"vm",
       "",
       "nis.example",
       {},
       {},
       Hosts{{"vm.nis.example", {"vm.nis.example", {}}}},
       "vm.nis.example"},
      {".vm..x.", "", "(none)", {}, {}, Hosts{{"vm.x", {"vm.x", {}}}}, "vm.x"},
      {"vm", "search a..b\n", "(none)", {}, {}, {}, "vm.a..b"},
      {"vm", "search 0\n", "(none)", {}, {}, Hosts{{"vm", {"vm", {}}}}, ""},
      {"vm",
       "",
       "(none)",
       {},
       {},
       Hosts{{"localhost", {"localhost", {"localhost.localdomain"}}},
             {"vm", {"vm", {}}}},
       "vm"},
      {"vm", "", "(none)", {}, {}, Hosts{{"vm", {".x.y", {}}}}, "vm..x.y"},
      {"vm",
       "searchfoo x.y\n",
       "(none)",
       {},
       {},
       Hosts{{"vm", {"vm", {}}}},
       "vm"},
      {"vm", "", "(none)", {}, "..a..b..", Hosts{{"vm", {"vm", {}}}}, "vm.a.b"},
      {"vm", "", "(none)", "", ".lan", Hosts{{"vm.lan", {"vm.lan", {}}}},
       "vm.lan"},
      {"a.b.c",
       "",
       "(none)",
       {},
       "x.y",
       Hosts{{"a.x.y", {"a.x.y", {}}}, {"a.b", {"a.b", {}}}},
       "a.x.y"},
      {"a.b",
       "domain x.y\n",
       "(none)",
       {},
       {},
       Hosts{{"a.y", {"a.y", {}}}},
       "a.y"},
      {"vm", "", "", {}, {}, Hosts{{"vm", {"0", {}}}}, ""},
      {"vm",
       "",
       "(none)",
       {},
       {},
       Hosts{{"localhost", {"localhost.", {"x"}}}},
       ""},
  };
  for (const Case& c : cases) {
    FakeHosts fake;
    fake.table = c.hosts;
    FqdnSources sources = fake.Sources(c.nodename);
    sources.resolv_conf = c.resolv_conf;
    sources.nis_domain = c.nis_domain;
    sources.localdomain_env = c.localdomain;
    sources.domain_env = c.domain;
    EXPECT_EQ(HostFqdn(sources), c.want)
        << c.nodename << " " << c.resolv_conf.value_or("(no resolv.conf)");
  }
}

TEST(HostFqdnTest, LooksUpTheSameNamesInTheSameOrderAsNetDomain) {
  // Traced from Net::Domain 3.14 with a logging gethostbyname.
  FakeHosts fake;
  FqdnSources sources = fake.Sources("a.b");
  sources.domain_env = "x.y";
  EXPECT_EQ(HostFqdn(sources), "");
  EXPECT_EQ(fake.asked,
            (std::vector<std::string>{"a.b", "localhost", "a.b.x.y", "a.x.y",
                                      "a.b.y", "a.y", "a.b", "a"}));

  FakeHosts nis;
  FqdnSources with_nis = nis.Sources("vm");
  with_nis.nis_domain = "nis.ex";
  EXPECT_EQ(HostFqdn(with_nis), "");
  EXPECT_EQ(nis.asked,
            (std::vector<std::string>{"vm.nis.ex", "vm", "localhost", "vm"}));
}

TEST(HostFqdnTest, ASearchDomainNeedsNoLookup) {
  FakeHosts fake;
  FqdnSources sources = fake.Sources("vm");
  sources.resolv_conf = "search example.com\n";
  EXPECT_EQ(HostFqdn(sources), "vm.example.com");
  EXPECT_TRUE(fake.asked.empty());
}

TEST(HostFqdnTest, NoResolverMeansNothingResolves) {
  FqdnSources sources;
  sources.nodename = "vm";
  EXPECT_EQ(HostFqdn(sources), "");
  sources.resolv_conf = "search example.com\n";
  EXPECT_EQ(HostFqdn(sources), "vm.example.com");
}

TEST(ReadHostFactsTest, ReadsThisHost) {
  Result<HostFacts> facts = ReadHostFacts();
  ASSERT_TRUE(facts.ok()) << facts.status().message();
  EXPECT_EQ(facts->cpus, ::sysconf(_SC_NPROCESSORS_ONLN));
  EXPECT_GT(facts->mem_mb, 0);
}

}  // namespace
}  // namespace conch::switchman
