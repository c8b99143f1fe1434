#!/usr/bin/env bash
# A store that accepts connections but never answers (SIGSTOPped):
# - frozen before conch starts: exit 69 within --dial-timeout plus slack,
#   nothing runs, for elect, sema and --who alike;
# - frozen while a waiter is queued (and never thawed): the waiter cannot
#   renew its session, so it must not hang; it gives up with 75 once the
#   session could not be renewed in time (--ttl 6s, --dial-timeout 5s), and
#   its command never runs.
source "$(dirname "$0")/common.sh"

store_start

step "frozen at start: 69 within --dial-timeout 2s plus slack, nothing runs"
store_freeze 0
# `timeout` keeps a hanging conch from hanging the test; it would give 124.
run start_elect timeout 60 "$CONCH" elect fz --dial-timeout 2s -- touch "$T/ran_start"
assert_eq 69 "$RC" "elect against a frozen store"
echo "   elect exited 69 after $ELAPSED_MS ms"
assert_lt "$ELAPSED_MS" 12000 "ms until elect exits 69 (--dial-timeout 2s)"
run start_sema timeout 60 "$CONCH" sema fz --max 1 --dial-timeout 2s -- touch "$T/ran_start"
assert_eq 69 "$RC" "sema against a frozen store"
assert_lt "$ELAPSED_MS" 12000 "ms until sema exits 69 (--dial-timeout 2s)"
run start_who timeout 60 "$CONCH" elect fz --who --dial-timeout 2s
assert_eq 69 "$RC" "--who against a frozen store"
assert_lt "$ELAPSED_MS" 12000 "ms until --who exits 69 (--dial-timeout 2s)"
[[ ! -e $T/ran_start ]] || fail "a command ran although the store was frozen"
store_thaw 0
assert_eq 0 "$(key_count fz)" "keys after the thaw"
assert_eq 0 "$(sema_count fz)" "claims after the thaw"

step "a holder and a waiter queued behind it, --ttl 6s --dial-timeout 5s"
bg holder "$CONCH" elect fq --ttl 6s --kill-after 1s --dial-timeout 5s \
  -- sh -c "$(holder_sleep_cmd "$T/holder.pid")"
holder=$BG_PID
wait_for "[[ -s $T/holder.pid ]]" 20 || fail "holder's child did not start"
bg waiter "$CONCH" elect fq --ttl 6s --kill-after 1s --dial-timeout 5s -- touch "$T/ran_waiter"
waiter=$BG_PID
{ wait_queued waiter && wait_for "[[ \$(key_count fq) == 2 ]]" 20; } ||
  fail "the waiter did not queue"

step "freeze the store for good: the waiter gives up with 75, nothing runs"
store_freeze 0
frozen=$(now_ms)
# The session ends 6 s after its last renewal at the latest; 5 s for the
# last call to time out, and generous slack on top.
wait_exit "$waiter" 40 || fail "the waiter still waits 40 s after the store froze"
echo "   the waiter exited $(($(now_ms) - frozen)) ms after the freeze"
assert_eq 75 "$RC" "waiter's exit code with the store frozen"
[[ ! -e $T/ran_waiter ]] || fail "the waiter ran its command although the store was frozen"
wait_exit "$holder" 40 || fail "the holder still runs 40 s after the store froze"
assert_eq 70 "$RC" "holder's exit code with the store frozen"
proc_alive "$(<"$T/holder.pid")" && fail "the holder's child outlived the holder"

pass
