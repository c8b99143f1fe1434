#!/usr/bin/env bash
# Losing the hold while the child runs: the lease revoked from outside (etcd
# only: no shell can end another client's ZooKeeper session), the session
# expired while the wrapper was stopped, our key deleted, or our key
# overwritten. Each time the child's whole process group (a background
# grandchild included) must be dead by the time the wrapper exits, and the
# wrapper exits 70.
source "$(dirname "$0")/common.sh"

store_start

# The child records its pid, starts a grandchild in the background that
# records its own, and waits.
child_script() {
  echo "echo \$\$ > '$T/$1.child.pid'; sleep 100 & echo \$! > '$T/$1.grandchild.pid'; wait"
}

# start_holder NAME [TTL]: starts a wrapper on office NAME (--ttl TTL,
# default 10s), waits for its grandchild, and sets WRAPPER, CHILD,
# GRANDCHILD and KEY.
start_holder() {
  bg "$1" "$CONCH" elect "$1" --ttl "${2:-10s}" --kill-after 1s -- sh -c "$(child_script "$1")"
  WRAPPER=$BG_PID
  wait_for "[[ -s $T/$1.grandchild.pid ]]" 30 || fail "$1: child did not start"
  CHILD=$(<"$T/$1.child.pid")
  GRANDCHILD=$(<"$T/$1.grandchild.pid")
  # The "dead after the loss" checks mean something only for processes
  # that were alive before it.
  proc_alive "$CHILD" || fail "$1: child [$CHILD] not running"
  proc_alive "$GRANDCHILD" || fail "$1: grandchild [$GRANDCHILD] not running"
  KEY=$(office_keys "$1")
  [[ $KEY =~ $(key_re "/conch/v1/elect/$1/") ]] || fail "$1: unexpected key list [$KEY]"
}

# expect_loss NAME START_MS: the wrapper exits 70, and the child and
# grandchild are gone by then.
expect_loss() {
  wait_exit "$WRAPPER" 20 || fail "$1: wrapper still running 20 s after the loss"
  local took=$(($(now_ms) - $2))
  assert_eq 70 "$RC" "$1: wrapper exit code after the loss"
  proc_alive "$CHILD" && fail "$1: child $CHILD alive after the wrapper exited"
  proc_alive "$GRANDCHILD" && fail "$1: grandchild $GRANDCHILD alive after the wrapper exited"
  echo "   $1: wrapper exited 70 ${took} ms after the loss"
}

if [[ $CONCH_TEST_STORE == etcd ]]; then
  step "lease revoked from outside: 70, whole process group killed"
  start_holder revoke
  start=$(now_ms)
  etcdctl_ lease revoke "$(lease_hex_of "$KEY")" >/dev/null || fail "lease revoke failed"
  expect_loss revoke "$start"
  assert_eq 0 "$(key_count revoke)" "keys under revoke at the end"
fi

step "session expired while the wrapper was stopped: 70 once it runs, group killed"
# A stopped wrapper cannot kill anyone (an overlap window of design.md):
# the child runs on until the wrapper continues, and must die then.
start_holder expire 3s
kill -STOP "$WRAPPER"
wait_for "[[ \$(key_count expire) == 0 ]]" 30 ||
  fail "expire: the stopped wrapper's key did not expire within 30 s"
lease_gone "$(lease_hex_of "$KEY")" || fail "expire: the key is gone but not the session"
start=$(now_ms)
kill -CONT "$WRAPPER"
expect_loss expire "$start"

step "our key deleted from outside: 70, whole process group killed"
start_holder delete
start=$(now_ms)
key_delete "$KEY" || fail "could not delete $KEY"
expect_loss delete "$start"

step "our key overwritten from outside: 70, whole process group killed"
start_holder overwrite
start=$(now_ms)
key_put "$KEY" '{"host":"intruder","pid":1,"started":"2026-01-01T00:00:00Z"}' ||
  fail "put over our key failed"
expect_loss overwrite "$start"

pass
