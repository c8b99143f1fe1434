#!/usr/bin/env bash
# switchman under real faults. Each time the command's whole process group
# must be dead by the time switchman exits, and nothing of ours may stay in
# ZooKeeper:
#   - the session expired while switchman was stopped: 70;
#   - ZooKeeper frozen (SIGSTOP behind a proxy): the command is dead before
#     the session could expire on the server, and switchman exits 70;
#   - the lock node deleted from outside: 70;
#   - the host removed from the group while the command runs: SIGTERM at
#     once (the time from the edit is printed), the command's own status;
#   - SIGTERM while queued: the queue entry and the lease are gone at once;
#   - SIGHUP while running: the command dies with it (the original orphans
#     it);
#   - the command inherits no descriptor of ours (the original leaks its
#     ZooKeeper socket).
# stores: zookeeper
# (switchman keeps the Perl tool's layout, which is ZooKeeper's)
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/switchman.sh"
source "$_common_dir/../servers/proxy.sh"

sw_start
sw_conf '"termination_timeout": 1, "session_timeout": 4'

# child_script NAME: records the command's pid, starts a grandchild in the
# background that records its own, and waits.
child_script() {
  echo "echo \$\$ > '$T/$1.child.pid'; sleep 100 & echo \$! > '$T/$1.grandchild.pid'; wait"
}

# start_run NAME ARGS...: starts switchman ARGS -- child_script, waits for
# the grandchild; sets WRAPPER, CHILD and GRANDCHILD.
start_run() {
  local name=$1
  shift
  sw_bg "$name" "$@" -- sh -c "$(child_script "$name")"
  WRAPPER=$BG_PID
  wait_for "[[ -s $T/$name.grandchild.pid ]]" 30 || fail "$name: the command did not start"
  CHILD=$(<"$T/$name.child.pid")
  GRANDCHILD=$(<"$T/$name.grandchild.pid")
  proc_alive "$CHILD" || fail "$name: child not running"
  proc_alive "$GRANDCHILD" || fail "$name: grandchild not running"
}

# expect_end NAME CODE: switchman exits CODE, and the command's group is
# dead by then.
expect_end() {
  wait_exit "$WRAPPER" 30 || fail "$1: switchman still running 30 s later"
  assert_eq "$2" "$RC" "$1: exit status"
  proc_alive "$CHILD" && fail "$1: the command outlived switchman"
  proc_alive "$GRANDCHILD" && fail "$1: the grandchild outlived switchman"
  return 0
}

step "the session expired while switchman was stopped: 70, group killed"
start_run expire --lockname expire
kill -STOP "$WRAPPER"
wait_for "! zkctl exists $SW_PREFIX/locks/expire" 30 ||
  fail "the stopped run's lock did not expire"
kill -CONT "$WRAPPER"
expect_end expire 70

step "the lock node deleted from outside: 70, group killed"
start_run deleted --lockname deleted
start=$(now_ms)
zkctl rm "$SW_PREFIX/locks/deleted" || fail "could not delete the lock"
expect_end deleted 70
echo "   switchman exited $(($(now_ms) - start)) ms after the delete"
assert_match "It's not secure to proceed" "$(cat "$T/deleted.err")" "the warning"

step "lock deleted, the command ignores SIGTERM: SIGKILL termination_timeout later"
sw_bg stubborn --lockname stubborn -- sh -c "
  trap 'echo \$(date +%s%N) > $T/stubborn.term' TERM
  echo \$\$ > $T/stubborn.child.pid
  while :; do sleep 0.05; done"
WRAPPER=$BG_PID
wait_for "[[ -s $T/stubborn.child.pid ]]" 30 || fail "stubborn: the command did not start"
CHILD=$(<"$T/stubborn.child.pid")
GRANDCHILD=$CHILD
zkctl rm "$SW_PREFIX/locks/stubborn" || fail "could not delete the lock"
expect_end stubborn 70
[[ -s $T/stubborn.term ]] || fail "the command got no SIGTERM first"
term=$(<"$T/stubborn.term")
killed=$(date +%s%N)
# termination_timeout is 1 s: SIGKILL came no sooner after the SIGTERM.
assert_le 1000 $(((killed - term) / 1000000)) "SIGTERM to switchman's exit (ms)"

step "host removed from the group while running: SIGTERM at once"
sw_data "{\"groups\": {\"g\": [\"$SW_HOST\", \"other.example.com\"]}}"
sw_bg group -g g --lockname group -- sh -c "
  trap 'echo \$(date +%s%N) > $T/group.term; exit 0' TERM
  echo \$\$ > $T/group.child.pid
  while :; do sleep 0.05; done"
WRAPPER=$BG_PID
wait_for "[[ -s $T/group.child.pid ]]" 30 || fail "group: the command did not start"
CHILD=$(<"$T/group.child.pid")
GRANDCHILD=$CHILD
edit=$(date +%s%N)
sw_data '{"groups": {"g": ["other.example.com"]}}'
expect_end group 0
[[ -s $T/group.term ]] || fail "the command got no SIGTERM"
echo "   SIGTERM reached the command $((($(<"$T/group.term") - edit) / 1000000)) ms after the edit"
assert_match "is not serviced by the current host anymore" "$(cat "$T/group.err")" \
  "the original's message"

step "SIGTERM while queued: our queue entry and lease are gone at once"
sw_data '{"resources": ["rr"]}'
start_run holder --lockname holder --lease rr=1:1
holder_wrapper=$WRAPPER holder_child=$CHILD holder_grandchild=$GRANDCHILD
sw_bg waiter --lockname waiter --lease rr=1:1 -- true
waiter=$BG_PID
sw_log waiter "Semaphore rr is full|Added task in queue" || fail "the waiter did not queue"
# The holder left the queue once it held its lease; the waiter heads it.
assert_match "^$SW_PREFIX/queues/rr/waiter-[0-9]{10}\$" "$(sw_nodes $SW_PREFIX/queues/rr)" \
  "the queue while the waiter waits"
kill -TERM "$waiter"
wait_exit "$waiter" 20 || fail "the waiter did not leave on SIGTERM"
assert_eq 143 "$RC" "SIGTERM while queued"
assert_eq "" "$(sw_nodes "$SW_PREFIX/queues/rr")" \
  "the queue right after the waiter's exit"
assert_eq 1 "$(sw_nodes "$SW_PREFIX/semaphores/rr/leases" | wc -l)" \
  "leases right after the waiter's exit (the holder's only)"
WRAPPER=$holder_wrapper CHILD=$holder_child GRANDCHILD=$holder_grandchild
kill -TERM "$WRAPPER"
expect_end holder 143
assert_eq "" "$(sw_tree)" "nothing of ours left in ZooKeeper"

step "SIGHUP while running: the command dies too (the original orphans it)"
start_run hup --lockname hup
kill -HUP "$WRAPPER"
expect_end hup 129
zkctl exists "$SW_PREFIX/locks/hup" && fail "the lock outlived the run"

step "the command inherits no descriptor of switchman's own"
# What the test's shell passes down is the baseline: the same listing run
# directly.
run fds_direct sh -c 'ls /proc/$$/fd'
direct=$(echo $OUT)
sw fds --lockname fds -- sh -c 'ls /proc/$$/fd'
assert_eq 0 "$RC" "listing the command's descriptors"
assert_eq "$direct" "$(echo $OUT)" "the command's descriptors vs the same command run directly"

step "--no-lock: the session expired while switchman was stopped still stops the command: 70"
sw_data '{"resources": ["rr"]}'
start_run nolock --no-lock --lockname nolock --lease rr=1:1
sw_log nolock "Semaphore rr acquired" || fail "nolock: no lease"
kill -STOP "$WRAPPER"
wait_for "[[ -z \$(sw_nodes $SW_PREFIX/semaphores/rr/leases) ]]" 30 ||
  fail "the stopped run's lease did not expire"
kill -CONT "$WRAPPER"
expect_end nolock 70

step "a disconnect alone: the command keeps running and ends on its own"
proxy_start "$(store_endpoint 0)"
printf '{"zkhosts": "%s", "prefix": "%s", "termination_timeout": 1, "session_timeout": 4}\n' \
  "$PROXY_EP" "$SW_PREFIX" >"$SW_CONF"
sw_bg blip --lockname blip -- sh -c "echo \$\$ > $T/blip.pid; while [ ! -e $T/blip.go ]; do sleep 0.05; done"
WRAPPER=$BG_PID
wait_for "[[ -s $T/blip.pid ]]" 30 || fail "blip: the command did not start"
proxy_cmd cut || fail "the proxy does not answer"
wait_for "[[ \$(grep -c 'zookeeper: connected to' $T/blip.err) -ge 2 ]]" 30 ||
  fail "blip: switchman did not reconnect after the cut"
proc_alive "$(<"$T/blip.pid")" || fail "blip: the command was stopped by a disconnect"
touch "$T/blip.go"
wait_exit "$WRAPPER" 30 || fail "blip: switchman did not end with its command"
assert_eq 0 "$RC" "blip: the command's own status after a disconnect"

step "ZooKeeper frozen: the command is dead before the session could expire"
death_fifo frozen
sw_bg frozen --lockname frozen -- sh -c "exec 3>'$T/frozen.fifo'; echo \$\$ >'$T/frozen.pid'; exec sleep 60"
WRAPPER=$BG_PID
wait_for "[[ -s $T/frozen.pid ]]" 30 || fail "frozen: the command did not start"
granted=$(grep -Eo 'granted [0-9.]+m?s' "$T/frozen.err" | tail -n 1 | grep -Eo '[0-9.]+m?s')
assert_eq 4s "$granted" "the session timeout granted"
proxy_cmd "last up" || fail "the proxy does not answer"
last_up=$PROXY_ANSWER
store_freeze 0
wait_for "[[ -s $T/frozen.dead ]]" 30 || fail "the command still runs 30 s after the freeze"
dead=$(<"$T/frozen.dead")
echo "   the command was dead $((dead - last_up)) ms after the last bytes reached ZooKeeper (session: 4000 ms)"
assert_lt "$dead" $((last_up + 4000)) "the command's death vs the earliest session expiry"
wait_exit "$WRAPPER" 30 || fail "switchman still running 30 s after the freeze"
assert_eq 70 "$RC" "switchman's status after losing ZooKeeper"
store_thaw 0

pass
