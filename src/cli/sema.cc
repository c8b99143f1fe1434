// `conch sema <name> --max N [flags] -- cmd...`: run the command while
// holding `--weight` of N units of a cluster-wide semaphore; `--who` lists
// the holders and waiters.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/elect.h"
#include "cli/exit_codes.h"
#include "cli/run_claim.h"
#include "primitives/admission.h"
#include "primitives/holder.h"
#include "primitives/keys.h"
#include "primitives/semaphore.h"

namespace conch::cli {

namespace {

const char* kSemaUsage =
    "usage: conch sema <name> --max N [flags] -- cmd...\n"
    "       conch sema <name> --max N --who [--json]\n\n"
    "Runs cmd while holding --weight of the N units of semaphore <name>.\n"
    "Claims are served in arrival order; a heavy claim at the head of the\n"
    "line holds back lighter ones behind it. With --spread, at most one\n"
    "claim per host holds at a time.";

struct SemaFlags {
  RunFlags run;
  std::string name;
  int64_t max = 0;
  int64_t weight = 1;
  bool spread = false;
  bool who = false;
  bool json = false;
};

int ParseSema(const std::vector<std::string>& args, SemaFlags* f) {
  config::FlagSet flags(kSemaUsage);
  Status env = config::RegisterGlobalFlags(flags, &f->run.global);
  flags.Int("max", &f->max, "units in the semaphore (required, at least 1)");
  flags.Int("weight", &f->weight, "units this claim takes, 1..max");
  flags.Bool("spread", &f->spread, "at most one claim per host holds");
  RegisterRunFlags(flags, &f->run);
  // The original's sema: --wait 0 means do not wait; negative, forever.
  f->run.wait = Duration(-1);
  flags.Duration("wait", &f->run.wait,
                 "give up (exit 75) if not admitted after this; 0 = do not "
                 "wait, negative = forever");
  flags.Bool("who", &f->who, "list holders and waiters, then exit");
  flags.Bool("json", &f->json, "NDJSON output for --who");

  Status s = flags.Parse(args, 1);
  if (s.ok()) s = env;
  if (s.ok() && flags.positionals().empty()) {
    s = Error(Code::kInvalidArgument, "semaphore name is required");
  }
  if (s.ok()) {
    f->name = flags.positionals()[0];
    s = primitives::ValidateName("semaphore", f->name);
  }
  if (s.ok() && f->max < 1) {
    s = Error(Code::kInvalidArgument, "--max N is required and at least 1");
  }
  if (s.ok() && (f->weight < 1 || f->weight > f->max)) {
    s = Error(Code::kInvalidArgument, "--weight " + std::to_string(f->weight) +
                                          " must be between 1 "
                                          "and --max " +
                                          std::to_string(f->max));
  }
  if (s.ok() && f->spread && f->weight != 1) {
    s = Error(Code::kInvalidArgument,
              "--spread claims take one unit; drop --weight");
  }
  if (s.ok() && !f->who) {
    if (f->run.wait == Duration::zero()) f->run.nonblock = true;
    f->run.command = flags.command();
    s = ValidateRunFlags(f->run, "conch sema <name> --max N [flags] -- cmd...");
  }
  return FinishParse(flags, s, "sema", f->run.global);
}

int SemaWho(const SemaFlags& f, backend::Backend& backend) {
  auto listing =
      backend.List(primitives::SemaPrefix(f.name, f.max), 0,
                   SystemClock::Get().Now() + f.run.global.dial_timeout);
  if (!listing.ok()) return ReportStartError(listing.status(), f.run.global);
  const std::vector<backend::KeyValue>& kvs = listing->first;
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
      j["lease"] = primitives::LeaseHex(kvs[i].lease);
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
  SemaFlags f;
  if (int code = ParseSema(args, &f); code >= 0) return code;
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
