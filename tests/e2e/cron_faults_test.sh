#!/usr/bin/env bash
# conchd under faults.
# (a) SIGKILL of the daemon running a job (three daemons, --ttl 3s; an
#     `@every 1s` job under overlap forbid whose first run sleeps 60 s, the
#     later ones 4 s): its job's command dies with it, its
#     tick is never run again, later ticks run on the other daemons once its
#     run hold has expired with its session, and the tick is recorded as
#     outcome lost (result record and `cron history`).
# (b) Jobs written by hand that do not decode (invalid JSON, a schedule that
#     never fires) while a good job runs: every daemon logs a line naming
#     each, keeps running, claims nothing for them, and the good job's ticks
#     go on; `cron ls` lists the good job and warns about the bad ones.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/cron.sh"

store_start
daemon_flags=(--ttl 3s --kill-after 1s)

step "three daemons with --ttl 3s"
for n in a b c; do conchd_bg "$n" "${daemon_flags[@]}"; done

step "(a) a long job starts on one daemon"
# The first run is the victim: it records its shell's and its sleep's pids
# and sleeps 60 s; every later run sleeps 4 s and then logs its tick as
# done.
run add "$CONCH" cron add long --schedule '@every 1s' --overlap forbid -- sh -c "
  echo \"\$CONCH_TICK \$CONCH_NODE \$\$\" >> '$T/run.log'
  if mkdir '$T/victim.d' 2>/dev/null; then
    sleep 60 & echo \"\$\$ \$!\" > '$T/victim.pids'; wait
  fi
  sleep 4
  echo \"\$CONCH_TICK\" >> '$T/done.log'"
assert_eq 0 "$RC" "cron add long"
wait_for "[[ -s $T/victim.pids ]]" 30 || fail "the job did not start within 30 s"
read -r victim_tick victim_node _ <"$T/run.log"
read -r victim_sh victim_sleep <"$T/victim.pids"
echo "   tick $victim_tick runs on $victim_node (sh $victim_sh, sleep $victim_sleep)"
proc_alive "$victim_sh" || fail "the victim's shell is not running"
proc_alive "$victim_sleep" || fail "the victim's sleep is not running"
victim_t=$(unix_of "$victim_tick")
victim_session=${CONCHD_SESSION[$victim_node]}

step "SIGKILL of $victim_node: its job dies with it"
kill -KILL "${CONCHD_PID[$victim_node]}"
wait_exit "${CONCHD_PID[$victim_node]}" 20 || fail "conchd $victim_node survived SIGKILL"
# It would wait 60 s more for its sleep: dead within 20 s is dead with
# its daemon (PR_SET_PDEATHSIG through the job's reaper).
wait_for "! proc_alive $victim_sh" 20 || fail "the killed daemon's job (sh $victim_sh) outlived it"
# The job's own child is another matter: docs/design.md ("conch SIGKILLed")
# says the other descendants of a SIGKILLed conch are orphaned to init and
# run until they end (systemd's KillMode=control-group closes that), and
# so it is with conchd. Only reported here; the cleanup kills it.
echo "$victim_sleep" >"$T/victim_sleep.pid"
if proc_alive "$victim_sleep"; then
  echo "   the job's background sleep $victim_sleep outlived the SIGKILLed daemon (documented)"
  kill -KILL "$victim_sleep"
fi
others=()
for n in a b c; do [[ $n == "$victim_node" ]] || others+=("$n"); done

step "later ticks run on the other daemons once the hold has expired"
wait_for "awk 'NR > 1 {print \$2}' '$T/run.log' | grep -q ." 30 ||
  fail "no later tick ran within 30 s of the kill"
wait_for "[[ -s $T/done.log ]]" 30 || fail "no later run completed within 30 s"
ran_after=$(awk 'NR > 1 {print $2}' "$T/run.log" | sort -u | tr '\n' ' ')
echo "   later ticks ran on: $ran_after"
[[ " $ran_after " == *" $victim_node "* ]] && fail "the killed daemon $victim_node ran a later tick"
lease_gone "$victim_session" || fail "the killed daemon's session $victim_session is still alive"
cron_nodes | grep -qx "$victim_session" && fail "the killed daemon's node key is still there"

step "the killed runner's tick is recorded lost, and never ran again"
wait_for "cron_value result long $victim_t 2>/dev/null | jq -e '.outcome == \"lost\"' >/dev/null" 30 ||
  fail "no result with outcome lost for tick $victim_tick within 30 s: [$(cron_value result long "$victim_t")]"
lost=$(cron_value result long "$victim_t")
assert_eq "$victim_node" "$(jq -r .node <<<"$lost")" "node in the lost result"
assert_eq null "$(jq -r .exit <<<"$lost")" "exit in the lost result"
assert_eq "$victim_tick" "$(jq -r .tick <<<"$lost")" "tick in the lost result"
fire=$(cron_value fire long "$victim_t") || fail "the victim's fire record is gone"
assert_eq "$victim_node" "$(jq -r .host <<<"$fire")" "the fire record's claimer"
item=$(cron_history long | jq -c --arg t "$victim_tick" '.[] | select(.tick == $t)')
assert_eq lost "$(jq -r .outcome <<<"$item")" "cron history: outcome of tick $victim_tick [$item]"
assert_eq "$victim_node" "$(jq -r .node <<<"$item")" "cron history: node of tick $victim_tick"
assert_eq null "$(jq -r .exit <<<"$item")" "cron history: exit of tick $victim_tick"
assert_eq 1 "$(grep -c "^$victim_tick " "$T/run.log")" "runs of tick $victim_tick"
assert_eq "" "$(awk '{print $1}' "$T/run.log" | sort | uniq -d)" "ticks that ran twice"
grep -qx "$victim_tick" "$T/done.log" && fail "the victim's run went on to its end"
# No hold of the dead session is left under run/long/.
holds=$(keys_under "$CRON/run/long/")
[[ $holds == *"$victim_session"* ]] && fail "the dead session's run hold is still there: $holds"
echo "   history: $(cron_history long | jq -r 'map(.outcome) | group_by(.) | map("\(.[0]) \(length)") | join(", ")')"

step "(b) hand-written bad jobs while a good job runs"
run rm_long "$CONCH" cron rm long
assert_eq 0 "$RC" "cron rm long"
run add_good "$CONCH" cron add good --schedule '@every 1s' -- sh -c "echo \"\$CONCH_TICK\" >> '$T/good.log'"
assert_eq 0 "$RC" "cron add good"
wait_for "(( \$(lines '$T/good.log') >= 2 ))" 30 || fail "the good job did not run"
good_json=$(cron_job_json good)
never_json=$(jq -c '.schedule = "0 0 30 2 *" | .cmd = ["touch", "'"$T/never.ran"'"]' <<<"$good_json")
key_put "$CRON/job/badjson" '{"schedule": "@every 1s", "cmd": ["true"' || fail "put badjson"
key_put "$CRON/job/never" "$never_json" || fail "put never"
for n in "${others[@]}"; do
  conchd_log "$n" 'badjson' || fail "conchd $n logged nothing about the job badjson"
  conchd_log "$n" '"never"' || fail "conchd $n logged nothing about the job never"
  echo "   $n: $(grep -E 'badjson|"never"' "$T/$n.err" | sort -u | tr '\n' '|')"
done
at=$(lines "$T/good.log")
wait_for "(( \$(lines '$T/good.log') >= $((at + 3)) ))" 30 ||
  fail "the good job's ticks stopped after the bad jobs were written"
for n in "${others[@]}"; do
  proc_alive "${CONCHD_PID[$n]}" || fail "conchd $n exited after the bad jobs were written"
done
assert_eq 0 "$(cron_count fire badjson)" "fire records of badjson"
assert_eq 0 "$(cron_count fire never)" "fire records of never"
[[ -e $T/never.ran ]] && fail "the job with an unsatisfiable schedule ran"
run ls_bad "$CONCH" cron ls --json
assert_eq 0 "$RC" "cron ls with bad jobs in the store"
assert_eq '["good"]' "$(jq -c 'map(.name)' <<<"$OUT")" "jobs cron ls lists"
assert_match 'badjson' "$ERR" "cron ls's warning about badjson"
assert_match 'never' "$ERR" "cron ls's warning about never"
run rm_bad "$CONCH" cron rm badjson
assert_eq 0 "$RC" "cron rm of a job that does not decode"

conchd_stop "${others[@]}"
pass
