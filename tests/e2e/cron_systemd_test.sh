#!/usr/bin/env bash
# conchd under systemd's notification protocol, with a stand-in for systemd:
# a datagram socket (python3) that NOTIFY_SOCKET names and that logs every
# message with its arrival time, and WATCHDOG_USEC set as a unit's
# WatchdogSec= would set it.
#   - READY=1 comes once the session is up and the jobs are read (a job
#     already in the store is counted in the STATUS= that follows);
#   - STATUS= lines give the job counts and follow a job added later;
#   - WATCHDOG=1 comes while the session is healthy, and stops while the
#     store is frozen (the session's renewals late), then comes again after
#     the thaw;
#   - STOPPING=1 on SIGTERM; conchd exits 0.
#   - its jobs do not see NOTIFY_SOCKET or WATCHDOG_* (they are not the
#     service's main process).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/cron.sh"

store_start

sock=$T/notify.sock
log=$T/notify.log
bg listener python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
while True:
    data = s.recv(4096).decode(errors="replace")
    for line in data.splitlines():
        out.write("%d %s\n" % (time.time() * 1000, line))
' "$sock" "$log"
wait_for "[[ -S $sock ]]" 20 || fail "the notify socket did not appear"

# msgs TEXT: how many notifications start with TEXT.
msgs() { grep -c " $1" "$log" 2>/dev/null || true; }

run add_pre "$CONCH" cron add early --schedule '0 0 1 1 *' -- true
assert_eq 0 "$RC" "cron add early"

step "READY once the session is up and the jobs read; STATUS with the counts"
export NOTIFY_SOCKET=$sock WATCHDOG_USEC=1000000
conchd_bg a --ttl 3s --kill-after 1s
unset NOTIFY_SOCKET WATCHDOG_USEC
wait_for "(( \$(msgs READY=1) == 1 ))" 20 || fail "no READY=1 within 20 s"
wait_for "grep -q 'STATUS=1 jobs, 1 eligible, 0 running' '$log'" 20 ||
  fail "no STATUS= with the job counts: $(cat "$log")"

step "STATUS follows a job added; the job does not see the notify socket"
run add_env "$CONCH" cron add env --schedule '0 0 1 1 *' -- sh -c "env > '$T/env.txt'"
assert_eq 0 "$RC" "cron add env"
wait_for "grep -q 'STATUS=2 jobs, 2 eligible' '$log'" 20 || fail "STATUS= did not follow the new job"
run run_env timeout 60 "$CONCH" cron run env --wait 30s
assert_eq 0 "$RC" "cron run env"
wait_for "[[ -s $T/env.txt ]]" 20 || fail "the env job did not run"
assert_eq "" "$(grep -E '^(NOTIFY_SOCKET|WATCHDOG_USEC|WATCHDOG_PID)=' "$T/env.txt")" "notify variables in a job's environment"

step "WATCHDOG=1 while healthy, none while the store is frozen, back after"
wait_for "(( \$(msgs WATCHDOG=1) >= 3 ))" 20 || fail "fewer than 3 WATCHDOG=1 in 20 s (every 0.5 s expected)"
store_freeze 0
frozen=$(now_ms)
conchd_log a "renewals are late" 20 || fail "no 'renewals are late' within 20 s of the freeze"
quiet_from=$(now_ms)
# The proof that pings stopped: none in the 2 s after the session turned
# unhealthy, 4 ping periods.
wait_for "(( \$(now_ms) >= quiet_from + 2000 ))" 10
late=$(awk -v f="$((quiet_from + 100))" -v t="$(now_ms)" '$2 == "WATCHDOG=1" && $1 > f && $1 <= t' "$log" | wc -l)
assert_eq 0 "$late" "WATCHDOG=1 while the session was unhealthy ($((quiet_from - frozen)) ms into the freeze)"
store_thaw 0
thawed=$(now_ms)
wait_for "awk -v t=$thawed '\$2 == \"WATCHDOG=1\" && \$1 > t' '$log' | grep -q ." 30 ||
  fail "no WATCHDOG=1 within 30 s of the thaw"

step "STOPPING on SIGTERM, exit 0"
conchd_stop a
assert_eq 1 "$(msgs STOPPING=1)" "STOPPING=1 messages"
pass
