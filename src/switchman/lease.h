// Leases of switchman: one `--lease RES=COUNT:TOTAL` argument turned into a
// resource name and two checked integers, plus the host facts behind the
// CPU, FQDN and MEMMB macros.
//
// Perl compatibility. App::Switchman 1.16 (lib/App/Switchman.pm) expands the
// macros in RES and in COUNT:TOTAL, splits at the first ":" and hands each
// side to Perl's string eval; Net::ZooKeeper::Semaphore checks the results
// only after the process has queued and waited. Perl and conch clients on
// one host must agree on every expanded name and total, because the total is
// written into every lease node and the resource name is a znode name, so:
//   - The macros are replaced in one left-to-right pass, and replacement
//     text is not scanned again: an FQDN that contains "CPU" stays as it is,
//     and "MYCPUS" becomes "MY8S" (the original's s/(CPU|FQDN|MEMMB)/.../eg;
//     the three names start with different letters, so the alternation
//     order, which follows Perl's hash order, cannot matter).
//   - CPU is sysconf(_SC_NPROCESSORS_ONLN), which is what Sys::CPU's
//     cpu_count() calls on Linux (every release since 0.30); it does not
//     count /proc/cpuinfo lines itself. Affinity and cgroups are ignored.
//   - MEMMB is int(MemTotal / 1024), MemTotal read from /proc/meminfo the
//     way Linux::MemInfo 0.02 reads it.
//   - FQDN is Net::Domain::hostfqdn() (libnet 3.x) on Linux, ported step by
//     step in HostFqdn() below, including what it does with a resolv.conf
//     domain: "search example.com" gives "host.example.com" without any
//     lookup, and systemd-resolved's "search ." gives "host..".
// Where the original accepted something that cannot work, or would give a
// different value than it appears to, this module rejects it at start-up
// instead (exit 64 in the caller):
//   - Only decimal integer literals; Perl reads "010" as octal 8, so a
//     literal with a leading zero is an error, as are "0x10", "1_000",
//     "1.5" and "1e3".
//   - Arithmetic is exact (64-bit rationals). Perl computes an inexact "/"
//     in double precision, so the two can differ where rounding shows:
//     int(49*(1/49)) is 0 in Perl and 1 here. We accept only values that
//     are exactly integers, and an intermediate result beyond 2^63-1 is an
//     error rather than a rounded double.
//   - The original accepts a negative count (it adds capacity) and a count
//     above the total (it then blocks the queue head forever); both are
//     errors here.
//
// Thread contract: everything except ReadHostFacts is a pure function, safe
// from any thread. ReadHostFacts reads files and the environment and may
// block on DNS; it is safe from any thread that does not race setenv().
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace conch::switchman {

// The values of the macros. Tests build this by hand.
struct HostFacts {
  int64_t cpus = 0;    // CPU
  std::string fqdn;    // FQDN; empty when hostfqdn() would give undef
  int64_t mem_mb = 0;  // MEMMB
};

// The facts of this host, computed as the Perl tool computes them (see the
// top of this file). Blocks while HostFqdn() resolves names, which can take
// the resolver's timeouts when DNS is unreachable, as it does for the
// original. An FQDN that cannot be determined is not an error here (the
// original carries on with an empty string); ParseLease rejects a lease that
// uses the FQDN macro then. Errors: kInternal when the CPU count or
// /proc/meminfo cannot be read, naming the source.
Result<HostFacts> ReadHostFacts();

// MEMMB from the text of /proc/meminfo: int(MemTotal / 1024). A line counts
// as Linux::MemInfo's regex /^(\S+):(\s+)(\S+) (\S+)/ matches it, so
// "MemTotal:  16318440 kB" does and a line without a unit does not; the last
// such MemTotal line wins. The unit is ignored, as there. kInternal when
// there is no MemTotal or its value is not a decimal integer below 2^63.
Result<int64_t> ParseMemTotalMb(std::string_view meminfo);

// The domain Net::Domain takes from /etc/resolv.conf: the first word after
// "domain" or "search" on the last line matching
// /\A\s*(?:domain|search)\s+(\S+)/, or nullopt when no line does.
std::optional<std::string> ParseResolvConfDomain(std::string_view resolv_conf);

// One gethostbyname(3) answer: the official name and the aliases.
struct HostEntry {
  std::string name;
  std::vector<std::string> aliases;
};

// What Net::Domain::hostfqdn() looks at on Linux, so that tests can supply
// each piece.
struct FqdnSources {
  std::string nodename;  // uname(2) nodename, what gethostname(2) returns
  // The text of /etc/resolv.conf; nullopt when it cannot be opened.
  std::optional<std::string> resolv_conf;
  // getdomainname(2), the NIS domain, which Net::Domain reads through the
  // domainname(1) command; the kernel reports "(none)" when it is unset.
  std::string nis_domain;
  std::optional<std::string> localdomain_env;  // $LOCALDOMAIN
  std::optional<std::string> domain_env;       // $DOMAIN
  // gethostbyname(3): IPv4 only, /etc/hosts and DNS as nsswitch.conf says.
  // nullopt when the name does not resolve.
  std::function<std::optional<HostEntry>(const std::string&)> lookup;
};

// Net::Domain::hostfqdn() of libnet 3.x on Linux, or "" where it returns
// undef. The steps, in Net::Domain's order:
//   1. host = nodename without NUL/CR/LF, leading and trailing dots, and
//      with runs of dots collapsed.
//   2. domain = Net::Config's inet_domain (unset in Debian's default
//      libnet.cfg, and assumed unset here: we do not read libnet.cfg or
//      ~/.libnetrc); else ParseResolvConfDomain(); else the part after the
//      first label of the first dotted official name or alias found by
//      looking up "host.NIS" (only when host has no dot and the NIS domain
//      is set; Net::Domain also looks up "host.(none)", which never
//      resolves, so we skip it), then host, then "localhost"; else
//      $LOCALDOMAIN if Perl-true, else $DOMAIN, cleaned like host.
//   3. If host has no dot and domain has one: host + "." + domain, with no
//      lookup at all.
//   4. If host is a dotted quad: host.
//   5. Otherwise the first name that resolves, trying host's labels
//      joined with domain's, dropping host's last label, then domain's
//      first label in turn (the name tried, not the official name
//      returned, is the answer).
std::string HostFqdn(const FqdnSources& sources);

// `text` with every CPU, FQDN and MEMMB replaced in one left-to-right pass
// (see the top of this file): ExpandMacros("MYCPUS", {.cpus = 8}) = "MY8S".
std::string ExpandMacros(std::string_view text, const HostFacts& facts);

// An exact value: num/den in lowest terms, den > 0, |num| < 2^63.
struct Fraction {
  int64_t num = 0;
  int64_t den = 1;
  bool operator==(const Fraction&) const = default;
};

// Evaluates an integer expression with Perl's meaning, in place of Perl's
// eval:
//   decimal integer literals; + - * / % with Perl's precedence (unary + and
//   - bind tighter than * / %, which bind tighter than binary + -; binary
//   operators are left-associative); parentheses; int(...); whitespace.
//   "/" is true division (7/2 is 7/2, not 3); int() truncates toward zero;
//   "%" truncates both operands toward zero first and gives a result with
//   the sign of the right operand (-7 % 3 = 2, 7 % -3 = -2).
// kInvalidArgument for anything else, with a one-line message that gives a
// 1-based byte position in `expr`: an empty expression, an unknown name, a
// literal that is not plain decimal, "**", "++", "--" and other operators, a
// missing or stray parenthesis, trailing text, division or modulus by zero,
// a value (or intermediate value) of magnitude 2^63 or more, or nesting
// deeper than 64 levels.
Result<Fraction> EvalExpression(std::string_view expr);

// One parsed --lease.
struct Lease {
  std::string resource;  // after macro expansion; a valid znode name
  int64_t count = 0;     // 0 <= count <= total
  int64_t total = 0;     // >= 1
  std::string text;      // the argument as given, for messages
};

// Parses one --lease argument, "RES=COUNT:TOTAL":
//   - RES is everything before the first "=" (Getopt::Long's hash-option
//     rule), the rest is split at its first ":" after macro expansion, as
//     the original's split /:/, $value, 2 does;
//   - RES after expansion must be a usable znode name: not empty, not "."
//     or "..", without "/" or control bytes;
//   - COUNT and TOTAL go through EvalExpression and must be integers with
//     total >= 1 and 0 <= count <= total.
// Every error is kInvalidArgument with one line naming the lease, e.g.
//   --lease "rr=1:x": bad total "x": unknown name "x" at position 1
// where the position counts bytes of the quoted expression after expansion.
// A lease that uses FQDN while facts.fqdn is empty is an error too.
Result<Lease> ParseLease(std::string_view arg, const HostFacts& facts);

}  // namespace conch::switchman
