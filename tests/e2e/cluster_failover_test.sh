#!/usr/bin/env bash
# A 3-member cluster loses the member the wrapper talks to. With --ttl 5s
# --kill-after 1s the wrapper must move to another member in time: the child
# keeps running and the wrapper keeps its hold.
#
# conch's etcd client is one gRPC channel over all endpoints under
# pick_first, so it talks to one member at a time: the first in the list
# that accepts, here m0. The script checks that the wrapper's connection
# really goes to m0 (and starts it again if not) before it kills m0, so the
# failover is exercised on every run; a run in which it was not is a
# failure, never a pass.
source "$(dirname "$0")/common.sh"

etcd_cluster_start 3
export CONCH_ENDPOINTS=$ETCD_ENDPOINTS
survivors="${ETCD_EPS[1]},${ETCD_EPS[2]}"

# members_of PID: the indexes of the members PID has an established TCP
# connection to, one a line.
members_of() {
  local ports i
  ports=" $(ss -Htnp state established 2>/dev/null |
    awk -v who="pid=$1," 'index($0, who) {n = split($4, a, ":"); printf "%s ", a[n]}')"
  for i in "${!ETCD_EPS[@]}"; do
    [[ $ports == *" ${ETCD_EPS[i]##*:} "* ]] && echo "$i"
  done
}

# raft_leader: the index of the member that leads the raft group.
raft_leader() {
  local i
  for i in "${!ETCD_EPS[@]}"; do
    ETCD_ENDPOINTS=${ETCD_EPS[i]} etcdctl_ endpoint status 2>/dev/null |
      awk -F', ' '$5 == "true" {found = 1} END {exit !found}' && echo "$i" && return 0
  done
  return 1
}

# member_id I: member I's id in hex, as etcdctl prints it.
member_id() {
  ETCD_ENDPOINTS=${ETCD_EPS[$1]} etcdctl_ endpoint status | awk -F', ' '{print $2}'
}

step "m0 is a raft follower, so that killing it tests conch, not an election"
# Killing the raft leader would also stop lease renewals on m1 and m2 until
# they elect a new one, a second delay this test is not about.
wait_for "raft_leader >/dev/null" 20 || fail "the cluster has no raft leader"
if [[ $(raft_leader) == 0 ]]; then
  ETCD_ENDPOINTS=${ETCD_EPS[0]} etcdctl_ move-leader "$(member_id 1)" >/dev/null ||
    fail "move-leader from m0 to m1"
  wait_for "[[ \$(raft_leader) == [12] ]]" 20 || fail "m0 still leads the raft group"
  echo "   moved the raft leadership from m0 to m$(raft_leader)"
fi

step "start a holder against all three members, m0 first, until it talks to m0"
wrapper=
for attempt in 1 2 3; do
  bg "holder$attempt" "$CONCH" elect cf --ttl 5s --kill-after 1s \
    -- sh -c "$(holder_sleep_cmd "$T/child$attempt.pid")"
  candidate=$BG_PID
  wait_for "[[ -s $T/child$attempt.pid ]]" 30 || fail "attempt $attempt: child did not start"
  # The key is written, so the channel is connected: to which member?
  wait_for "[[ -n \$(members_of $candidate) ]]" 20 ||
    fail "attempt $attempt: no connection from the wrapper to any member"
  connected=$(members_of "$candidate" | paste -sd ' ')
  if [[ $connected == 0 ]]; then
    wrapper=$candidate
    child=$(<"$T/child$attempt.pid")
    break
  fi
  echo "   attempt $attempt: the wrapper talks to member(s) [$connected], not m0; again"
  kill -TERM "$candidate"
  wait_exit "$candidate" 20 || fail "attempt $attempt: wrapper still running 20 s after SIGTERM"
  assert_eq 143 "$RC" "attempt $attempt: wrapper exit code after SIGTERM"
  wait_for "[[ \$(key_count cf) == 0 ]]" 20 || fail "attempt $attempt: key left behind"
done
[[ -n $wrapper ]] || fail "in 3 attempts the wrapper never talked to m0 alone"
key=$(office_keys cf)
[[ $key == /conch/v1/elect/cf/* ]] || fail "unexpected keys [$key]"

step "SIGKILL m0: the wrapper reconnects to m1 or m2"
etcd_kill 0
killed=$(now_ms)
wait_for "[[ \$(members_of $wrapper) == [12]* ]]" 20 ||
  fail "the wrapper did not connect to m1 or m2 within 20 s of m0's death"
echo "   the wrapper talks to m$(members_of "$wrapper" | head -n 1) \
$(($(now_ms) - killed)) ms after m0 was killed"

step "for longer than the 5 s TTL after m0's death, the child and the wrapper stay"
# A lease still alive after more than its TTL was renewed through m1 or m2.
while (($(now_ms) - killed < 8000)); do
  proc_alive "$child" || { fail "child died $(($(now_ms) - killed)) ms after m0 was killed"; break; }
  proc_alive "$wrapper" || { fail "wrapper exited $(($(now_ms) - killed)) ms after m0 was killed"; break; }
  sleep 0.1
done

step "the key is still ours and its lease alive, seen from m1 and m2"
assert_eq "$key" "$(ETCD_ENDPOINTS=$survivors office_keys cf)" "keys under cf"
ttl_line=$(ETCD_ENDPOINTS=$survivors lease_ttl_line "$(lease_hex_of "$key")")
assert_match 'remaining\([1-9][0-9]*s\)' "$ttl_line" "lease of our key"

step "SIGTERM: the wrapper stops its child and releases through m1/m2"
kill -TERM "$wrapper"
wait_exit "$wrapper" 20 || fail "wrapper still running 20 s after SIGTERM"
assert_eq 143 "$RC" "wrapper exit code (child 'sleep' got SIGTERM)"
assert_eq 0 "$(ETCD_ENDPOINTS=$survivors key_count cf)" "keys after the wrapper exited"

pass
