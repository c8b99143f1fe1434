#!/usr/bin/env bash
# Exit codes beyond the child's own: 126 for a command that exists but
# cannot be executed (no key left behind, elect and sema alike), and 75
# when a queued candidacy is lost while it waits (its key deleted from
# outside; on etcd its lease revoked; its session expired while the waiter
# was stopped): the waiter gives up, its command never runs, and the holder
# ahead of it is not disturbed.
source "$(dirname "$0")/common.sh"

store_start

step "a command that is not executable gives 126 and leaves no key"
printf '#!/bin/sh\ntouch "%s"\n' "$T/ran_noexec" >"$T/noexec.sh"
chmod 644 "$T/noexec.sh"
run noexec "$CONCH" elect nx -- "$T/noexec.sh"
assert_eq 126 "$RC" "elect: command without execute permission"
assert_match 'holding office' "$ERR" "elect: the office was held before the exec failed"
assert_eq 0 "$(key_count nx)" "elect: keys right after exit 126"
lease=$(sed -n 's/.*lease \([0-9a-f]*\)).*/\1/p' <<<"$ERR")
assert_match '^[0-9a-f]+$' "$lease" "elect: lease id in the log"
lease_gone "$lease" || fail "elect: the wrapper's lease $lease right after exit 126 is not gone"
run dir "$CONCH" elect nx -- "$T"
assert_eq 126 "$RC" "elect: a directory as the command"
assert_eq 0 "$(key_count nx)" "elect: keys right after exit 126 (directory)"
run sema_noexec "$CONCH" sema nx --max 1 -- "$T/noexec.sh"
assert_eq 126 "$RC" "sema: command without execute permission"
assert_match 'holding semaphore' "$ERR" "sema: the units were held before the exec failed"
assert_eq 0 "$(sema_count nx)" "sema: claims right after exit 126"
[[ ! -e $T/ran_noexec ]] || fail "the non-executable script ran"

step "a holder, and waiters queued behind it"
bg holder "$CONCH" elect lw -- sh -c "$(holder_sleep_cmd "$T/holder.pid")"
holder=$BG_PID
wait_for "[[ -s $T/holder.pid ]]" 20 || fail "holder's child did not start"
holder_key=$(office_keys lw)

# take_claim HOW KEY WRAPPER: takes the claim KEY of WRAPPER from outside.
# HOW = revoke: its lease revoked (etcd only: no shell can end another
# client's ZooKeeper session); delete: its key deleted; expire: WRAPPER
# SIGSTOPped until the store expired its lease or session (its key is gone:
# give it a short --ttl), then SIGCONTed.
take_claim() {
  case $1 in
    revoke) etcdctl_ lease revoke "$(lease_hex_of "$2")" >/dev/null || fail "$1: lease revoke failed" ;;
    delete) key_delete "$2" || fail "$1: could not delete $2" ;;
    expire)
      kill -STOP "$3"
      wait_for "[[ -z \$(keys_under '${2%/*}/' | grep -xF '$2') ]]" 30 ||
        fail "$1: the key $2 of the stopped wrapper did not expire within 30 s"
      kill -CONT "$3"
      ;;
  esac
}

# lose_queued HOW: a waiter queues behind the holder; its candidacy is taken
# from outside (take_claim HOW). It must exit 75 without running its
# command, and the holder keeps its key.
lose_queued() {
  local how=$1 waiter key ttl=()
  [[ $how == expire ]] && ttl=(--ttl 3s)
  bg "waiter_$how" "$CONCH" elect lw "${ttl[@]}" -- touch "$T/ran_$how"
  waiter=$BG_PID
  { wait_queued "waiter_$how" && wait_for "[[ \$(key_count lw) == 2 ]]" 20; } ||
    fail "$how: the waiter did not queue"
  key=$(office_keys lw | tail -n 1)
  [[ $key != "$holder_key" ]] || fail "$how: no key of the waiter's"
  take_claim "$how" "$key" "$waiter"
  wait_exit "$waiter" 20 || fail "$how: the waiter still runs 20 s after losing its candidacy"
  assert_eq 75 "$RC" "$how: the waiter's exit code"
  [[ ! -e $T/ran_$how ]] || fail "$how: the waiter ran its command"
  assert_eq "$holder_key" "$(office_keys lw)" "$how: keys after the waiter gave up"
  proc_alive "$(<"$T/holder.pid")" || fail "$how: the holder's child died"
}

if [[ $CONCH_TEST_STORE == etcd ]]; then
  step "a waiter whose lease is revoked: 75, command never run"
  lose_queued revoke
fi

step "a waiter whose key is deleted: 75, command never run"
lose_queued delete

step "a waiter stopped until its session expired: 75, command never run"
lose_queued expire

step "the same for a semaphore claim queued behind a holder"
# Its lease revoked on etcd; on ZooKeeper, its session expired.
how=revoke ttl=()
[[ $CONCH_TEST_STORE == etcd ]] || how=expire ttl=(--ttl 3s)
bg sema_holder "$CONCH" sema lws --max 1 -- sh -c "$(holder_sleep_cmd "$T/sema_holder.pid")"
sema_holder=$BG_PID
wait_for "[[ -s $T/sema_holder.pid ]]" 20 || fail "semaphore holder's child did not start"
bg sema_waiter "$CONCH" sema lws --max 1 "${ttl[@]}" -- touch "$T/ran_sema"
sema_waiter=$BG_PID
{ wait_queued sema_waiter && wait_for "[[ \$(sema_count lws) == 2 ]]" 20; } ||
  fail "the semaphore waiter did not queue"
key=$(sema_keys lws | tail -n 1)
take_claim "$how" "$key" "$sema_waiter"
wait_exit "$sema_waiter" 20 || fail "the semaphore waiter still runs 20 s after its claim was taken ($how)"
assert_eq 75 "$RC" "semaphore waiter's exit code"
[[ ! -e $T/ran_sema ]] || fail "the semaphore waiter ran its command"
assert_eq 1 "$(sema_count lws)" "claims after the semaphore waiter gave up"

step "the holders end: nothing else ran"
kill -TERM "$holder" "$sema_holder"
wait_exit "$holder" 20 || fail "holder still running 20 s after SIGTERM"
assert_eq 143 "$RC" "holder's exit code (child 'sleep' got SIGTERM)"
wait_exit "$sema_holder" 20 || fail "semaphore holder still running 20 s after SIGTERM"
assert_eq 143 "$RC" "semaphore holder's exit code"
[[ ! -e $T/ran_revoke && ! -e $T/ran_delete && ! -e $T/ran_expire && ! -e $T/ran_sema ]] ||
  fail "a waiter that gave up ran its command after all"
assert_eq 0 "$(key_count lw)" "keys under lw at the end"
assert_eq 0 "$(sema_count lws)" "claims under lws at the end"

pass
