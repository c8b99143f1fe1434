#!/usr/bin/env bash
# Signals to the wrapper. While queued, SIGTERM/SIGINT/SIGHUP/SIGQUIT make
# it delete its key and revoke its lease at once and exit 128+N. While the
# child runs, the signal goes to the child's process group (as the same
# signal), is escalated to SIGKILL after --kill-after, and the wrapper exits
# with the child's status, releasing the hold.
source "$(dirname "$0")/common.sh"

etcd_start
export CONCH_ENDPOINTS=$ETCD_ENDPOINTS

bg holder "$CONCH" elect sg -- sh -c "$(holder_sleep_cmd "$T/holder.pid")"
holder=$BG_PID
wait_for "[[ -s $T/holder.pid ]]" 10 || fail "holder's child did not start"
holder_key=$(office_keys sg)

# signal_queued SIGNAL NUMBER: a queued wrapper gets SIGNAL and must exit
# 128+NUMBER within 1 s, its key and lease gone, its command never run.
signal_queued() {
  local sig=$1 num=$2 queued key start
  bg "queued_$sig" "$CONCH" elect sg -- touch "$T/ran_$sig"
  queued=$BG_PID
  wait_for "[[ \$(key_count sg) == 2 ]]" 5 || fail "SIG$sig: wrapper did not queue"
  key=$(office_keys sg | tail -n 1)
  kill "-$sig" "$queued"
  start=$(now_ms)
  wait_exit "$queued" 2 || fail "SIG$sig: queued wrapper still running 2 s later"
  local took=$(($(now_ms) - start))
  assert_eq $((128 + num)) "$RC" "SIG$sig while queued: exit code"
  assert_lt "$took" 1000 "SIG$sig while queued: ms until exit"
  assert_eq "$holder_key" "$(office_keys sg)" "SIG$sig: keys right after the queued wrapper exited"
  assert_match 'already expired|not found' "$(lease_ttl_line "$(lease_hex_of "$key")")" \
    "SIG$sig: the queued wrapper's lease right after it exited"
  [[ ! -e $T/ran_$sig ]] || fail "SIG$sig: the queued wrapper ran its command"
}

step "signals while queued: key and lease gone at once, exit 128+N"
signal_queued TERM 15
signal_queued INT 2
signal_queued HUP 1
signal_queued QUIT 3
proc_alive "$holder" || fail "the holder exited while others were signalled"

step "SIGTERM while the child runs: forwarded, exit is the child's"
kill -TERM "$holder"
wait_exit "$holder" 3 || fail "holder still running 3 s after SIGTERM"
assert_eq 143 "$RC" "holder whose child 'sleep' got SIGTERM"
assert_eq 0 "$(key_count sg)" "keys right after the holder exited"

# forwarded SIGNAL CODE: the child exits CODE from its trap for SIGNAL, so
# the wrapper's exit code shows which signal the child received.
forwarded() {
  local sig=$1 code=$2 wrapper
  bg "fwd_$sig" "$CONCH" elect sg -- sh -c "
    trap 'exit 10' TERM; trap 'exit 11' INT; trap 'exit 12' HUP; trap 'exit 13' QUIT
    echo \$\$ > '$T/fwd_$sig.pid'
    while :; do sleep 0.1; done"
  wrapper=$BG_PID
  wait_for "[[ -s $T/fwd_$sig.pid ]]" 10 || fail "SIG$sig forwarding: child did not start"
  kill "-$sig" "$wrapper"
  wait_exit "$wrapper" 3 || fail "SIG$sig forwarding: wrapper still running 3 s later"
  assert_eq "$code" "$RC" "SIG$sig forwarding: exit code (child traps it and exits $code)"
  assert_eq 0 "$(key_count sg)" "SIG$sig forwarding: keys right after the wrapper exited"
}

step "each signal reaches the child as itself"
forwarded TERM 10
forwarded INT 11
forwarded HUP 12
forwarded QUIT 13

step "a child that ignores SIGTERM gets SIGKILL after --kill-after 1s"
bg stubborn "$CONCH" elect sg --ttl 3s --kill-after 1s -- sh -c "
  trap '' TERM
  echo \$\$ > '$T/stubborn.pid'
  while :; do sleep 0.1; done"
wrapper=$BG_PID
wait_for "[[ -s $T/stubborn.pid ]]" 10 || fail "stubborn child did not start"
child=$(<"$T/stubborn.pid")
kill -TERM "$wrapper"
start=$(now_ms)
wait_exit "$wrapper" 5 || fail "wrapper still running 5 s after SIGTERM"
took=$(($(now_ms) - start))
assert_eq 137 "$RC" "exit code of a child SIGKILLed after --kill-after"
assert_lt 800 "$took" "ms from SIGTERM to exit (kill-after 1s), lower bound"
assert_lt "$took" 3000 "ms from SIGTERM to exit (kill-after 1s), upper bound"
proc_alive "$child" && fail "stubborn child alive after the wrapper exited"
assert_eq 0 "$(key_count sg)" "keys right after the wrapper exited"

pass
