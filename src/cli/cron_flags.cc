#include "cli/cron_flags.h"

#include <set>

#include "base/strings.h"
#include "config/flags.h"
#include "cron/job.h"
#include "cron/schedule.h"
#include "cron/zone.h"

namespace conch::cli {

namespace {

constexpr const char* kUsage =
    "usage: conch cron add <name> --schedule EXPR [--tz ZONE] [--run-ttl D]\n"
    "           [--overlap forbid|allow|replace] [--missed skip|run-once]\n"
    "           [--starting-deadline D] [--kill-after D] [--tag k=v]...\n"
    "           [--hosts h1,h2] -- cmd...\n"
    "       conch cron rm <name>\n"
    "       conch cron ls [--last] [--json]\n"
    "       conch cron next (<name> | --schedule EXPR [--tz ZONE]) [--count "
    "N]\n"
    "           [--from RFC3339]\n"
    "       conch cron pause|resume <name>\n"
    "       conch cron run <name> [--wait D]\n"
    "       conch cron history <name> [--json] [--output]";

const std::set<std::string> kActions = {"add",    "rm",  "ls",     "pause",
                                        "resume", "run", "history"};

Status Invalid(const std::string& msg) {
  return Error(Code::kInvalidArgument, msg);
}

struct Raw {
  std::string overlap = "forbid";
  std::string missed = "skip";
  std::vector<std::string> tags;
  std::string hosts;
};

Status Register(config::FlagSet& flags, CronFlags* f, Raw* raw) {
  Status env = config::RegisterGlobalFlags(flags, &f->global);
  flags.String("schedule", &f->schedule,
               "add: the schedule (5 fields, @daily, @every 1h; TZ= prefix)",
               "EXPR");
  flags.String("tz", &f->tz,
               "add: zone of an EXPR without a TZ= prefix (default: this "
               "host's, stored with the job)",
               "ZONE");
  flags.String("run-ttl", &f->run_ttl,
               "add: stop a run after this long; 0 means no limit", "D");
  flags.String("overlap", &raw->overlap,
               "add: a tick while a run is going: forbid, allow, replace", "P");
  flags.String("missed", &raw->missed,
               "add: ticks no daemon was up for: skip, run-once", "P");
  flags.Duration("starting-deadline", &f->starting_deadline,
                 "add: run-once only within this of the missed tick (0: any)");
  flags.Duration("kill-after", &f->kill_after,
                 "add: SIGKILL this long after SIGTERM");
  flags.Strings("tag", &raw->tags,
                "add: only daemons with this --tag k=v run the job", "k=v");
  flags.String("hosts", &raw->hosts,
               "add: only these hosts run the job, comma-separated", "LIST");
  flags.Bool("last", &f->last, "ls: show each job's last tick");
  flags.Bool("json", &f->json, "ls, history: print JSON");
  flags.Bool("output", &f->output, "history: print each run's kept output");
  flags.Duration("wait", &f->wait,
                 "run: how long to wait for a daemon to claim the run");
  return env;
}

// Flags each action takes, beside the global ones.
const std::map<std::string, std::set<std::string>> kTakes = {
    {"add",
     {"schedule", "tz", "run-ttl", "overlap", "missed", "starting-deadline",
      "kill-after", "tag", "hosts"}},
    {"rm", {}},
    {"ls", {"last", "json"}},
    {"pause", {}},
    {"resume", {}},
    {"run", {"wait"}},
    {"history", {"json", "output"}},
};

const std::vector<std::string> kAllLocal = {
    "schedule",   "tz",  "run-ttl", "overlap", "missed", "starting-deadline",
    "kill-after", "tag", "hosts",   "last",    "json",   "output",
    "wait"};

}  // namespace

Result<CronFlags> ParseCronFlags(const std::vector<std::string>& args) {
  CronFlags f;
  if (args.empty()) return Invalid("an action is required");
  if (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
    f.help = true;
    return f;
  }
  if (!kActions.count(args[0])) {
    return Invalid("unknown action " + Quote(args[0]));
  }
  f.action = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  const bool named = f.action != "ls";
  if (named) {
    if (rest.empty() || rest[0].empty() || rest[0][0] == '-') {
      if (!rest.empty() && (rest[0] == "-h" || rest[0] == "--help")) {
        f.help = true;
        return f;
      }
      return Invalid("cron " + f.action + ": job name is required");
    }
    f.name = rest[0];
    CONCH_RETURN_IF_ERROR(cron::ValidateJobName(f.name));
    rest.erase(rest.begin());
  }
  Raw raw;
  config::FlagSet flags(kUsage);
  Status env = Register(flags, &f, &raw);
  CONCH_RETURN_IF_ERROR(flags.Parse(rest, 0));
  if (flags.help_requested()) {
    CronFlags only_help;
    only_help.help = true;
    return only_help;
  }
  CONCH_RETURN_IF_ERROR(env);
  CONCH_RETURN_IF_ERROR(config::ValidateGlobal(f.global));
  const std::set<std::string>& takes = kTakes.at(f.action);
  for (const std::string& name : kAllLocal) {
    if (flags.IsSet(name) && !takes.count(name)) {
      return Invalid("cron " + f.action + " does not take --" + name);
    }
  }
  if (f.action != "add") {
    if (flags.has_command_separator()) {
      return Invalid("cron " + f.action + " takes no command after \"--\"");
    }
    if (f.action == "run" && f.wait < Duration::zero()) {
      return Invalid("--wait must not be negative");
    }
    return f;
  }

  // add
  if (!flags.IsSet("schedule") || f.schedule.empty()) {
    return Invalid("cron add: --schedule is required");
  }
  f.command = flags.command();
  if (f.command.empty()) {
    return Invalid("cron add: a command is required after \"--\"");
  }
  if (flags.IsSet("tz")) {
    Result<absl::TimeZone> zone = cron::LoadZone(f.tz);
    if (!zone.ok()) return zone.status().With("flag --tz");
  }
  // The expression must parse; its zone (the host's, without --tz or a
  // prefix) is settled at `cron add`.
  cron::ParseOptions check;
  check.default_zone = f.tz.empty() ? "UTC" : f.tz;
  Result<cron::Schedule> schedule = cron::Schedule::Parse(f.schedule, check);
  if (!schedule.ok()) return schedule.status();
  if (f.run_ttl.empty()) f.run_ttl = "10m";
  Result<Duration> ttl = ParseDuration(f.run_ttl);
  if (!ttl.ok()) return ttl.status().With("flag --run-ttl");
  if (*ttl < Duration::zero()) {
    return Invalid("flag --run-ttl: " + Quote(f.run_ttl) +
                   " is negative; 0 means no limit");
  }
  Result<cron::Overlap> overlap = cron::ParseOverlap(raw.overlap);
  if (!overlap.ok()) return overlap.status().With("flag --overlap");
  f.overlap = *overlap;
  Result<cron::Missed> missed = cron::ParseMissed(raw.missed);
  if (!missed.ok()) return missed.status().With("flag --missed");
  f.missed = *missed;
  if (f.starting_deadline < Duration::zero()) {
    return Invalid("--starting-deadline must not be negative");
  }
  if (f.kill_after < Duration::zero()) {
    return Invalid("--kill-after must not be negative");
  }
  for (const std::string& tag : raw.tags) {
    Result<std::pair<std::string, std::string>> kv = cron::ParseTag(tag);
    if (!kv.ok()) return kv.status();
    f.tags[kv->first] = kv->second;
  }

  if (!raw.hosts.empty()) {
    for (const std::string& h : Split(raw.hosts, ',')) {
      if (h.empty()) return Invalid("flag --hosts: an empty host name");
      f.hosts.push_back(h);
    }
  }
  return f;
}

std::string CronUsage() {
  CronFlags f;
  Raw raw;
  config::FlagSet flags(kUsage);
  (void)Register(flags, &f, &raw);
  return flags.Usage();
}

}  // namespace conch::cli
