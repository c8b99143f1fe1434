#!/usr/bin/env bash
# Steering jobs, on three daemons: a (--tag role=db), b (status server), c.
#   - `cron run` of a job scheduled far ahead: prints "<job> <tick> claimed
#     by <node>" and the run happens at once; a missing job gives 1, one no
#     daemon may run gives 75 after --wait;
#   - the child's environment: CONCH_NAME, CONCH_TICK (RFC 3339 UTC, the
#     tick `cron run` printed), CONCH_REV (the fire record's revision, and
#     the result's rev), CONCH_LEASE (the claimer's session, a node key);
#     the command's lines on its daemon's stdout and stderr prefixed
#     "<job>| "; `cron history --json` fields, and --output showing the
#     kept output;
#   - a command that cannot start: outcome failed, exit 127; --run-ttl 1s:
#     exit 70, reason run-ttl; `cron run` while the job's run is going
#     (forbid): 75;
#   - `cron rm` during a run: the run finishes and its result is recorded;
#   - --tag role=db runs only on a; --hosts b only on b;
#   - pause: no runs once the daemon has seen it, `cron run` refuses (75);
#     resume: runs again, the paused ticks not counted as missed;
#   - SIGTERM of conchd while a job that ignores SIGTERM runs (--kill-after
#     1s): the job is killed 1 s later, its result written (137), and
#     conchd exits 0.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/cron.sh"

store_start
rfc3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

# node_log_cmd LOG: a command logging its tick and node to $T/LOG.
node_log_cmd() {
  echo "echo \"\$CONCH_TICK \$CONCH_NODE\" >> '$T/$1'"
}

step "three daemons: a with --tag role=db, b with a status server, c"
conchd_bg a --tag role=db
conchd_bg b --status-addr 127.0.0.1:0
conchd_bg c

step "jobs for role=db and for host b start ticking"
run add_db "$CONCH" cron add dbjob --schedule '@every 1s' --tag role=db -- sh -c "$(node_log_cmd db.log)"
assert_eq 0 "$RC" "cron add dbjob --tag role=db"
run add_b "$CONCH" cron add bjob --schedule '@every 1s' --hosts b -- sh -c "$(node_log_cmd b.log)"
assert_eq 0 "$RC" "cron add bjob --hosts b"

step "cron run of a job scheduled far ahead: claimed and run at once"
run add_env "$CONCH" cron add envjob --schedule '0 0 1 1 *' --tz UTC -- sh -c "
  echo \"\$CONCH_NAME|\$CONCH_TICK|\$CONCH_REV|\$CONCH_LEASE|\$CONCH_NODE\" > '$T/env.tmp'
  mv '$T/env.tmp' '$T/env'
  echo 'to stdout'
  echo 'to stderr' >&2"
assert_eq 0 "$RC" "cron add envjob"
before=$(date +%s)
run run_env timeout 60 "$CONCH" cron run envjob --wait 30s
after=$(date +%s)
assert_eq 0 "$RC" "cron run envjob"
assert_match '^envjob [0-9T:Z-]+ started on [abc]$' "$OUT" "cron run's line"
read -r _ run_tick _ _ claimer <<<"$OUT"
assert_match "$rfc3339" "$run_tick" "the tick cron run printed"
run_t=$(unix_of "$run_tick")
assert_le "$before" "$run_t" "cron run's tick vs its start"
assert_le "$run_t" "$after" "cron run's tick vs its end"
wait_for "[[ -s $T/env ]]" 30 || fail "the run of envjob did not happen"
wait_for "cron_value result envjob $run_t >/dev/null 2>&1" 30 || fail "no result for envjob's run"

step "the child's environment"
IFS='|' read -r name tick rev lease node <"$T/env"
assert_eq envjob "$name" "CONCH_NAME"
assert_eq "$run_tick" "$tick" "CONCH_TICK (the tick cron run printed)"
assert_match '^[1-9][0-9]*$' "$rev" "CONCH_REV"
assert_eq "$(key_rev "$CRON/fire/envjob/$run_t")" "$rev" "CONCH_REV vs the fire record's revision"
assert_match '^[0-9a-f]+$' "$lease" "CONCH_LEASE"
assert_eq "${CONCHD_SESSION[$claimer]}" "$lease" "CONCH_LEASE vs the claimer's session"
cron_nodes | grep -qx "$lease" || fail "CONCH_LEASE $lease is not a node key: $(cron_nodes | tr '\n' ' ')"
assert_eq "$claimer" "$node" "the node that ran it vs the claimer cron run named"
assert_eq "$lease" "$(cron_value fire envjob "$run_t" | jq -r .session)" "the fire record's session"

step "the command's lines on its daemon's stdout and stderr, prefixed"
wait_for "grep -qx 'envjob| to stdout' '$T/$claimer.out'" 20 ||
  fail "no 'envjob| to stdout' on conchd $claimer's stdout: $(cat "$T/$claimer.out")"
wait_for "grep -qx 'envjob| to stderr' '$T/$claimer.err'" 20 ||
  fail "no 'envjob| to stderr' on conchd $claimer's stderr"
grep -q 'to stderr' "$T/$claimer.out" && fail "the command's stderr line reached conchd's stdout"

step "history --json fields, --output"
item=$(cron_history envjob | jq -c --arg t "$run_tick" '.[] | select(.tick == $t)')
assert_eq '["tick","node","started","duration","exit","outcome","rev"]' "$(jq -c keys_unsorted <<<"$item")" \
  "fields of a history item [$item]"
assert_eq "$claimer" "$(jq -r .node <<<"$item")" "history: node"
assert_match "$rfc3339" "$(jq -r .started <<<"$item")" "history: started"
assert_match '^[0-9]+\.[0-9]s$' "$(jq -r .duration <<<"$item")" "history: duration"
assert_eq 0 "$(jq -r .exit <<<"$item")" "history: exit"
assert_eq ran "$(jq -r .outcome <<<"$item")" "history: outcome"
assert_eq "$rev" "$(jq -r .rev <<<"$item")" "history: rev vs CONCH_REV"
assert_eq 1 "$(cron_history envjob | jq length)" "history items of envjob (one run only)"
run hist_out "$CONCH" cron history envjob --json --output
assert_eq 0 "$RC" "cron history --json --output"
output=$(jq -r '.[0].output' <<<"$OUT")
assert_match 'to stdout' "$output" "the kept output"
assert_match 'to stderr' "$output" "the kept output"
run hist_text "$CONCH" cron history envjob --output
assert_eq 0 "$RC" "cron history --output"
assert_match "^TICK +NODE +STARTED +DURATION +EXIT +OUTCOME"$'\n'"$run_tick +$claimer +[^ ]+ +[0-9.]+s +0 +ran"$'\n' "$OUT" \
  "cron history --output: the table row"
assert_match $'\nto stdout\n|\nto stderr\n' "$OUT" "cron history --output: the output"

step "cron run: a missing job 1; a job no daemon may run 75 after --wait"
run run_missing "$CONCH" cron run nosuch
assert_eq 1 "$RC" "cron run of a missing job"
run add_nowhere "$CONCH" cron add nowhere --schedule '0 0 1 1 *' --hosts z -- true
assert_eq 0 "$RC" "cron add nowhere"
run run_nowhere timeout 60 "$CONCH" cron run nowhere --wait 1s
assert_eq 75 "$RC" "cron run of a job no daemon may run"
assert_le 1000 "$ELAPSED_MS" "ms before cron run gave up (--wait 1s)"
assert_eq 0 "$(cron_count fire nowhere)" "fire records of nowhere"

step "cron rm during a run: the run finishes and its result is recorded"
run add_rm "$CONCH" cron add rmjob --schedule '0 0 1 1 *' -- sh -c "
  touch '$T/rm.started'; sleep 2; echo done > '$T/rm.done'"
assert_eq 0 "$RC" "cron add rmjob"
run run_rm timeout 60 "$CONCH" cron run rmjob --wait 30s
assert_eq 0 "$RC" "cron run rmjob"
rm_t=$(unix_of "$(awk '{print $2}' <<<"$OUT")")
wait_for "[[ -e $T/rm.started ]]" 30 || fail "rmjob did not start"
run rm_rm "$CONCH" cron rm rmjob
assert_eq 0 "$RC" "cron rm rmjob while it runs"
[[ -e $T/rm.done ]] && fail "rmjob ended before cron rm returned: the test proves nothing"
wait_for "[[ -e $T/rm.done ]]" 30 || fail "the removed job's run did not finish"
wait_for "cron_value result rmjob $rm_t >/dev/null 2>&1" 30 || fail "no result for the removed job's run"
r=$(cron_value result rmjob "$rm_t")
assert_eq 0 "$(jq -r .exit <<<"$r")" "exit in the removed job's result"
assert_eq ran "$(jq -r .outcome <<<"$r")" "outcome in the removed job's result"
cron_job_json rmjob >/dev/null && fail "rmjob's job key is back"

step "a command that cannot start: outcome failed, 127; --run-ttl 1s: 70"
run add_nocmd "$CONCH" cron add nocmd --schedule '0 0 1 1 *' -- "$T/no-such-command"
assert_eq 0 "$RC" "cron add nocmd"
run add_ttl "$CONCH" cron add ttljob --schedule '0 0 1 1 *' --run-ttl 1s -- sleep 30
assert_eq 0 "$RC" "cron add ttljob --run-ttl 1s"
for j in nocmd ttljob; do
  run "run_$j" timeout 60 "$CONCH" cron run "$j" --wait 30s
  assert_eq 0 "$RC" "cron run $j"
  declare "${j}_t=$(unix_of "$(awk '{print $2}' <<<"$OUT")")"
done
# shellcheck disable=SC2154 # declared above
wait_for "cron_value result nocmd $nocmd_t >/dev/null 2>&1" 30 || fail "no result for nocmd"
r=$(cron_value result nocmd "$nocmd_t")
assert_eq failed "$(jq -r .outcome <<<"$r")" "outcome of a command that cannot start [$r]"
assert_eq 127 "$(jq -r .exit <<<"$r")" "exit of a command that cannot start"
assert_match 'no-such-command' "$(jq -r .reason <<<"$r")" "reason of a command that cannot start"
# shellcheck disable=SC2154
wait_for "cron_value result ttljob $ttljob_t >/dev/null 2>&1" 30 || fail "no result for ttljob"
r=$(cron_value result ttljob "$ttljob_t")
assert_eq ran "$(jq -r .outcome <<<"$r")" "outcome of a run stopped by --run-ttl [$r]"
assert_eq 70 "$(jq -r .exit <<<"$r")" "exit of a run stopped by --run-ttl"
assert_eq run-ttl "$(jq -r .reason <<<"$r")" "reason of a run stopped by --run-ttl"
assert_match '^([1-9]|[0-9]{2,})\.[0-9]s$' "$(jq -r .duration <<<"$r")" "duration of a run stopped after 1 s"

step "cron run while the job's run is going (overlap forbid): 75"
run add_busy "$CONCH" cron add busy --schedule '0 0 1 1 *' -- sh -c "echo \"\$CONCH_TICK\" >> '$T/busy.started'; sleep 5"
assert_eq 0 "$RC" "cron add busy"
run run_busy timeout 60 "$CONCH" cron run busy --wait 30s
assert_eq 0 "$RC" "cron run busy"
busy_t=$(unix_of "$(awk '{print $2}' <<<"$OUT")")
wait_for "[[ -s $T/busy.started ]]" 30 || fail "busy did not start"
# A request in the same second as the first is the same request.
wait_until_unix $((busy_t + 1)) || fail "the clock did not pass $busy_t"
busy2_t=$(date +%s)
assert_lt "$busy2_t" $((busy_t + 4)) "the second cron run of busy vs the first run's end (a machine too slow)"
run run_busy2 timeout 60 "$CONCH" cron run busy --wait 5s
assert_eq 75 "$RC" "cron run of a job whose run is going"
assert_match 'skipped: another run of the job is going' "$ERR" "cron run's message"
assert_eq 1 "$(lines "$T/busy.started")" "runs of busy"

step "--tag role=db ran only on a, --hosts b only on b"
wait_for "(( \$(lines '$T/db.log') >= 5 && \$(lines '$T/b.log') >= 5 ))" 30 ||
  fail "dbjob ran $(lines "$T/db.log") times, bjob $(lines "$T/b.log") times in 30 s"
assert_eq a "$(awk '{print $2}' "$T/db.log" | sort -u | tr '\n' ' ' | sed 's/ $//')" "nodes that ran dbjob"
assert_eq b "$(awk '{print $2}' "$T/b.log" | sort -u | tr '\n' ' ' | sed 's/ $//')" "nodes that ran bjob"
assert_eq a "$(cron_fires dbjob | jq -r .host | sort -u | tr '\n' ' ' | sed 's/ $//')" "claimers of dbjob"
assert_eq b "$(cron_fires bjob | jq -r .host | sort -u | tr '\n' ' ' | sed 's/ $//')" "claimers of bjob"

step "pause: no runs once b has seen it; cron run refuses"
eligible=$(metric b 'conch_cron_jobs{kind="eligible"}')
assert_match '^[0-9]+$' "$eligible" "b's eligible jobs gauge"
run pause "$CONCH" cron pause bjob
assert_eq 0 "$RC" "cron pause bjob"
assert_eq true "$(cron_job_json bjob | jq -r .paused)" "bjob's paused field"
wait_for "[[ \$(metric b 'conch_cron_jobs{kind=\"eligible\"}') == $((eligible - 1)) ]]" 30 ||
  fail "b's eligible jobs did not drop from $eligible after the pause"
run run_paused timeout 60 "$CONCH" cron run bjob --wait 5s
assert_eq 75 "$RC" "cron run of a paused job"
assert_match 'paused' "$ERR" "cron run of a paused job"
fires=$(cron_count fire bjob)
ran=$(lines "$T/b.log")
at=$(lines "$T/db.log")
wait_for "(( \$(lines '$T/db.log') >= $((at + 3)) ))" 30 || fail "dbjob stopped while bjob was paused"
assert_eq "$fires" "$(cron_count fire bjob)" "bjob's fire records while paused"
assert_eq "$ran" "$(lines "$T/b.log")" "bjob's runs while paused"
run pause_again "$CONCH" cron pause bjob
assert_eq 0 "$RC" "cron pause of a paused job"

step "resume: runs again; the paused ticks are not missed"
paused_until=$(date +%s)
run resume "$CONCH" cron resume bjob
assert_eq 0 "$RC" "cron resume bjob"
wait_for "(( \$(lines '$T/b.log') >= ran + 2 ))" 30 || fail "bjob did not run again after resume"
assert_eq "" "$(cron_results bjob | jq -r 'select(.outcome != "ran") | "\(.t) \(.outcome) \(.missed)"')" \
  "bjob results other than ran (the paused ticks counted as missed?)"
first=$(sed -n "$((ran + 1))p" "$T/b.log" | awk '{print $1}')
assert_le "$paused_until" "$(unix_of "$first")" "bjob's first run after resume vs the resume"
run resume_missing "$CONCH" cron resume nosuch
assert_eq 1 "$RC" "cron resume of a missing job"

step "SIGTERM of conchd while a job that ignores SIGTERM runs (--kill-after 1s)"
run add_stub "$CONCH" cron add stubborn --schedule '0 0 1 1 *' --hosts c --kill-after 1s -- sh -c "
  trap '' TERM
  echo \$\$ > '$T/stubborn.pid'
  while :; do sleep 0.1; done"
assert_eq 0 "$RC" "cron add stubborn"
run run_stub timeout 60 "$CONCH" cron run stubborn --wait 30s
assert_eq 0 "$RC" "cron run stubborn"
assert_match ' started on c$' "$OUT" "cron run stubborn"
stub_t=$(unix_of "$(awk '{print $2}' <<<"$OUT")")
wait_for "[[ -s $T/stubborn.pid ]]" 30 || fail "the stubborn job did not start"
stub_pid=$(<"$T/stubborn.pid")
term=$(now_ms)
kill -TERM "${CONCHD_PID[c]}"
wait_exit "${CONCHD_PID[c]}" 30 || fail "conchd c still running 30 s after SIGTERM"
assert_eq 0 "$RC" "conchd c's exit code after SIGTERM"
elapsed=$(($(now_ms) - term))
echo "   conchd c exited $elapsed ms after SIGTERM"
assert_le 1000 "$elapsed" "ms from SIGTERM to conchd's exit (the job ignores SIGTERM; kill-after 1s)"
proc_alive "$stub_pid" && fail "the stubborn job outlived conchd"
r=$(cron_value result stubborn "$stub_t") || fail "no result for the stubborn job"
echo "   result: $r"
assert_eq 137 "$(jq -r .exit <<<"$r")" "exit in the stubborn job's result (SIGKILL)"
assert_eq ran "$(jq -r .outcome <<<"$r")" "outcome in the stubborn job's result"
assert_eq c "$(jq -r .node <<<"$r")" "node in the stubborn job's result"

conchd_stop a b
pass
