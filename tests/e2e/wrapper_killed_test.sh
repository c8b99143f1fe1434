#!/usr/bin/env bash
# A wrapper killed with SIGKILL cannot clean up: its child must still die
# within 1 s (PR_SET_PDEATHSIG), and its key must go when the lease expires,
# after which another wrapper can take the office.
source "$(dirname "$0")/common.sh"

etcd_start
export CONCH_ENDPOINTS=$ETCD_ENDPOINTS

step "start a holder with --ttl 3s"
bg holder "$CONCH" elect wk --ttl 3s --kill-after 1s -- sh -c "$(holder_sleep_cmd "$T/child.pid")"
wrapper=$BG_PID
wait_for "[[ -s $T/child.pid ]]" 10 || fail "child did not start"
child=$(<"$T/child.pid")
assert_eq 1 "$(key_count wk)" "keys under wk while held"

step "SIGKILL the wrapper: the child is gone within 1 s"
kill -KILL "$wrapper"
start=$(now_ms)
wait_for "! proc_alive $child" 1 || fail "child $child alive 1 s after the wrapper was SIGKILLed"
echo "   child gone $(($(now_ms) - start)) ms after the wrapper's SIGKILL"

step "the key goes when the lease expires (3 s TTL)"
wait_for "[[ \$(key_count wk) == 0 ]]" 6 || fail "key still present 6 s after the wrapper died"

step "another wrapper takes the office"
run next "$CONCH" elect wk --nonblock -- echo next
assert_eq 0 "$RC" "next wrapper exit code"
assert_eq next "$OUT" "next wrapper output"

pass
