#include "cron/job.h"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "primitives/keys.h"

namespace conch::cron {

namespace {

using Json = nlohmann::ordered_json;

std::string Dump(const Json& j) {
  // Invalid UTF-8 (a command's output, argv) is replaced, never fatal.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Root() { return std::string(kCronRoot); }

std::optional<std::string> StringField(const nlohmann::json& j,
                                       const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

Status ValidateJobName(std::string_view name) {
  return primitives::ValidateName("job", name);
}

std::string JobDir() { return Root() + "job/"; }
std::string JobKey(std::string_view name) {
  return JobDir() + std::string(name);
}
std::string FireDir(std::string_view name) {
  return Root() + "fire/" + std::string(name) + "/";
}
std::string ResultDir(std::string_view name) {
  return Root() + "result/" + std::string(name) + "/";
}
std::string RunDir(std::string_view name) {
  return Root() + "run/" + std::string(name) + "/";
}
std::string NodeDir() { return Root() + "node/"; }

std::string TickName(absl::Time tick) {
  return std::to_string(absl::ToUnixSeconds(tick));
}

std::optional<absl::Time> ParseTickName(std::string_view name) {
  if (name.size() != 10) return std::nullopt;
  int64_t v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < 1000000000) return std::nullopt;  // a leading zero
  return absl::FromUnixSeconds(v);
}

std::string_view LastSegment(std::string_view key) {
  size_t slash = key.rfind('/');
  return slash == std::string_view::npos ? key : key.substr(slash + 1);
}

Result<std::pair<std::string, std::string>> ParseTag(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Error(Code::kInvalidArgument,
                 "flag --tag: " + Quote(text) + " is not k=v");
  }
  return std::make_pair(std::string(text.substr(0, eq)),
                        std::string(text.substr(eq + 1)));
}

std::string_view OverlapName(Overlap o) {
  switch (o) {
    case Overlap::kForbid:
      return "forbid";
    case Overlap::kAllow:
      return "allow";
    case Overlap::kReplace:
      return "replace";
  }
  return "forbid";
}

std::string_view MissedName(Missed m) {
  return m == Missed::kSkip ? "skip" : "run-once";
}

Result<Overlap> ParseOverlap(std::string_view text) {
  if (text == "forbid") return Overlap::kForbid;
  if (text == "allow") return Overlap::kAllow;
  if (text == "replace") return Overlap::kReplace;
  return Error(Code::kInvalidArgument,
               "overlap " + Quote(text) + ": want forbid, allow or replace");
}

Result<Missed> ParseMissed(std::string_view text) {
  if (text == "skip") return Missed::kSkip;
  if (text == "run-once") return Missed::kRunOnce;
  return Error(Code::kInvalidArgument,
               "missed " + Quote(text) + ": want skip or run-once");
}

std::string EncodeJob(const Job& job) {
  Json j;
  j["schedule"] = job.schedule;
  j["cmd"] = job.cmd;
  j["run_ttl"] = job.run_ttl;
  j["added_by"] = job.added_by;
  j["added_at"] = job.added_at;
  if (job.overlap != Overlap::kForbid) j["overlap"] = OverlapName(job.overlap);
  if (job.missed != Missed::kSkip) j["missed"] = MissedName(job.missed);
  if (job.starting_deadline.count() != 0) {
    j["starting_deadline"] = FormatDuration(job.starting_deadline);
  }
  if (job.kill_after != std::chrono::seconds(5)) {
    j["kill_after"] = FormatDuration(job.kill_after);
  }
  if (!job.tags.empty()) j["tags"] = job.tags;
  if (!job.hosts.empty()) j["hosts"] = job.hosts;
  if (job.paused) j["paused"] = true;
  if (!job.resumed_at.empty()) j["resumed_at"] = job.resumed_at;
  if (!job.run_requested.empty()) j["run_requested"] = job.run_requested;
  return Dump(j);
}

Result<Job> DecodeJob(std::string_view name, std::string_view value) {
  const std::string what = "job " + Quote(name);
  auto bad = [&](const std::string& why) {
    return Error(Code::kInvalidArgument, what + ": " + why);
  };
  nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  Job job;
  job.name = std::string(name);
  std::optional<std::string> schedule = StringField(j, "schedule");
  if (!schedule) return bad("no \"schedule\" string");
  job.schedule = *schedule;
  auto cmd = j.find("cmd");
  if (cmd == j.end() || !cmd->is_array() || cmd->empty()) {
    return bad("no \"cmd\" array");
  }
  for (const auto& word : *cmd) {
    if (!word.is_string()) return bad("\"cmd\" holds a non-string");
    job.cmd.push_back(word.get<std::string>());
  }
  if (auto v = StringField(j, "run_ttl"); v && !v->empty()) job.run_ttl = *v;
  if (auto v = StringField(j, "added_by")) job.added_by = *v;
  if (auto v = StringField(j, "added_at")) job.added_at = *v;
  if (auto v = StringField(j, "overlap")) {
    Result<Overlap> o = ParseOverlap(*v);
    if (!o.ok()) return bad(o.status().message());
    job.overlap = *o;
  }
  if (auto v = StringField(j, "missed")) {
    Result<Missed> m = ParseMissed(*v);
    if (!m.ok()) return bad(m.status().message());
    job.missed = *m;
  }
  if (auto v = StringField(j, "starting_deadline")) {
    Result<Duration> d = ParseDuration(*v);
    if (!d.ok() || d->count() < 0) return bad("bad \"starting_deadline\"");
    job.starting_deadline = *d;
  }
  if (auto v = StringField(j, "kill_after")) {
    Result<Duration> d = ParseDuration(*v);
    if (!d.ok() || d->count() < 0) return bad("bad \"kill_after\"");
    job.kill_after = *d;
  }
  if (auto it = j.find("tags"); it != j.end()) {
    if (!it->is_object()) return bad("\"tags\" is not an object");
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) return bad("tag " + Quote(k) + " is not a string");
      job.tags[k] = v.get<std::string>();
    }
  }
  if (auto it = j.find("hosts"); it != j.end()) {
    if (!it->is_array()) return bad("\"hosts\" is not an array");
    for (const auto& h : *it) {
      if (!h.is_string()) return bad("\"hosts\" holds a non-string");
      job.hosts.push_back(h.get<std::string>());
    }
  }
  if (auto it = j.find("paused"); it != j.end() && it->is_boolean()) {
    job.paused = it->get<bool>();
  }
  if (auto v = StringField(j, "resumed_at")) job.resumed_at = *v;
  if (auto v = StringField(j, "run_requested")) job.run_requested = *v;
  Result<Duration> ttl = JobRunTtl(job);
  if (!ttl.ok()) return bad(ttl.status().message());
  Result<Schedule> parsed = JobSchedule(job);
  if (!parsed.ok()) return bad(parsed.status().message());
  return job;
}

Result<Schedule> JobSchedule(const Job& job) {
  ParseOptions options;
  options.default_zone = "UTC";
  absl::Time anchor;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, job.added_at, &anchor, &err)) {
    options.every_anchor = absl::FromUnixSeconds(absl::ToUnixSeconds(anchor));
  }
  return Schedule::Parse(job.schedule, options);
}

Result<Duration> JobRunTtl(const Job& job) {
  Result<Duration> ttl = ParseDuration(job.run_ttl);
  if (!ttl.ok()) return ttl.status().With("run_ttl");
  if (ttl->count() < 0) {
    return Error(Code::kInvalidArgument, "run_ttl " + Quote(job.run_ttl) +
                                             " is negative; 0 means no limit");
  }
  return ttl;
}

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kRan:
      return "ran";
    case Outcome::kSkipped:
      return "skipped";
    case Outcome::kMissed:
      return "missed";
    case Outcome::kLost:
      return "lost";
    case Outcome::kFailed:
      return "failed";
  }
  return "ran";
}

std::optional<Outcome> ParseOutcome(std::string_view text) {
  for (Outcome o : {Outcome::kRan, Outcome::kSkipped, Outcome::kMissed,
                    Outcome::kLost, Outcome::kFailed}) {
    if (OutcomeName(o) == text) return o;
  }
  return std::nullopt;
}

std::string EncodeResult(const RunResult& r) {
  Json j;
  j["node"] = r.node;
  if (r.exit) {
    j["exit"] = *r.exit;
  } else {
    j["exit"] = nullptr;
  }
  j["started"] = r.started;
  j["duration"] = FormatSeconds(r.duration_seconds);
  j["outcome"] = OutcomeName(r.outcome);
  if (!r.tick.empty()) j["tick"] = r.tick;
  if (r.missed > 0) j["missed"] = r.missed;
  if (!r.reason.empty()) j["reason"] = r.reason;
  if (r.rev > 0) j["rev"] = r.rev;
  if (!r.output.empty()) j["output"] = r.output;
  return Dump(j);
}

std::optional<RunResult> DecodeResult(std::string_view value) {
  nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  RunResult r;
  if (auto v = StringField(j, "node")) r.node = *v;
  if (auto it = j.find("exit"); it != j.end() && it->is_number_integer()) {
    r.exit = it->get<int>();
  }
  if (auto v = StringField(j, "started")) r.started = *v;
  if (auto v = StringField(j, "duration")) {
    // "%.1fs" as written; anything else reads as 0.
    char* end = nullptr;
    double d = std::strtod(v->c_str(), &end);
    if (end != v->c_str() && std::isfinite(d)) r.duration_seconds = d;
  }
  // A result without an outcome is the original's: the command ran.
  if (auto v = StringField(j, "outcome")) {
    if (std::optional<Outcome> o = ParseOutcome(*v)) r.outcome = *o;
  }
  if (auto v = StringField(j, "tick")) r.tick = *v;
  if (auto it = j.find("missed"); it != j.end() && it->is_number_integer()) {
    r.missed = it->get<int64_t>();
  }
  if (auto v = StringField(j, "reason")) r.reason = *v;
  if (auto it = j.find("rev"); it != j.end() && it->is_number_integer()) {
    r.rev = it->get<int64_t>();
  }
  if (auto v = StringField(j, "output")) r.output = *v;
  return r;
}

std::string EncodeClaim(const std::string& host, long long pid,
                        const std::string& started, const std::string& cmd,
                        int64_t session) {
  Json j;
  j["host"] = host;
  j["pid"] = pid;
  j["started"] = started;
  if (!cmd.empty()) j["cmd"] = cmd;
  j["session"] = primitives::LeaseHex(session);
  return Dump(j);
}

std::optional<Claimer> DecodeClaim(std::string_view value) {
  nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  Claimer c;
  if (auto v = StringField(j, "host")) c.host = *v;
  if (auto it = j.find("pid"); it != j.end() && it->is_number_integer()) {
    c.pid = it->get<long long>();
  }
  if (auto v = StringField(j, "session")) {
    Result<int64_t> id = primitives::ParseLeaseHex(*v);
    if (id.ok()) c.session = *id;
  }
  return c;
}

std::string FormatSeconds(double seconds) {
  char text[400];  // "%.1f" of the largest double is 310 characters
  std::snprintf(text, sizeof(text), "%.1fs", seconds);
  return text;
}

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace conch::cron
