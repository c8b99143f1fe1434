// switchman's two kinds of configuration, read as the original Perl tool
// (App::Switchman 1.16) reads them, so that existing files and znodes keep
// working:
//   - the config file (-c, default /etc/switchman.conf): ZooKeeper hosts,
//     the prefix znode and a few limits;
//   - the data of the prefix znode: host groups and the resource list;
// and group resolution over the latter.
//
// Perl semantics that carry over:
//   - Truth is Perl's: JSON null, false, 0, 0.0, "" and "0" are false;
//     every other value, "0.0", [] and {} included, is true.
//   - A scalar is used as Perl stringifies it: true is "1", false is "0",
//     integers are decimal, and other numbers print as integers when they
//     are whole and fit in 64 bits, else with 15 significant digits
//     (%.15g), so 1e3 is "1000" and 1.5 is "1.5".
//
// Thread contract: everything except ChooseConfigPath and LoadConfig is a
// pure function, safe from any thread; those two read the file system and
// are safe from any thread too.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace conch::switchman {

inline constexpr std::string_view kDefaultConfigPath = "/etc/switchman.conf";

// The largest value accepted for data_read_len and the two timeouts
// (2^31 - 1). The original took any digit string; ZooKeeper's C client
// keeps buffer lengths in an int, and a bigger timeout means "never" anyway.
inline constexpr int64_t kMaxConfigNumber = 2147483647;

// The levels `loglevel` may name, least severe first.
enum class FileLogLevel { kDebug, kInfo, kWarning, kCritical };

struct Config {
  std::string zkhosts;            // "h1:p1,h2:p2[/chroot]"; a chroot is allowed
  std::string prefix;             // matches ^(/[^/]+)+$
  int64_t data_read_len = 65535;  // bytes of the prefix znode to read
  std::string logfile;            // empty: no log file
  FileLogLevel loglevel = FileLogLevel::kInfo;
  std::chrono::seconds resources_wait_timeout{0};  // 0: wait for ever
  std::chrono::seconds termination_timeout{10};    // SIGTERM to SIGKILL
  // Ours: the ZooKeeper session timeout to ask for. The original always
  // had Net::ZooKeeper's 10 s. The server may grant another within its
  // bounds (by default 2 to 20 of its ticks).
  std::chrono::seconds session_timeout{10};
  // Ours: the exit status when CMD did not run because of the lock, the
  // queue or the group; nullopt: 0, as the original.
  std::optional<int> conflict_exit_code;
};

// Parses the text of a config file; `path` only goes into messages.
// As the original: every line is stripped of leading and trailing
// whitespace (Perl's Unicode \s, so a no-break space at the start of a line
// is harmless), then the whole is parsed as strict JSON (no comments, no
// trailing commas) and must be an object. Keys:
//   zkhosts                 required and true, else
//                           "zkhosts is not defined in <path>"
//   prefix                  required and true, else
//                           "prefix is not defined in <path>"; must match
//                           ^(/[^/]+)+$, else "bad prefix: <value>"
//   data_read_len           default 65535; digits only (see below), else
//                           "bad data_read_len: <value>"
//   resources_wait_timeout  default 0; digits only, else
//                           "bad resources_wait_timeout: <value>"
//   termination_timeout     default 10; digits only, else
//                           "bad termination_timeout: <value>"
//   logfile                 optional; false means none
//   loglevel                default "info" (also when false); one of
//                           debug, info, warning, critical
//   session_timeout         ours, default 10 (the original's fixed value);
//                           digits only, at least 1, else
//                           "bad session_timeout: <value>"
//   conflict_exit_code      ours, optional: 0 to 255 (as -E/--exit-conflict
//                           takes it), else "bad conflict_exit_code: ..."
// "Digits only" is the original's regex on the value as Perl stringifies
// it: 10, "10", "010", 10.0, 1e3, true (1) and false (0) pass, while -1,
// 1.5, "", " 10" and "1e3" fail. Perl's "$" also lets one final "\n" pass
// ("10\n"). Values above kMaxConfigNumber fail too.
// JSON null is the same as an absent key (the original would make
// termination_timeout and data_read_len undef, that is 0). Unknown keys
// are ignored. Unlike the original, a chroot in zkhosts is accepted, and
// loglevel is checked here rather than by the logger at its first line.
// Every error is kInvalidArgument; messages other than the original's two
// "... in <path>" ones end with " in <path>" as well, and quote values as
// JSON ("bad data_read_len: \"abc\" in /etc/switchman.conf").
Result<Config> ParseConfig(std::string_view text, std::string_view path);

// Picks the config file the way the original does: `flag_value` (-c) when
// it is true in Perl's sense (not "" or "0"); otherwise `default_path` if
// it is a regular file (after symlinks); otherwise kInvalidArgument
// "<default_path> is absent and --config is missing, see <prog> -h for
// help". Calls stat(2).
Result<std::string> ChooseConfigPath(
    std::string_view flag_value, std::string_view prog,
    std::string_view default_path = kDefaultConfigPath);

// Reads the file at `path` (at most 1 MiB) and parses it with ParseConfig.
// kInvalidArgument "Failed to open <path>: <reason>" when it cannot be read.
Result<Config> LoadConfig(std::string_view path);

// The original's s/(?:^\s*|\s*$)//gm on the decoded file: strips Perl
// whitespace (ASCII \t \n \v \f \r and space, and U+0085, U+00A0, U+1680,
// U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 in UTF-8) from
// both ends of every line, dropping lines that become empty. Invalid UTF-8
// is kept as it is. Exposed for tests.
std::string TrimLines(std::string_view text);

// The data of the prefix znode after validation.
struct PrefixData {
  // Group name -> its items as strings; nullopt when the value is false in
  // Perl's sense, which the original treats as "not described" while the
  // name still counts as a group name. A string or other scalar value is a
  // one-item list.
  std::map<std::string, std::optional<std::vector<std::string>>, std::less<>>
      groups;
  // The resource names, before macro expansion, in the prefix's order.
  std::vector<std::string> resources;
};

// Parses the data read from the prefix znode. `node_length` is the node's
// real length from its Stat; when it exceeds data.size(), the read was cut
// at data_read_len and the data is refused, even if it happens to parse.
// As the original:
//   - empty data, or "0", is {} (no groups, no resources);
//   - invalid JSON            -> "Could not decode data: <error>"
//   - a false top-level value -> "Could not decode data: ..."
//   - not an object           -> "Bad prefix data: hashref expected"
//   - resources true but not an array
//                             -> "Bad prefix data: resources should be an
//                                 array"
//   - groups true but not an object
//                             -> "Bad prefix data: groups should be a hash"
//   - a false resources or groups is empty.
// Items are strings; numbers and booleans are stringified as Perl does (so
// they still name hosts, groups and resources as in the original), while
// null, arrays and objects are dropped: in the original they become undef
// or "ARRAY(0x...)", which match no host and name no resource anyone can
// lease. Every error is kInvalidArgument; a cut read gives
// "Could not decode data: prefix data truncated at N bytes (the node holds
// M); raise data_read_len in the config".
Result<PrefixData> ParsePrefixData(std::string_view data, size_t node_length);

// The prefix data as the original reads it: at most `data_read_len` bytes
// of `value` (the node's data as the store returned it, `node_length` bytes
// long), parsed with ParsePrefixData, so that a cut read is reported.
Result<PrefixData> ParsePrefixRead(std::string_view value, size_t node_length,
                                   int64_t data_read_len);

// The hosts of one group.
struct GroupMembers {
  std::vector<std::string> hosts;  // de-duplicated, in first-seen order
  // Whether `fqdn` is one of the hosts: exact, case-sensitive comparison,
  // as the original compares with Net::Domain::hostfqdn().
  bool Contains(std::string_view fqdn) const;
};

// Resolves `group` as the original's get_group_hosts does: an item that is
// a key of `groups` is a subgroup, any other item is a host. A group's own
// hosts come first, then its subgroups are expanded in order, each the
// same way (depth first). One visited set, seeded with
// `group`, is shared by the whole expansion, so loops end and each group is
// expanded at most once. Uses no recursion, however deep the nesting.
// kNotFound "Group <NAME> is not described" when `group`, or a subgroup
// reached, is absent or false; at start-up the CLI treats it as a usage
// error (exit 64).
Result<GroupMembers> ResolveGroup(const PrefixData& data,
                                  std::string_view group);

}  // namespace conch::switchman
