#!/usr/bin/env bash
# conchd with its store frozen (SIGSTOP: the server keeps its sockets and
# answers nothing), --ttl 3s --kill-after 1s --dial-timeout 5s (the
# default dial timeout):
#   (a) idle, no run going: /healthz turns 503 "session down" and
#       conch_session_up 0 once the session's renewals are late, that is
#       within a few seconds of the freeze, not only after the thaw; the
#       daemon gives the session up at its fail-closed deadline;
#   (b) two runs, one of which ignores SIGTERM: both commands are dead
#       before the session could expire (3 s after the freeze), fail-closed
#       as for `conch elect`, although the other run's end has a result to
#       write to the frozen store;
#   and after each thaw the daemon is back: a new session, /healthz 200, a
#   run claimed.
# Every measurement is made before the checks, so that a failure shows all
# of them.
#
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/cron.sh"

store_start
ttl_ms=3000

conchd_bg a --status-addr 127.0.0.1:0 --ttl 3s --kill-after 1s --dial-timeout 5s
A=http://127.0.0.1:${CONCHD_PORT[a]}

# sessions: how many sessions conchd a has opened.
# shellcheck disable=SC2317 # called from wait_for's condition
sessions() {
  grep -cE '^conchd( [0-9:.]+)?: [a-z]+ session [0-9a-f]+ up' "$T/a.err"
}

# back_after_thaw N: after a thaw, a's session number N is up and /healthz
# says 200.
back_after_thaw() {
  wait_for "(( \$(sessions) >= $1 ))" 30 || fail "no new session within 30 s of the thaw"
  wait_for "http GET '$A/healthz'; [[ \$HTTP_CODE == 200 ]]" 30 ||
    fail "/healthz $HTTP_CODE [$HTTP_BODY] 30 s after the thaw"
}

step "(a) idle: /healthz while the store is frozen"
http GET "$A/healthz"
assert_eq 200 "$HTTP_CODE" "/healthz before the freeze"
store_freeze 0
frozen=$(now_ms)
down_ms=
if wait_for "http GET '$A/healthz'; [[ \$HTTP_CODE == 503 ]]" 20; then
  down_ms=$(($(now_ms) - frozen))
  down_body=$HTTP_BODY
  down_up=$(metric a conch_session_up)
fi
echo "   /healthz: ${down_ms:+503 [$down_body] ${down_ms} ms into the freeze}${down_ms:-still 200 [$HTTP_BODY] 20 s into the freeze}"
wait_for "grep -q 'session lost' '$T/a.err'" 20 || fail "(a) the session was not given up 20 s into the freeze"
store_thaw 0
back_after_thaw 2

step "(b) two runs, one ignoring SIGTERM, when the store freezes"
# Each command holds fd 3 on a FIFO, whose reader stamps the moment the
# last holder (the command and its children) is gone.
death_fifo ja
death_fifo jb
run add_ja "$CONCH" cron add ja --schedule '0 0 1 1 *' -- sh -c "exec 3>'$T/ja.fifo'; echo \$\$ > '$T/ja.pid'; exec sleep 60"
assert_eq 0 "$RC" "cron add ja"
run add_jb "$CONCH" cron add jb --schedule '0 0 1 1 *' -- sh -c "exec 3>'$T/jb.fifo'; trap '' TERM
  echo \$\$ > '$T/jb.pid'; while :; do sleep 0.1; done"
assert_eq 0 "$RC" "cron add jb"
for j in ja jb; do
  run "run_$j" timeout 60 "$CONCH" cron run "$j" --wait 30s
  assert_eq 0 "$RC" "cron run $j"
  wait_for "[[ -s $T/$j.pid ]]" 30 || fail "$j did not start"
done
store_freeze 0
frozen=$(now_ms)
for j in ja jb; do
  wait_for "[[ -s $T/$j.dead ]]" 60 || fail "$j still runs 60 s into the freeze"
done
ja_ms=$(($(<"$T/ja.dead") - frozen))
jb_ms=$(($(<"$T/jb.dead") - frozen))
echo "   ja (dies on SIGTERM) dead $ja_ms ms, jb (ignores it) dead $jb_ms ms into the freeze; the session expires by $ttl_ms ms"
store_thaw 0
back_after_thaw 3
run run_after timeout 60 "$CONCH" cron run ja --wait 30s
assert_eq 0 "$RC" "cron run ja after the thaw"

step "the checks"
[[ -n $down_ms ]] || fail "(a) /healthz said 200 throughout 20 s of a frozen store (the session's TTL is 3 s)"
if [[ -n $down_ms ]]; then
  assert_lt "$down_ms" $((ttl_ms + 2000)) "(a) ms into the freeze until /healthz said 503"
  assert_eq "session down" "$down_body" "(a) /healthz body with the session down"
  assert_eq 0 "$down_up" "(a) conch_session_up with the session down"
fi
assert_lt "$ja_ms" "$ttl_ms" "(b) ms into the freeze until ja was dead (its session expires by then)"
assert_lt "$jb_ms" "$ttl_ms" "(b) ms into the freeze until jb (ignoring SIGTERM) was dead (its session expires by then)"

conchd_stop a
pass
