#include "conchd/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <list>
#include <set>

#include "absl/time/clock.h"
#include "backend/store.h"
#include "base/backoff.h"
#include "base/event_loop.h"
#include "base/log.h"
#include "base/signals.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "conchd/output.h"
#include "conchd/telemetry.h"
#include "cron/job.h"
#include "cron/plan.h"
#include "cron/records.h"
#include "primitives/claim.h"
#include "primitives/holder.h"
#include "primitives/keys.h"
#include "supervisor/kill_schedule.h"
#include "supervisor/spawn.h"

namespace conch::conchd {

namespace {

using backend::Event;
using backend::KeyValue;
using cron::Job;
using cron::Outcome;
using cron::RunResult;
using supervisor::Child;
using supervisor::KillSchedule;

constexpr uint64_t kFirstWatchTag = 100;

// A run's view of its hold, for its kill schedule: the daemon's session
// deadlines (shared by every run of that session) and the run's own loss.
class RunHold final : public supervisor::Hold {
 public:
  explicit RunHold(std::shared_ptr<primitives::Session> session)
      : session_(std::move(session)) {}
  int fd() const override { return -1; }
  void Pump() override {}
  bool lost() const override { return lost_; }
  std::string loss() const override { return loss_; }
  MonoTime term_at() const override { return session_->deadline().term_at(); }
  MonoTime kill_at() const override { return session_->deadline().kill_at(); }
  void Lose(const std::string& why) {
    if (lost_) return;
    lost_ = true;
    loss_ = why;
  }
  const primitives::Session& session() const { return *session_; }

 private:
  std::shared_ptr<primitives::Session> session_;
  bool lost_ = false;
  std::string loss_;
};

// One running command.
struct JobRun {
  std::string job;
  absl::Time tick;
  MonoTime started_mono;
  absl::Time started;
  int64_t rev = 0;               // the claim's revision (CONCH_REV)
  int64_t missed = 0;            // a catch-up run: ticks it stands for
  std::optional<KeyValue> hold;  // run/<job>/<contender> (forbid, replace)
  std::unique_ptr<backend::Watch> hold_watch;
  uint64_t hold_tag = 0;
  cron::Overlap overlap = cron::Overlap::kForbid;
  std::optional<Child> child;
  std::unique_ptr<RunHold> run_hold;
  std::unique_ptr<KillSchedule> schedule;
  EventLoop::Registration exit_reg, out_reg, err_reg, wake_reg, ttl_reg;
  UniqueFd out, err;
  std::unique_ptr<OutputLines> out_lines, err_lines;
  std::string kept;         // the last output bytes, for the result
  std::string stop_reason;  // run-ttl, replaced, shutdown
  bool done = false;
};

struct JobState {
  Job job;
  std::optional<cron::Schedule> schedule;
  absl::Time last = absl::InfinitePast();  // the newest tick dealt with
  EventLoop::Registration timer;
  bool eligible = false;
  std::string seen_run_request;  // run_requested as last seen
  // replace: a claimed tick waiting for the run going to stop and let go
  // of the hold. `hold` is our key queued under run/<name>/, once made.
  struct Waiting {
    absl::Time tick;
    int64_t rev = 0;
    int64_t missed = 0;
    std::optional<KeyValue> hold;
    std::unique_ptr<backend::Watch> watch;
    uint64_t tag = 0;
  };
  std::optional<Waiting> waiting;
};

absl::Time ParseUtc(const std::string& text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    return absl::InfinitePast();
  }
  return t;
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed stdout loses the line, nothing else
    done += static_cast<size_t>(n);
  }
}

class Daemon {
 public:
  explicit Daemon(const DaemonOptions& options)
      : options_(options),
        clock_(SystemClock::Get()),
        loop_(clock_),
        telemetry_(options) {}

  int Run();

 private:
  // The deadline of a store call. Calls block the loop, so none may outlast
  // the next signal a run's kill schedule has to send: the schedules send
  // what is due now, and the call ends by the next one (at least 50 ms
  // from now, so that it can be made at all).
  MonoTime RequestDeadline() {
    const MonoTime now = clock_.Now();
    MonoTime deadline = now + std::min<Duration>(options_.global.dial_timeout,
                                                 options_.global.ttl / 4);
    for (JobRun& run : runs_) {
      if (run.done || !run.schedule) continue;
      run.schedule->Tick(now);
      if (std::optional<MonoTime> wake = run.schedule->NextWake()) {
        deadline = std::min(deadline, *wake);
      }
    }
    return std::max(deadline, now + std::chrono::milliseconds(50));
  }

  Status OpenSession();
  void OnSessionEvents();
  void SessionLost(const Status& why);
  void ScheduleReopen();
  void ArmWatchdog();
  void CheckHealth();

  void StartJobsWatch();
  void OnJobsEvents();
  void ReloadJobs();
  void ApplyJob(Job job);
  void DropJob(const std::string& name);
  bool Eligible(const Job& job) const;
  absl::Time LastFromStore(const Job& job);
  void ArmTimer(JobState& js, absl::Time next);
  void OnTimer(const std::string& name);

  void Claim(JobState& js, absl::Time tick, int64_t missed);
  void RecordMissed(JobState& js, absl::Time tick, int64_t count);
  std::optional<KeyValue> ClaimTick(const std::string& name, absl::Time tick);
  // A result of this node for `tick`, started now.
  RunResult Record(Outcome outcome, absl::Time tick, int64_t rev) const {
    RunResult r;
    r.node = options_.node;
    r.outcome = outcome;
    r.tick = cron::FormatUtc(tick);
    r.started = cron::FormatUtc(absl::Now());
    r.rev = rev;
    return r;
  }
  void WriteResult(const std::string& name, absl::Time tick,
                   const RunResult& r);
  void Prune(const std::string& name, absl::Time current);
  void ArmResultRetry();
  void EndRetired();

  void StartRun(JobState& js, absl::Time tick, int64_t rev,
                std::optional<KeyValue> hold, int64_t missed);
  void OnRunsEvents();
  bool OnOutput(JobRun& run, bool err);
  void WakeRun(JobRun& run);
  void FinishRun(JobRun& run);
  void StopRun(JobRun& run, const std::string& why);
  JobRun* RunOf(const std::string& job);
  void ReleaseHold(const KeyValue& hold);
  void Skip(const std::string& name, absl::Time tick, int64_t rev,
            const std::string& why);
  void CheckWaiting(JobState& js);

  void Publish();
  bool Idle() const { return runs_.empty(); }

  const DaemonOptions options_;
  const Clock& clock_;
  EventLoop loop_;
  Telemetry telemetry_;
  std::unique_ptr<backend::Backend> backend_;
  std::shared_ptr<primitives::Session> session_;
  EventLoop::Registration session_reg_, reopen_reg_, watchdog_reg_;
  RetryBackoff reopen_backoff_{RetryBackoffOptions{
      std::chrono::milliseconds(200), std::chrono::seconds(5)}};
  backend::EventSink jobs_sink_;
  EventLoop::Registration jobs_reg_;
  std::unique_ptr<backend::Watch> jobs_watch_;
  uint64_t jobs_tag_ = 0;
  size_t jobs_pending_live_ = 0;
  bool jobs_loaded_ = false;
  std::set<std::string> watched_;  // job keys the watch has specs for
  std::map<std::string, JobState> jobs_;
  std::list<JobRun> runs_;
  backend::EventSink runs_sink_;
  EventLoop::Registration runs_reg_;
  uint64_t next_tag_ = kFirstWatchTag;
  struct Unwritten {
    std::string job;
    absl::Time tick;
    RunResult result;
    int attempts = 0;
  };
  std::deque<Unwritten> unwritten_;  // results the store did not take yet
  // Sessions given up while the store did not answer, to be ended.
  std::vector<std::shared_ptr<primitives::Session>> retired_;
  EventLoop::Registration retry_reg_;
  EventLoop::Registration health_reg_;
  std::optional<SignalFd> signals_;
  EventLoop::Registration signals_reg_;
  bool stopping_ = false;
  bool claim_failed_ = false;  // the last ClaimTick failed on a store error
  const std::string started_ = UtcNowRfc3339();
};

// ---------------------------------------------------------------------------
// The session: one per daemon, shared by every claim and run.

Status Daemon::OpenSession() {
  primitives::SessionOptions so;
  so.ttl = options_.global.ttl;
  so.kill_after = options_.kill_after;
  so.request_timeout = options_.global.dial_timeout;
  auto session = std::make_shared<primitives::Session>(backend_.get(), so);
  CONCH_RETURN_IF_ERROR(session->Open());
  const std::string hex = primitives::LeaseHex(session->id());
  primitives::Holder me;
  me.host = options_.node;
  me.pid = ::getpid();
  me.started = started_;
  Status put =
      backend_->Put(cron::NodeDir() + hex, primitives::EncodeHolder(me),
                    &session->store_session(), RequestDeadline());
  if (!put.ok()) {
    (void)session->Revoke();
    return put;
  }
  session_ = std::move(session);
  session_reg_ =
      loop_.OnReadable(session_->fd(), [this] { OnSessionEvents(); });
  telemetry_.SetHealthy(true);
  CheckHealth();
  reopen_backoff_.Reset();
  LogInfo(std::string(backend_->name()) + " session " + hex + " up, ttl " +
          FormatDuration(session_->store_session().ttl()));
  return Status::Ok();
}

void Daemon::OnSessionEvents() {
  if (!session_) return;
  for (const Event& e : session_->sink().Drain()) {
    if (std::optional<Status> lost = session_->Apply(e)) {
      SessionLost(*lost);
      return;
    }
  }
  for (JobRun& run : runs_) WakeRun(run);
  CheckHealth();
}

// The session is healthy while renewals keep it ahead of its fail-closed
// deadlines: unhealthy (503 on /healthz, no watchdog pings) from the point
// where a run would get SIGTERM, and given up at the point where it would
// get SIGKILL, for the store may have ended it by then. A frozen or cut
// store is noticed so, without a request in flight.
void Daemon::CheckHealth() {
  if (!session_) {
    health_reg_.reset();
    return;
  }
  const MonoTime now = clock_.Now();
  const primitives::HoldDeadline& d = session_->deadline();
  if (now >= d.kill_at()) {
    SessionLost(Error(Code::kDeadlineExceeded,
                      "no renewal before the fail-closed deadline; the "
                      "store may have ended the session"));
    return;
  }
  const bool healthy = now < d.term_at();
  if (healthy != telemetry_.healthy()) {
    telemetry_.SetHealthy(healthy);
    if (!healthy) LogWarn("session renewals are late; unhealthy");
    if (healthy) LogInfo("session renewals are back; healthy");
    Publish();
  }
  health_reg_ =
      loop_.At(healthy ? d.term_at() : d.kill_at(), [this] { CheckHealth(); });
}

// The session is gone: every run loses its hold and its kill schedule stops
// it; a new session is opened, and the jobs are read again under it.
void Daemon::SessionLost(const Status& why) {
  LogWarn("session lost: " + why.ToString());
  telemetry_.SetHealthy(false);
  session_reg_.reset();
  health_reg_.reset();
  // Runs keep the old session's deadlines through RunHold. It is ended as
  // soon as the store answers, so that its run holds and node record go at
  // once rather than when the store times it out.
  retired_.push_back(std::move(session_));
  session_.reset();
  ArmResultRetry();
  jobs_watch_.reset();
  jobs_reg_.reset();
  for (JobRun& run : runs_) {
    run.run_hold->Lose("session lost: " + why.message());
    run.hold_watch.reset();
    WakeRun(run);
  }
  for (auto& [name, js] : jobs_) js.timer.reset();
  ScheduleReopen();
  Publish();
}

void Daemon::ScheduleReopen() {
  if (stopping_) return;
  reopen_reg_ = loop_.At(clock_.Now() + reopen_backoff_.Next(), [this] {
    Status s = OpenSession();
    if (!s.ok()) {
      LogWarn(s.ToString() + "; trying again");
      ScheduleReopen();
      return;
    }
    EndRetired();  // the store answers again: the old holds go first
    StartJobsWatch();
  });
}

// systemd's watchdog hears from us only while the session is healthy.
void Daemon::ArmWatchdog() {
  std::optional<Duration> every = telemetry_.WatchdogInterval();
  if (!every) return;
  watchdog_reg_ = loop_.At(clock_.Now() + *every, [this] {
    if (telemetry_.healthy()) telemetry_.Watchdog();
    ArmWatchdog();
  });
}

// ---------------------------------------------------------------------------
// Jobs: a watch of job/ (and of each job's key, which ZooKeeper needs to
// report a rewrite), and a full read after it is live and after each change.

void Daemon::StartJobsWatch() {
  if (!session_) return;
  std::vector<backend::WatchSpec> specs;
  specs.push_back(backend::WatchSpec{cron::JobDir(), true, true});
  watched_.clear();
  for (const auto& [name, js] : jobs_) {
    specs.push_back(backend::WatchSpec{cron::JobKey(name), false, false});
    watched_.insert(name);
  }
  jobs_pending_live_ = specs.size();
  jobs_tag_ = ++next_tag_;
  jobs_watch_.reset();
  jobs_watch_ = backend_->StartWatch(std::move(specs), &jobs_sink_, jobs_tag_);
  if (!jobs_reg_.active()) {
    jobs_reg_ = loop_.OnReadable(jobs_sink_.fd(), [this] { OnJobsEvents(); });
  }
}

void Daemon::OnJobsEvents() {
  bool reload = false;
  for (const Event& e : jobs_sink_.Drain()) {
    if (e.tag != jobs_tag_) continue;  // a replaced watch
    switch (e.kind) {
      case Event::Kind::kWatchLive:
        if (jobs_pending_live_ > 0 && --jobs_pending_live_ == 0) reload = true;
        break;
      case Event::Kind::kWatch:
        if (jobs_pending_live_ == 0) reload = true;
        break;
      case Event::Kind::kWatchFailed:
        LogWarn("job watch: " + e.status.ToString() + "; restarting");
        StartJobsWatch();
        return;
      default:
        break;
    }
  }
  if (reload) ReloadJobs();
}

void Daemon::ReloadJobs() {
  if (stopping_ || !session_) return;
  Result<cron::Jobs> read = cron::ReadJobs(*backend_, RequestDeadline());
  if (!read.ok()) {
    LogWarn("read jobs: " + read.status().ToString());
    // The watch stays; the next change or the next session reads again.
    return;
  }
  for (const Status& bad : read->bad) {
    LogWarn("skipping " + bad.message());
  }
  std::set<std::string> present;
  for (Job& job : read->good) {
    present.insert(job.name);
    ApplyJob(std::move(job));
  }
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (present.count(it->first)) {
      ++it;
      continue;
    }
    std::string name = it->first;
    ++it;
    DropJob(name);
  }
  if (!jobs_loaded_) {
    jobs_loaded_ = true;
    telemetry_.Ready();
  }
  Publish();
  if (present != watched_) StartJobsWatch();  // ZooKeeper: key watches
}

bool Daemon::Eligible(const Job& job) const {
  if (job.paused) return false;
  if (!job.hosts.empty() && std::find(job.hosts.begin(), job.hosts.end(),
                                      options_.node) == job.hosts.end()) {
    return false;
  }
  for (const auto& [k, v] : job.tags) {
    auto it = options_.tags.find(k);
    if (it == options_.tags.end() || it->second != v) return false;
  }
  return true;
}

// The newest tick dealt with, as the store knows it: the newest claim, else
// the add or resume time.
absl::Time Daemon::LastFromStore(const Job& job) {
  absl::Time last = std::max(ParseUtc(job.added_at), ParseUtc(job.resumed_at));
  Result<std::vector<KeyValue>> fires =
      backend_->ListRecords(cron::FireDir(job.name), false, RequestDeadline());
  if (!fires.ok()) {
    LogWarn(fires.status().ToString());
    return std::max(last, absl::Now());  // nothing counts as missed
  }
  for (const KeyValue& kv : *fires) {
    if (std::optional<absl::Time> t =
            cron::ParseTickName(cron::LastSegment(kv.key))) {
      last = std::max(last, *t);
    }
  }
  return last;
}

void Daemon::ApplyJob(Job job) {
  auto it = jobs_.find(job.name);
  const bool known = it != jobs_.end();
  if (known && cron::EncodeJob(it->second.job) == cron::EncodeJob(job)) {
    // Unchanged; after a new session its timer starts again here.
    if (it->second.eligible && !it->second.timer.active()) OnTimer(job.name);
    return;
  }
  JobState& js = known ? it->second : jobs_[job.name];
  const std::string old_request = known ? js.job.run_requested : "";
  const bool was_eligible = known && js.eligible;
  Result<cron::Schedule> schedule = cron::JobSchedule(job);
  if (!schedule.ok()) {  // DecodeJob checked it; a zone may have vanished
    LogWarn("skipping job " + job.name + ": " + schedule.status().message());
    DropJob(job.name);
    return;
  }
  js.job = std::move(job);
  js.schedule = std::move(*schedule);
  js.eligible = Eligible(js.job);
  if (!js.eligible) {
    js.timer.reset();
    return;
  }
  if (!was_eligible) {
    js.last = LastFromStore(js.job);
    if (!known) js.seen_run_request = js.job.run_requested;
  }
  // Edits take effect from the next tick; a run in progress is untouched.
  OnTimer(js.job.name);
  // `cron run`: a request that changed while we watched, and is fresh.
  if (known && js.job.run_requested != old_request &&
      js.job.run_requested != js.seen_run_request) {
    js.seen_run_request = js.job.run_requested;
    absl::Time at = ParseUtc(js.job.run_requested);
    if (absl::Now() - at < absl::Minutes(1)) Claim(js, at, 0);
  }
}

void Daemon::DropJob(const std::string& name) {
  auto it = jobs_.find(name);
  if (it == jobs_.end()) return;
  // A removed job's run goes on and records its result; a tick waiting to
  // replace it lets go.
  if (it->second.waiting && it->second.waiting->hold) {
    ReleaseHold(*it->second.waiting->hold);
  }
  jobs_.erase(it);
  telemetry_.ForgetJob(name);
  LogInfo("job " + name + " removed");
}

void Daemon::ArmTimer(JobState& js, absl::Time next) {
  if (next == absl::InfiniteFuture()) {
    js.timer.reset();
    return;
  }
  absl::Duration wait = next - absl::Now();
  MonoTime when = clock_.Now() + absl::ToChronoNanoseconds(
                                     std::max(wait, absl::ZeroDuration()));
  std::string name = js.job.name;
  js.timer = loop_.At(when, [this, name] { OnTimer(name); });
}

// The clock reached a job's tick (or the job changed): claim what is due,
// then sleep until the next tick.
void Daemon::OnTimer(const std::string& name) {
  auto it = jobs_.find(name);
  if (it == jobs_.end() || stopping_ || !session_) return;
  JobState& js = it->second;
  if (!js.eligible) return;
  const absl::Time now = absl::Now();
  cron::DuePlan plan = cron::PlanDue(*js.schedule, js.last, now, js.job.missed,
                                     js.job.starting_deadline);
  bool failed = false;
  if (plan.record_missed) {
    RecordMissed(js, *plan.record_missed, plan.missed);
    failed = claim_failed_;
  }
  if (plan.run && !failed) {
    Claim(js, *plan.run, plan.catch_up ? plan.missed : 0);
    failed = claim_failed_;
  }
  if (failed) {
    // The store did not answer: these ticks are not dealt with. Look again
    // in a second; by then the tick runs late or counts as missed.
    ArmTimer(js, std::min(plan.next, now + absl::Seconds(1)));
    return;
  }
  js.last = std::max(
      js.last,
      plan.run.value_or(plan.record_missed.value_or(absl::InfinitePast())));
  ArmTimer(js, plan.next);
}

// ---------------------------------------------------------------------------
// Ticks.

std::optional<KeyValue> Daemon::ClaimTick(const std::string& name,
                                          absl::Time tick) {
  claim_failed_ = false;
  std::string value = cron::EncodeClaim(
      options_.node, ::getpid(), started_,
      primitives::JoinCommand(jobs_.count(name) ? jobs_[name].job.cmd
                                                : std::vector<std::string>{}),
      session_->id());
  Result<std::optional<KeyValue>> claimed = backend_->ClaimInOrder(
      cron::FireDir(name), cron::TickName(tick), value, RequestDeadline());
  if (!claimed.ok()) {
    LogWarn("claim " + name + " " + cron::FormatUtc(tick) + ": " +
            claimed.status().ToString());
    claim_failed_ = true;
    return std::nullopt;
  }
  if (!*claimed) telemetry_.CountTick(name, "lost_race");
  return *claimed;
}

void Daemon::RecordMissed(JobState& js, absl::Time tick, int64_t count) {
  const std::string& name = js.job.name;
  std::optional<KeyValue> claim = ClaimTick(name, tick);
  if (!claim) return;
  telemetry_.CountTick(name, "missed");
  LogWarn("job " + name + ": " + std::to_string(count) +
          " tick(s) missed, the newest " + cron::FormatUtc(tick));
  RunResult r = Record(Outcome::kMissed, tick, claim->create_revision);
  r.missed = count;
  WriteResult(name, tick, r);
}

void Daemon::Claim(JobState& js, absl::Time tick, int64_t missed) {
  const std::string name = js.job.name;
  std::optional<KeyValue> claim = ClaimTick(name, tick);
  if (!claim) return;
  telemetry_.CountTick(name, "claimed");
  if (js.job.overlap == cron::Overlap::kAllow) {
    StartRun(js, tick, claim->create_revision, std::nullopt, missed);
    return;
  }
  // forbid, replace: a hold on run/<name>/, first come first served.
  std::string value = cron::EncodeClaim(options_.node, ::getpid(), started_,
                                        cron::TickName(tick), session_->id());
  Result<backend::Contender> c = backend_->CreateContender(
      session_->store_session(), cron::RunDir(name), value, RequestDeadline());
  if (!c.ok()) {
    Skip(name, tick, claim->create_revision,
         "run hold: " + c.status().message());
    return;
  }
  const bool first = c->first && c->first->key == c->self.key;
  if (c->created && first) {
    StartRun(js, tick, claim->create_revision, c->self, missed);
    return;
  }
  if (js.job.overlap == cron::Overlap::kForbid) {
    if (c->created) ReleaseHold(c->self);
    Skip(name, tick, claim->create_revision, "another run of the job is going");
    return;
  }
  // replace: the run going stops (it watches run/<name>/ for a newer key,
  // or is ours), and this tick starts once it has let go.
  if (js.waiting) {
    // An older tick was still waiting: this one replaces it too.
    Skip(name, js.waiting->tick, js.waiting->rev,
         "replaced by a newer tick before it started");
    if (js.waiting->hold &&
        (!c->created || js.waiting->hold->key != c->self.key)) {
      ReleaseHold(*js.waiting->hold);
    }
    js.waiting.reset();
  }
  JobState::Waiting w;
  w.tick = tick;
  w.rev = claim->create_revision;
  w.missed = missed;
  if (c->created) {
    w.hold = c->self;
  } else if (JobRun* own = RunOf(name)) {
    StopRun(*own, "replaced");  // its key is the one our session holds
  }
  LogInfo("job " + name + " tick " + cron::FormatUtc(tick) +
          ": replacing the run going");
  js.waiting.emplace(std::move(w));
  CheckWaiting(js);
}

void Daemon::Skip(const std::string& name, absl::Time tick, int64_t rev,
                  const std::string& why) {
  telemetry_.CountTick(name, "skipped");
  LogInfo("job " + name + " tick " + cron::FormatUtc(tick) +
          " skipped: " + why);
  RunResult r = Record(Outcome::kSkipped, tick, rev);
  r.reason = why;
  WriteResult(name, tick, r);
}

// replace: whether the tick waiting for the hold can start. Called when it
// is queued, when the watch of run/<name>/ goes live or reports a change,
// and when our own replaced run has ended.
void Daemon::CheckWaiting(JobState& js) {
  if (!js.waiting || !session_) return;
  JobState::Waiting& w = *js.waiting;
  const std::string name = js.job.name;
  if (!w.hold) {
    if (RunOf(name) != nullptr) return;  // our own run is still stopping
    Result<backend::Contender> c = backend_->CreateContender(
        session_->store_session(), cron::RunDir(name),
        cron::EncodeClaim(options_.node, ::getpid(), started_,
                          cron::TickName(w.tick), session_->id()),
        RequestDeadline());
    if (!c.ok()) {
      Skip(name, w.tick, w.rev, "run hold: " + c.status().message());
      js.waiting.reset();
      return;
    }
    w.hold = c->self;
  }
  if (!w.watch) {
    // Watch first, then read once it is live: no change is missed.
    w.tag = ++next_tag_;
    w.watch = backend_->StartWatch(
        {backend::WatchSpec{cron::RunDir(name), true, false}}, &runs_sink_,
        w.tag);
    return;
  }
  Result<std::vector<KeyValue>> queue =
      backend_->List(cron::RunDir(name), 0, RequestDeadline());
  if (!queue.ok()) return;  // the next change reads again
  auto self =
      std::find_if(queue->begin(), queue->end(),
                   [&](const KeyValue& kv) { return kv.key == w.hold->key; });
  if (self == queue->end()) {
    Skip(name, w.tick, w.rev, "its run hold vanished while it waited");
    js.waiting.reset();
    return;
  }
  if (self != queue->begin()) return;  // the run going has not let go yet
  const absl::Time tick = w.tick;
  const int64_t rev = w.rev;
  const int64_t missed = w.missed;
  KeyValue hold = *w.hold;
  js.waiting.reset();
  if (queue->size() > 1) {
    // A newer tick queued behind us already: it replaces this one.
    ReleaseHold(hold);
    Skip(name, tick, rev, "replaced by a newer tick before it started");
    return;
  }
  StartRun(js, tick, rev, hold, missed);
}

void Daemon::ReleaseHold(const KeyValue& hold) {
  Result<bool> gone = backend_->DeleteIfOwned(hold, RequestDeadline());
  if (!gone.ok()) {
    // It goes with its session at the latest; the session is ended as soon
    // as the store answers (ArmRetry), if it is not the one in use.
    LogWarn("release " + hold.key + ": " + gone.status().ToString());
  }
}

void Daemon::WriteResult(const std::string& name, absl::Time tick,
                         const RunResult& r) {
  Status put = backend_->Put(cron::ResultDir(name) + cron::TickName(tick),
                             cron::EncodeResult(r), nullptr, RequestDeadline());
  if (!put.ok()) {
    LogWarn("result of " + name + " " + cron::FormatUtc(tick) + ": " +
            put.ToString() + "; writing it again later");
    unwritten_.push_back(Unwritten{name, tick, r, 0});
    ArmResultRetry();
    return;
  }
  Prune(name, tick);
}

// Ends the sessions given up while the store did not answer, so that their
// run holds and node records go now rather than when the store times them
// out; those it cannot end yet stay for the next try.
void Daemon::EndRetired() {
  std::erase_if(retired_, [this](std::shared_ptr<primitives::Session>& s) {
    Status ended = s->store_session().End(RequestDeadline());
    if (ended.ok() || ended.code() == Code::kNotFound ||
        ended.code() == Code::kSessionLost) {
      LogDebug("old session " + primitives::LeaseHex(s->id()) + " ended");
      return true;
    }
    return false;
  });
}

// Once a second while there is something to do: sessions given up are
// ended, and results the store did not take are written again, for as long
// as the daemon runs (at most 1000 kept; then the oldest is dropped with a
// warning: its tick will read as lost).
void Daemon::ArmResultRetry() {
  if (unwritten_.size() > 1000) {
    LogWarn("dropping the unwritten result of " + unwritten_.front().job + " " +
            cron::FormatUtc(unwritten_.front().tick));
    unwritten_.pop_front();
  }
  if (retry_reg_.active() || (unwritten_.empty() && retired_.empty())) {
    return;
  }
  retry_reg_ = loop_.At(clock_.Now() + std::chrono::seconds(1), [this] {
    EndRetired();
    std::deque<Unwritten> pending;
    pending.swap(unwritten_);
    while (!pending.empty()) {
      Unwritten u = std::move(pending.front());
      pending.pop_front();
      Status put = backend_->Put(
          cron::ResultDir(u.job) + cron::TickName(u.tick),
          cron::EncodeResult(u.result), nullptr, RequestDeadline());
      if (put.ok()) {
        LogInfo("result of " + u.job + " " + cron::FormatUtc(u.tick) +
                " written");
        continue;
      }
      // The store is still away: keep this one and the rest for later.
      unwritten_.push_back(std::move(u));
      while (!pending.empty()) {
        unwritten_.push_back(std::move(pending.front()));
        pending.pop_front();
      }
    }
    ArmResultRetry();
  });
}

// Keeps the newest `history` fire and result records of a job, and records
// as lost the claims older than `current` whose runner is gone without a
// result.
void Daemon::Prune(const std::string& name, absl::Time current) {
  const MonoTime deadline = RequestDeadline();
  // Names only: the values of the few claims without a result are read
  // one by one below (on ZooKeeper a listing with values reads every one).
  Result<std::vector<KeyValue>> fires =
      backend_->ListRecords(cron::FireDir(name), false, deadline);
  Result<std::vector<KeyValue>> results =
      backend_->ListRecords(cron::ResultDir(name), false, deadline);
  if (!fires.ok() || !results.ok()) return;
  std::set<std::string> with_result;
  for (const KeyValue& kv : *results) {
    with_result.insert(std::string(cron::LastSegment(kv.key)));
  }
  std::optional<std::set<int64_t>> live;
  for (const KeyValue& kv : *fires) {
    std::string tick_name(cron::LastSegment(kv.key));
    std::optional<absl::Time> tick = cron::ParseTickName(tick_name);
    if (!tick || *tick >= current || with_result.count(tick_name)) continue;
    Result<std::optional<KeyValue>> claim = backend_->Get(kv.key, deadline);
    if (!claim.ok() || !*claim) continue;
    std::optional<cron::Claimer> claimer = cron::DecodeClaim((*claim)->value);
    if (!claimer || claimer->session == 0) continue;
    if (!live) {
      Result<std::vector<KeyValue>> nodes =
          backend_->ListRecords(cron::NodeDir(), false, deadline);
      if (!nodes.ok()) return;
      live.emplace();
      for (const KeyValue& n : *nodes) {
        Result<int64_t> id =
            primitives::ParseLeaseHex(cron::LastSegment(n.key));
        if (id.ok()) live->insert(*id);
      }
    }
    if (live->count(claimer->session)) continue;
    RunResult lost;
    lost.node = claimer->host;
    lost.outcome = Outcome::kLost;
    lost.tick = cron::FormatUtc(*tick);
    lost.reason = "its conchd ended before the run did";
    lost.rev = (*claim)->create_revision;
    if (backend_
            ->Put(cron::ResultDir(name) + tick_name, cron::EncodeResult(lost),
                  nullptr, deadline)
            .ok()) {
      telemetry_.CountTick(name, "lost_runner");
      with_result.insert(tick_name);
      results->push_back(KeyValue{cron::ResultDir(name) + tick_name, "", 0, 0});
    }
  }
  const size_t keep =
      static_cast<size_t>(std::max<int64_t>(options_.history, 1));
  auto trim = [&](std::vector<KeyValue> kvs) {
    std::sort(kvs.begin(), kvs.end(), [](const KeyValue& a, const KeyValue& b) {
      return a.key < b.key;
    });
    for (size_t i = 0; i + keep < kvs.size(); ++i) {
      (void)backend_->Delete(kvs[i].key, deadline);
    }
  };
  trim(std::move(*fires));
  trim(std::move(*results));
}

// ---------------------------------------------------------------------------
// Runs.

JobRun* Daemon::RunOf(const std::string& job) {
  for (JobRun& run : runs_) {
    if (run.job == job && !run.done) return &run;
  }
  return nullptr;
}

void Daemon::StartRun(JobState& js, absl::Time tick, int64_t rev,
                      std::optional<KeyValue> hold, int64_t missed) {
  const Job& job = js.job;
  runs_.emplace_back();
  JobRun& run = runs_.back();
  run.job = job.name;
  run.tick = tick;
  run.rev = rev;
  run.missed = missed;
  run.hold = hold;
  run.overlap = job.overlap;
  run.started = absl::Now();
  run.started_mono = clock_.Now();
  run.run_hold = std::make_unique<RunHold>(session_);

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    out_pipe[0] = out_pipe[1] = -1;
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    err_pipe[0] = err_pipe[1] = -1;
  }
  UniqueFd out_w(out_pipe[1]), err_w(err_pipe[1]);
  for (int fd : {out_pipe[0], err_pipe[0]}) {
    if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  run.out = UniqueFd(out_pipe[0]);
  run.err = UniqueFd(err_pipe[0]);
  const std::string prefix = job.name + "| ";
  run.out_lines = std::make_unique<OutputLines>(prefix, cron::kMaxOutputBytes);
  run.err_lines = std::make_unique<OutputLines>(prefix, cron::kMaxOutputBytes);

  supervisor::SpawnOptions so;
  so.argv = job.cmd;
  so.own_reaper = true;
  so.stdin_null = true;
  so.stdout_fd = out_w.get();
  so.stderr_fd = err_w.get();
  for (char** e = environ; *e != nullptr; ++e) so.env.emplace_back(*e);
  std::erase_if(so.env, [](const std::string& v) {
    return v.starts_with("CONCH_NAME=") || v.starts_with("CONCH_REV=") ||
           v.starts_with("CONCH_LEASE=") || v.starts_with("CONCH_TICK=") ||
           v.starts_with("NOTIFY_SOCKET=") || v.starts_with("WATCHDOG_");
  });
  so.env.push_back("CONCH_NAME=" + job.name);
  so.env.push_back("CONCH_REV=" + std::to_string(rev));
  so.env.push_back("CONCH_LEASE=" + primitives::LeaseHex(session_->id()));
  so.env.push_back("CONCH_TICK=" + cron::FormatUtc(tick));
  Result<Child> child = Child::Spawn(so);
  telemetry_.ObserveLag(job.name, absl::ToDoubleSeconds(run.started - tick));
  if (!child.ok()) {
    LogError("job " + job.name + ": " + child.status().ToString());
    RunResult r = Record(Outcome::kFailed, tick, rev);
    r.exit = child.status().code() == Code::kNotFound ? 127 : 126;
    r.reason = child.status().message();
    WriteResult(job.name, tick, r);
    if (hold) ReleaseHold(*hold);
    runs_.pop_back();
    return;
  }
  run.child.emplace(std::move(*child));
  LogInfo("job " + job.name + " tick " + cron::FormatUtc(tick) +
          " started, pid " + std::to_string(run.child->command_pid()) +
          (missed > 0 ? " (catching up " + std::to_string(missed) + " missed)"
                      : ""));
  supervisor::RunOptions ro;
  ro.what = "job " + job.name;
  ro.kill_after = job.kill_after;
  run.schedule = std::make_unique<KillSchedule>(*run.child, run.run_hold.get(),
                                                ro, run.started_mono);
  JobRun* self = &run;
  run.exit_reg =
      loop_.OnReadable(run.child->fd(), [this, self] { FinishRun(*self); });
  if (run.out.valid()) {
    run.out_reg = loop_.OnReadable(run.out.get(),
                                   [this, self] { OnOutput(*self, false); });
  }
  if (run.err.valid()) {
    run.err_reg = loop_.OnReadable(run.err.get(),
                                   [this, self] { OnOutput(*self, true); });
  }
  Result<Duration> ttl = cron::JobRunTtl(job);
  if (ttl.ok() && ttl->count() > 0) {
    run.ttl_reg = loop_.At(run.started_mono + *ttl,
                           [this, self] { StopRun(*self, "run-ttl"); });
  }
  if (hold) {
    // Our key under run/<name>/ deleted by someone: the hold is gone. Under
    // replace, a newer key there is a tick that replaces this run.
    run.hold_tag = ++next_tag_;
    std::vector<backend::WatchSpec> specs = {
        backend::WatchSpec{hold->key, false, false}};
    if (job.overlap == cron::Overlap::kReplace) {
      specs.push_back(backend::WatchSpec{cron::RunDir(job.name), true, false});
    }
    run.hold_watch =
        backend_->StartWatch(std::move(specs), &runs_sink_, run.hold_tag);
  }
  WakeRun(run);
  Publish();
}

void Daemon::OnRunsEvents() {
  std::set<std::string> check;
  for (const Event& e : runs_sink_.Drain()) {
    for (auto& [name, js] : jobs_) {
      if (js.waiting && js.waiting->tag == e.tag &&
          e.kind != Event::Kind::kWatchFailed) {
        check.insert(name);
      }
    }
    for (JobRun& run : runs_) {
      if (run.done || run.hold_tag != e.tag || !run.hold) continue;
      if (e.kind == Event::Kind::kWatchFailed) {
        // The session's own loss is handled by the session; a watch that
        // fails alone leaves the hold unwatched, which is not a loss.
        LogWarn("watch of " + run.hold->key + ": " + e.status.ToString());
      } else if (e.kind == Event::Kind::kWatch) {
        if (e.change.key == run.hold->key) {
          if (std::optional<Status> lost =
                  primitives::CheckOwnKey(e.change, *run.hold)) {
            run.run_hold->Lose(lost->message());
            WakeRun(run);
          }
        } else if (!e.change.deleted &&
                   run.overlap == cron::Overlap::kReplace) {
          StopRun(run, "replaced");
        }
      }
    }
  }
  for (const std::string& name : check) {
    auto it = jobs_.find(name);
    if (it != jobs_.end()) CheckWaiting(it->second);
  }
}

// Reads what the run wrote on one stream and writes out its complete
// lines. Returns false once nothing is left to read for now (or ever).
bool Daemon::OnOutput(JobRun& run, bool err) {
  UniqueFd& fd = err ? run.err : run.out;
  if (!fd.valid()) return false;
  OutputLines& lines = err ? *run.err_lines : *run.out_lines;
  char buf[8192];
  ssize_t n = ::read(fd.get(), buf, sizeof(buf));
  if (n > 0) {
    WriteAll(
        err ? STDERR_FILENO : STDOUT_FILENO,
        lines.Add(std::string_view(buf, static_cast<size_t>(n)), &run.kept));
    return true;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return errno == EINTR;
  // The end of the stream (every writer gone).
  WriteAll(err ? STDERR_FILENO : STDOUT_FILENO, lines.Flush());
  (err ? run.err_reg : run.out_reg).reset();
  fd.reset();
  return false;
}

// Applies the time and the hold's state to a run's kill schedule, and
// sleeps until its next deadline.
void Daemon::WakeRun(JobRun& run) {
  if (run.done || !run.schedule) return;
  run.schedule->Tick(clock_.Now());
  std::optional<MonoTime> next = run.schedule->NextWake();
  JobRun* self = &run;
  if (next) {
    run.wake_reg = loop_.At(*next, [this, self] { WakeRun(*self); });
  } else {
    run.wake_reg.reset();
  }
}

void Daemon::StopRun(JobRun& run, const std::string& why) {
  // Once: a second SIGTERM would run the command's handler again.
  if (run.done || !run.schedule || !run.stop_reason.empty()) return;
  run.stop_reason = why;
  LogInfo("job " + run.job + " tick " + cron::FormatUtc(run.tick) +
          ": stopping (" + why + ")");
  run.schedule->OnSignal(SIGTERM, clock_.Now());
  WakeRun(run);
}

void Daemon::FinishRun(JobRun& run) {
  std::optional<int> status = run.child->TryReap();
  if (!status) return;
  run.done = true;
  run.exit_reg.reset();
  run.wake_reg.reset();
  run.ttl_reg.reset();
  run.hold_watch.reset();
  // What is still in the pipes: the reaper, the last writer, is gone.
  for (bool err : {false, true}) {
    while (OnOutput(run, err)) {
    }
    OutputLines& lines = err ? *run.err_lines : *run.out_lines;
    WriteAll(err ? STDERR_FILENO : STDOUT_FILENO, lines.Flush());
    (err ? run.err_reg : run.out_reg).reset();
    (err ? run.err : run.out).reset();
  }
  supervisor::RunOutcome outcome = run.schedule->Finish(*status);
  const absl::Time now = absl::Now();
  const double seconds = absl::ToDoubleSeconds(now - run.started);
  RunResult r = Record(Outcome::kRan, run.tick, run.rev);
  r.exit = supervisor::ExitCodeFromWaitStatus(*status);
  r.started = cron::FormatUtc(run.started);
  r.duration_seconds = seconds;
  r.missed = run.missed;
  r.output = run.kept;
  if (outcome.end == supervisor::RunOutcome::End::kHoldLost) {
    r.exit = 70;
    r.reason = "hold lost: " + outcome.reason;
  } else if (run.stop_reason == "run-ttl") {
    r.exit = 70;
    r.reason = "run-ttl";
  } else if (!run.stop_reason.empty()) {
    r.reason = run.stop_reason;
  }
  LogInfo("job " + run.job + " tick " + r.tick +
          " ended: " + supervisor::DescribeWaitStatus(*status) +
          (r.reason.empty() ? "" : " (" + r.reason + ")"));
  telemetry_.ObserveRun(run.job, seconds, *r.exit);
  WriteResult(run.job, run.tick, r);
  if (run.hold) ReleaseHold(*run.hold);
  const std::string job = run.job;
  for (auto it = runs_.begin(); it != runs_.end(); ++it) {
    if (&*it == &run) {
      runs_.erase(it);
      break;
    }
  }
  if (auto it = jobs_.find(job); it != jobs_.end()) CheckWaiting(it->second);
  Publish();
}

void Daemon::Publish() {
  int64_t eligible = 0;
  for (const auto& [name, js] : jobs_) eligible += js.eligible ? 1 : 0;
  telemetry_.SetRunning(static_cast<int64_t>(runs_.size()));
  telemetry_.SetJobs(static_cast<int64_t>(jobs_.size()), eligible);
  telemetry_.StatusLine(std::to_string(jobs_.size()) + " jobs, " +
                        std::to_string(eligible) + " eligible, " +
                        std::to_string(runs_.size()) + " running" +
                        (session_ ? "" : ", session down"));
}

// ---------------------------------------------------------------------------

int Daemon::Run() {
  backend::BackendOptions bo;
  bo.endpoints = options_.global.endpoints;
  bo.dial_timeout = options_.global.dial_timeout;
  Result<std::unique_ptr<backend::Backend>> backend = backend::OpenBackend(bo);
  if (!backend.ok()) {
    LogError(backend.status().message());
    return 64;
  }
  backend_ = std::move(*backend);
  Result<SignalFd> signals = SignalFd::Open();
  if (!signals.ok()) {
    LogError(signals.status().ToString());
    return 70;
  }
  signals_.emplace(std::move(*signals));
  Status subreaper = supervisor::BecomeSubreaper();
  if (!subreaper.ok()) LogWarn(subreaper.ToString());

  Status opened = OpenSession();
  if (!opened.ok()) {
    LogError(opened.ToString());
    return opened.code() == Code::kInvalidArgument ? 64 : 69;
  }
  if (!options_.status_addr.empty()) {
    Result<std::unique_ptr<backend::Backend>> reader = backend::OpenBackend(bo);
    Status http = reader.ok() ? telemetry_.StartHttp(std::move(*reader))
                              : reader.status();
    if (!http.ok()) {
      // The original only logged a failed listen; a daemon whose status
      // address is taken runs on, and says so.
      LogError(http.message());
    }
  }
  signals_reg_ = loop_.OnReadable(signals_->fd(), [this] {
    while (std::optional<int> sig = signals_->Read()) {
      if (*sig == SIGCHLD) {
        supervisor::ReapOrphans();
        continue;
      }
      if (!supervisor::IsStopSignal(*sig) || stopping_) continue;
      LogInfo("stopping on signal " + std::to_string(*sig));
      stopping_ = true;
      telemetry_.Stopping();
      for (auto& [name, js] : jobs_) js.timer.reset();
      for (JobRun& run : runs_) StopRun(run, "conchd stopping");
    }
  });
  runs_reg_ = loop_.OnReadable(runs_sink_.fd(), [this] { OnRunsEvents(); });
  StartJobsWatch();
  ArmWatchdog();
  while (!(stopping_ && runs_.empty())) {
    Status turn = loop_.RunOnce();
    if (!turn.ok()) {
      LogError(turn.ToString());
      for (JobRun& run : runs_) {
        if (run.schedule) run.schedule->KillNow("the event loop failed");
      }
      break;
    }
  }
  jobs_watch_.reset();
  if (session_) {
    Status ended = session_->Revoke();
    if (!ended.ok()) LogWarn(ended.ToString());
  }
  for (std::shared_ptr<primitives::Session>& old : retired_) {
    (void)old->store_session().End(RequestDeadline());
  }
  LogInfo("stopped");
  return 0;
}

}  // namespace

int RunDaemon(const DaemonOptions& options) {
  Daemon daemon(options);
  return daemon.Run();
}

}  // namespace conch::conchd
