#!/usr/bin/env bash
# conch sema has conch elect's --restart and hooks (the original's sema had
# neither): hooks run around the command with the fencing variables, a
# failing --on-acquire means exit 75 with no command and no claim left, and
# --restart queues again after the command exits.
source "$(dirname "$0")/common.sh"

store_start

step "hooks run in the order ACQUIRE, command, LOSE, with CONCH_NAME"
run order "$CONCH" sema sh1 --max 2 --on-acquire 'echo ACQUIRE $CONCH_NAME' \
  --on-lose 'echo LOSE $CONCH_NAME' -- echo CHILD
assert_eq 0 "$RC" "exit code with hooks"
assert_eq $'ACQUIRE sh1\nCHILD\nLOSE sh1' "$OUT" "stdout with hooks"

step "a failing --on-acquire: exit 75, no command, no claim left"
run acquire_fails "$CONCH" sema sh1 --max 2 --on-acquire 'exit 3' -- touch "$T/ran"
assert_eq 75 "$RC" "exit code when on-acquire exits 3"
[[ ! -e $T/ran ]] || fail "the command ran although on-acquire failed"
assert_eq 0 "$(sema_count sh1)" "claims after the failed on-acquire"

step "--restart queues again: the command runs twice, with a new claim"
bg restart "$CONCH" sema sh2 --max 1 --restart --ttl 10s --kill-after 1s -- sh -c "
  echo \"\$CONCH_REV\" >> '$T/runs'
  if [ \$(wc -l < '$T/runs') -ge 2 ]; then $(holder_sleep_cmd "$T/child.pid"); fi
  exit 0"
wrapper=$BG_PID
wait_for "[[ -s $T/child.pid ]]" 30 || fail "the command did not run a second time"
assert_eq 2 "$(wc -l <"$T/runs")" "runs recorded"
read -r rev1 < <(sed -n 1p "$T/runs")
read -r rev2 < <(sed -n 2p "$T/runs")
assert_match '^[1-9][0-9]*$' "$rev1" "CONCH_REV of the first run"
assert_match '^[1-9][0-9]*$' "$rev2" "CONCH_REV of the second run"
assert_lt "$rev1" "$rev2" "CONCH_REV of the second run must come from a new claim"
assert_eq 1 "$(sema_count sh2)" "claims while the second run holds"
kill -TERM "$wrapper"
wait_exit "$wrapper" 20 || fail "wrapper still running 20 s after SIGTERM"
assert_eq 143 "$RC" "wrapper exit code after SIGTERM"
assert_eq 0 "$(sema_count sh2)" "claims after the wrapper exited"

pass
