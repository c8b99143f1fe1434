#include "cron/next_cmd.h"

#include <cstdio>

#include "absl/time/clock.h"
#include "base/strings.h"
#include "config/flags.h"

namespace conch::cron {

namespace {

// cli/exit_codes.h's kExitOk and kExitUsage: cron/ sits below cli/ and
// cannot include it.
constexpr int kExitOk = 0;
constexpr int kExitUsage = 64;

const char* const kUsage =
    "usage: conch cron next --schedule EXPR [--tz ZONE] [--count N] "
    "[--from TIME]\n"
    "       conch cron next <name> [--count N] [--from TIME]\n\n"
    "Prints the next N tick times of a schedule, or of job <name>, one\n"
    "RFC 3339 time per line in the schedule's zone offset. Ticks are\n"
    "strictly after --from. Without a TZ= prefix or --tz, EXPR is read in\n"
    "this host's zone; @every is anchored at --from.";

Status Invalid(std::string message) {
  return Error(Code::kInvalidArgument, std::move(message));
}

// Registers the flag table, writing into *f and *from. Returns the error of
// a malformed CONCH_* variable, if any (the table is complete all the same).
Status RegisterNextFlags(config::FlagSet& flags, CronNextFlags* f,
                         std::string* from) {
  Status env = config::RegisterGlobalFlags(flags, &f->global);
  flags.String("schedule", &f->schedule,
               "the schedule to show, instead of a job's", "EXPR");
  flags.String("tz", &f->tz,
               "zone of an EXPR without a TZ= prefix (default: this host's)",
               "ZONE");
  flags.Int("count", &f->count, "how many ticks to print, 1..10000");
  flags.String("from", from, "print ticks after this time (default: now)",
               "TIME");
  return env;
}

// The rules between flags, once they have parsed.
Status CheckCombination(const CronNextFlags& f, const config::FlagSet& flags) {
  if (flags.has_command_separator()) {
    return Invalid("cron next takes no command after \"--\"");
  }
  if (!f.name.empty() && flags.IsSet("schedule")) {
    return Invalid("give a job <name> or --schedule EXPR, not both");
  }
  if (f.name.empty() && !flags.IsSet("schedule")) {
    return Invalid("a job <name> or --schedule EXPR is required");
  }
  if (!f.name.empty() && flags.IsSet("tz")) {
    return Invalid(
        "--tz applies to --schedule only; a job's zone is stored "
        "with it");
  }
  if (f.count < 1 || f.count > kMaxNextCount) {
    return Invalid("--count " + std::to_string(f.count) +
                   " must be between 1 and " + std::to_string(kMaxNextCount));
  }
  return Status::Ok();
}

CommandResult UsageError(const Status& status) {
  return {kExitUsage, "",
          "conch cron next: " + status.message() +
              " (see conch cron next --help)\n"};
}

}  // namespace

Result<CronNextFlags> ParseCronNextFlags(const std::vector<std::string>& args) {
  CronNextFlags f;
  std::string from;
  config::FlagSet flags(kUsage);
  f.env_status = RegisterNextFlags(flags, &f, &from);
  CONCH_RETURN_IF_ERROR(flags.Parse(args, 1));
  if (flags.help_requested()) {
    CronNextFlags only_help;
    only_help.help = true;
    return only_help;
  }
  if (!flags.positionals().empty()) f.name = flags.positionals()[0];
  CONCH_RETURN_IF_ERROR(CheckCombination(f, flags));
  if (flags.IsSet("from")) {
    Result<absl::Time> parsed = ParseRfc3339(from);
    if (!parsed.ok()) return parsed.status().With("flag --from");
    f.from = *parsed;
  }
  if (flags.IsSet("tz")) {
    Result<absl::TimeZone> zone = LoadZone(f.tz);
    if (!zone.ok()) return zone.status().With("flag --tz");
  }
  return f;
}

std::string CronNextUsage() {
  CronNextFlags f;
  std::string from;
  config::FlagSet flags(kUsage);
  // Only the table matters here; a bad CONCH_* variable shows when parsing.
  (void)RegisterNextFlags(flags, &f, &from);
  return flags.Usage();
}

Result<absl::Time> ParseRfc3339(std::string_view text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full,
                       absl::string_view(text.data(), text.size()), &t,
                       &error)) {
    return Invalid(Quote(text) +
                   " is not an RFC 3339 time like 2026-03-29T01:30:00Z");
  }
  return t;
}

std::string FormatTick(absl::Time tick, const absl::TimeZone& zone) {
  const int offset = zone.At(tick).offset;
  const bool utc = offset == 0 || offset % 60 != 0;
  const absl::TimeZone shown = absl::FixedTimeZone(utc ? 0 : offset);
  return absl::FormatTime("%E4Y-%m-%dT%H:%M:%S", tick, shown) +
         (utc ? "Z" : absl::FormatTime("%Ez", tick, shown));
}

Result<std::string> TickLines(const Schedule& schedule, absl::Time from,
                              int64_t count) {
  const std::vector<absl::Time> ticks =
      schedule.NextN(from, static_cast<size_t>(count));
  if (ticks.size() < static_cast<size_t>(count)) {
    return Invalid("schedule " + Quote(schedule.expression()) + " has only " +
                   std::to_string(ticks.size()) + " ticks before 2400-01-01");
  }
  std::string out;
  for (absl::Time tick : ticks) out += FormatTick(tick, schedule.zone()) + "\n";
  return out;
}

CommandResult CronNextWithSchedule(const std::vector<std::string>& args,
                                   absl::Time now, const HostZone& host_zone) {
  // 1. Flags.
  Result<CronNextFlags> parsed = ParseCronNextFlags(args);
  if (!parsed.ok()) return UsageError(parsed.status());
  const CronNextFlags& f = *parsed;
  if (f.help) return {kExitOk, CronNextUsage(), ""};
  if (!f.name.empty()) {
    return UsageError(Invalid("cron next " + Quote(f.name) +
                              " reads the job from the store, which this "
                              "build cannot do yet; use --schedule EXPR"));
  }

  // 2. The schedule, in --tz or this host's zone unless it names its own.
  const absl::Time from = f.from.value_or(now);
  ParseOptions options;
  options.default_zone = f.tz.empty() ? host_zone.name : f.tz;
  options.every_anchor = from;
  Result<Schedule> schedule = Schedule::Parse(f.schedule, options);
  if (!schedule.ok()) return UsageError(schedule.status());
  std::string note;
  if (f.tz.empty() && !schedule->zone_from_prefix() &&
      !host_zone.note.empty()) {
    note = "conch cron next: note: " + host_zone.note + "\n";
  }

  // 3. The ticks.
  Result<std::string> lines = TickLines(*schedule, from, f.count);
  if (!lines.ok()) return UsageError(lines.status());
  return {kExitOk, *lines, note};
}

int RunCronNextWithSchedule(const std::vector<std::string>& args) {
  const CommandResult result =
      CronNextWithSchedule(args, absl::Now(), ResolveHostZone());
  // Nothing useful is left to do if stdout or stderr is gone.
  (void)std::fputs(result.out.c_str(), stdout);
  (void)std::fputs(result.err.c_str(), stderr);
  return result.exit_code;
}

}  // namespace conch::cron
