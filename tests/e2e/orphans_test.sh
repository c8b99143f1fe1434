#!/usr/bin/env bash
# Nothing the command started outlives it, not even a process that left its
# process group with setsid and was orphaned: conch is a child subreaper and
# kills such descendants when the command ends, by exit or by loss.
source "$(dirname "$0")/common.sh"

store_start

# escape_cmd FILE: starts a setsid'd `sleep 100` (out of the command's
# group), writes its pid to FILE, and returns at once.
escape_cmd() {
  echo "setsid sh -c 'sleep 100 & echo \$! > $1; wait' & while [ ! -s $1 ]; do sleep 0.01; done"
}

step "a setsid'd descendant dies when the command exits"
run clean "$CONCH" elect orph -- sh -c "$(escape_cmd "$T/esc1.pid")"
assert_eq 0 "$RC" "exit code"
[[ -s $T/esc1.pid ]] || fail "the escaped process never wrote its pid"
escaped=$(<"$T/esc1.pid")
assert_match '^[1-9][0-9]*$' "$escaped" "the escaped process's pid"
proc_alive "$escaped" && fail "escaped process $escaped outlived the command"

step "a setsid'd descendant dies when the hold is lost"
bg lost "$CONCH" elect orph2 --ttl 10s --kill-after 1s -- sh -c "$(escape_cmd "$T/esc2.pid"); sleep 100"
wrapper=$BG_PID
wait_for "[[ -s $T/esc2.pid ]]" 30 || fail "the command did not start"
escaped=$(<"$T/esc2.pid")
proc_alive "$escaped" || fail "the escaped process [$escaped] should run while the hold is held"
key=$(office_keys orph2)
[[ $key =~ $(key_re /conch/v1/elect/orph2/) ]] || fail "unexpected keys [$key]"
take_hold "$key" || fail "could not take the hold of $key"
wait_exit "$wrapper" 20 || fail "wrapper still running 20 s after the hold was taken"
assert_eq 70 "$RC" "exit code after the hold was taken"
proc_alive "$escaped" && fail "escaped process $escaped outlived the lost hold"

pass
