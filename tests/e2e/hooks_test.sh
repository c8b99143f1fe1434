#!/usr/bin/env bash
# --on-acquire / --on-lose hooks: they run through /bin/sh -c around the
# child (ACQUIRE, child, LOSE), see CONCH_NAME/REV/LEASE, and a failing or
# timed-out on-acquire hook means exit 75 with no child. On-lose also runs
# when the hold is lost.
source "$(dirname "$0")/common.sh"

store_start

step "output order is ACQUIRE, child, LOSE"
run order "$CONCH" elect hk --on-acquire 'echo ACQUIRE' --on-lose 'echo LOSE' -- echo CHILD
assert_eq 0 "$RC" "exit code with hooks"
assert_eq $'ACQUIRE\nCHILD\nLOSE' "$OUT" "stdout with hooks"

step "hooks and child see the same CONCH_NAME, CONCH_REV and CONCH_LEASE"
show='echo "$CONCH_NAME $CONCH_REV $CONCH_LEASE"'
run env "$CONCH" elect hk --on-acquire "$show > '$T/acquire.env'" \
  --on-lose "$show > '$T/lose.env'" -- sh -c "$show"
assert_eq 0 "$RC" "exit code with env-printing hooks"
read -r name rev lease <<<"$OUT"
assert_eq hk "$name" "child's CONCH_NAME"
assert_match '^[1-9][0-9]*$' "$rev" "child's CONCH_REV"
assert_match '^[0-9a-f]+$' "$lease" "child's CONCH_LEASE"
assert_eq "$OUT" "$(<"$T/acquire.env")" "on-acquire hook's environment"
assert_eq "$OUT" "$(<"$T/lose.env")" "on-lose hook's environment"

step "a failing on-acquire hook: exit 75, no child, office released"
run acquire_fails "$CONCH" elect hk --on-acquire 'exit 42' -- touch "$T/ran"
assert_eq 75 "$RC" "exit code when on-acquire exits 42"
[[ ! -e $T/ran ]] || fail "the child ran although on-acquire failed"
assert_eq 0 "$(key_count hk)" "keys after the failed on-acquire"

step "an on-acquire hook past --hook-timeout fails the same way"
# The hook would sleep 60 s: an exit well before that (and after the 2 s
# timeout) shows that the timeout cut it short. timeout(1) catches a hang.
run acquire_slow timeout 90 "$CONCH" elect hk --hook-timeout 2s \
  --on-acquire "echo \$\$ > '$T/hook.pid'; exec sleep 60" -- touch "$T/ran"
assert_eq 75 "$RC" "exit code when on-acquire outlives --hook-timeout 2s"
assert_le 2000 "$ELAPSED_MS" "ms until exit 75: at least --hook-timeout 2s"
assert_lt "$ELAPSED_MS" 45000 "ms until exit 75: the 60 s hook was cut short"
[[ ! -e $T/ran ]] || fail "the child ran although on-acquire timed out"
[[ -s $T/hook.pid ]] || fail "the on-acquire hook never wrote its pid"
hook=$(<"$T/hook.pid")
assert_match '^[1-9][0-9]*$' "$hook" "the on-acquire hook's pid"
proc_alive "$hook" && fail "the timed-out hook $hook is still running after conch exited"
assert_eq 0 "$(key_count hk)" "keys after the timed-out on-acquire"

step "on-lose runs after the hold is lost"
bg lost "$CONCH" elect hk --ttl 10s --kill-after 1s --on-lose "echo LOSE > '$T/lost'" \
  -- sh -c "$(holder_sleep_cmd "$T/child.pid")"
wrapper=$BG_PID
wait_for "[[ -s $T/child.pid ]]" 30 || fail "child did not start"
key=$(office_keys hk)
[[ $key =~ $(key_re /conch/v1/elect/hk/) ]] || fail "unexpected keys [$key]"
take_hold "$key" || fail "could not take the hold of $key"
wait_exit "$wrapper" 20 || fail "wrapper still running 20 s after the hold was taken"
assert_eq 70 "$RC" "exit code after the hold was taken"
assert_eq LOSE "$(cat "$T/lost" 2>/dev/null)" "on-lose output after the loss"

pass
