#include "conchd/flags.h"

#include <cstdlib>

#include "base/strings.h"
#include "config/flags.h"
#include "cron/job.h"
#include "primitives/hold_deadline.h"
#include "primitives/holder.h"

namespace conch::conchd {

namespace {

constexpr const char* kUsage =
    "usage: conchd [--status-addr ADDR] [--tag k=v]... [--history K]\n"
    "              [--node NAME] [--kill-after D] [global flags]\n"
    "Runs the distributed cron's jobs on this node (see conch cron).";

struct Raw {
  std::vector<std::string> tags;
};

Status Register(config::FlagSet& flags, ConchdFlags* f, Raw* raw) {
  DaemonOptions& o = f->options;
  Status env = config::RegisterGlobalFlags(flags, &o.global);
  if (const char* v = std::getenv("CONCH_STATUS_ADDR"); v && *v) {
    o.status_addr = v;
  }
  if (const char* v = std::getenv("CONCH_NODE"); v && *v) o.node = v;
  flags.String("status-addr", &o.status_addr,
               "serve GET /cron /elect /sema /healthz /metrics here "
               "[$CONCH_STATUS_ADDR]",
               "ADDR");
  flags.Strings("tag", &raw->tags,
                "this node's tag k=v: it runs the jobs whose tags it has",
                "k=v");
  flags.Int("history", &o.history, "fire and result records kept per job");
  flags.String("node", &o.node,
               "this node's name in records and for --hosts [$CONCH_NODE]",
               "NAME");
  flags.Duration("kill-after", &o.kill_after,
                 "fail closed: SIGTERM this long before the session could "
                 "expire");
  return env;
}

}  // namespace

Result<ConchdFlags> ParseConchdFlags(const std::vector<std::string>& args) {
  ConchdFlags f;
  f.options.node = primitives::LocalHostname();
  Raw raw;
  config::FlagSet flags(kUsage);
  Status env = Register(flags, &f, &raw);
  CONCH_RETURN_IF_ERROR(flags.Parse(args, 0));
  if (flags.help_requested()) {
    ConchdFlags only_help;
    only_help.help = true;
    return only_help;
  }
  CONCH_RETURN_IF_ERROR(env);
  if (flags.has_command_separator()) {
    return Error(Code::kInvalidArgument, "conchd takes no command");
  }
  CONCH_RETURN_IF_ERROR(config::ValidateGlobal(f.options.global));
  for (const std::string& tag : raw.tags) {
    Result<std::pair<std::string, std::string>> kv = cron::ParseTag(tag);
    if (!kv.ok()) return kv.status();
    f.options.tags[kv->first] = kv->second;
  }

  if (f.options.history < 1) {
    return Error(Code::kInvalidArgument, "--history must be at least 1");
  }
  if (f.options.node.empty()) {
    return Error(Code::kInvalidArgument, "--node is empty");
  }
  Status timing = primitives::ValidateHoldTiming(f.options.global.ttl,
                                                 f.options.kill_after);
  if (!timing.ok()) return timing;
  return f;
}

std::string ConchdUsage() {
  ConchdFlags f;
  Raw raw;
  config::FlagSet flags(kUsage);
  (void)Register(flags, &f, &raw);
  return flags.Usage();
}

}  // namespace conch::conchd
