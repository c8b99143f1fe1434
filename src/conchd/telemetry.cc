#include "conchd/telemetry.h"

#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "base/log.h"
#include "cron/records.h"
#include "status/store_views.h"

namespace conch::conchd {

namespace {

constexpr const char* kDash = "\xe2\x80\x94";  // the original's "—"

std::vector<double> LagBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
}
std::vector<double> RunBuckets() {
  return {0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600};
}

}  // namespace

Telemetry::Telemetry(const DaemonOptions& options)
    : options_(options),
      ticks_(metrics_.AddCounter(
          "conch_cron_ticks_total",
          "Ticks this daemon dealt with, by job and outcome (claimed, "
          "lost_race, skipped, missed, lost_runner)",
          {"job", "outcome"})),
      lag_(metrics_.AddHistogram(
          "conch_cron_tick_lag_seconds",
          "From a tick's scheduled time to its command's start", {"job"},
          LagBuckets())),
      runs_(metrics_.AddHistogram("conch_cron_run_duration_seconds",
                                  "How long runs took", {"job"}, RunBuckets())),
      exits_(metrics_.AddCounter("conch_cron_runs_total",
                                 "Finished runs by job and exit code",
                                 {"job", "exit"})),
      running_(metrics_.AddGauge("conch_cron_running",
                                 "Commands running on this daemon")),
      jobs_(metrics_.AddGauge("conch_cron_jobs",
                              "Jobs known, and those this daemon may run",
                              {"kind"})),
      session_up_(metrics_.AddGauge("conch_session_up",
                                    "1 while the store session is healthy")) {
  session_up_.Set({}, 0);
  running_.Set({}, 0);
}

Telemetry::~Telemetry() { server_.reset(); }

status::Response Telemetry::Guarded(
    const std::function<Result<std::string>(backend::Backend&)>& read) {
  MutexLock lock(reader_mu_);
  Result<std::string> body = read(*reader_);
  if (!body.ok()) {
    return status::Response{500, "text/plain; charset=utf-8",
                            body.status().ToString() + "\n"};
  }
  return status::Response{200, "application/json", *body + "\n"};
}

Status Telemetry::StartHttp(std::unique_ptr<backend::Backend> reader) {
  if (options_.status_addr.empty()) return Status::Ok();
  {
    MutexLock lock(reader_mu_);
    reader_ = std::move(reader);
  }
  const Duration timeout = options_.global.dial_timeout;
  auto deadline = [timeout] { return SystemClock::Get().Now() + timeout; };
  std::vector<status::Route> routes;
  routes.push_back({"/cron", [this, deadline] {
                      return Guarded([&](backend::Backend& b) {
                        return CronJson(b, absl::Now(), deadline());
                      });
                    }});
  routes.push_back({"/elect", [this, deadline] {
                      return Guarded([&](backend::Backend& b) {
                        return status::ElectJson(b, deadline());
                      });
                    }});
  routes.push_back({"/sema", [this, deadline] {
                      return Guarded([&](backend::Backend& b) {
                        return status::SemaJson(b, deadline());
                      });
                    }});
  routes.push_back({"/healthz", [this] {
                      bool up = healthy_.load();
                      return status::Response{up ? 200 : 503,
                                              "text/plain; charset=utf-8",
                                              up ? "ok\n" : "session down\n"};
                    }});
  routes.push_back({"/metrics", [this] {
                      return status::Response{
                          200, "text/plain; version=0.0.4; charset=utf-8",
                          metrics_.Render()};
                    }});
  Result<std::unique_ptr<status::StatusServer>> server =
      status::StatusServer::Start(options_.status_addr, std::move(routes));
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  LogInfo("status on " + options_.status_addr + " (port " +
          std::to_string(server_->port()) + ")");
  return Status::Ok();
}

void Telemetry::CountTick(const std::string& job, std::string_view outcome) {
  ticks_.Inc({job, std::string(outcome)});
}
void Telemetry::ObserveLag(const std::string& job, double seconds) {
  lag_.Observe({job}, seconds);
}
void Telemetry::ObserveRun(const std::string& job, double seconds,
                           int exit_code) {
  runs_.Observe({job}, seconds);
  exits_.Inc({job, std::to_string(exit_code)});
}
void Telemetry::SetRunning(int64_t running) {
  running_.Set({}, static_cast<double>(running));
}
void Telemetry::SetJobs(int64_t jobs, int64_t eligible) {
  jobs_.Set({"known"}, static_cast<double>(jobs));
  jobs_.Set({"eligible"}, static_cast<double>(eligible));
}
void Telemetry::ForgetJob(const std::string& job) {
  lag_.Remove({job});
  runs_.Remove({job});
}
void Telemetry::SetHealthy(bool healthy) {
  healthy_.store(healthy);
  session_up_.Set({}, healthy ? 1 : 0);
}

void Telemetry::Ready() { (void)notifier_.Ready(); }
void Telemetry::StatusLine(const std::string& text) {
  (void)notifier_.Status(text);
}
void Telemetry::Stopping() { (void)notifier_.Stopping(); }
std::optional<Duration> Telemetry::WatchdogInterval() const {
  return notifier_.WatchdogInterval();
}
void Telemetry::Watchdog() { (void)notifier_.Watchdog(); }

Result<std::string> Telemetry::CronJson(backend::Backend& backend,
                                        absl::Time now, MonoTime deadline) {
  Result<cron::Jobs> jobs = cron::ReadJobs(backend, deadline);
  if (!jobs.ok()) return jobs.status();
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const cron::Job& job : jobs->good) {
    nlohmann::ordered_json item;
    item["name"] = job.name;
    item["schedule"] = job.schedule;
    Result<cron::Schedule> s = cron::JobSchedule(job);
    absl::Time next = s.ok() ? s->Next(now) : absl::InfiniteFuture();
    item["next_tick"] =
        next == absl::InfiniteFuture() ? "" : cron::FormatUtc(next);
    Result<std::vector<cron::TickRecord>> history =
        cron::ReadHistory(backend, job.name, deadline);
    if (!history.ok()) return history.status();
    std::optional<cron::Last> last = cron::LastOf(*history);
    item["last_tick"] = last ? cron::FormatUtc(last->tick) : kDash;
    item["node"] = last && !last->node.empty() ? last->node : kDash;
    if (last && last->exit) {
      item["exit"] = *last->exit;
    } else {
      item["exit"] = nullptr;
    }
    item["duration"] = last && !last->duration.empty() ? last->duration : kDash;
    item["paused"] = job.paused;
    array.push_back(item);
  }
  return array.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace conch::conchd
