#!/usr/bin/env bash
# A wrapper killed with SIGKILL cannot clean up: its child must still die
# (PR_SET_PDEATHSIG) before the lease could expire, that is before its key
# is gone, and the key must go when the lease expires, after which another
# wrapper can take the office.
source "$(dirname "$0")/common.sh"

store_start

step "start a holder with --ttl 3s"
bg holder "$CONCH" elect wk --ttl 3s --kill-after 1s -- sh -c "$(holder_sleep_cmd "$T/child.pid")"
wrapper=$BG_PID
wait_for "[[ -s $T/child.pid ]]" 30 || fail "child did not start"
child=$(<"$T/child.pid")
proc_alive "$child" || fail "child [$child] not running"
assert_eq 1 "$(key_count wk)" "keys under wk while held"

step "SIGKILL the wrapper: the child is gone while the key still stands"
kill -KILL "$wrapper"
start=$(now_ms)
# The key is read first and the child checked after: a child alive after
# the key was seen gone outlived the hold.
while proc_alive "$child"; do
  if [[ $(key_count wk) == 0 ]] && proc_alive "$child"; then
    fail "child $child still alive after the lease expired and the key was gone"
    break
  fi
  if (($(now_ms) - start >= 20000)); then
    fail "child $child alive 20 s after the wrapper was SIGKILLed"
    break
  fi
  sleep 0.05
done
echo "   child gone $(($(now_ms) - start)) ms after the wrapper's SIGKILL"
wait_exit "$wrapper" 20 || fail "the SIGKILLed wrapper was not reaped"
assert_eq 137 "$RC" "the wrapper's exit status (SIGKILL)"

step "the key goes when the lease expires (3 s TTL)"
wait_for "[[ \$(key_count wk) == 0 ]]" 30 || fail "key still present 30 s after the wrapper died"

step "another wrapper takes the office"
run next timeout 30 "$CONCH" elect wk --nonblock -- echo next
assert_eq 0 "$RC" "next wrapper exit code"
assert_eq next "$OUT" "next wrapper output"

pass
