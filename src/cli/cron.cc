// `conch cron add|rm|ls|next|pause|resume|run|history`: the job records of
// the distributed cron (cron/job.h). conchd (src/conchd/) runs them.
#include <poll.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "base/log.h"
#include "base/strings.h"
#include "cli/cli.h"
#include "cli/cron_flags.h"
#include "cli/elect.h"
#include "cli/exit_codes.h"
#include "cron/next_cmd.h"
#include "cron/records.h"
#include "cron/schedule.h"
#include "cron/zone.h"
#include "primitives/holder.h"

namespace conch::cli {

namespace {

constexpr const char* kDash = "\xe2\x80\x94";  // U+2014, the original's "—"

using OJson = nlohmann::ordered_json;

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
std::string Dump(const OJson& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

MonoTime Deadline(const CronFlags& f) {
  return SystemClock::Get().Now() + f.global.dial_timeout;
}

// A store error of a cron action: 69, as the issue's fix of the original's 1.
int StoreError(const Status& s, const CronFlags& f) {
  return ReportStartError(s, f.global) == kExitUsage ? kExitUsage
                                                     : kExitUnavailable;
}

std::string UserAtHost() {
  std::string user;
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr) {
    user = pw->pw_name;
  } else if (const char* u = ::getenv("USER"); u != nullptr) {
    user = u;
  } else {
    user = std::to_string(::geteuid());
  }
  return user + "@" + primitives::LocalHostname();
}

// Go's tabwriter with padding 2, as the original prints its tables: every
// column but the last padded to its widest cell plus two. Widths count
// code points.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  auto width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    for (size_t i = 0; i + 1 < row.size(); ++i) {
      if (widths.size() <= i) widths.resize(i + 1, 0);
      widths[i] = std::max(widths[i], width(row[i]));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size())
        out += std::string(widths[i] + 2 - width(row[i]), ' ');
    }
    out += '\n';
  }
  return out;
}

// Reads a job that must exist: 1 with the original's message when it does
// not, 69 on a store error, 65 when it does not decode.
int ReadExisting(backend::Backend& backend, const CronFlags& f,
                 std::optional<cron::Job>* job) {
  Result<std::optional<cron::Job>> read =
      cron::ReadJob(backend, f.name, Deadline(f));
  if (!read.ok()) {
    if (read.status().code() == Code::kInvalidArgument) {
      LogError(read.status().message());
      return 65;
    }
    return StoreError(read.status(), f);
  }
  if (!*read) {
    LogError("job not found: " + f.name);
    return kExitNegative;
  }
  *job = std::move(*read);
  return kExitOk;
}

int Add(backend::Backend& backend, const CronFlags& f) {
  const absl::Time now = absl::Now();
  cron::ParseOptions options;
  cron::HostZone host = cron::ResolveHostZone();
  options.default_zone = f.tz.empty() ? host.name : f.tz;
  options.every_anchor = absl::FromUnixSeconds(absl::ToUnixSeconds(now));
  Result<cron::Schedule> schedule = cron::Schedule::Parse(f.schedule, options);
  if (!schedule.ok()) return ReportUsageError("cron add", schedule.status());
  if (f.tz.empty() && !schedule->zone_from_prefix() && !host.note.empty()) {
    LogWarn("cron add: " + host.note + "; the job's zone is UTC");
  }
  cron::Job job;
  job.name = f.name;
  job.schedule = schedule->Canonical();
  job.cmd = f.command;
  job.run_ttl = f.run_ttl;
  job.added_by = UserAtHost();
  job.added_at = cron::FormatUtc(now);
  job.overlap = f.overlap;
  job.missed = f.missed;
  job.starting_deadline = f.starting_deadline;
  job.kill_after = f.kill_after;
  job.tags = f.tags;
  job.hosts = f.hosts;
  Status put = backend.Put(cron::JobKey(f.name), cron::EncodeJob(job), nullptr,
                           Deadline(f));
  if (!put.ok()) return StoreError(put, f);
  return kExitOk;
}

int Remove(backend::Backend& backend, const CronFlags& f) {
  Result<bool> deleted = backend.Delete(cron::JobKey(f.name), Deadline(f));
  if (!deleted.ok()) return StoreError(deleted.status(), f);
  if (!*deleted) {
    LogError("job not found: " + f.name);
    return kExitNegative;
  }
  // The job's history goes with it, so that the store keeps nothing of a
  // removed job. A run in progress still writes its result.
  for (const std::string& dir :
       {cron::FireDir(f.name), cron::ResultDir(f.name)}) {
    Result<std::vector<backend::KeyValue>> kvs =
        backend.ListRecords(dir, false, Deadline(f));
    if (!kvs.ok()) return StoreError(kvs.status(), f);
    for (const backend::KeyValue& kv : *kvs) {
      Result<bool> gone = backend.Delete(kv.key, Deadline(f));
      if (!gone.ok()) return StoreError(gone.status(), f);
    }
  }
  return kExitOk;
}

int List(backend::Backend& backend, const CronFlags& f) {
  Result<cron::Jobs> jobs = cron::ReadJobs(backend, Deadline(f));
  if (!jobs.ok()) return StoreError(jobs.status(), f);
  for (const Status& bad : jobs->bad) LogWarn(bad.message());
  std::vector<std::vector<std::string>> rows;
  if (f.last) {
    rows.push_back(
        {"NAME", "SCHEDULE", "LAST-TICK", "NODE", "EXIT", "DURATION"});
  } else {
    rows.push_back({"NAME", "SCHEDULE"});
  }
  nlohmann::json array = nlohmann::json::array();
  for (const cron::Job& job : jobs->good) {
    nlohmann::json item;  // keys sort alphabetically, as the original's do
    item["name"] = job.name;
    item["schedule"] = job.schedule;
    if (!f.last) {
      rows.push_back({job.name, job.schedule});
      array.push_back(item);
      continue;
    }
    Result<std::vector<cron::TickRecord>> history =
        cron::ReadHistory(backend, job.name, Deadline(f));
    if (!history.ok()) return StoreError(history.status(), f);
    std::optional<cron::Last> last = cron::LastOf(*history);
    std::string tick = kDash, node = kDash, exit = kDash, duration = kDash;
    item["last_tick"] = nullptr;
    item["node"] = nullptr;
    item["exit"] = nullptr;
    item["duration"] = nullptr;
    if (last) {
      tick = cron::FormatUtc(last->tick);
      node = last->node.empty() ? kDash : last->node;
      exit = last->exit ? std::to_string(*last->exit) : "?";
      if (!last->duration.empty()) duration = last->duration;
      item["last_tick"] = tick;
      item["node"] = last->node;
      if (last->exit) item["exit"] = *last->exit;
      if (!last->duration.empty()) item["duration"] = last->duration;
    }
    rows.push_back({job.name, job.schedule, tick, node, exit, duration});
    array.push_back(item);
  }
  if (f.json) {
    std::printf("%s\n", Dump(array).c_str());  // "[]" when empty
  } else {
    std::fputs(Table(rows).c_str(), stdout);
  }
  return kExitOk;
}

int Pause(backend::Backend& backend, const CronFlags& f, bool pause) {
  std::optional<cron::Job> job;
  if (int code = ReadExisting(backend, f, &job); code != kExitOk) return code;
  if (job->paused == pause) return kExitOk;
  job->paused = pause;
  if (!pause) job->resumed_at = cron::FormatUtc(absl::Now());
  Status put = backend.Put(cron::JobKey(f.name), cron::EncodeJob(*job), nullptr,
                           Deadline(f));
  if (!put.ok()) return StoreError(put, f);
  return kExitOk;
}

// What became of the run asked for at `tick`, once decided: 0 when it has
// started (or already ended), 75 when it was turned down (another run of
// the job is going, or the command could not start); nullopt while no
// daemon has claimed it, or the claimer has not decided yet. A store error
// gives its exit code.
std::optional<int> RunOutcome(backend::Backend& backend, const CronFlags& f,
                              const cron::Job& job, const std::string& tick,
                              std::optional<cron::Claimer>* claimer) {
  Result<std::optional<backend::KeyValue>> claim =
      backend.Get(cron::FireDir(f.name) + tick, Deadline(f));
  if (!claim.ok()) return StoreError(claim.status(), f);
  if (!*claim) return std::nullopt;
  *claimer = cron::DecodeClaim((*claim)->value);
  const std::string host =
      *claimer && !(*claimer)->host.empty() ? (*claimer)->host : "?";
  const std::string what =
      f.name + " " + cron::FormatUtc(*cron::ParseTickName(tick));
  Result<std::optional<backend::KeyValue>> result =
      backend.Get(cron::ResultDir(f.name) + tick, Deadline(f));
  if (!result.ok()) return StoreError(result.status(), f);
  if (*result) {
    std::optional<cron::RunResult> r = cron::DecodeResult((*result)->value);
    if (r && (r->outcome == cron::Outcome::kSkipped ||
              r->outcome == cron::Outcome::kFailed)) {
      LogError("cron run " + what + " on " + host + ": " +
               std::string(cron::OutcomeName(r->outcome)) +
               (r->reason.empty() ? "" : ": " + r->reason));
      return kExitNotAcquired;
    }
    std::printf("%s started on %s\n", what.c_str(), host.c_str());
    return kExitOk;
  }
  bool started = job.overlap == cron::Overlap::kAllow;
  if (!started) {
    // A run hold names its tick (its "cmd"): the run has it, so it started.
    Result<std::vector<backend::KeyValue>> holds =
        backend.List(cron::RunDir(f.name), 0, Deadline(f));
    if (!holds.ok()) return StoreError(holds.status(), f);
    // The oldest hold is the one that runs; a newer one waits (replace) or
    // is being taken back (forbid).
    if (!holds->empty()) {
      std::optional<primitives::Holder> h =
          primitives::DecodeHolder(holds->front().value);
      started = h && h->cmd == tick;
    }
  }
  if (!started) return std::nullopt;
  std::printf("%s started on %s\n", what.c_str(), host.c_str());
  return kExitOk;
}

// Asks for a run now, then waits for a daemon's claim of it.
int RunNow(backend::Backend& backend, const CronFlags& f) {
  std::optional<cron::Job> job;
  if (int code = ReadExisting(backend, f, &job); code != kExitOk) return code;
  if (job->paused) {
    LogError("job " + Quote(f.name) + " is paused; resume it first");
    return kExitNotAcquired;
  }
  const absl::Time at = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  job->run_requested = cron::FormatUtc(at);
  Status put = backend.Put(cron::JobKey(f.name), cron::EncodeJob(*job), nullptr,
                           Deadline(f));
  if (!put.ok()) return StoreError(put, f);
  // Watch the claims, results and run holds from now, then look once
  // (what was written before the watch is read then), and again after
  // every change, until the run has started or has been turned down.
  const std::string tick = cron::TickName(at);
  backend::EventSink sink;
  std::unique_ptr<backend::Watch> watch = backend.StartWatch(
      {backend::WatchSpec{cron::FireDir(f.name), true, true},
       backend::WatchSpec{cron::ResultDir(f.name), true, true},
       backend::WatchSpec{cron::RunDir(f.name), true, false}},
      &sink, 1);
  const MonoTime until = SystemClock::Get().Now() + f.wait;
  size_t live = 0;
  std::optional<cron::Claimer> claimer;
  for (;;) {
    if (live == 3) {
      std::optional<int> code = RunOutcome(backend, f, *job, tick, &claimer);
      if (code) return *code;
    }
    MonoTime now = SystemClock::Get().Now();
    if (now >= until) break;
    pollfd p{sink.fd(), POLLIN, 0};
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now);
    ::poll(&p, 1, static_cast<int>(ms.count()));
    for (const backend::Event& e : sink.Drain()) {
      if (e.kind == backend::Event::Kind::kWatchLive) ++live;
      if (e.kind == backend::Event::Kind::kWatchFailed) {
        return StoreError(e.status, f);
      }
    }
  }
  if (claimer) {
    LogError("cron run " + f.name + ": claimed by " + claimer->host +
             ", not started within " + FormatDuration(f.wait));
  } else {
    LogError("cron run " + f.name + ": no conchd claimed the run within " +
             FormatDuration(f.wait) + " (none running or none eligible)");
  }
  return kExitNotAcquired;
}

int History(backend::Backend& backend, const CronFlags& f) {
  Result<std::vector<cron::TickRecord>> history =
      cron::ReadHistory(backend, f.name, Deadline(f));
  if (!history.ok()) return StoreError(history.status(), f);
  if (history->empty()) {
    // No records: a job that never ticked, or none at all.
    std::optional<cron::Job> job;
    if (int code = ReadExisting(backend, f, &job); code != kExitOk) return code;
  }
  std::vector<std::vector<std::string>> rows = {
      {"TICK", "NODE", "STARTED", "DURATION", "EXIT", "OUTCOME"}};
  OJson array = OJson::array();
  for (const cron::TickRecord& r : *history) {
    std::string node = kDash, started = kDash, duration = kDash, exit = kDash;
    OJson item;
    item["tick"] = cron::FormatUtc(r.tick);
    if (r.result) {
      node = r.result->node;
      if (!r.result->started.empty()) started = r.result->started;
      if (r.result->outcome == cron::Outcome::kRan) {
        duration = cron::FormatSeconds(r.result->duration_seconds);
      }
      if (r.result->exit) exit = std::to_string(*r.result->exit);
    } else if (r.claimer) {
      node = r.claimer->host;
    }
    item["node"] = node == kDash ? OJson() : OJson(node);
    item["started"] = started == kDash ? OJson() : OJson(started);
    item["duration"] = duration == kDash ? OJson() : OJson(duration);
    if (r.result && r.result->exit) {
      item["exit"] = *r.result->exit;
    } else {
      item["exit"] = nullptr;
    }
    item["outcome"] = r.state;
    if (r.result && r.result->missed > 0) item["missed"] = r.result->missed;
    if (r.result && !r.result->reason.empty())
      item["reason"] = r.result->reason;
    if (r.result && r.result->rev > 0) item["rev"] = r.result->rev;
    if (f.output && r.result) item["output"] = r.result->output;
    array.push_back(item);
    rows.push_back({cron::FormatUtc(r.tick), node.empty() ? kDash : node,
                    started, duration, exit, r.state});
  }
  if (f.json) {
    std::printf("%s\n", Dump(array).c_str());
    return kExitOk;
  }
  if (!f.output) {
    std::fputs(Table(rows).c_str(), stdout);
    return kExitOk;
  }
  for (size_t i = 0; i < history->size(); ++i) {
    std::fputs(Table({rows[0], rows[i + 1]}).c_str(), stdout);
    const cron::TickRecord& r = (*history)[i];
    if (r.result && !r.result->output.empty()) {
      std::fputs(r.result->output.c_str(), stdout);
      if (r.result->output.back() != '\n') std::fputc('\n', stdout);
    }
  }
  return kExitOk;
}

// `cron next <name>`: the job's ticks, in its stored zone and anchor.
int NextOfJob(const std::vector<std::string>& args) {
  Result<cron::CronNextFlags> parsed = cron::ParseCronNextFlags(args);
  if (!parsed.ok()) return ReportUsageError("cron next", parsed.status());
  const cron::CronNextFlags& f = *parsed;
  if (!f.env_status.ok()) return ReportUsageError("cron next", f.env_status);
  Status global = config::ValidateGlobal(f.global);
  if (!global.ok()) return ReportUsageError("cron next", global);
  ApplyQuiet(f.global);
  backend::Backend* backend = OpenBackendOrReport(f.global);
  if (backend == nullptr) return kExitUsage;
  Result<std::optional<cron::Job>> job = cron::ReadJob(
      *backend, f.name, SystemClock::Get().Now() + f.global.dial_timeout);
  if (!job.ok()) {
    if (job.status().code() == Code::kInvalidArgument) {
      LogError(job.status().message());
      return 65;
    }
    return ReportStartError(job.status(), f.global) == kExitUsage
               ? kExitUsage
               : kExitUnavailable;
  }
  if (!*job) {
    LogError("job not found: " + f.name);
    return kExitNegative;
  }
  Result<cron::Schedule> schedule = cron::JobSchedule(**job);
  if (!schedule.ok()) {
    LogError(schedule.status().message());
    return 65;
  }
  Result<std::string> lines =
      cron::TickLines(*schedule, f.from.value_or(absl::Now()), f.count);
  if (!lines.ok()) {
    LogError(lines.status().message());
    return 65;
  }
  std::fputs(lines->c_str(), stdout);
  return kExitOk;
}

bool NextNamesAJob(const std::vector<std::string>& args) {
  Result<cron::CronNextFlags> parsed = cron::ParseCronNextFlags(args);
  return parsed.ok() && !parsed->help && !parsed->name.empty();
}

}  // namespace

int RunCron(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "next") {
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (NextNamesAJob(rest)) return NextOfJob(rest);
    return cron::RunCronNextWithSchedule(rest);
  }
  Result<CronFlags> parsed = ParseCronFlags(args);
  if (!parsed.ok()) return ReportUsageError("cron", parsed.status());
  const CronFlags& f = *parsed;
  if (f.help) return PrintUsage(CronUsage());
  ApplyQuiet(f.global);
  backend::Backend* backend = OpenBackendOrReport(f.global);
  if (backend == nullptr) return kExitUsage;
  if (f.action == "add") return Add(*backend, f);
  if (f.action == "rm") return Remove(*backend, f);
  if (f.action == "ls") return List(*backend, f);
  if (f.action == "pause") return Pause(*backend, f, true);
  if (f.action == "resume") return Pause(*backend, f, false);
  if (f.action == "run") return RunNow(*backend, f);
  return History(*backend, f);
}

}  // namespace conch::cli
