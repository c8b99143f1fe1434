#!/usr/bin/env bash
# `conch sema` under signals and lost holds. A queued waiter that gets
# SIGTERM/SIGINT/SIGHUP/SIGQUIT deletes its key and revokes its lease at
# once (not left to expire) and exits 128+N, and the waiter behind it keeps
# its place. A holder whose key is deleted from outside, or whose lease is
# revoked (etcd) or session expired while it was stopped (ZooKeeper, where
# no shell can end another client's session), exits 70 with its child's
# process group dead, and its units go to the next waiter. SIGTERM to a
# holder reaches the child and frees the slot.
source "$(dirname "$0")/common.sh"

store_start

step "a holder on --max 1 and a waiter B that stays queued"
bg h "$CONCH" sema sf --max 1 -- sh -c "
  echo \$\$ > '$T/h.pid'
  while [ ! -e '$T/h.release' ]; do sleep 0.02; done"
h=$BG_PID
wait_for "[[ -s $T/h.pid ]]" 30 || fail "holder's child did not start"
h_key=$(sema_keys sf)
[[ $h_key =~ $(key_re /conch/v1/sema/sf/1/) ]] || fail "unexpected keys [$h_key]"
bg b "$CONCH" sema sf --max 1 -- sh -c "echo b >> '$T/order'"
b=$BG_PID
wait_queued b || fail "B did not queue"
b_key=$(sema_keys sf | tail -n 1)
[[ $b_key =~ $(key_re /conch/v1/sema/sf/1/) && $b_key != "$h_key" ]] ||
  fail "no key of B in [$(sema_keys sf)]"

# signal_queued SIGNAL NUMBER: a wrapper with a 30 s lease queued behind B
# gets SIGNAL and must exit 128+NUMBER with its key and lease gone well
# before the lease could expire (so it revoked them), its command never
# run, and the holder's and B's keys untouched.
signal_queued() {
  local sig=$1 num=$2 queued key start took
  bg "queued_$sig" "$CONCH" sema sf --max 1 --ttl 30s -- touch "$T/ran_$sig"
  queued=$BG_PID
  wait_queued "queued_$sig" || fail "SIG$sig: wrapper did not queue"
  key=$(sema_keys sf | tail -n 1)
  [[ $key =~ $(key_re /conch/v1/sema/sf/1/) && $key != "$b_key" ]] ||
    fail "SIG$sig: no key of the queued wrapper in [$(sema_keys sf)]"
  start=$(now_ms)
  kill "-$sig" "$queued"
  wait_exit "$queued" 20 || fail "SIG$sig: queued wrapper still running 20 s later"
  assert_eq $((128 + num)) "$RC" "SIG$sig while queued: exit code"
  assert_eq "$(printf '%s\n%s' "$h_key" "$b_key")" "$(sema_keys sf)" \
    "SIG$sig: keys right after the queued wrapper exited (its key $key must be gone)"
  lease_gone "$(lease_hex_of "$key")" ||
    fail "SIG$sig: the queued wrapper's lease is not gone right after it exited"
  took=$(($(now_ms) - start))
  assert_lt "$took" 15000 "SIG$sig: ms from the signal until key and lease were seen gone (30 s lease)"
  [[ ! -e $T/ran_$sig ]] || fail "SIG$sig: the queued wrapper ran its command"
}

step "signals while queued: key and lease gone at once, exit 128+N"
signal_queued TERM 15
signal_queued INT 2
signal_queued HUP 1
signal_queued QUIT 3
proc_alive "$h" || fail "the holder exited while waiters were signalled"
proc_alive "$b" || fail "B exited while the waiter behind it was signalled"

step "SIGTERM to a waiter between B and C: C keeps its place behind B"
bg m "$CONCH" sema sf --max 1 --ttl 30s -- sh -c "echo m >> '$T/order'"
m=$BG_PID
wait_queued m || fail "M did not queue"
bg c "$CONCH" sema sf --max 1 -- sh -c "echo c >> '$T/order'"
c=$BG_PID
wait_queued c || fail "C did not queue"
assert_eq 4 "$(sema_count sf)" "keys with the holder, B, M and C"
c_key=$(sema_keys sf | tail -n 1)
start=$(now_ms)
kill -TERM "$m"
wait_exit "$m" 20 || fail "M still running 20 s after SIGTERM"
assert_eq 143 "$RC" "M's exit code"
assert_eq "$(printf '%s\n%s\n%s' "$h_key" "$b_key" "$c_key")" "$(sema_keys sf)" \
  "keys right after M exited (holder, B, C)"
took=$(($(now_ms) - start))
assert_lt "$took" 15000 "ms from SIGTERM until M's key was seen gone (30 s lease)"
bg d "$CONCH" sema sf --max 1 -- sh -c "echo d >> '$T/order'"
d=$BG_PID
wait_queued d || fail "D did not queue"
assert_eq 4 "$(sema_count sf)" "keys with the holder, B, C and D"
touch "$T/h.release"
wait_exit "$h" 20 || fail "holder did not exit after its child finished"
assert_eq 0 "$RC" "holder's exit code"
for pid in "$b" "$c" "$d"; do
  wait_exit "$pid" 20 || fail "waiter $pid did not finish after the holder left"
  assert_eq 0 "$RC" "waiter $pid's exit code"
done
assert_eq "b c d" "$(paste -sd ' ' "$T/order")" "order in which B, C and D ran"
assert_eq 0 "$(sema_count sf)" "keys under sf at the end"

# The child records its pid, starts a grandchild in the background that
# records its own, and waits.
child_script() {
  echo "echo \$\$ > '$T/$1.child.pid'; sleep 100 & echo \$! > '$T/$1.grandchild.pid'; wait"
}

# start_holder TAG NAME [TTL]: starts a holder on NAME (--max 2, --ttl TTL,
# default 10s), waits for its grandchild and sets WRAPPER, CHILD,
# GRANDCHILD and KEY.
start_holder() {
  bg "$1" "$CONCH" sema "$2" --max 2 --ttl "${3:-10s}" --kill-after 1s -- sh -c "$(child_script "$1")"
  WRAPPER=$BG_PID
  wait_for "[[ -s $T/$1.grandchild.pid ]]" 30 || fail "$1: child did not start"
  CHILD=$(<"$T/$1.child.pid")
  GRANDCHILD=$(<"$T/$1.grandchild.pid")
  # The "dead after the loss" checks mean something only for processes
  # that were alive before it.
  proc_alive "$CHILD" || fail "$1: child [$CHILD] not running"
  proc_alive "$GRANDCHILD" || fail "$1: grandchild [$GRANDCHILD] not running"
  KEY=$(sema_entries "$2" | jq -r --argjson pid "$WRAPPER" 'select(.value.pid? == $pid) | .key')
  [[ $KEY =~ $(key_re "/conch/v1/sema/$2/2/") ]] || fail "$1: no key found for wrapper $WRAPPER: [$KEY]"
}

# loss_case HOW NAME: holders A and B on --max 2 and a waiter W; B's hold is
# taken from outside (HOW = revoke: its lease revoked; delete: its key
# deleted; expire: B SIGSTOPped until its 3 s session expired, then
# SIGCONTed). B must exit 70 with its child and grandchild dead, A must keep
# running, and W's child must start.
loss_case() {
  local how=$1 name=$2 a a_child b start took ttl=10s
  [[ $how == expire ]] && ttl=3s
  start_holder "${name}_a" "$name"
  a=$WRAPPER a_child=$CHILD
  start_holder "${name}_b" "$name" "$ttl"
  b=$WRAPPER
  bg "${name}_w" "$CONCH" sema "$name" --max 2 -- sh -c "$(stamp "${name}_w.start")"
  local w=$BG_PID
  wait_queued "${name}_w" || fail "$how: waiter did not queue"
  assert_eq 3 "$(sema_count "$name")" "$how: keys with A and B holding and the waiter queued"
  [[ ! -e $T/${name}_w.start ]] || fail "$how: waiter ran while both slots were held"
  start=$(now_ms)
  case $how in
    revoke) etcdctl_ lease revoke "$(lease_hex_of "$KEY")" >/dev/null || fail "$how: lease revoke failed" ;;
    delete) key_delete "$KEY" || fail "$how: could not delete $KEY" ;;
    expire)
      # A stopped holder cannot kill its child (an overlap window of
      # design.md): W may start before B continues.
      kill -STOP "$b"
      wait_for "[[ -z \$(sema_keys $name | grep -xF '$KEY') ]]" 30 ||
        fail "$how: B's key did not expire within 30 s"
      kill -CONT "$b"
      ;;
  esac
  wait_for "[[ -s $T/${name}_w.start ]]" 20 || fail "$how: the waiter did not get B's slot"
  took=$(($(<"$T/${name}_w.start") - start))
  echo "   $how: the waiter's child started $took ms after B's hold was taken"
  wait_exit "$b" 20 || fail "$how: B still running 20 s after its hold was taken"
  took=$(($(now_ms) - start))
  assert_eq 70 "$RC" "$how: B's exit code after losing its hold"
  proc_alive "$CHILD" && fail "$how: B's child $CHILD alive after B exited"
  proc_alive "$GRANDCHILD" && fail "$how: B's grandchild $GRANDCHILD alive after B exited"
  echo "   $how: B exited 70 $took ms after its hold was taken"
  wait_exit "$w" 20 || fail "$how: the waiter did not finish"
  assert_eq 0 "$RC" "$how: the waiter's exit code"
  proc_alive "$a" || fail "$how: A exited although only B's hold was taken"
  proc_alive "$a_child" || fail "$how: A's child died although only B's hold was taken"
  kill -TERM "$a"
  wait_exit "$a" 20 || fail "$how: A still running 20 s after SIGTERM"
  assert_eq 143 "$RC" "$how: A's exit code after SIGTERM (its child sh got SIGTERM)"
  assert_eq 0 "$(sema_count "$name")" "$how: keys at the end"
}

if [[ $CONCH_TEST_STORE == etcd ]]; then
  step "a holder's lease revoked from outside: 70, group dead, slot passes on"
  loss_case revoke sr
else
  step "a holder's session expired while it was stopped: 70, group dead, slot passes on"
  loss_case expire sr
fi

step "a holder's key deleted from outside: 70, group dead, slot passes on"
loss_case delete sd

pass
