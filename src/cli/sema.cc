// `conch sema <name> --max N [flags] -- cmd...`: run the command while
// holding `--weight` of N units of a cluster-wide semaphore; `--who` lists
// the holders and waiters.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/elect.h"
#include "cli/exit_codes.h"
#include "cli/run_claim.h"
#include "cli/sema_flags.h"
#include "primitives/admission.h"
#include "primitives/holder.h"
#include "primitives/keys.h"
#include "primitives/semaphore.h"

namespace conch::cli {

namespace {

int SemaWho(const SemaFlags& f, backend::Backend& backend) {
  auto listing =
      backend.List(primitives::SemaPrefix(f.name, f.max), 0,
                   SystemClock::Get().Now() + f.run.global.dial_timeout);
  if (!listing.ok()) return ReportStartError(listing.status(), f.run.global);
  const std::vector<backend::KeyValue>& kvs = *listing;
  if (kvs.empty()) return kExitNegative;
  std::vector<primitives::ClaimInfo> claims;
  for (const backend::KeyValue& kv : kvs) {
    claims.push_back(primitives::ClaimFromKey(kv));
  }
  std::vector<primitives::Admission> verdict = primitives::Admit(claims, f.max);
  int64_t used = 0;
  for (size_t i = 0; i < kvs.size(); ++i) {
    if (verdict[i] == primitives::Admission::kHolds) used += claims[i].weight;
  }
  for (size_t i = 0; i < kvs.size(); ++i) {
    std::optional<primitives::Holder> h =
        primitives::DecodeHolder(kvs[i].value);
    std::string host = h ? h->host : "unknown";
    std::string started = h && !h->started.empty() ? h->started : "unknown";
    long long pid = h ? h->pid : 0;
    bool holds = verdict[i] == primitives::Admission::kHolds;
    std::string line;
    if (f.json) {
      // Keys sort alphabetically, as the original's output does.
      nlohmann::json j;
      j["name"] = f.name;
      j["max"] = f.max;
      j["used"] = used;
      j["state"] = holds ? "HELD" : "WAIT";
      j["host"] = host;
      j["pid"] = pid;
      j["started"] = started;
      if (h && !h->cmd.empty()) j["cmd"] = h->cmd;
      j["rev"] = kvs[i].create_revision;
      j["weight"] = claims[i].weight;
      j["pos"] = i;
      j["lease"] = primitives::LeaseHex(kvs[i].session);
      line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      line = f.name + "[" + std::to_string(used) + "/" + std::to_string(f.max) +
             "] " + (holds ? "HELD" : "WAIT") + "  " + host +
             " pid=" + std::to_string(pid) + " since=" + started +
             " rev=" + std::to_string(kvs[i].create_revision) +
             " weight=" + std::to_string(claims[i].weight) +
             " pos=" + std::to_string(i);
    }
    std::printf("%s\n", line.c_str());
  }
  return kExitOk;
}

}  // namespace

int RunSema(const std::vector<std::string>& args) {
  Result<SemaFlags> parsed = ParseSemaFlags(args);
  if (!parsed.ok()) return ReportUsageError("sema", parsed.status());
  const SemaFlags& f = *parsed;
  if (f.help) return PrintUsage(SemaUsage());
  ApplyQuiet(f.run.global);
  backend::Backend* backend = OpenBackendOrReport(f.run.global);
  if (backend == nullptr) return kExitUsage;
  if (f.who) return SemaWho(f, *backend);

  primitives::SemaphoreOptions so;
  so.name = f.name;
  so.max = f.max;
  so.weight = f.weight;
  so.spread = f.spread;
  primitives::Holder holder = MakeHolder(f.run.command);
  holder.weight = f.weight;
  holder.spread = f.spread;
  so.value = primitives::EncodeHolder(holder);
  holder.held = true;
  so.held_value = primitives::EncodeHolder(holder);
  so.session = SessionFor(f.run);
  return RunClaimLoop(
      f.run,
      [&] { return std::make_unique<primitives::Semaphore>(backend, so); },
      "semaphore \"" + f.name + "\" (" + std::to_string(f.weight) + " of " +
          std::to_string(f.max) + ")",
      SystemClock::Get());
}

}  // namespace conch::cli
