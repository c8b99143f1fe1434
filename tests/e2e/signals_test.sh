#!/usr/bin/env bash
# Signals to the wrapper. While queued, SIGTERM/SIGINT/SIGHUP/SIGQUIT make
# it delete its key and revoke its lease at once (not leave them to expire)
# and exit 128+N. While the child runs, the signal goes to the child's
# process group (as the same signal), is escalated to SIGKILL after
# --kill-after, and the wrapper exits with the child's status, releasing the
# hold.
source "$(dirname "$0")/common.sh"

store_start

bg holder "$CONCH" elect sg -- sh -c "$(holder_sleep_cmd "$T/holder.pid")"
holder=$BG_PID
wait_for "[[ -s $T/holder.pid ]]" 30 || fail "holder's child did not start"
holder_key=$(office_keys sg)
[[ $holder_key =~ $(key_re /conch/v1/elect/sg/) ]] || fail "unexpected keys [$holder_key]"

# signal_queued SIGNAL NUMBER: a queued wrapper with a 30 s lease gets
# SIGNAL and must exit 128+NUMBER with its key and lease gone, well before
# the lease could expire (so it revoked them), its command never run.
signal_queued() {
  local sig=$1 num=$2 queued key start
  bg "queued_$sig" "$CONCH" elect sg --ttl 30s -- touch "$T/ran_$sig"
  queued=$BG_PID
  wait_queued "queued_$sig" || fail "SIG$sig: wrapper did not queue"
  key=$(office_keys sg | tail -n 1)
  [[ $key =~ $(key_re /conch/v1/elect/sg/) && $key != "$holder_key" ]] ||
    fail "SIG$sig: no key of the queued wrapper in [$(office_keys sg)]"
  start=$(now_ms)
  kill "-$sig" "$queued"
  wait_exit "$queued" 20 || fail "SIG$sig: queued wrapper still running 20 s later"
  assert_eq $((128 + num)) "$RC" "SIG$sig while queued: exit code"
  assert_eq "$holder_key" "$(office_keys sg)" "SIG$sig: keys right after the queued wrapper exited"
  lease_gone "$(lease_hex_of "$key")" ||
    fail "SIG$sig: the queued wrapper's lease is not gone right after it exited"
  local took=$(($(now_ms) - start))
  assert_lt "$took" 15000 "SIG$sig: ms from the signal until key and lease were seen gone (30 s lease)"
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
wait_exit "$holder" 20 || fail "holder still running 20 s after SIGTERM"
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
  wait_for "[[ -s $T/fwd_$sig.pid ]]" 30 || fail "SIG$sig forwarding: child did not start"
  kill "-$sig" "$wrapper"
  wait_exit "$wrapper" 20 || fail "SIG$sig forwarding: wrapper still running 20 s later"
  assert_eq "$code" "$RC" "SIG$sig forwarding: exit code (child traps it and exits $code)"
  assert_eq 0 "$(key_count sg)" "SIG$sig forwarding: keys right after the wrapper exited"
}

step "each signal reaches the child as itself"
forwarded TERM 10
forwarded INT 11
forwarded HUP 12
forwarded QUIT 13

step "a child that ignores SIGTERM gets SIGKILL after --kill-after 1s"
# With a 30 s lease, an exit within 15 s of the signal cannot come from the
# hold deadline (even were renewals to stop at the signal): it is
# --kill-after's SIGKILL, and it comes no sooner than 1 s.
bg stubborn "$CONCH" elect sg --ttl 30s --kill-after 1s -- sh -c "
  trap '' TERM
  echo \$\$ > '$T/stubborn.pid'
  while :; do sleep 0.1; done"
wrapper=$BG_PID
wait_for "[[ -s $T/stubborn.pid ]]" 30 || fail "stubborn child did not start"
child=$(<"$T/stubborn.pid")
proc_alive "$child" || fail "stubborn child $child not running before the signal"
start=$(now_ms)
kill -TERM "$wrapper"
wait_exit "$wrapper" 20 || fail "wrapper still running 20 s after SIGTERM"
took=$(($(now_ms) - start))
assert_eq 137 "$RC" "exit code of a child SIGKILLed after --kill-after"
assert_le 1000 "$took" "ms from SIGTERM to exit: at least --kill-after 1s"
assert_lt "$took" 15000 "ms from SIGTERM to exit: SIGKILL from --kill-after, not the 30 s lease"
proc_alive "$child" && fail "stubborn child alive after the wrapper exited"
assert_eq 0 "$(key_count sg)" "keys right after the wrapper exited"

pass
