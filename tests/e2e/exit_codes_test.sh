#!/usr/bin/env bash
# Exit codes of `conch elect` in run mode: the child's own code, 128+N for
# a child killed by signal N, 127 for a missing command, 69 for an
# unreachable store (after the dial timeout), 75 when the office cannot be
# taken (--nonblock, --wait), and --wait 0 or negative meaning no limit.
source "$(dirname "$0")/common.sh"

store_start

step "the child's exit code passes through"
run code0 "$CONCH" elect ec -- true
assert_eq 0 "$RC" "child 'true'"
run code42 "$CONCH" elect ec -- sh -c 'exit 42'
assert_eq 42 "$RC" "child 'exit 42'"
run code255 "$CONCH" elect ec -- sh -c 'exit 255'
assert_eq 255 "$RC" "child 'exit 255'"

step "a child killed by signal N gives 128+N"
run sigint "$CONCH" elect ec -- sh -c 'kill -INT $$'
assert_eq 130 "$RC" "child killed by SIGINT"
run sigkill "$CONCH" elect ec -- sh -c 'kill -KILL $$'
assert_eq 137 "$RC" "child killed by SIGKILL"

step "a missing command gives 127"
run missing "$CONCH" elect ec -- /nonexistent/conch-e2e-command
assert_eq 127 "$RC" "missing command"
run missing_path "$CONCH" elect ec -- conch-e2e-no-such-command-on-path
assert_eq 127 "$RC" "command not on PATH"

step "every run released the office"
assert_eq 0 "$(key_count ec)" "keys left under /conch/v1/elect/ec/"

step "unreachable store: 69 once the dial timeout has passed, nothing runs"
# conch keeps trying until the dial timeout, so it exits 69 no sooner, and
# names the timeout it used. timeout(1) only catches a hang.
run unreachable_flag timeout 30 "$CONCH" elect ec --endpoints "$STORE_UNREACHABLE" \
  --dial-timeout 1s -- touch "$T/ran"
assert_eq 69 "$RC" "--endpoints $STORE_UNREACHABLE --dial-timeout 1s"
assert_le 1000 "$ELAPSED_MS" "ms until exit 69 (--dial-timeout 1s)"
assert_match 'within 1s' "$ERR" "the error names --dial-timeout 1s"
CONCH_ENDPOINTS=$STORE_UNREACHABLE CONCH_DIAL_TIMEOUT=1s \
  run unreachable_env timeout 30 "$CONCH" elect ec -- touch "$T/ran"
assert_eq 69 "$RC" "CONCH_ENDPOINTS=$STORE_UNREACHABLE CONCH_DIAL_TIMEOUT=1s"
assert_le 1000 "$ELAPSED_MS" "ms until exit 69 (CONCH_DIAL_TIMEOUT=1s)"
assert_match 'within 1s' "$ERR" "the error names CONCH_DIAL_TIMEOUT=1s"
CONCH_DIAL_TIMEOUT= run unreachable_default timeout 30 "$CONCH" elect ec \
  --endpoints "$STORE_UNREACHABLE" -- touch "$T/ran"
assert_eq 69 "$RC" "--endpoints $STORE_UNREACHABLE with the default 5s dial timeout"
assert_le 5000 "$ELAPSED_MS" "ms until exit 69 (default dial timeout 5s)"
assert_match 'within 5s' "$ERR" "the error names the default dial timeout"
[[ ! -e $T/ran ]] || fail "the command ran although the store was unreachable"

step "--nonblock on a vacant office runs the command"
run nonblock_vacant "$CONCH" elect nb --nonblock -- sh -c 'exit 7'
assert_eq 7 "$RC" "--nonblock on a vacant office"

step "--nonblock while held: 75 without waiting, no child, no key left"
bg holder "$CONCH" elect nb -- sh -c "$(holder_sleep_cmd "$T/holder.pid")"
holder=$BG_PID
wait_for "[[ -s $T/holder.pid ]]" 30 || fail "holder's child did not start"
run nonblock_held timeout 30 "$CONCH" elect nb --nonblock -- touch "$T/ran"
assert_eq 75 "$RC" "--nonblock while held"
[[ ! -e $T/ran ]] || fail "--nonblock ran the command while the office was held"
assert_eq 1 "$(key_count nb)" "keys under nb after --nonblock gave up"

step "--wait 0 and --wait -1s queue without a limit"
bg wait0 "$CONCH" elect nb --wait 0 -- touch "$T/ran_wait0"
waiter=$BG_PID
wait_queued wait0 || fail "--wait 0 waiter did not queue"
bg wait_negative "$CONCH" elect nb --wait -1s -- touch "$T/ran_wait_negative"
waiter_negative=$BG_PID
wait_queued wait_negative || fail "--wait -1s waiter did not queue"
assert_eq 3 "$(key_count nb)" "keys under nb with two waiters queued"

step "--wait 1s while held: 75 after 1 s, no child, no key left"
# It queues behind the two waiters above, so when it gives up they have
# been waiting for more than 1 s themselves.
run wait_held timeout 30 "$CONCH" elect nb --wait 1s -- touch "$T/ran"
assert_eq 75 "$RC" "--wait 1s while held"
assert_le 1000 "$ELAPSED_MS" "ms until exit 75 (--wait 1s)"
[[ ! -e $T/ran ]] || fail "--wait ran the command while the office was held"
assert_eq 3 "$(key_count nb)" "keys under nb after --wait gave up (holder and two waiters)"

step "--wait 0 and --wait -1s still wait, and run once the holder leaves"
proc_alive "$waiter" || fail "--wait 0 waiter gave up while the office was held"
proc_alive "$waiter_negative" || fail "--wait -1s waiter gave up while the office was held"
[[ ! -e $T/ran_wait0 ]] || fail "--wait 0 waiter ran while the office was held"
[[ ! -e $T/ran_wait_negative ]] || fail "--wait -1s waiter ran while the office was held"
kill -TERM "$holder"
wait_exit "$holder" 20 || fail "holder did not exit after SIGTERM"
assert_eq 143 "$RC" "holder (child sleep got SIGTERM)"
wait_exit "$waiter" 20 || fail "--wait 0 waiter did not finish after the holder left"
assert_eq 0 "$RC" "--wait 0 waiter exit code"
[[ -e $T/ran_wait0 ]] || fail "--wait 0 waiter did not run its command"
wait_exit "$waiter_negative" 20 || fail "--wait -1s waiter did not finish after the others"
assert_eq 0 "$RC" "--wait -1s waiter exit code"
[[ -e $T/ran_wait_negative ]] || fail "--wait -1s waiter did not run its command"
assert_eq 0 "$(key_count nb)" "keys under nb at the end"

pass
