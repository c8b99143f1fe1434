// The records of the distributed cron, as stored, and the rules that need
// no store: job names, the key layout shared with the original conch, the
// job's JSON (the original's fields plus optional ones of ours), the
// result's JSON, and the policies a job carries.
//
// Layout (docs/design.md "The tick protocol"), under /conch/v1/cron/:
//   job/<name>                the job; no session (the original's key)
//   fire/<name>/<tick-unix>   the claim of a tick; no session (original's)
//   result/<name>/<tick-unix> what became of a claimed tick (original's)
//   run/<name>/<contender>    the hold of a running run under the
//                             forbid/replace policies; conchd's session
//   node/<session-hex>        a live conchd; its session
// On ZooKeeper the same paths are znodes.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "base/duration.h"
#include "base/status.h"
#include "cron/schedule.h"

namespace conch::cron {

inline constexpr std::string_view kCronRoot = "/conch/v1/cron/";
inline constexpr size_t kMaxOutputBytes = 4096;  // kept with a result

// Checks a job name as primitives::ValidateName checks offices: 1..128
// bytes, no '/', space or control character, not "." or "..".
// kInvalidArgument "job name ...".
Status ValidateJobName(std::string_view name);

std::string JobDir();                          // .../cron/job/
std::string JobKey(std::string_view name);     // .../cron/job/<name>
std::string FireDir(std::string_view name);    // .../cron/fire/<name>/
std::string ResultDir(std::string_view name);  // .../cron/result/<name>/
std::string RunDir(std::string_view name);     // .../cron/run/<name>/
std::string NodeDir();                         // .../cron/node/
// The record name of a tick: its unix second in decimal, as the original
// writes it. Ticks from 2001-09-09 to 2286 all have 10 digits, so names
// sort as ticks do; conchd claims no tick outside that span.
std::string TickName(absl::Time tick);
// Parses a record name back; nullopt for anything but 10 decimal digits.
std::optional<absl::Time> ParseTickName(std::string_view name);
// The last component of a key ("/a/b/c" -> "c").
std::string_view LastSegment(std::string_view key);

// A `--tag k=v` (cron add, conchd): kInvalidArgument "flag --tag: ..." for
// anything without a '=' after a non-empty key.
Result<std::pair<std::string, std::string>> ParseTag(std::string_view text);

enum class Overlap { kForbid, kAllow, kReplace };
enum class Missed { kSkip, kRunOnce };
std::string_view OverlapName(Overlap o);
std::string_view MissedName(Missed m);
Result<Overlap> ParseOverlap(std::string_view text);  // forbid|allow|replace
Result<Missed> ParseMissed(std::string_view text);    // skip|run-once

// A job as stored at job/<name>. The first five fields are the original's
// and always written; the rest are ours, written only when they differ
// from their defaults, so that a job added by the original reads as one
// with every default.
struct Job {
  std::string name;  // from the key, not the JSON
  // The expression as stored. `cron add` stores Schedule::Canonical(): the
  // zone written out as a CRON_TZ= prefix, which the original's conchd
  // reads the same way, so mixed fleets agree on the ticks.
  std::string schedule;
  std::vector<std::string> cmd;
  std::string run_ttl = "10m";  // Go duration text, as the original keeps it
  std::string added_by;         // user@host
  std::string added_at;         // RFC 3339 UTC; also the @every anchor

  Overlap overlap = Overlap::kForbid;
  Missed missed = Missed::kSkip;
  Duration starting_deadline{0};  // run-once: 0 = no limit
  Duration kill_after = std::chrono::seconds(5);
  std::map<std::string, std::string> tags;  // a daemon must carry them all
  std::vector<std::string> hosts;           // empty = any host
  bool paused = false;
  std::string resumed_at;  // RFC 3339 UTC of the last resume, or empty
  // `cron run <name>`: a run asked for at this second (RFC 3339 UTC), to
  // be claimed as the tick of that second by one daemon that sees the
  // change.
  std::string run_requested;
};

// Encodes a job: the original's fields in its order, then ours.
std::string EncodeJob(const Job& job);

// Decodes the JSON of job/<name> and checks it: a parseable schedule (with
// its anchor, the add time), a non-empty command, valid durations and
// policies. kInvalidArgument naming the job and the problem: a job written
// by hand can be wrong, and conchd skips it with that message.
Result<Job> DecodeJob(std::string_view name, std::string_view value);

// The schedule of a decoded job: the stored expression, UTC for one
// without a prefix (the original's jobs; conch always writes a prefix), and
// the add time as the @every anchor (the Unix epoch if it does not parse).
Result<Schedule> JobSchedule(const Job& job);

// The run limit: run_ttl parsed; 0 means none. A negative value (which
// the original accepted and killed at once) is refused by DecodeJob.
Result<Duration> JobRunTtl(const Job& job);

// What became of a claimed tick.
enum class Outcome {
  kRan,      // the command ran; exit says how it ended
  kSkipped,  // overlap forbid: another run of the job was going
  kMissed,   // no daemon claimed it in time (recorded on the newest missed
             // tick, with how many were missed)
  kLost,     // its runner died: claimed, never finished
  kFailed,   // the command could not be started
};
std::string_view OutcomeName(Outcome o);
std::optional<Outcome> ParseOutcome(std::string_view text);

// A result as stored at result/<name>/<tick>. "node", "exit", "started"
// and "duration" are the original's; the rest are ours.
struct RunResult {
  std::string node;             // host that ran (or recorded) the tick
  std::optional<int> exit;      // null unless the command ran
  std::string started;          // RFC 3339 UTC, to the second
  double duration_seconds = 0;  // stored as "%.1fs"
  Outcome outcome = Outcome::kRan;
  std::string tick;    // RFC 3339 UTC
  int64_t missed = 0;  // kMissed: how many ticks
  std::string reason;  // why it ended so (run-ttl, lost...)
  std::string output;  // the last kMaxOutputBytes of output
  int64_t rev = 0;     // the claim's revision (CONCH_REV)
};

std::string EncodeResult(const RunResult& r);
// Missing fields stay empty; nullopt if not a JSON object.
std::optional<RunResult> DecodeResult(std::string_view value);

// The original's holder JSON for a fire key, with our session id added so
// that a claim is unique to this daemon (Backend::ClaimInOrder) and its
// runner can be told alive or gone (node/<session-hex>).
std::string EncodeClaim(const std::string& host, long long pid,
                        const std::string& started, const std::string& cmd,
                        int64_t session);
struct Claimer {
  std::string host;
  long long pid = 0;
  int64_t session = 0;  // 0: not ours (the original's conchd)
};
std::optional<Claimer> DecodeClaim(std::string_view value);

// A run's duration as the original writes it: "%.1fs" ("1.3s").
std::string FormatSeconds(double seconds);

// RFC 3339 UTC to the second: "2026-11-30T03:00:00Z".
std::string FormatUtc(absl::Time t);

}  // namespace conch::cron
