#!/usr/bin/env bash
# The capacity is part of a semaphore's key (/conch/v1/sema/<name>/<max>/...,
# as the original Go conch lays it out), so a different --max is a
# different semaphore: a full `--max 1` does not block `--max 2` of the same
# name.
source "$(dirname "$0")/common.sh"

store_start

step "a holder on 'dm --max 1'"
bg one "$CONCH" sema dm --max 1 -- sh -c "$(holder_sleep_cmd "$T/one.pid")"
one=$BG_PID
wait_for "[[ -s $T/one.pid ]]" 20 || fail "the --max 1 holder's child did not start"
one_key=$(sema_keys dm)
assert_match "$(key_re /conch/v1/sema/dm/1/)" "$one_key" "the --max 1 holder's key"

step "'dm --max 1' is full: --nonblock gives 75"
run full_1 "$CONCH" sema dm --max 1 --nonblock -- touch "$T/ran_full_1"
assert_eq 75 "$RC" "--max 1 --nonblock while the --max 1 holder runs"
[[ ! -e $T/ran_full_1 ]] || fail "--max 1 --nonblock ran while --max 1 was full"

step "'dm --max 2' is another semaphore: it runs at once, twice over"
run other_max "$CONCH" sema dm --max 2 --nonblock -- sh -c 'exit 4'
assert_eq 4 "$RC" "--max 2 --nonblock while the --max 1 holder runs (command exits 4)"
bg two "$CONCH" sema dm --max 2 -- sh -c "$(holder_sleep_cmd "$T/two.pid")"
two=$BG_PID
wait_for "[[ -s $T/two.pid ]]" 20 || fail "the --max 2 claim did not run beside the --max 1 holder"
run other_max_2 "$CONCH" sema dm --max 2 --nonblock -- sh -c 'exit 5'
assert_eq 5 "$RC" "a second --max 2 claim beside the first (command exits 5)"
assert_match "$(key_re /conch/v1/sema/dm/2/)" "$(sema_keys dm | sed -n 2p)" "the --max 2 holder's key"
proc_alive "$(<"$T/one.pid")" || fail "the --max 1 holder's child died"
kill -TERM "$one" "$two"
wait_exit "$one" 20 || fail "the --max 1 holder still runs 20 s after SIGTERM"
wait_exit "$two" 20 || fail "the --max 2 holder still runs 20 s after SIGTERM"
assert_eq 0 "$(sema_count dm)" "claims under dm at the end"

pass
