#!/usr/bin/env bash
# Fail-closed: with --ttl 3s --kill-after 1s, a store that stops answering
# (etcd SIGSTOPped) must cost the child its life less than 3 s after the
# freeze, before the lease could have expired on the server, and the
# wrapper must exit 70 even though the store never answers again. A child
# that ignores SIGTERM must be SIGKILLed within the same 3 s.
source "$(dirname "$0")/common.sh"

etcd_start
export CONCH_ENDPOINTS=$ETCD_ENDPOINTS

step "start a holder with --ttl 3s --kill-after 1s, child 'sleep 60'"
bg holder "$CONCH" elect fc --ttl 3s --kill-after 1s -- sh -c "$(holder_sleep_cmd "$T/child.pid")"
wrapper=$BG_PID
wait_for "[[ -s $T/child.pid ]]" 10 || fail "child did not start"
child=$(<"$T/child.pid")
# Let a few keep-alives go through so the wrapper is in its steady state.
sleep 1.5
proc_alive "$child" || fail "child died before the freeze"

step "freeze etcd: the child is dead less than 3 s later"
etcd_freeze 0
frozen=$(now_ms)
wait_for "! proc_alive $child" 3 || fail "child $child alive 3 s after etcd was frozen"
echo "   child dead $(($(now_ms) - frozen)) ms after the freeze"

step "the wrapper exits 70 while etcd stays frozen"
wait_exit "$wrapper" 10 || fail "wrapper still running 10 s after the freeze"
echo "   wrapper exited $(($(now_ms) - frozen)) ms after the freeze"
assert_eq 70 "$RC" "wrapper exit code after losing the store"

step "thaw; a new holder whose child ignores SIGTERM"
etcd_thaw 0
bg stubborn "$CONCH" elect fc --ttl 3s --kill-after 1s -- sh -c "
  trap '' TERM
  echo \$\$ > '$T/stubborn.pid'
  while :; do sleep 0.1; done"
wrapper=$BG_PID
# The first wrapper's key may linger until its lease expires (3 s).
wait_for "[[ -s $T/stubborn.pid ]]" 15 || fail "stubborn child did not start"
child=$(<"$T/stubborn.pid")
sleep 1.5
proc_alive "$child" || fail "stubborn child died before the freeze"

step "freeze etcd: SIGKILL reaches the stubborn child less than 3 s later"
etcd_freeze 0
frozen=$(now_ms)
wait_for "! proc_alive $child" 3 || fail "stubborn child $child alive 3 s after etcd was frozen"
echo "   stubborn child dead $(($(now_ms) - frozen)) ms after the freeze"
wait_exit "$wrapper" 10 || fail "wrapper still running 10 s after the freeze"
assert_eq 70 "$RC" "wrapper exit code after losing the store"

pass
