#!/usr/bin/env bash
# Signals to the wrapper while the command runs, seen from inside the
# command's process group: a child and a grandchild in the same group each
# record what they receive.
# - SIGUSR1 and SIGUSR2 reach the whole group; the command keeps running,
#   the hold is kept, and a later clean exit gives the command's own code.
# - SIGINT, SIGHUP and SIGQUIT reach the whole group; a command that ignores
#   the signal is SIGKILLed --kill-after later (not before), and the wrapper
#   exits 128+9 leaving no key.
# - A hold lost while the command runs (take_hold: lease revoked on etcd,
#   key deleted on ZooKeeper) sends SIGTERM to the group; a command that ignores it is SIGKILLed --kill-after later, and
#   the wrapper exits 70 leaving no key.
source "$(dirname "$0")/common.sh"

store_start

# The grandchild: runs in the command's process group, records each signal
# in SIGNALS (a space-separated list) to $T/TAG.log as "grandchild SIG",
# then writes its pid to $T/TAG.grandchild.pid and loops until killed or
# until $T/TAG.release exists. Run under `env --default-signal`, because a
# shell starts its background jobs with SIGINT and SIGQUIT ignored, and a
# shell cannot trap a signal that was ignored when it started.
cat >"$T/grandchild.sh" <<'EOS'
tag_path=$1
shift
for sig in "$@"; do
  trap "echo grandchild $sig >> '$tag_path.log'" "$sig"
done
echo $$ > "$tag_path.grandchild.pid"
while [ ! -e "$tag_path.release" ]; do sleep 0.05; done
EOS

# The command: starts the grandchild, then either records SIGNALS itself
# ("child SIG") or, with IGNORE, ignores them; writes its pid to
# $T/TAG.child.pid and loops until $T/TAG.release exists, then exits 7.
cat >"$T/child.sh" <<'EOS'
tag_path=$1 mode=$2
shift 2
env --default-signal=INT,QUIT,HUP,TERM,USR1,USR2 \
  sh "$(dirname "$tag_path")/grandchild.sh" "$tag_path" "$@" &
for sig in "$@"; do
  if [ "$mode" = ignore ]; then
    trap '' "$sig"
  else
    trap "echo child $sig >> '$tag_path.log'" "$sig"
  fi
done
echo $$ > "$tag_path.child.pid"
while [ ! -e "$tag_path.release" ]; do sleep 0.05; done
exit 7
EOS

# start_command TAG MODE SIGNALS FLAGS...: starts a wrapper on office TAG
# with FLAGS around child.sh, waits until the child and the grandchild are
# ready, checks that both are in one process group, and sets WRAPPER,
# CHILD, GRANDCHILD and KEY.
start_command() {
  local tag=$1 mode=$2 sigs=$3
  shift 3
  # shellcheck disable=SC2086 # SIGNALS is a list
  bg "$tag" "$CONCH" elect "$tag" "$@" -- sh "$T/child.sh" "$T/$tag" "$mode" $sigs
  WRAPPER=$BG_PID
  wait_for "[[ -s $T/$tag.child.pid && -s $T/$tag.grandchild.pid ]]" 20 ||
    fail "$tag: the command or its grandchild did not start"
  CHILD=$(<"$T/$tag.child.pid")
  GRANDCHILD=$(<"$T/$tag.grandchild.pid")
  assert_eq "$CHILD" "$(pgid_of "$GRANDCHILD")" "$tag: the grandchild's process group"
  assert_eq "$CHILD" "$(pgid_of "$CHILD")" "$tag: the command's process group"
  KEY=$(office_keys "$tag")
  [[ $KEY =~ $(key_re "/conch/v1/elect/$tag/") ]] || fail "$tag: unexpected keys [$KEY]"
}

# received TAG WHO SIG: true once $T/TAG.log records that WHO got SIG.
# shellcheck disable=SC2317 # called through wait_for's eval
received() {
  grep -qx "$2 $3" "$T/$1.log" 2>/dev/null
}

step "SIGUSR1 and SIGUSR2 reach the whole group; the command keeps running"
start_command usr record "USR1 USR2"
for sig in USR1 USR2; do
  kill "-$sig" "$WRAPPER"
  wait_for "received usr child $sig && received usr grandchild $sig" 20 ||
    fail "SIG$sig: not recorded by both the child and the grandchild"
  proc_alive "$CHILD" || fail "SIG$sig: the command died"
  proc_alive "$GRANDCHILD" || fail "SIG$sig: the grandchild died"
  proc_alive "$WRAPPER" || fail "SIG$sig: the wrapper exited"
  assert_eq "$KEY" "$(office_keys usr)" "SIG$sig: keys after the signal"
  lease_alive "$(lease_hex_of "$KEY")" || fail "SIG$sig: the lease of our key is not alive"
done

step "a clean exit after SIGUSR1/SIGUSR2 gives the command's own code"
touch "$T/usr.release"
wait_exit "$WRAPPER" 20 || fail "wrapper still running 20 s after the command was told to exit"
assert_eq 7 "$RC" "exit code (the command exits 7)"
assert_eq 0 "$(key_count usr)" "keys after the wrapper exited"
assert_eq "$(printf '%s\n' 'child USR1' 'grandchild USR1' 'child USR2' 'grandchild USR2' | sort)" \
  "$(sort "$T/usr.log")" "signals recorded, each once"

# escalation TAG SIGNAL: a command ignoring SIGNAL, wrapper --kill-after 2s;
# SIGNAL goes to the wrapper. The command must still be alive 1.5 s after
# the signal was sent (SIGKILL is due 2 s after conch received it; the 0.5 s
# spare covers a poll delayed on a loaded machine) and dead by 20 s; the
# grandchild must have recorded SIGNAL before it died too; the wrapper
# exits 137 and leaves no key.
escalation() {
  local tag=$1 sig=$2 sent
  start_command "$tag" ignore "$sig" --kill-after 2s
  sent=$(now_ms)
  kill "-$sig" "$WRAPPER"
  watch_death "$CHILD" 20 || fail "SIG$sig: the command ignoring it is alive 20 s later"
  # The grandchild recorded the signal before SIGKILL reached it.
  received "$tag" grandchild "$sig" || fail "SIG$sig: the grandchild did not get it"
  echo "   SIG$sig: command last seen alive $((LAST_ALIVE_MS - sent)) ms after the signal"
  assert_le 1500 $((LAST_ALIVE_MS - sent)) "SIG$sig: ms the command was seen alive after the signal (--kill-after 2s)"
  wait_exit "$WRAPPER" 20 || fail "SIG$sig: wrapper still running 20 s after its command died"
  assert_eq 137 "$RC" "SIG$sig: exit code (the command was SIGKILLed)"
  proc_alive "$GRANDCHILD" && fail "SIG$sig: the grandchild outlived the wrapper"
  assert_eq 0 "$(key_count "$tag")" "SIG$sig: keys after the wrapper exited"
}

step "SIGINT to a command that ignores it: SIGKILL after --kill-after"
escalation esc_int INT

step "SIGHUP to a command that ignores it: SIGKILL after --kill-after"
escalation esc_hup HUP

step "SIGQUIT to a command that ignores it: SIGKILL after --kill-after"
escalation esc_quit QUIT

step "a lost hold: SIGTERM to the group, then SIGKILL after --kill-after, exit 70"
start_command loss ignore TERM --kill-after 2s
lost=$(now_ms)
take_hold "$KEY" || fail "could not take the hold of $KEY"
watch_death "$CHILD" 20 || fail "the command ignoring SIGTERM is alive 20 s after the loss"
received loss grandchild TERM || fail "the grandchild did not get SIGTERM after the loss"
echo "   command last seen alive $((LAST_ALIVE_MS - lost)) ms after the loss"
assert_le 1500 $((LAST_ALIVE_MS - lost)) "ms the command was seen alive after the loss (--kill-after 2s)"
wait_exit "$WRAPPER" 20 || fail "wrapper still running 20 s after its command died"
assert_eq 70 "$RC" "exit code after the loss"
proc_alive "$GRANDCHILD" && fail "the grandchild outlived the wrapper"
assert_eq 0 "$(key_count loss)" "keys after the wrapper exited"

pass
