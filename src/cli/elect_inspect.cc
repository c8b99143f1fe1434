// The read-only modes of `conch elect`: --who, --watch and --assert. They
// create no session and write nothing.
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "base/event_loop.h"
#include "base/log.h"
#include "base/signals.h"
#include "base/strings.h"
#include "cli/elect.h"
#include "cli/exit_codes.h"
#include "primitives/holder.h"
#include "primitives/keys.h"

namespace conch::cli {

namespace {

using backend::KeyValue;

struct Leader {
  KeyValue kv;
  std::optional<primitives::Holder> holder;  // nullopt: not holder JSON
};

// Reads the leader (lowest create revision) of the office.
Result<std::optional<Leader>> ReadLeader(const ElectFlags& f,
                                         backend::Backend& backend) {
  Result<std::vector<KeyValue>> listing =
      backend.List(primitives::ElectPrefix(f.office), 1,
                   SystemClock::Get().Now() + f.run.global.dial_timeout);
  if (!listing.ok()) return listing.status();
  if (listing->empty()) return std::optional<Leader>();
  Leader l;
  l.kv = listing->front();
  l.holder = primitives::DecodeHolder(l.kv.value);
  return std::optional<Leader>(std::move(l));
}

std::string LeaderText(const std::string& office, const Leader& l) {
  std::string host = l.holder ? l.holder->host : "unknown-host";
  long long pid = l.holder ? l.holder->pid : 0;
  std::string since =
      l.holder && !l.holder->started.empty() ? l.holder->started : "unknown";
  return office + " " + host + " pid=" + std::to_string(pid) +
         " since=" + since + " rev=" + std::to_string(l.kv.create_revision);
}

std::string LeaderJson(const std::string& office, const Leader& l) {
  nlohmann::ordered_json j;
  j["office"] = office;
  j["host"] = l.holder ? l.holder->host : "unknown-host";
  j["pid"] = l.holder ? l.holder->pid : 0;
  j["started"] = l.holder ? l.holder->started : "unknown";
  if (l.holder && !l.holder->cmd.empty()) j["cmd"] = l.holder->cmd;
  j["rev"] = l.kv.create_revision;
  j["lease"] = primitives::LeaseHex(l.kv.session);
  j["key"] = l.kv.key;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string VacantLine(const ElectFlags& f) {
  if (!f.json) return f.office + " -";
  nlohmann::ordered_json j;
  j["office"] = f.office;
  j["leader"] = nullptr;
  return j.dump();
}

void PrintLine(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace

int ElectWho(const ElectFlags& f, backend::Backend& backend) {
  auto leader = ReadLeader(f, backend);
  if (!leader.ok()) return ReportStartError(leader.status(), f.run.global);
  if (!*leader) return kExitNegative;
  PrintLine(f.json ? LeaderJson(f.office, **leader)
                   : LeaderText(f.office, **leader));
  return kExitOk;
}

int ElectAssert(const ElectFlags& f, backend::Backend& backend) {
  auto leader = ReadLeader(f, backend);
  if (!leader.ok()) return ReportStartError(leader.status(), f.run.global);
  bool held = false;
  int64_t rev = 0;
  std::string host;
  if (*leader) {
    const Leader& l = **leader;
    rev = l.kv.create_revision;
    host = l.holder ? l.holder->host : "unknown";
    held = l.holder && host == primitives::LocalHostname();
    if (f.min_rev > 0 && rev < f.min_rev) held = false;
    // Inside a conch-run command, the hostname is not enough: the leader
    // must be this very session, so an older term on the same host fails.
    const char* lease = std::getenv("CONCH_LEASE");
    const char* name = std::getenv("CONCH_NAME");
    if (held && lease != nullptr && *lease != '\0' && name != nullptr &&
        f.office == name) {
      held = primitives::LeaseHex(l.kv.session) == lease;
    }
  }
  if (f.json) {
    nlohmann::ordered_json j;
    j["held"] = held;
    j["rev"] = rev;
    j["host"] = host;
    PrintLine(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return held ? kExitOk : kExitNegative;
}

int ElectWatch(const ElectFlags& f, backend::Backend& backend) {
  Result<SignalFd> signals = SignalFd::Open();
  if (!signals.ok()) {
    LogError(signals.status().ToString());
    return kExitUnavailable;
  }
  // A change of leader is a change of key or create revision; a new value
  // under the same key is not.
  auto identity = [](const std::optional<Leader>& l) {
    return l ? std::make_pair(l->kv.key, l->kv.create_revision)
             : std::make_pair(std::string(), int64_t{0});
  };
  auto print = [&f](const std::optional<Leader>& l) {
    if (!l) {
      PrintLine(VacantLine(f));
    } else {
      PrintLine(f.json ? LeaderJson(f.office, *l) : LeaderText(f.office, *l));
    }
  };
  std::optional<std::pair<std::string, int64_t>> shown;

  backend::EventSink sink;
  std::unique_ptr<backend::Watch> watch =
      backend.StartWatch({{primitives::ElectPrefix(f.office), true}}, &sink, 1);
  // The first read comes once the watcher is live, so no change between
  // the two is missed; a watcher that never goes live is an unreachable
  // store.
  const MonoTime live_by = SystemClock::Get().Now() + f.run.global.dial_timeout;
  std::optional<int> exit_code;
  EventLoop loop(SystemClock::Get());
  // Signals first, as everywhere: a stop wins over store events.
  EventLoop::Registration signalled = loop.OnReadable(signals->fd(), [&] {
    std::optional<int> sig = signals->Read();
    if (sig && (*sig == SIGINT || *sig == SIGTERM || *sig == SIGHUP ||
                *sig == SIGQUIT)) {
      exit_code = kExitOk;
    }
  });
  EventLoop::Registration store = loop.OnReadable(sink.fd(), [&] {
    bool changed = false;
    for (const backend::Event& e : sink.Drain()) {
      if (e.kind == backend::Event::Kind::kWatchFailed) {
        LogError(e.status.ToString());
        exit_code = kExitUnavailable;
        return;
      }
      if (e.kind == backend::Event::Kind::kWatch ||
          e.kind == backend::Event::Kind::kWatchLive) {
        changed = true;
      }
    }
    if (!changed) return;
    auto now = ReadLeader(f, backend);
    if (!now.ok()) {
      if (!shown) {
        exit_code = ReportStartError(now.status(), f.run.global);
      } else {
        LogError(now.status().ToString());
        exit_code = kExitUnavailable;
      }
      return;
    }
    if (!shown || identity(*now) != *shown) {
      print(*now);
      shown = identity(*now);
    }
  });
  while (!exit_code) {
    if (!shown && SystemClock::Get().Now() >= live_by) {
      return ReportStartError(
          Error(Code::kUnavailable, "watch office " + Quote(f.office) +
                                        ": the watch did not start"),
          f.run.global);
    }
    Status waited = loop.RunOnce(shown ? std::nullopt : std::optional(live_by));
    if (!waited.ok()) {
      LogError(waited.ToString());
      return kExitUnavailable;
    }
  }
  return *exit_code;
}

}  // namespace conch::cli
