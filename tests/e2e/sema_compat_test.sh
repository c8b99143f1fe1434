#!/usr/bin/env bash
# Claims the original Go conch wrote (holder JSON without weight or held,
# on its own lease; keyed by lease id, or by host name for its --spread)
# take a unit: with --max 1 ours waits until that key is gone, then runs,
# and never touches the other tool's key.
#
# stores: etcd
# The original Go conch exists only on etcd, and with it its keys. That the
# capacity is part of the key, on both stores, is sema_max_test.sh.
source "$(dirname "$0")/common.sh"

store_start

# original_claim NAME MAX ID: writes a claim the way the original does:
# holder JSON without weight or held at /conch/v1/sema/NAME/MAX/ID on a
# fresh 60 s lease; ID "lease" stands for the lease id in hex. Sets
# ORIG_KEY, ORIG_VALUE and ORIG_LEASE.
original_claim() {
  local granted
  granted=$(etcdctl_ lease grant 60) || fail "lease grant: $granted"
  ORIG_LEASE=$(awk '{print $2}' <<<"$granted")
  local id=$3
  [[ $id == lease ]] && id=$ORIG_LEASE
  ORIG_KEY="/conch/v1/sema/$1/$2/$id"
  ORIG_VALUE='{"host":"go-node","pid":4242,"started":"2026-01-01T00:00:00Z","cmd":"sleep 600"}'
  etcdctl_ put --lease="$ORIG_LEASE" "$ORIG_KEY" "$ORIG_VALUE" >/dev/null || fail "put $ORIG_KEY"
}

# behind_original TAG NAME: starts `sema NAME --max 1` behind the original's
# claim, waits until it has queued and said it waits, and checks that it
# has not run and that --who shows the original's claim holding. Sets
# WAITER.
behind_original() {
  bg "$1" "$CONCH" sema "$2" --max 1 -- sh -c "$(stamp "$1.ran")"
  WAITER=$BG_PID
  { wait_queued "$1" && wait_for "[[ \$(sema_count $2) == 2 ]]" 20; } ||
    fail "$1: ours did not queue behind the original's claim"
  [[ ! -e $T/$1.ran ]] || fail "$1: ours ran while the original's claim held the only unit"
  run "$1_who" "$CONCH" sema "$2" --max 1 --who
  assert_eq 0 "$RC" "$1: --who exit code"
  assert_match "^$2\[1/1\] HELD +go-node pid=4242 " "$(sed -n 1p <<<"$OUT")" \
    "$1: --who line of the original's claim"
  assert_match "^$2\[1/1\] WAIT +$HOST pid=$WAITER " "$(sed -n 2p <<<"$OUT")" \
    "$1: --who line of ours"
  assert_eq "$ORIG_VALUE" "$(key_value "$ORIG_KEY")" \
    "$1: the original's value, untouched"
}

step "an original claim keyed by its lease id holds --max 1: ours waits"
original_claim og 1 lease
behind_original og og
proc_alive "$WAITER" || fail "og: ours gave up while waiting"

step "the original's key is deleted: ours runs"
key_delete "$ORIG_KEY" || fail "could not delete $ORIG_KEY"
wait_exit "$WAITER" 20 || fail "og: ours still waits 20 s after the original's key was deleted"
assert_eq 0 "$RC" "og: exit code of ours"
[[ -s $T/og.ran ]] || fail "og: ours did not run its command"
assert_eq 0 "$(sema_count og)" "claims under og at the end"

step "an original --spread claim keyed by host name holds --max 1: ours waits"
original_claim ogs 1 go-node
behind_original ogs ogs

step "the original's lease is revoked: ours runs"
etcdctl_ lease revoke "$ORIG_LEASE" >/dev/null || fail "lease revoke failed"
wait_exit "$WAITER" 20 || fail "ogs: ours still waits 20 s after the original's lease was revoked"
assert_eq 0 "$RC" "ogs: exit code of ours"
[[ -s $T/ogs.ran ]] || fail "ogs: ours did not run its command"
assert_eq 0 "$(sema_count ogs)" "claims under ogs at the end"

pass
