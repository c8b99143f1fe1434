// Time zones for cron schedules: loading an IANA zone by name, and finding
// the name of the zone this host runs in.
//
// A schedule always carries a zone written out by name, so that every node
// computes the same ticks whatever its own local zone is (issue #9, §2).
// The zone rules come from the tzdata files under /usr/share/zoneinfo (or
// $TZDIR), read through absl::TimeZone; nodes are expected to run the same
// tzdata release, as they are expected to agree on the time.
//
// Thread contract: pure functions apart from the file and environment reads
// named below; safe from any thread, except that ResolveHostZone() reads
// $TZ and must not race a setenv().
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "base/status.h"

namespace conch::cron {

// Loads the zone called `name`: an IANA name such as "Europe/Berlin",
// "America/New_York" or "UTC", as Go's time.LoadLocation finds it.
// kInvalidArgument, with a one-line message that quotes the name:
//   - `unknown time zone "Mars/Base"` when tzdata has no such zone;
//   - `invalid time zone name ...` for an empty name, a path ("/etc/..."
//     or one with a "." or ".." component), characters other than letters,
//     digits and "_+-./", and the names that mean "this host's zone"
//     ("localtime", "Local"): a schedule's zone must mean the same on every
//     node.
// Reads the zone file on the first load of each name; absl caches it for the
// life of the process.
Result<absl::TimeZone> LoadZone(std::string_view name);

// The host's zone, by name.
struct HostZone {
  std::string name;  // an IANA name that LoadZone accepts
  std::string note;  // empty, or why `name` is the "UTC" fallback
};

// Where ResolveHostZone looks, in this order.
struct HostZoneSources {
  std::optional<std::string> tz_env;  // $TZ; empty counts as unset
  std::string timezone_file = "/etc/timezone";
  std::string localtime_link = "/etc/localtime";
};

// Finds the name of the host's zone:
//   1. $TZ, as ":Europe/Berlin", "Europe/Berlin", or a path ending in
//      ".../zoneinfo/Europe/Berlin";
//   2. else the first line of /etc/timezone (Debian's record of the zone);
//   3. else the target of the /etc/localtime symlink, from the component
//      after "zoneinfo/" ("../usr/share/zoneinfo/Europe/Berlin").
// A "posix/" prefix is dropped ("posix/Europe/Berlin" is "Europe/Berlin").
// The first source that is present decides: a $TZ that is not a zone name
// (a POSIX rule such as "CET-1CEST,M3.5.0,M10.5.0/3") or an unloadable one
// gives "UTC" with a note rather than a guess from the files, and so does a
// host with none of the three. Never fails; blocks only on reading the two
// files.
HostZone ResolveHostZone(const HostZoneSources& sources);

// The same with $TZ and the real files.
HostZone ResolveHostZone();

}  // namespace conch::cron
