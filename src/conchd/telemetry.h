// Telemetry: what conchd shows of itself. Prometheus metrics, the HTTP
// status server (GET /cron, /elect, /sema, /healthz, /metrics) and systemd
// notification, behind one object the daemon's owner thread feeds.
//
// Thread contract: the recording methods and StartHttp belong to the owner
// thread; the HTTP handlers run on the server's threads and read only the
// metrics registry (thread-safe), the health flag (atomic) and the store,
// through a Backend of their own guarded by a mutex.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "backend/backend.h"
#include "base/mutex.h"
#include "conchd/daemon.h"
#include "status/http_server.h"
#include "status/metrics.h"
#include "status/notify.h"

namespace conch::conchd {

class Telemetry {
 public:
  explicit Telemetry(const DaemonOptions& options);
  ~Telemetry();

  // Starts the HTTP server on options.status_addr (no-op when empty), its
  // handlers reading the store through `reader`. kInvalidArgument or
  // kUnavailable as StatusServer::Start.
  Status StartHttp(std::unique_ptr<backend::Backend> reader);
  int http_port() const { return server_ ? server_->port() : 0; }

  // Ticks by outcome: claimed, lost_race, skipped, missed, lost_runner.
  void CountTick(const std::string& job, std::string_view outcome);
  void ObserveLag(const std::string& job, double seconds);
  void ObserveRun(const std::string& job, double seconds, int exit_code);
  void SetRunning(int64_t running);
  void SetJobs(int64_t jobs, int64_t eligible);
  void ForgetJob(const std::string& job);
  void SetHealthy(bool healthy);
  bool healthy() const { return healthy_.load(); }

  // systemd: READY, STATUS, WATCHDOG, STOPPING (no-ops outside systemd).
  void Ready();
  void StatusLine(const std::string& text);
  void Stopping();
  std::optional<Duration> WatchdogInterval() const;
  void Watchdog();

  // The original's GET /cron array, read from `backend` at `now`.
  static Result<std::string> CronJson(backend::Backend& backend, absl::Time now,
                                      MonoTime deadline);

 private:
  status::Response Guarded(
      const std::function<Result<std::string>(backend::Backend&)>& read);

  const DaemonOptions options_;
  status::Metrics metrics_;
  status::Counter& ticks_;
  status::Histogram& lag_;
  status::Histogram& runs_;
  status::Counter& exits_;
  status::Gauge& running_;
  status::Gauge& jobs_;
  status::Gauge& session_up_;
  std::atomic<bool> healthy_{false};
  status::SystemdNotifier notifier_;
  Mutex reader_mu_;
  std::unique_ptr<backend::Backend> reader_ GUARDED_BY(reader_mu_);
  std::unique_ptr<status::StatusServer> server_;
};

}  // namespace conch::conchd
