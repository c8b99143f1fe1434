// `conch elect`: flags shared by the run mode (elect.cc) and the read-only
// modes --who, --watch and --assert (elect_inspect.cc).
//
// Thread contract: owner thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "config/global.h"

namespace conch::cli {

struct ElectFlags {
  config::GlobalConfig global;
  std::string office;
  std::vector<std::string> command;
  bool restart = false;
  Duration kill_after = std::chrono::seconds(5);
  Duration wait{0};
  bool nonblock = false;
  std::string on_acquire;
  std::string on_lose;
  Duration hook_timeout = std::chrono::seconds(30);
  bool who = false;
  bool watch = false;
  bool assert_held = false;
  bool json = false;
  int64_t min_rev = 0;
};

int ElectWho(const ElectFlags& flags, backend::Backend& backend);
int ElectWatch(const ElectFlags& flags, backend::Backend& backend);
int ElectAssert(const ElectFlags& flags, backend::Backend& backend);

// Opens the etcd backend for `global`, or prints why not.
std::unique_ptr<backend::Backend> OpenBackendOrReport(
    const config::GlobalConfig& global);

// Prints "conch: <message>" for a store error at start and returns 69 for
// an unreachable store (naming the endpoints and the dial timeout).
int ReportStartError(const Status& status, const config::GlobalConfig& global);

}  // namespace conch::cli
