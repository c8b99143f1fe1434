#!/usr/bin/env bash
# Ticks missed while no daemon was up, recorded once, never run one by one.
#
# Two `@every 1s` jobs run on one daemon, which then stops for 6 ticks and
# starts again:
#   - --missed skip: one result with outcome missed on the newest missed
#     tick, whose "missed" counts every tick since the last claimed one; no
#     missed tick runs; the current tick runs on time;
#   - --missed run-once: a tick within 5 s of now is on time (cron/plan.h,
#     kOnTimeGrace), so when the daemon comes back the current tick runs as
#     usual and is the one run for the missed ticks: its result carries
#     their count; no missed tick runs and none is recorded apart.
# A real catch-up needs the newest missed tick more than 5 s old: two
# `@every 15s` jobs whose add time (their @every anchor) is set 67 s back
# while no daemon runs, so that their newest missed tick is 7 s old and 4
# ticks were missed:
#   - --missed run-once: one run, late, of the newest missed tick, whose
#     result has "missed": 4; then the next tick on time, and nothing else;
#   - --missed run-once --starting-deadline 2s: too late for a run; a
#     result with outcome missed and "missed": 4, then the next tick on time.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/cron.sh"

store_start

# ran_ticks FILE: the ticks in FILE as unix seconds, one a line.
ran_ticks() {
  local tick
  [[ -f $1 ]] || return 0
  while read -r tick _; do unix_of "$tick"; done <"$1"
}

# job_cmd LOG: a command that logs its tick and node to $T/LOG. It
# ignores SIGTERM, so that a run the daemon's stop catches still logs its
# tick (it takes milliseconds, far from the job's 5 s kill-after).
job_cmd() {
  echo "trap '' TERM; echo \"\$CONCH_TICK \$CONCH_NODE\" >> '$T/$1'"
}

step "two @every 1s jobs (skip, run-once) run on one daemon"
# --overlap allow: no tick is skipped on a loaded machine.
conchd_bg a
run add_skip "$CONCH" cron add skipj --schedule '@every 1s' --missed skip --overlap allow -- sh -c "$(job_cmd skip.log)"
assert_eq 0 "$RC" "cron add skipj"
run add_once "$CONCH" cron add oncej --schedule '@every 1s' --missed run-once --overlap allow -- sh -c "$(job_cmd once.log)"
assert_eq 0 "$RC" "cron add oncej"
wait_for "(( \$(lines '$T/skip.log') >= 2 && \$(lines '$T/once.log') >= 2 ))" 30 ||
  fail "the jobs did not run twice within 30 s"

step "no daemon for 6 ticks"
conchd_stop a
last_skip=$(cron_ticks fire skipj | tail -n 1)
last_once=$(cron_ticks fire oncej | tail -n 1)
assert_eq "$last_skip" "$(ran_ticks "$T/skip.log" | tail -n 1)" "skipj's newest fire record vs its newest run"
assert_eq "$last_once" "$(ran_ticks "$T/once.log" | tail -n 1)" "oncej's newest fire record vs its newest run"
down=$(( (last_skip > last_once ? last_skip : last_once) + 6 ))
wait_until_unix "$down" || fail "the clock did not reach $down"

step "two @every 15s jobs added 67 s ago (their anchor), while no daemon runs"
run add_catchup "$CONCH" cron add catchup --schedule '@every 15s' --missed run-once -- sh -c "$(job_cmd catchup.log)"
assert_eq 0 "$RC" "cron add catchup"
run add_late "$CONCH" cron add late --schedule '@every 15s' --missed run-once \
  --starting-deadline 2s -- sh -c "$(job_cmd late.log)"
assert_eq 0 "$RC" "cron add late"
anchor=$(($(date +%s) - 67))
at=$(date -u -d "@$anchor" +%Y-%m-%dT%H:%M:%SZ)
for j in catchup late; do
  json=$(cron_job_json "$j" | jq -c --arg at "$at" '.added_at = $at')
  key_put "$CRON/job/$j" "$json" || fail "rewrite $j's added_at"
done
newest_missed=$((anchor + 60))  # anchor+15 ... anchor+60: 4 missed ticks
next_tick=$((anchor + 75))

step "the daemon comes back"
conchd_bg a2
started=$(date +%s)
# The catch-up plan holds only while the daemon looks before the next tick.
assert_lt "$started" "$next_tick" "the daemon's start vs the next tick of catchup (a machine too slow)"

step "@every 1s, --missed skip: one missed record, the current tick on time"
wait_for "cron_results skipj | jq -se 'any(.outcome == \"missed\")' >/dev/null" 30 ||
  fail "no result with outcome missed for skipj within 30 s"
wait_for "(( \$(ran_ticks '$T/skip.log' | awk '\$1 > $last_skip' | wc -l) >= 2 ))" 30 ||
  fail "skipj did not run on time after the restart"
missed=$(cron_results skipj | jq -c 'select(.outcome == "missed")')
assert_eq 1 "$(jq -s length <<<"$missed")" "results of skipj with outcome missed [$missed]"
m=$(jq -r .t <<<"$missed")
first_after=$(ran_ticks "$T/skip.log" | awk -v l="$last_skip" '$1 > l' | head -n 1)
echo "   last run before the stop $last_skip, missed record on $m (missed $(jq -r .missed <<<"$missed")), first run after $first_after"
assert_eq $((m - last_skip)) "$(jq -r .missed <<<"$missed")" "skipj's missed count (every tick since the last claimed one)"
assert_le 5 $((m - last_skip)) "ticks skipj missed"
assert_eq $((m + 1)) "$first_after" "skipj's first run after the restart (the tick after the missed record)"
assert_eq null "$(jq -r .exit <<<"$missed")" "exit of the missed record"
assert_eq a2 "$(jq -r .node <<<"$missed")" "node of the missed record"
# Nothing was claimed or run for the ticks between.
assert_eq "$last_skip $m" "$(cron_ticks fire skipj | awk -v l="$last_skip" -v m="$m" '$1 >= l && $1 <= m' | tr '\n' ' ' | sed 's/ $//')" \
  "skipj's fire records from the last run before the stop to the missed record"
item=$(cron_history skipj | jq -c --arg t "$(date -u -d "@$m" +%Y-%m-%dT%H:%M:%SZ)" '.[] | select(.tick == $t)')
assert_eq missed "$(jq -r .outcome <<<"$item")" "cron history: skipj's outcome on $m [$item]"
assert_eq $((m - last_skip)) "$(jq -r .missed <<<"$item")" "cron history: skipj's missed count"

step "@every 1s, --missed run-once: the current tick runs, standing for the missed ones"
wait_for "cron_results oncej | jq -se 'any(.missed != null)' >/dev/null" 30 ||
  fail "no result carrying a missed count for oncej within 30 s"
wait_for "(( \$(ran_ticks '$T/once.log' | awk '\$1 > $last_once' | wc -l) >= 2 ))" 30 ||
  fail "oncej did not run after the restart"
counted=$(cron_results oncej | jq -c 'select(.missed != null)')
assert_eq 1 "$(jq -s length <<<"$counted")" "results of oncej that carry a missed count [$counted]"
m=$(jq -r .t <<<"$counted")
first_after=$(ran_ticks "$T/once.log" | awk -v l="$last_once" '$1 > l' | head -n 1)
echo "   last run before the stop $last_once, record on $m ($(jq -c '{outcome, missed}' <<<"$counted")), first run after $first_after"
assert_le 4 "$(jq -r .missed <<<"$counted")" "oncej's missed count"
assert_eq ran "$(jq -r .outcome <<<"$counted")" "oncej's result carrying the missed count (the current tick, run on time)"
assert_eq "$m" "$first_after" "oncej's first run after the restart (the one carrying the count)"
assert_eq "" "$(ran_ticks "$T/once.log" | awk -v l="$last_once" -v m="$m" '$1 > l && $1 < m')" \
  "oncej's runs of missed ticks"

step "@every 15s, --missed run-once: one late run of the newest missed tick"
wait_for "[[ -s $T/catchup.log ]]" 30 || fail "no catch-up run within 30 s"
wait_for "cron_value result catchup $newest_missed >/dev/null 2>&1" 30 ||
  fail "no result for the catch-up run within 30 s"
r=$(cron_value result catchup "$newest_missed")
echo "   catch-up result: $r"
assert_eq "$newest_missed" "$(ran_ticks "$T/catchup.log")" "the catch-up run's CONCH_TICK (the newest missed tick; not the next one, $next_tick)"
assert_eq ran "$(jq -r .outcome <<<"$r")" "the catch-up result's outcome"
assert_eq 0 "$(jq -r .exit <<<"$r")" "the catch-up result's exit"
assert_eq 4 "$(jq -r .missed <<<"$r")" "the catch-up result's missed count"

step "@every 15s, --missed run-once --starting-deadline 2s: recorded, not run"
wait_for "cron_value result late $newest_missed >/dev/null 2>&1" 30 ||
  fail "no result for late's missed ticks within 30 s"
r=$(cron_value result late "$newest_missed")
assert_eq missed "$(jq -r .outcome <<<"$r")" "late's outcome past its starting deadline [$r]"
assert_eq 4 "$(jq -r .missed <<<"$r")" "late's missed count"
assert_eq null "$(jq -r .exit <<<"$r")" "late's exit"

step "the next tick of both runs on time, and nothing else ran"
wait_for "(( \$(lines '$T/catchup.log') >= 2 && \$(lines '$T/late.log') >= 1 ))" 40 ||
  fail "the next tick ($next_tick) of catchup and late did not run"
for j in catchup late; do
  wait_for "cron_value result $j $next_tick >/dev/null 2>&1" 30 || fail "no result of $j's tick $next_tick"
done
assert_eq "$newest_missed $next_tick" "$(ran_ticks "$T/catchup.log" | tr '\n' ' ' | sed 's/ $//')" "catchup's runs"
assert_eq "$newest_missed $next_tick" "$(cron_ticks result catchup | tr '\n' ' ' | sed 's/ $//')" "catchup's results"
assert_eq "$next_tick" "$(ran_ticks "$T/late.log")" "late's runs"
assert_eq "$newest_missed $next_tick" "$(cron_ticks result late | tr '\n' ' ' | sed 's/ $//')" "late's results"
assert_eq null "$(cron_value result catchup "$next_tick" | jq -r .missed)" "the on-time run's missed count"

conchd_stop a2
pass
