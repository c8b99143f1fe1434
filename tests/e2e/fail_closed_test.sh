#!/usr/bin/env bash
# Fail-closed: when the store stops answering, the command is dead before
# the lease could expire on the store, and the wrapper exits 70 even though
# the store never answers again.
#
# The store renews a lease when it handles a renewal (etcd), or a session
# with every packet it receives (ZooKeeper), which is after the bytes
# crossed the proxy in front of it; so the lease cannot expire before (the
# last time bytes went to the store) + ttl. The proxy reports
# that time, and the command's death is seen at once through a FIFO that
# only the command holds open: the bound checked is the safety rule
# itself, with no slack. (Bytes other than renewals only make that time
# later, which loosens the bound by the moment between a renewal and the
# next frame, not more.)
source "$(dirname "$0")/common.sh"
source "$_common_dir/../servers/proxy.sh"

store_start
proxy_start "$(store_endpoint 0)"
CONCH_ENDPOINTS=$(store_url "$PROXY_EP")

# check_dead_in_time NAME LAST_UP_MS TTL_MS: the command NAME died before
# LAST_UP_MS + TTL_MS.
check_dead_in_time() {
  local dead
  wait_for "[[ -s $T/$1.dead ]]" 30 || fail "$1's command still alive 30 s after the store stopped"
  dead=$(<"$T/$1.dead")
  echo "   $1's command dead $((dead - $2)) ms after the last bytes reached the store (lease: $3 ms)"
  assert_lt "$dead" $(($2 + $3)) "$1's command death (ms) vs the earliest lease expiry"
}

step "a holder with --ttl 3s --kill-after 1s; its command 'sleep 60'"
death_fifo sleeper
bg holder "$CONCH" elect fc --ttl 3s --kill-after 1s --dial-timeout 5s -- \
  sh -c "exec 3>'$T/sleeper.fifo'; echo \$\$ >'$T/child.pid'; exec sleep 60"
wrapper=$BG_PID
wait_for "[[ -s $T/child.pid ]]" 30 || fail "child did not start"

step "SIGSTOP the store: the command is dead before the lease could expire"
proxy_cmd "last up" || fail "proxy does not answer"
last_up=$PROXY_ANSWER
store_freeze 0
[[ $last_up =~ ^[0-9]+$ ]] || fail "no bytes went to the store before the freeze: [$last_up]"
check_dead_in_time sleeper "$last_up" 3000

# It releases after the kill; that call cannot reach the store and ends at
# the dial timeout (5 s).
step "the wrapper exits 70 while the store stays frozen"
wait_exit "$wrapper" 30 || fail "wrapper still running 30 s after the freeze"
assert_eq 70 "$RC" "wrapper exit code after losing the store"

step "thaw; a new holder with --ttl 5s whose command ignores SIGTERM"
store_thaw 0
death_fifo stubborn
bg stubborn "$CONCH" elect fc --ttl 5s --kill-after 1s --dial-timeout 5s -- sh -c "
  trap '' TERM
  exec 3>'$T/stubborn.fifo'
  echo \$\$ > '$T/stubborn.pid'
  while :; do sleep 0.1; done"
wrapper=$BG_PID
# The first wrapper's key lingers until its lease expires (3 s).
wait_for "[[ -s $T/stubborn.pid ]]" 30 || fail "stubborn child did not start"

step "the proxy holds all traffic: SIGKILL reaches the command in time"
proxy_cmd "hold both" || fail "proxy does not answer"
proxy_cmd "last up" || fail "proxy does not answer"
last_up=$PROXY_ANSWER
[[ $last_up =~ ^[0-9]+$ ]] || fail "no bytes went to the store before the hold: [$last_up]"
check_dead_in_time stubborn "$last_up" 5000
wait_exit "$wrapper" 30 || fail "wrapper still running 30 s after the hold"
assert_eq 70 "$RC" "wrapper exit code after losing the store"
assert_match 'SIGKILL' "$(cat "$T/stubborn.err")" "wrapper log names the SIGKILL"

pass
