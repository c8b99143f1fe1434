#!/usr/bin/env bash
# A 3-member cluster loses the member listed first (the one conch talks to
# first). With --ttl 5s --kill-after 1s the wrapper must move to another
# member in time: the child keeps running and the wrapper keeps its hold.
source "$(dirname "$0")/common.sh"

etcd_cluster_start 3
export CONCH_ENDPOINTS=$ETCD_ENDPOINTS
survivors="${ETCD_EPS[1]},${ETCD_EPS[2]}"

step "start a holder against all three members, m0 first"
bg holder "$CONCH" elect cf --ttl 5s --kill-after 1s -- sh -c "$(holder_sleep_cmd "$T/child.pid")"
wrapper=$BG_PID
wait_for "[[ -s $T/child.pid ]]" 10 || fail "child did not start"
child=$(<"$T/child.pid")
key=$(office_keys cf)
[[ $key == /conch/v1/elect/cf/* ]] || fail "unexpected keys [$key]"
m0_port=${ETCD_EPS[0]##*:}
if ss -Htnp state established "( dport = :$m0_port )" 2>/dev/null | grep -q "pid=$wrapper,"; then
  echo "   the wrapper is connected to m0"
else
  echo "   NOTE: no connection from the wrapper to m0 seen; killing m0 tests less"
fi

step "SIGKILL m0: for 8 s the child and the wrapper stay"
etcd_kill 0
killed=$(now_ms)
while (($(now_ms) - killed < 8000)); do
  proc_alive "$child" || fail "child died $(($(now_ms) - killed)) ms after m0 was killed"
  proc_alive "$wrapper" || fail "wrapper exited $(($(now_ms) - killed)) ms after m0 was killed"
  sleep 0.1
done

step "the key is still ours and its lease alive, seen from m1 and m2"
assert_eq "$key" "$(ETCD_ENDPOINTS=$survivors office_keys cf)" "keys under cf"
ttl_line=$(ETCD_ENDPOINTS=$survivors lease_ttl_line "$(lease_hex_of "$key")")
assert_match 'remaining\([1-9][0-9]*s\)' "$ttl_line" "lease of our key"

step "SIGTERM: the wrapper stops its child and releases through m1/m2"
kill -TERM "$wrapper"
wait_exit "$wrapper" 5 || fail "wrapper still running 5 s after SIGTERM"
assert_eq 143 "$RC" "wrapper exit code (child 'sleep' got SIGTERM)"
assert_eq 0 "$(ETCD_ENDPOINTS=$survivors key_count cf)" "keys after the wrapper exited"

pass
