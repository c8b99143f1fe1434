// The read-only subcommands of `conch switchman`, which look at what the
// switchman tool (ours or the original Perl App::Switchman 1.16) keeps in
// ZooKeeper and change nothing there:
//
//   ls [-c CFG] [--json]                 locks, queues and semaphore leases
//                                        under the config's prefix
//   check-groups CRONTAB [-c CFG] [--system] [-v]
//                                        Nagios check: every switchman job
//                                        of a crontab names a group that
//                                        resolves
//   check-hosts [-c CFG] [CONFIG]        Nagios check: every group has a
//                                        member that answers a TCP probe
//
// The last two are working versions of the original's check_switchman_groups
// and check_switchman_hosts, which are broken in 1.16 (see the reference
// notes, section 3); where we judge differently the comment says so.
//
// Each Run* function is a whole subcommand: it prints to stdout and stderr
// and returns the exit code, for the dispatcher (cli/) to hand to main.
// They are built from the pure pieces declared below, which the unit tests
// use without a server, and from those of switchman/crontab.h (reading a
// crontab) and switchman/probe.h (probing a host).
//
// The implementation is in three files: inspect.cc (arguments, judgement,
// the Run* functions), inspect_ls.cc (AssembleSnapshot and the formats of
// ls) and inspect_read.cc (ReadTree, ReadPrefixData).
//
// Exit codes (the numbers of cli/exit_codes.h, which this module does not
// link):
//   ls            0 done; 64 bad arguments or config; 69 ZooKeeper could
//                 not be read (unreachable within 5 s, or a read failed).
//   check-*       0 OK; 2 CRITICAL (a failing job or group, an unreadable
//                 or invalid crontab or config, ZooKeeper unreachable);
//                 64 only for bad arguments to the check itself.
//
// Thread contract: the pure functions are safe from any thread. The Run*
// functions, ReadTree and ReadPrefixData block (see each) and may be
// called from any thread; RunLs and FormatLocalTime read the local
// time zone.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "switchman/config.h"
#include "switchman/crontab.h"
#include "switchman/probe.h"

namespace conch::switchman {

// ---------------------------------------------------------------------------
// Exit codes and limits.

inline constexpr int kInspectExitOk = 0;
inline constexpr int kNagiosCritical = 2;
inline constexpr int kInspectExitUsage = 64;        // cli::kExitUsage
inline constexpr int kInspectExitUnavailable = 69;  // cli::kExitUnavailable

// How long each subcommand waits for a ZooKeeper connection; reading then
// has kInspectReadTimeout more.
inline constexpr Duration kInspectDialTimeout = std::chrono::seconds(5);
inline constexpr Duration kInspectReadTimeout = std::chrono::seconds(10);

// ---------------------------------------------------------------------------
// The subcommands. Each takes the arguments after its word.

// conch switchman ls [-c CFG] [--json]
// Prints FormatLs or FormatLsJson of the tree under the config's prefix.
// Errors are one line on stderr, "switchman: <message>".
// The config is -c, else /etc/switchman.conf (ChooseConfigPath). Blocks up
// to kInspectDialTimeout + kInspectReadTimeout. Bad prefix data is a
// warning on stderr (the resource list is then empty), not an error.
int RunLs(const std::vector<std::string>& args);

// conch switchman check-groups CRONTAB [-c CFG] [--system] [-v]
// Prints "OK" or "<CRONTAB>: <cmd1>, <cmd2>" (FormatGroupsVerdict) on one
// line of stdout, ending with a newline (the original printed none; Nagios
// drops it). A crontab that cannot be read prints "cannot read crontab
// <CRONTAB>: <reason>", an invalid one "invalid crontab <CRONTAB>: line N:
// <problem>", unreachable ZooKeeper the connection error, each on stdout
// with exit 2. --system: the crontab has a user field (/etc/crontab and
// /etc/cron.d/* are taken as such without it; see CrontabKind). -v: also
// one line on stderr per failing job, "line N: <text>: <reason>". -c is the
// config of jobs that give none. Blocks while it connects to each distinct
// config's ZooKeeper (kInspectDialTimeout each).
int RunCheckGroups(const std::vector<std::string>& args);

// conch switchman check-hosts [-c CFG] [CONFIG]
// CONFIG, the original's positional form, is the same as -c. Prints "OK"
// or "groups: g1, g2" (FormatHostsVerdict) on one line of stdout, with a
// newline. A bad config or unreachable ZooKeeper prints the error on stdout
// instead, exit 2. Blocks for the
// ZooKeeper read, the name lookups and at most kProbeTimeout of probing.
int RunCheckHosts(const std::vector<std::string>& args);

// ---------------------------------------------------------------------------
// Arguments of the three subcommands.

struct InspectArgs {
  std::string config;                    // -c/--config; "" if not given
  bool json = false;                     // --json (ls)
  bool system = false;                   // --system (check-groups)
  bool verbose = false;                  // -v/--verbose (check-groups)
  bool help = false;                     // -h/--help
  std::vector<std::string> positionals;  // CRONTAB, or check-hosts' CONFIG
};

// Parses `args` for `subcommand` ("ls", "check-groups" or "check-hosts"):
// -c PATH, -cPATH, --config PATH, --config=PATH, and the flags each
// subcommand takes (above); "--" ends the options. kInvalidArgument with one
// line for an unknown option, a missing value, or a wrong number of
// positionals (ls: none; check-groups: exactly one; check-hosts: at most
// one, and not together with -c). -h stops parsing and is never an error.
Result<InspectArgs> ParseInspectArgs(std::string_view subcommand,
                                     const std::vector<std::string>& args);

// ---------------------------------------------------------------------------
// ls: the data.

// "<fqdn> <pid>", what switchman writes into every node it creates.
struct NodeHolder {
  std::string host;
  int64_t pid = 0;
  bool operator==(const NodeHolder&) const = default;
};

// Splits node data at its last space: a host without whitespace before it,
// a positive decimal pid after it. nullopt for anything else (ls then shows
// the data as it is).
std::optional<NodeHolder> ParseHolderData(std::string_view data);

// One child node as read: its name, data and creation time.
struct StoredNode {
  std::string name;
  std::string data;
  int64_t ctime_ms = 0;  // Stat.ctime: milliseconds since the epoch
};

// What ReadTree reads, before any interpretation.
struct RawTree {
  std::vector<StoredNode> locks;  // the children of PREFIX/locks
  // Resource -> the children of PREFIX/queues/<res>.
  std::map<std::string, std::vector<StoredNode>> queues;
  // Resource -> the children of PREFIX/semaphores/<res>/leases; every
  // child of PREFIX/semaphores is a key, with no leases if it has none.
  std::map<std::string, std::vector<StoredNode>> semaphores;
  // PrefixData::resources: the "resources" of the prefix data, unexpanded.
  std::vector<std::string> listed;
  // Why `listed` is empty although it may not be: the prefix node is
  // missing or its data is invalid. "" when it was read.
  std::string prefix_problem;
};

struct QueueEntry {
  int64_t position = 0;  // 1 = the head
  std::string lockname;  // the node name before "-<seq>"
  int64_t seq = 0;
  StoredNode node;
};

struct QueueInfo {
  std::string resource;
  std::vector<QueueEntry> entries;  // by sequence, head first
  // Children that are not "<lockname>-<digits>", sorted (the original
  // stops every waiter on them).
  std::vector<std::string> unexpected;
};

struct LeaseInfo {
  int64_t count = 0;
  int64_t total = 0;
  StoredNode node;  // its name is "<count>_<total>_<seq>"
};

struct ResourceInfo {
  std::string name;
  // The entry of the prefix "resources" it is listed as: its own name, or
  // a template with macros ("FQDN_mem" for "db1.example.com_mem", see
  // MatchesResourceTemplate). nullopt: not listed (a resource that was
  // removed from the list, or one only ever leased by hand).
  std::optional<std::string> listed_as;
  // PREFIX/semaphores/<name> exists. False for a listed resource nobody
  // has leased yet, and for a template no node matches; both show 0/?.
  bool in_store = false;
  int64_t used = 0;                // sum of the lease counts
  std::vector<int64_t> totals;     // the distinct totals, ascending
  std::vector<LeaseInfo> holders;  // by sequence
  // Children of .../leases that are not "<count>_<total>_<seq>", sorted.
  std::vector<std::string> unexpected;

  // The one total the leases agree on; nullopt with no leases (unknown) or
  // when they disagree (then every new acquirer fails, see the reference
  // notes, 2.2).
  std::optional<int64_t> total() const {
    if (totals.size() != 1) return std::nullopt;
    return totals.front();
  }
};

struct Snapshot {
  std::vector<StoredNode> locks;  // by name
  std::vector<QueueInfo> queues;  // by resource name, empty queues too
  // In the prefix list's order (a template's matches by name, in its
  // place), then the resources that are not listed, by name.
  std::vector<ResourceInfo> resources;
  // False when the prefix data could not be read (RawTree::prefix_problem):
  // then no resource is listed, and FormatLs does not call them unlisted.
  bool listing_known = true;
};

// Whether the semaphore `name` can be the expansion of the listed resource
// `listed`. Macros are found as ExpandMacros finds them (one left-to-right
// pass); CPU and MEMMB match one or more digits, FQDN one or more
// characters; the rest must match literally. Without a macro, `listed`
// must equal `name`.
bool MatchesResourceTemplate(std::string_view listed, std::string_view name);

// Interprets a RawTree: orders everything as Snapshot says, parses queue
// entry and lease names (ParseQueueEntry, ParseLeaseNode), sums the leases.
Snapshot AssembleSnapshot(const RawTree& tree);

// "YYYY-MM-DD HH:MM:SS" in the local time zone (localtime_r; TZ applies).
std::string FormatLocalTime(int64_t epoch_ms);
// RFC 3339 in UTC with second precision: "2024-05-01T03:00:01Z".
std::string FormatUtcRfc3339(int64_t epoch_ms);

// The human form of ls: three sections, LOCKS, QUEUES and RESOURCES, each a
// title line and then either "(none)" or a header row and one row per item,
// columns left-aligned and two spaces apart, trailing blanks trimmed, and
// an empty line between sections:
//   LOCKS         NAME  HOST  PID  SINCE
//   QUEUES        RESOURCE  POS  LOCKNAME  HOST  PID  SINCE
//   RESOURCES     RESOURCE  USED  HOLDER  HOST  PID  SINCE  NOTE
// HOST and PID come from ParseHolderData; data that does not parse is shown
// whole in HOST, with PID "-" ("-" too for empty data). Control bytes are
// shown as \xNN. SINCE is FormatLocalTime of the node's ctime.
// QUEUES has a row per entry (empty queues have none); an unexpected child
// gets POS "-" and its name as LOCKNAME. RESOURCES has a row per holder,
// RESOURCE, USED and NOTE only on the first; USED is "<used>/<total>",
// "?" for an unknown total; NOTE joins with "; ": "totals disagree: 1, 2",
// "not in the prefix resources" (unless !listing_known), "template, nothing
// matches" and
// "unexpected node <name>". A resource without holders has one row.
std::string FormatLs(const Snapshot& snapshot);

// The JSON form of ls: one object on one line, ending with a newline, keys
// in this order (host and pid are null when the data does not parse;
// "since" is FormatUtcRfc3339 and "since_ms" the epoch milliseconds of the
// node's ctime; strings that are not UTF-8 have U+FFFD for bad bytes):
//   {"locks": [{"name", "host", "pid", "data", "since", "since_ms"}],
//    "queues": [{"resource",
//                "entries": [{"position", "lockname", "seq", "node", "host",
//                             "pid", "data", "since", "since_ms"}],
//                "unexpected": [name]}],
//    "resources": [{"name", "listed_as" (string or null), "in_store",
//                   "used", "total" (number, or null when unknown or
//                   disagreeing), "totals" ([number]),
//                   "holders": [{"node", "count", "total", "host", "pid",
//                                "data", "since", "since_ms"}],
//                   "unexpected": [name]}]}
std::string FormatLsJson(const Snapshot& snapshot);

// Connects to the config's ZooKeeper (zkhosts, chroot allowed) and reads
// the tree under its prefix: the prefix data (data_read_len honoured),
// locks, queues and leases, in three batches of requests. Nodes that vanish
// between listing and reading are skipped. Blocks up to `dial_timeout`
// for the connection and kInspectReadTimeout more for the reads. Errors:
// kInvalidArgument for a zkhosts that does not parse; kUnavailable (or
// kDeadlineExceeded, kSessionLost) when ZooKeeper cannot be reached or a
// read fails.
Result<RawTree> ReadTree(const Config& config,
                         Duration dial_timeout = kInspectDialTimeout);

// Connects like ReadTree and reads only the prefix data. A missing prefix
// node is empty data ({}). Errors: as ReadTree, plus kInvalidArgument from
// ParsePrefixData for invalid data.
Result<PrefixData> ReadPrefixData(const Config& config,
                                  Duration dial_timeout = kInspectDialTimeout);

// ---------------------------------------------------------------------------
// check-groups: judgement.

// A call whose group does not check out.
struct FailedCall {
  SwitchmanCall call;
  std::string reason;  // one line
};

// Loads the prefix data of the config at `config_path`. A Status with
// kUnavailable, kDeadlineExceeded or kSessionLost (ZooKeeper could not be
// read) stops the whole check; any other error fails only the calls that
// need this config.
using PrefixLoader =
    std::function<Result<PrefixData>(const std::string& config_path)>;

// Judges each call: its arguments must parse (ParseOptions, as switchman
// would parse them, with the call's POSIXLY_CORRECT) to a run; then, if it
// has -g GROUP, the prefix data of its config (its own -c, else
// `fallback_config`, else /etc/switchman.conf) must load and
// ResolveGroup(GROUP) must succeed, subgroups included (the original only
// looked the name up). A call without -g passes: it runs on every host
// (the original reported it as a failure). Calls `load` at most once per
// config path. Returns the failing calls in order, or the loader's stopping
// Status (above).
Result<std::vector<FailedCall>> JudgeSwitchmanCalls(
    const std::vector<SwitchmanCall>& calls, std::string_view fallback_config,
    const PrefixLoader& load);

// "OK", or "<crontab>: <text1>, <text2>" with the failing calls' texts.
// No newline.
std::string FormatGroupsVerdict(std::string_view crontab,
                                const std::vector<FailedCall>& failed);

// ---------------------------------------------------------------------------
// check-hosts.

// The distinct hosts of every group that resolves, in first-seen order
// (groups by name).
std::vector<std::string> HostsToProbe(const PrefixData& data);

// The groups (sorted) in which no member is up: every member fails
// `is_up`, the group has no members, or it does not resolve (a subgroup
// not described). The original pinged subgroup names as hosts; here
// ResolveGroup expands them.
std::vector<std::string> DeadGroups(
    const PrefixData& data,
    const std::function<bool(const std::string&)>& is_up);

// "OK", or "groups: g1, g2". No newline.
std::string FormatHostsVerdict(const std::vector<std::string>& dead_groups);

}  // namespace conch::switchman
