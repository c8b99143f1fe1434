#!/usr/bin/env bash
# Semaphore keys as the original Go conch lays them out:
# - the capacity is part of the key (/conch/v1/sema/<name>/<max>/...), so a
#   different --max is a different semaphore: a full `--max 1` does not
#   block `--max 2` of the same name;
# - claims the original wrote (holder JSON without weight or held, on its
#   own lease; keyed by lease id, or by host name for its --spread) take a
#   unit: with --max 1 ours waits until that key is gone, then runs, and
#   never touches the other tool's key.
source "$(dirname "$0")/common.sh"

etcd_start
export CONCH_ENDPOINTS=$ETCD_ENDPOINTS

step "a holder on 'dm --max 1'"
bg one "$CONCH" sema dm --max 1 -- sh -c "$(holder_sleep_cmd "$T/one.pid")"
one=$BG_PID
wait_for "[[ -s $T/one.pid ]]" 20 || fail "the --max 1 holder's child did not start"
one_key=$(sema_keys dm)
assert_match '^/conch/v1/sema/dm/1/[0-9a-f]+$' "$one_key" "the --max 1 holder's key"

step "'dm --max 1' is full: --nonblock gives 75"
run full_1 "$CONCH" sema dm --max 1 --nonblock -- touch "$T/ran_full_1"
assert_eq 75 "$RC" "--max 1 --nonblock while the --max 1 holder runs"
[[ ! -e $T/ran_full_1 ]] || fail "--max 1 --nonblock ran while --max 1 was full"

step "'dm --max 2' is another semaphore: it runs at once, twice over"
run other_max "$CONCH" sema dm --max 2 --nonblock -- sh -c 'exit 4'
assert_eq 4 "$RC" "--max 2 --nonblock while the --max 1 holder runs (command exits 4)"
bg two "$CONCH" sema dm --max 2 -- sh -c "$(holder_sleep_cmd "$T/two.pid")"
two=$BG_PID
wait_for "[[ -s $T/two.pid ]]" 20 || fail "the --max 2 claim did not run beside the --max 1 holder"
run other_max_2 "$CONCH" sema dm --max 2 --nonblock -- sh -c 'exit 5'
assert_eq 5 "$RC" "a second --max 2 claim beside the first (command exits 5)"
assert_match '^/conch/v1/sema/dm/2/[0-9a-f]+$' "$(sema_keys dm | sed -n 2p)" "the --max 2 holder's key"
proc_alive "$(<"$T/one.pid")" || fail "the --max 1 holder's child died"
kill -TERM "$one" "$two"
wait_exit "$one" 20 || fail "the --max 1 holder still runs 20 s after SIGTERM"
wait_exit "$two" 20 || fail "the --max 2 holder still runs 20 s after SIGTERM"
assert_eq 0 "$(sema_count dm)" "claims under dm at the end"

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
  assert_eq "$ORIG_VALUE" "$(etcdctl_ get --print-value-only "$ORIG_KEY")" \
    "$1: the original's value, untouched"
}

step "an original claim keyed by its lease id holds --max 1: ours waits"
original_claim og 1 lease
behind_original og og
proc_alive "$WAITER" || fail "og: ours gave up while waiting"

step "the original's key is deleted: ours runs"
assert_eq 1 "$(etcdctl_ del "$ORIG_KEY")" "keys deleted by etcdctl del"
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
