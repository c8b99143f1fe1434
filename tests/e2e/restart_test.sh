#!/usr/bin/env bash
# --restart: after the child exits (with any code) the wrapper releases the
# office, backs off 1 s and campaigns again with a new key; a signal while
# the child runs ends the loop with the child's status.
source "$(dirname "$0")/common.sh"

store_start

step "the child runs twice, with a fresh campaign in between"
# Each run appends "<CONCH_REV> <ms>"; the first exits 3, the second stays.
bg restart "$CONCH" elect rs --restart --ttl 10s --kill-after 1s -- sh -c "
  echo \"\$CONCH_REV \$((\$(date +%s%N) / 1000000))\" >> '$T/runs'
  if [ \$(wc -l < '$T/runs') -ge 2 ]; then $(holder_sleep_cmd "$T/child.pid"); fi
  exit 3"
wrapper=$BG_PID
wait_for "[[ -s $T/child.pid ]]" 30 || fail "the child did not run a second time"
assert_eq 2 "$(wc -l <"$T/runs")" "runs recorded"
read -r rev1 t1 < <(sed -n 1p "$T/runs")
read -r rev2 t2 < <(sed -n 2p "$T/runs")
assert_match '^[1-9][0-9]* [0-9]+$' "$rev1 $t1" "run 1's record"
assert_match '^[1-9][0-9]* [0-9]+$' "$rev2 $t2" "run 2's record"
echo "   run 1 rev=$rev1, run 2 rev=$rev2, $((t2 - t1)) ms apart"
assert_lt "$rev1" "$rev2" "CONCH_REV of run 2 must come from a new key"
# The wrapper names the back-off it chose; the runs are at least that far
# apart.
grep -q 'queueing again in 1s (--restart)' "$T/restart.err" ||
  fail "the wrapper did not log a first back-off of 1s"
assert_le 1000 "$((t2 - t1))" "ms between runs (first back-off is 1 s)"
assert_eq 1 "$(key_count rs)" "keys while the second run holds the office"

step "SIGTERM while the child runs ends the loop with the child's status"
kill -TERM "$wrapper"
wait_exit "$wrapper" 20 || fail "wrapper still running 20 s after SIGTERM"
assert_eq 143 "$RC" "wrapper exit code (child 'sleep' got SIGTERM)"
assert_eq 0 "$(key_count rs)" "keys after the wrapper exited"
assert_eq 2 "$(wc -l <"$T/runs")" "runs recorded at the end"

pass
