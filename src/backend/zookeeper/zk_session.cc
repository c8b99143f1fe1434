#include "backend/zookeeper/zk_session.h"

#include <algorithm>
#include <optional>
#include <stop_token>
#include <thread>

#include "backend/renewal.h"
#include "backend/zookeeper/zk_names.h"
#include "base/duration.h"
#include "base/log.h"
#include "base/mutex.h"

namespace conch::backend::zk {
namespace {

// How often the heartbeat goes out: a sixth of the granted timeout, so that
// a proof (which needs two answers, see OnAnswer) is renewed every third.
constexpr int kBeatsPerTimeout = 6;
constexpr Duration kMinInterval = std::chrono::milliseconds(10);

// What the heartbeat thread shares with the completions of its requests
// and with the connection's state callback. Shared, because those
// callbacks hold it from the client's threads; it owns nothing.
struct Pulse {
  // The last answered heartbeat, while no connection was lost since.
  struct Proof {
    MonoTime sent;
    uint64_t epoch = 0;  // the connection it was answered on
  };

  Mutex mu;
  CondVar cv;
  bool changed GUARDED_BY(mu) = false;  // the state or the schedule moved
  uint64_t epoch GUARDED_BY(mu) = 0;    // the connection `schedule` follows
  RenewalSchedule schedule GUARDED_BY(mu){
      RenewalSchedule::Every{std::chrono::seconds(1)}};
  std::optional<Proof> last GUARDED_BY(mu);

  void Wake() EXCLUDES(mu) {
    {
      MutexLock lock(mu);
      changed = true;
    }
    cv.NotifyAll();
  }
};

class ZkSession final : public Session {
 public:
  ZkSession(std::shared_ptr<ZkConn> conn, std::shared_ptr<Pulse> pulse,
            EventSink* sink, uint64_t tag)
      : conn_(std::move(conn)),
        pulse_(std::move(pulse)),
        sink_(sink),
        tag_(tag),
        id_(conn_->state().session_id),
        ttl_(conn_->state().granted) {
    // The grant is logged by primitives::Session, for both stores.
    heartbeat_ =
        std::jthread([this](const std::stop_token& stop) { Beat(stop); });
  }

  // Without End(), closing the handle still ends the session at once (the
  // client sends closeSession when connected); otherwise the store ends it
  // when its timeout runs out.
  ~ZkSession() override {
    StopHeartbeat();
    if (closer_.joinable()) closer_.join();
    conn_->Close();
  }

  int64_t id() const override { return id_; }
  Duration ttl() const override { return ttl_; }
  Status End(MonoTime deadline) override;

  const std::shared_ptr<ZkConn>& conn() const { return conn_; }
  void NoteOwnNode(const std::string& path) { own_nodes_.push_back(path); }

 private:
  void StopHeartbeat() {
    heartbeat_.request_stop();
    if (heartbeat_.joinable()) heartbeat_.join();
  }

  // A heartbeat to send: when it goes out, and on which connection.
  struct Due {
    MonoTime sent;
    uint64_t epoch = 0;
  };

  void Beat(const std::stop_token& stop) EXCLUDES(pulse_->mu);
  std::optional<Due> AwaitDue(const std::stop_token& stop) REQUIRES(pulse_->mu);
  void WaitChange(const std::stop_token& stop, std::optional<MonoTime> until)
      REQUIRES(pulse_->mu);
  static void OnAnswer(Pulse& pulse, ZkConn& conn, EventSink* sink,
                       uint64_t tag, MonoTime sent, uint64_t epoch,
                       const Reply& reply);

  const std::shared_ptr<ZkConn> conn_;
  const std::shared_ptr<Pulse> pulse_;
  EventSink* const sink_;
  const uint64_t tag_;
  const int64_t id_;
  const Duration ttl_;
  std::jthread heartbeat_;
  std::jthread closer_;  // End()'s zookeeper_close; owner thread only
  // Ephemeral nodes this session created, deleted by End(); owner thread
  // only.
  std::vector<std::string> own_nodes_;
};

// The heartbeat: a sync request (zoo_async), which a follower forwards
// through the leader, sent on the RenewalSchedule. Each answer counts as
// the etcd keep-alive's do, from the send time, but with one answer of
// delay; see OnAnswer.
void ZkSession::Beat(const std::stop_token& stop) {
  for (;;) {
    std::optional<Due> due;
    {
      MutexLock lock(pulse_->mu);
      due = AwaitDue(stop);
    }
    if (!due) return;
    int rc = conn_->Send(
        SyncRequest("/"), [pulse = pulse_, conn = conn_.get(), sink = sink_,
                           tag = tag_, due = *due](const Reply& reply) {
          // `conn` is borrowed: completions run only while it is open.
          OnAnswer(*pulse, *conn, sink, tag, due.sent, due.epoch, reply);
        });
    if (rc != ZOK) LogDebug(FromZk(rc, "zookeeper heartbeat").message());
  }
}

// Waits until a heartbeat is due and returns it, already counted as sent
// by the schedule; nullopt when the heartbeat ends: on a stop request, once
// the handle is closed, or once the session has ended (which it reports).
std::optional<ZkSession::Due> ZkSession::AwaitDue(const std::stop_token& stop) {
  const Clock& clock = conn_->clock();
  while (!stop.stop_requested()) {
    ZkConn::State state = conn_->state();
    if (state.closed) return std::nullopt;
    if (state.expired || state.auth_failed) {
      Event e;
      e.kind = Event::Kind::kSessionLost;
      e.tag = tag_;
      e.status = conn_->EndedStatus();
      sink_->Push(std::move(e));
      return std::nullopt;
    }
    const MonoTime now = clock.Now();
    if (!state.connected) {
      pulse_->last.reset();
      WaitChange(stop, std::nullopt);
      continue;
    }
    if (state.epoch != pulse_->epoch) {
      // A new connection: whatever was outstanding on the old one is lost,
      // the granted timeout may differ, and proofs start over.
      pulse_->epoch = state.epoch;
      pulse_->schedule = RenewalSchedule(RenewalSchedule::Every{
          std::max(state.granted / kBeatsPerTimeout, kMinInterval)});
      pulse_->schedule.Reset(now);
      pulse_->last.reset();
    }
    if (now < pulse_->schedule.next_send()) {
      WaitChange(stop, pulse_->schedule.next_send());
      continue;
    }
    if (!pulse_->schedule.Send(now)) {
      // Too many unanswered: the client drops a connection that has been
      // silent for 2/3 of the timeout by itself; wait for that, or for an
      // answer.
      WaitChange(stop, std::nullopt);
      continue;
    }
    return Due{now, pulse_->epoch};
  }
  return std::nullopt;
}

void ZkSession::WaitChange(const std::stop_token& stop,
                           std::optional<MonoTime> until) {
  auto changed = [&]() REQUIRES(pulse_->mu) { return pulse_->changed; };
  if (until) {
    pulse_->cv.WaitFor(pulse_->mu, stop, *until - conn_->clock().Now(),
                       changed);
  } else {
    pulse_->cv.Wait(pulse_->mu, stop, changed);
  }
  pulse_->changed = false;
}

// THE PROOF RULE. An answered heartbeat k proves the session alive until
// S(k-1) + ttl, where S(k-1) is the send time of the previous answered
// heartbeat on the same connection with no disconnect between; the first
// answer on a connection proves nothing by itself.
//
// Why: a server touches a session when a request of it arrives, but a
// follower relays its touches to the leader, which is the one that expires
// sessions, only on its next ping exchange with the leader. One answer
// therefore does not show that the leader saw the touch. Two answers on one
// unbroken connection, an interval apart, do: the follower answered the
// second while still attached to a leader (a follower that loses its leader
// drops its client connections), after a ping exchange that carried the
// first touch.
//
// "Same connection, no disconnect between" is the connection epoch at the
// time each answer is handled: the client delivers a new connection's
// ZOO_CONNECTED_STATE (which bumps the epoch) before any answer on it, on
// this same completion thread.
void ZkSession::OnAnswer(Pulse& pulse, ZkConn& conn, EventSink* sink,
                         uint64_t tag, MonoTime sent, uint64_t epoch,
                         const Reply& reply) {
  if (reply.rc == ZCLOSING) return;
  const ZkConn::State state = conn.state();
  {
    MutexLock lock(pulse.mu);
    pulse.changed = true;
    if (reply.rc != ZOK) {
      // A lost connection's answer is a miss, not an answer.
      if (!IsConnectionLoss(reply.rc)) {
        LogDebug(FromZk(reply.rc, "zookeeper heartbeat").message());
      }
      pulse.last.reset();
    } else if (epoch == pulse.epoch) {
      std::optional<MonoTime> acked = pulse.schedule.Answered();
      if (acked) {
        // Answers come in send order, so `acked` is this request's send
        // time; the earlier of the two is kept should they ever differ.
        MonoTime s = std::min(*acked, sent);
        if (pulse.last && pulse.last->epoch == state.epoch) {
          Event e;
          e.kind = Event::Kind::kRenewed;
          e.tag = tag;
          e.sent = pulse.last->sent;
          e.ttl = state.granted;
          sink->Push(std::move(e));
        }
        pulse.last = Pulse::Proof{s, state.epoch};
      }
    }
    // Otherwise the request went out before a reconnection the schedule
    // has since started over for: it proves nothing.
  }
  pulse.cv.NotifyAll();
}

Status ZkSession::End(MonoTime deadline) {
  const std::string what = "end zookeeper session " + SessionHex(id_);
  StopHeartbeat();
  ZkConn::State state = conn_->state();
  if (state.expired || state.auth_failed || state.closed) {
    Status ended = conn_->EndedStatus();
    conn_->Close();
    return Error(Code::kNotFound, what + ": " + ended.message());
  }
  // closeSession can only go out on a live connection: if the client is
  // between servers, wait for it.
  Status up = conn_->WaitConnected(deadline);
  if (!up.ok()) {
    conn_->Close();
    if (up.code() == Code::kSessionLost) {
      return Error(Code::kNotFound, what + ": " + up.message());
    }
    return Error(up.code(),
                 what + ": " + up.message() +
                     "; the store ends it when its timeout runs out");
  }
  // Whoever waits behind our nodes is woken by their deletion: sent first,
  // a plain delete is on the next holder's path rather than the client's
  // close (which stops its threads before it sends closeSession). The
  // answers are awaited before the close: the client leaks the bookkeeping
  // of requests still pending when it closes, which a long-lived process
  // must not. Should a delete fail, closeSession removes the node anyway.
  // The names embed our session id and we created them, so an unversioned
  // delete removes only ours.
  if (!own_nodes_.empty()) {
    std::vector<Request> deletes;
    for (const std::string& path : own_nodes_) {
      deletes.push_back(DeleteRequest(path, -1));
    }
    own_nodes_.clear();
    conn_->CallAll(deletes, deadline);
  }
  // zookeeper_close blocks up to 4.5 s against a server that stopped
  // answering; it runs on a thread of ours so that End returns by its
  // deadline (the destructor joins that thread).
  closer_ = std::jthread([conn = conn_] { conn->Close(); });
  if (!conn_->WaitClosed(deadline)) {
    return Error(Code::kDeadlineExceeded,
                 what + ": zookeeper: close not finished by the deadline");
  }
  state = conn_->state();
  if (state.expired) {
    return Error(Code::kNotFound, what + ": " + conn_->EndedStatus().message());
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Session>> OpenZkSession(const ConnOptions& base,
                                               Duration ttl, MonoTime deadline,
                                               EventSink* sink, uint64_t tag) {
  auto pulse = std::make_shared<Pulse>();
  ConnOptions options = base;
  options.session_timeout = ttl;
  options.on_state = [pulse] { pulse->Wake(); };
  Result<std::shared_ptr<ZkConn>> conn = ZkConn::Open(std::move(options));
  if (!conn.ok()) return conn.status();
  Status up = (*conn)->WaitConnected(deadline);
  if (!up.ok()) return Status(up.code(), "open session: " + up.message());
  return std::unique_ptr<Session>(
      std::make_unique<ZkSession>(*conn, std::move(pulse), sink, tag));
}

std::shared_ptr<ZkConn> ConnOf(const Session& session) {
  const auto* zk = dynamic_cast<const ZkSession*>(&session);
  return zk != nullptr ? zk->conn() : nullptr;
}

void NoteOwnNode(Session& session, const std::string& path) {
  auto* zk = dynamic_cast<ZkSession*>(&session);
  if (zk != nullptr) zk->NoteOwnNode(path);
}

}  // namespace conch::backend::zk
