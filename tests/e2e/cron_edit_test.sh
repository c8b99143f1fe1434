#!/usr/bin/env bash
# A job edited (re-added) while conchd runs it, and a store that only
# blips:
#   - the edit takes effect from the job's next tick: runs that start after
#     the edit is seen run the new command, none runs the old one again;
#   - the run in progress is not touched: it ends by itself and records
#     exit 0;
#   - the store frozen for less than the session's renewal slack (a blip)
#     leaves a run going: it is not signalled and ends by itself.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/cron.sh"

store_start

# job VERSION: appends "VERSION tick start|end" around a 2 s sleep.
job() {
  echo "echo \"$1 \$CONCH_TICK start\" >> '$T/runs'; sleep 2; echo \"$1 \$CONCH_TICK end\" >> '$T/runs'"
}

step "v1 runs; the job is edited to v2 while a v1 run is going"
conchd_bg a --ttl 10s
run add_v1 "$CONCH" cron add j --schedule '@every 1s' --overlap allow -- sh -c "$(job v1)"
assert_eq 0 "$RC" "cron add j (v1)"
wait_for "grep -q '^v1 .* start' '$T/runs'" 20 || fail "no v1 run within 20 s"
going=$(grep '^v1 .* start' "$T/runs" | tail -n 1 | awk '{print $2}')
run add_v2 "$CONCH" cron add j --schedule '@every 1s' --overlap allow -- sh -c "$(job v2)"
assert_eq 0 "$RC" "cron add j (v2)"
wait_for "(( \$(grep -c '^v2 .* start' '$T/runs') >= 2 ))" 20 || fail "fewer than 2 v2 runs within 20 s of the edit"

step "the run going at the edit ended by itself; no v1 started after v2"
wait_for "grep -q '^v1 $going end' '$T/runs'" 20 || fail "the v1 run of $going did not end"
assert_eq "" "$(awk '$1 == "v2" && $3 == "start" { v2 = 1 } v2 && $1 == "v1" && $3 == "start"' "$T/runs")" "v1 runs started after the first v2 run"
going_t=$(unix_of "$going")
wait_for "cron_value result j $going_t >/dev/null 2>&1" 20 || fail "no result for $going"
assert_eq 0 "$(cron_value result j "$going_t" | jq -r .exit)" "exit of the run going at the edit"

step "a blip of the store leaves a run going"
run add_long "$CONCH" cron add long --schedule '0 0 1 1 *' -- sh -c "echo started > '$T/long.started'; sleep 3; echo done > '$T/long.done'"
assert_eq 0 "$RC" "cron add long"
run run_long timeout 60 "$CONCH" cron run long --wait 30s
assert_eq 0 "$RC" "cron run long"
wait_for "[[ -s $T/long.started ]]" 20 || fail "long did not start"
# 10 s sessions renew every 3.3 s or sooner and fail closed 5.5 s after the
# last proof: a 1 s freeze is a blip.
store_freeze 0
sleep 1  # the blip's length, not a wait for an event
store_thaw 0
wait_for "[[ -s $T/long.done ]]" 20 || fail "long did not finish after the blip"
wait_for "[[ -n \$(cron_ticks result long) ]]" 20 || fail "no result for long"
long_t=$(cron_ticks result long | tail -n 1)
r=$(cron_value result long "$long_t")
assert_eq 0 "$(jq -r .exit <<<"$r")" "long's exit after the blip [$r]"
assert_eq "" "$(jq -r '.reason // ""' <<<"$r")" "long's stop reason"
err_has a "SIGTERM" && fail "conchd signalled a job during the blip: $(grep SIGTERM "$T/a.err")"

conchd_stop a
pass
