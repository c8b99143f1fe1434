#!/usr/bin/env bash
# Overlap policies, with a 3 s job every second on three daemons (nodes a,
# b, c), two jobs at once:
#   - forbid: never two runs at once anywhere (a mkdir lock in the job
#     finds none taken, and the runs' start/end stamps do not interleave);
#     the ticks that came while a run was going are recorded skipped; no
#     run hold is left once the daemons have stopped;
#   - allow: runs overlap (the same lock is found taken, and stamps
#     interleave); nothing is skipped;
#   - replace, a 5 s job every 2 s: each run is stopped by the next tick
#     (its SIGTERM trap stamps its end), and the next starts only after the
#     one before has ended; the stopped runs record reason "replaced".
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/cron.sh"

store_start

# job_cmd DIR: takes the lock DIR/running (or logs OVERLAP), stamps its
# start and end (tick, node, ns) in DIR/times, sleeps 3 s in between.
job_cmd() {
  local d=$T/$1
  mkdir -p "$d"
  echo "mkdir '$d/running' 2>/dev/null || echo \"OVERLAP \$CONCH_TICK \$CONCH_NODE\" >> '$d/overlaps'
    echo \"\$CONCH_TICK \$CONCH_NODE \$(date +%s%N) start\" >> '$d/times'
    sleep 3
    echo \"\$CONCH_TICK \$CONCH_NODE \$(date +%s%N) end\" >> '$d/times'
    rmdir '$d/running'"
}

# replace_cmd DIR: like job_cmd, for 5 s, stamping its end from a SIGTERM
# trap too (and exiting 3 there).
replace_cmd() {
  local d=$T/$1
  mkdir -p "$d"
  echo "mkdir '$d/running' 2>/dev/null || echo \"OVERLAP \$CONCH_TICK\" >> '$d/overlaps'
    echo \"\$CONCH_TICK \$CONCH_NODE \$(date +%s%N) start\" >> '$d/times'
    trap 'echo \"\$CONCH_TICK \$CONCH_NODE \$(date +%s%N) end\" >> \"$d/times\"; rmdir \"$d/running\"; exit 3' TERM
    sleep 5 & wait
    echo \"\$CONCH_TICK \$CONCH_NODE \$(date +%s%N) end\" >> '$d/times'
    rmdir '$d/running'"
}

# interleaved DIR: the runs in DIR/times, in order of their stamps, that
# started while another ran or ended while another was the one running (a
# run stopped with its daemon has no end: it must be the last).
interleaved() {
  sort -k3,3n "$T/$1/times" | awk '
    $4 == "start" { if (running != "") print "tick " $1 " started while " running " ran"; running = $1; next }
    $4 == "end" { if (running != $1) print "tick " $1 " ended while " running " was the one running"; running = "" }'
}

# ends DIR: how many runs have ended.
ends() {
  grep -c ' end$' "$T/$1/times" 2>/dev/null || true
}

step "three daemons; a forbid and an allow job, 3 s every second"
for n in a b c; do conchd_bg "$n"; done
run add_forbid "$CONCH" cron add forbid --schedule '@every 1s' --overlap forbid -- sh -c "$(job_cmd forbid)"
assert_eq 0 "$RC" "cron add forbid"
run add_allow "$CONCH" cron add allow --schedule '@every 1s' --overlap allow -- sh -c "$(job_cmd allow)"
assert_eq 0 "$RC" "cron add allow"

run add_replace "$CONCH" cron add replace --schedule '@every 2s' --overlap replace --kill-after 2s -- sh -c "$(replace_cmd replace)"
assert_eq 0 "$RC" "cron add replace"

step "allow: runs overlap"
wait_for "[[ -s $T/allow/overlaps ]]" 30 || fail "no overlapping runs of the allow job within 30 s"

step "forbid: three runs end one after the other; replace: three runs replaced"
wait_for "(( \$(ends forbid) >= 3 ))" 40 || fail "only $(ends forbid) runs of the forbid job ended within 40 s"
wait_for "(( \$(ends replace) >= 3 ))" 40 || fail "only $(ends replace) runs of the replace job ended within 40 s"
conchd_stop a b c

step "forbid: never two runs at once"
[[ -e $T/forbid/overlaps ]] && fail "forbid runs overlapped: $(cat "$T/forbid/overlaps")"
bad=$(interleaved forbid)
assert_eq "" "$bad" "interleaved forbid runs"
assert_eq "" "$(awk '$4 == "start" {print $1}' "$T/forbid/times" | sort | uniq -d)" "forbid ticks that started twice"
echo "   runs on: $(awk '$4 == "start" {print $2}' "$T/forbid/times" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"

step "forbid: the ticks during a run are recorded skipped"
results=$(cron_results forbid)
echo "   outcomes: $(jq -rs 'map(.outcome) | group_by(.) | map("\(.[0]) \(length)") | join(", ")' <<<"$results")"
skipped=$(jq -c 'select(.outcome == "skipped")' <<<"$results")
[[ -n $skipped ]] || fail "no skipped outcome for the forbid job: $results"
assert_eq '[null]' "$(jq -sc 'map(.exit) | unique' <<<"$skipped")" "exit of the skipped results"
assert_match 'another run' "$(jq -r .reason <<<"$skipped" | head -n 1)" "reason of a skipped result"
# Every run has a ran result, and every ran result a run (but for one the
# daemons' stop may have caught before it stamped its start).
ran=$(jq -r 'select(.outcome == "ran") | .tick' <<<"$results" | sort)
ran_to_end=$(jq -r 'select(.outcome == "ran" and .reason != "conchd stopping") | .tick' <<<"$results" | sort)
started=$(awk '$4 == "start" {print $1}' "$T/forbid/times" | sort)
assert_eq "" "$(comm -23 <(echo "$started") <(echo "$ran"))" "forbid ticks that started without a ran result"
assert_eq "" "$(comm -23 <(echo "$ran_to_end") <(echo "$started"))" "forbid ran results without a start"
assert_eq "$(cron_ticks fire forbid)" "$(cron_ticks result forbid)" "forbid's fire records vs results"
assert_eq "" "$(keys_under "$CRON/run/forbid/")" "run holds left after the daemons stopped"

step "replace: each run stopped before the next started"
[[ -e $T/replace/overlaps ]] && fail "replace runs overlapped: $(cat "$T/replace/overlaps")"
bad=$(interleaved replace)
assert_eq "" "$bad" "interleaved replace runs"
results=$(cron_results replace)
echo "   outcomes: $(jq -rs 'map((.outcome) + "/" + (.reason // "")) | group_by(.) | map("\(.[0]) \(length)") | join(", ")' <<<"$results")"
replaced=$(jq -c 'select(.reason == "replaced")' <<<"$results")
[[ -n $replaced ]] || fail "no run of the replace job recorded reason replaced: $results"
assert_eq '[3]' "$(jq -sc 'map(.exit) | unique' <<<"$replaced")" "exit of the replaced runs (their TERM trap's)"
# A replaced run ends within its job's run time, not after the 5 s sleep.
short=$(sort -k3,3n "$T/replace/times" | awk '
  $4 == "start" { t[$1] = $3 } $4 == "end" && ($1 in t) && $3 - t[$1] < 4500000000 { n++ } END { print n + 0 }')
(( short >= 2 )) || fail "only $short replace runs ended early (replaced)"

step "allow: overlapping runs, nothing skipped"
bad=$(sort -k3,3n "$T/allow/times" | awk '
  $4 == "start" { if (n > 0) overlapped = 1; n++ }
  $4 == "end" { n-- }
  END { if (!overlapped) print "no run started while another ran" }')
assert_eq "" "$bad" "allow runs"
results=$(cron_results allow)
assert_eq "" "$(jq -r 'select(.outcome != "ran") | .outcome' <<<"$results")" "allow outcomes other than ran"
assert_eq "" "$(awk '$4 == "start" {print $1}' "$T/allow/times" | sort | uniq -d)" "allow ticks that started twice"

pass
