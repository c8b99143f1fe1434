#include "cron/records.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "primitives/keys.h"

namespace conch::cron {

Result<Jobs> ReadJobs(backend::Backend& backend, MonoTime deadline) {
  Result<std::vector<backend::KeyValue>> kvs =
      backend.ListRecords(JobDir(), true, deadline);
  if (!kvs.ok()) return kvs.status();
  Jobs out;
  for (const backend::KeyValue& kv : *kvs) {
    Result<Job> job = DecodeJob(LastSegment(kv.key), kv.value);
    if (job.ok()) {
      out.good.push_back(std::move(*job));
    } else {
      out.bad.push_back(job.status());
    }
  }
  return out;
}

Result<std::optional<Job>> ReadJob(backend::Backend& backend,
                                   const std::string& name, MonoTime deadline) {
  Result<std::optional<backend::KeyValue>> kv =
      backend.Get(JobKey(name), deadline);
  if (!kv.ok()) return kv.status();
  if (!*kv) return std::optional<Job>();
  Result<Job> job = DecodeJob(name, (*kv)->value);
  if (!job.ok()) return job.status();
  return std::optional<Job>(std::move(*job));
}

Result<std::vector<TickRecord>> ReadHistory(backend::Backend& backend,
                                            const std::string& name,
                                            MonoTime deadline) {
  Result<std::vector<backend::KeyValue>> fires =
      backend.ListRecords(FireDir(name), true, deadline);
  if (!fires.ok()) return fires.status();
  Result<std::vector<backend::KeyValue>> results =
      backend.ListRecords(ResultDir(name), true, deadline);
  if (!results.ok()) return results.status();
  std::map<absl::Time, TickRecord> by_tick;
  for (const backend::KeyValue& kv : *fires) {
    std::optional<absl::Time> tick = ParseTickName(LastSegment(kv.key));
    if (!tick) continue;
    TickRecord& r = by_tick[*tick];
    r.tick = *tick;
    r.claimer = DecodeClaim(kv.value);
    if (!r.claimer) r.claimer = Claimer{};
  }
  for (const backend::KeyValue& kv : *results) {
    std::optional<absl::Time> tick = ParseTickName(LastSegment(kv.key));
    if (!tick) continue;
    TickRecord& r = by_tick[*tick];
    r.tick = *tick;
    r.result = DecodeResult(kv.value);
    if (!r.result) r.result = RunResult{};
  }
  bool need_nodes = std::any_of(by_tick.begin(), by_tick.end(), [](auto& e) {
    return !e.second.result && e.second.claimer && e.second.claimer->session;
  });
  std::set<int64_t> live;
  if (need_nodes) {
    Result<std::vector<backend::KeyValue>> nodes =
        backend.ListRecords(NodeDir(), false, deadline);
    if (!nodes.ok()) return nodes.status();
    for (const backend::KeyValue& kv : *nodes) {
      Result<int64_t> id = primitives::ParseLeaseHex(LastSegment(kv.key));
      if (id.ok()) live.insert(*id);
    }
  }
  std::vector<TickRecord> out;
  out.reserve(by_tick.size());
  for (auto& [tick, r] : by_tick) {
    if (r.result) {
      r.state = std::string(OutcomeName(r.result->outcome));
    } else if (r.claimer && r.claimer->session != 0) {
      r.state = live.count(r.claimer->session) ? "running" : "lost";
    } else {
      r.state = "?";
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<Last> LastOf(const std::vector<TickRecord>& history) {
  const TickRecord* fire = nullptr;
  const TickRecord* result = nullptr;
  for (const TickRecord& r : history) {
    if (r.claimer) fire = &r;
    if (r.result) result = &r;
  }
  if (fire == nullptr && result == nullptr) return std::nullopt;
  Last last;
  if (fire != nullptr) {
    last.tick = fire->tick;
    last.node = fire->claimer->host;
  }
  if (result != nullptr && (fire == nullptr || result->tick >= fire->tick)) {
    last.tick = result->tick;
    last.node = result->result->node;
    last.exit = result->result->exit;
    last.duration = FormatSeconds(result->result->duration_seconds);
  }
  return last;
}

}  // namespace conch::cron
