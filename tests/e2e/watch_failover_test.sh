#!/usr/bin/env bash
# A queued waiter whose store member dies: on a 3-member cluster the waiter
# is connected to m0 (listed first) while a holder that talks to m1 and m2
# only holds the office. m0 is SIGKILLed and the holder then leaves: the
# waiter must move to another member, learn of the release, and run its
# command.
source "$(dirname "$0")/common.sh"

etcd_cluster_start 3
export CONCH_ENDPOINTS=$ETCD_ENDPOINTS
survivors="${ETCD_EPS[1]},${ETCD_EPS[2]}"
m0_port=${ETCD_EPS[0]##*:}

# connected_to PID PORT: true when PID has an established TCP connection to
# 127.0.0.1:PORT.
connected_to() {
  ss -Htnp state established "( dport = :$2 )" 2>/dev/null | grep -q "pid=$1,"
}

step "a holder that talks to m1 and m2 only"
CONCH_ENDPOINTS=$survivors bg holder "$CONCH" elect wf -- sh -c "$(holder_sleep_cmd "$T/holder.pid")"
holder=$BG_PID
wait_for "[[ -s $T/holder.pid ]]" 20 || fail "holder's child did not start"
connected_to "$holder" "$m0_port" && fail "the holder is connected to m0 although not given it"

step "a waiter on all three members, m0 first, connected to m0"
# gRPC connects to the first member that answers; should that not be m0,
# the waiter withdraws and queues again, a few times at most.
waiter=
for attempt in 1 2 3 4 5; do
  bg "waiter$attempt" "$CONCH" elect wf -- sh -c "$(stamp waiter.ran)"
  waiter=$BG_PID
  { wait_queued "waiter$attempt" && wait_for "[[ \$(key_count wf) == 2 ]]" 20; } ||
    fail "waiter (attempt $attempt) did not queue"
  if connected_to "$waiter" "$m0_port"; then
    echo "   the waiter (attempt $attempt) is connected to m0"
    break
  fi
  echo "   the waiter (attempt $attempt) is not connected to m0; queueing again"
  kill -TERM "$waiter"
  wait_exit "$waiter" 20 || fail "waiter (attempt $attempt) still running 20 s after SIGTERM"
  assert_eq 143 "$RC" "exit code of a waiter withdrawn by SIGTERM"
  waiter=
done
[[ -n $waiter ]] || fail "no waiter connected to m0 in 5 attempts"
for i in 1 2; do
  connected_to "$waiter" "${ETCD_EPS[i]##*:}" && echo "   NOTE: the waiter is also connected to m$i"
done
waiter_key=$(office_keys wf | tail -n 1)
[[ -e $T/waiter.ran ]] && fail "the waiter ran while the office was held"

step "SIGKILL m0, then the holder leaves"
# For the record: when m0 leads the cluster, the holder's release may have
# to wait for a new raft leader.
raft_leader=$(etcdctl_ endpoint status -w simple 2>/dev/null | awk -F', ' '$5 == "true" {print $1}')
for i in 0 1 2; do
  [[ $raft_leader == "${ETCD_EPS[i]}" ]] && echo "   m$i leads the etcd cluster"
done
etcd_kill 0
killed=$(now_ms)
kill -TERM "$holder"
wait_exit "$holder" 20 || fail "holder still running 20 s after SIGTERM"
assert_eq 143 "$RC" "holder's exit code (child 'sleep' got SIGTERM)"

step "the waiter is promoted through another member and runs its command"
wait_for "[[ -s $T/waiter.ran ]]" 30 || fail "the waiter did not run its command within 30 s"
echo "   the waiter's command started $(($(<"$T/waiter.ran") - killed)) ms after m0 was killed"
wait_exit "$waiter" 20 || fail "waiter still running 20 s after its command ran"
assert_eq 0 "$RC" "waiter's exit code"
assert_match 'already expired|not found' \
  "$(ETCD_ENDPOINTS=$survivors lease_ttl_line "$(lease_hex_of "$waiter_key")")" \
  "the waiter's lease after it exited"
assert_eq 0 "$(ETCD_ENDPOINTS=$survivors key_count wf)" "keys at the end"

pass
