#!/usr/bin/env bash
# Hooks around the command, checked from the store and from the hooks:
# - --on-lose runs after a signal to the wrapper (the exit code stays the
#   command's) and after a clean exit, both times still under the hold: the
#   hook finds its own key (the one named by CONCH_LEASE) in the store;
#   after a loss it runs too, but its key is gone by then.
# - hooks read /dev/null, while the command reads the wrapper's stdin.
# - a hold lost while --on-acquire runs: the hook is killed, the command
#   never starts, the wrapper exits 75 and leaves no key.
# The holds are lost from outside by a lease revoke on etcd and, since no
# shell can end another client's ZooKeeper session, by deleting the key on
# ZooKeeper.
source "$(dirname "$0")/common.sh"

store_start

# lose_hook TAG PREFIX: an --on-lose hook that records its CONCH_LEASE in
# $T/TAG.lease and the keys under PREFIX in $T/TAG.keys, then writes
# $T/TAG.done (so a hook that died half-way leaves no .done).
lose_hook() {
  echo "echo \"\$CONCH_LEASE\" > '$T/$1.lease' &&
    $(keys_line "$2") > '$T/$1.keys' &&
    echo done > '$T/$1.done'"
}

# hook_saw_own_key TAG PREFIX: prints yes when the hook's listing holds the
# key under PREFIX of its CONCH_LEASE, no when it does not; fails when the
# hook did not finish.
hook_saw_own_key() {
  [[ -s $T/$1.done ]] || fail "$1: the on-lose hook did not finish"
  local lease
  lease=$(<"$T/$1.lease")
  [[ $lease =~ ^[0-9a-f]+$ ]] || fail "$1: CONCH_LEASE in the on-lose hook: [$lease]"
  if grep -qE "$(lease_key_re "$2" "$lease")" "$T/$1.keys"; then echo yes; else echo no; fi
}

step "--on-lose after SIGTERM to the wrapper: runs under the hold, exit code is the command's"
bg sig "$CONCH" elect hm1 --on-lose "$(lose_hook sig /conch/v1/elect/hm1/)" -- sh -c "
  trap 'exit 21' TERM
  echo \$\$ > '$T/sig.pid'
  while :; do sleep 0.05; done"
wrapper=$BG_PID
wait_for "[[ -s $T/sig.pid ]]" 20 || fail "the command did not start"
key=$(office_keys hm1)
kill -TERM "$wrapper"
wait_exit "$wrapper" 20 || fail "wrapper still running 20 s after SIGTERM"
assert_eq 21 "$RC" "exit code (the command exits 21 on SIGTERM)"
assert_eq yes "$(hook_saw_own_key sig /conch/v1/elect/hm1/)" \
  "on-lose hook after a signal found its own key"
assert_match "$(lease_key_re /conch/v1/elect/hm1/ "$(<"$T/sig.lease")")" "$key" \
  "the key vs the hook's CONCH_LEASE"
assert_eq 0 "$(key_count hm1)" "keys after the wrapper exited"

step "--on-lose after a clean exit: runs under the hold"
run clean "$CONCH" elect hm2 --on-lose "$(lose_hook clean /conch/v1/elect/hm2/)" -- sh -c 'exit 5'
assert_eq 5 "$RC" "exit code (the command exits 5)"
assert_eq yes "$(hook_saw_own_key clean /conch/v1/elect/hm2/)" \
  "on-lose hook after a clean exit found its own key"
assert_eq 0 "$(key_count hm2)" "keys after the wrapper exited"

run sema_clean "$CONCH" sema hm3 --max 2 --on-lose "$(lose_hook sema_clean /conch/v1/sema/hm3/2/)" \
  -- sh -c 'exit 6'
assert_eq 6 "$RC" "sema: exit code (the command exits 6)"
assert_eq yes "$(hook_saw_own_key sema_clean /conch/v1/sema/hm3/2/)" \
  "sema: on-lose hook after a clean exit found its own claim"
assert_eq 0 "$(sema_count hm3)" "sema: claims after the wrapper exited"

step "--on-lose after a loss: runs, but no longer under the hold"
bg lost "$CONCH" elect hm4 --kill-after 1s --on-lose "$(lose_hook lost /conch/v1/elect/hm4/)" \
  -- sh -c "$(holder_sleep_cmd "$T/lost.pid")"
wrapper=$BG_PID
wait_for "[[ -s $T/lost.pid ]]" 20 || fail "the command did not start"
key=$(office_keys hm4)
take_hold "$key" || fail "could not take the hold of $key"
wait_exit "$wrapper" 20 || fail "wrapper still running 20 s after the loss"
assert_eq 70 "$RC" "exit code after the loss"
assert_eq no "$(hook_saw_own_key lost /conch/v1/elect/hm4/)" \
  "on-lose hook after a loss found its own key"
assert_match "$(lease_key_re /conch/v1/elect/hm4/ "$(<"$T/lost.lease")")" "$key" \
  "the key vs the hook's CONCH_LEASE"

step "hooks read /dev/null; the command reads the wrapper's stdin"
printf 'wrapper-stdin-line\n' >"$T/input"
# stdin_probe TAG: records what the hook read from stdin and what its
# stdin is, then writes $T/TAG.done.
stdin_probe() {
  echo "cat > '$T/$1.read'; readlink /proc/self/fd/0 > '$T/$1.fd0'; echo done > '$T/$1.done'"
}
"$CONCH" elect hm5 --on-acquire "$(stdin_probe acquire)" --on-lose "$(stdin_probe lose)" \
  -- sh -c "cat > '$T/command.read'" <"$T/input" >"$T/stdin.out" 2>"$T/stdin.err"
rc=$?
assert_eq 0 "$rc" "exit code with stdin from a file"
for hook in acquire lose; do
  [[ -s $T/$hook.done ]] || fail "the on-$hook hook did not finish"
  assert_eq "" "$(cat "$T/$hook.read")" "what the on-$hook hook read from stdin"
  assert_eq /dev/null "$(<"$T/$hook.fd0")" "the on-$hook hook's stdin"
done
assert_eq wrapper-stdin-line "$(cat "$T/command.read" 2>/dev/null)" "what the command read from stdin"

step "a hold lost while --on-acquire runs: hook killed, no command, exit 75"
# The hook takes its own hold: etcd: revokes its lease; ZooKeeper: deletes
# the node of its session. Its own output cannot be relied on: the loss it
# causes sends SIGTERM to the hook's group, the client included. Should it
# fail, the hook would sleep 30 s and succeed, and the command would run.
if [[ $CONCH_TEST_STORE == etcd ]]; then
  lose_own="$(etcdctl_line) lease revoke \"\$CONCH_LEASE\""
else
  lose_own="for k in \$('$ZK_TOOL' '$ZK_HOSTS' ls /conch/v1/elect/hm6); do
    case \${k##*/} in \"\$CONCH_LEASE\"-*) '$ZK_TOOL' '$ZK_HOSTS' rm \"\$k\" ;; esac
  done"
fi
bg acq_lost "$CONCH" elect hm6 --hook-timeout 60s --on-acquire "
  echo \$\$ > '$T/acq_hook.pid'
  { $lose_own; } >/dev/null 2>&1
  exec sleep 30" -- touch "$T/acq_ran"
wrapper=$BG_PID
wait_for "[[ -s $T/acq_hook.pid ]]" 20 || fail "the on-acquire hook did not start"
hook=$(<"$T/acq_hook.pid")
wait_exit "$wrapper" 20 || fail "wrapper still running 20 s after its hold was taken"
assert_eq 75 "$RC" "exit code after losing the hold during --on-acquire"
proc_alive "$hook" && fail "the on-acquire hook is still running after the wrapper exited"
[[ ! -e $T/acq_ran ]] || fail "the command ran although the hold was lost during --on-acquire"
assert_eq 0 "$(key_count hm6)" "keys after the wrapper exited"

pass
