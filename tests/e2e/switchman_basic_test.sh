#!/usr/bin/env bash
# switchman, the drop-in replacement for the Perl tool: the manual's
# examples run unchanged, the nodes land where the original puts them, and
# the exit statuses keep the original's contract with its fixes (a signal
# death is 128+N; -E/--exit-conflict and conflict_exit_code tell "did not
# run" from success). Also: `conch switchman` is the same tool, nodes are
# created on demand by racing first runs, and the log file has the
# original's line format.
# stores: zookeeper
# (switchman keeps the Perl tool's layout, which is ZooKeeper's)
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/switchman.sh"

sw_start

step "first runs racing on an empty ZooKeeper all succeed, and the prefix holds {}"
pids=()
for i in 1 2 3 4; do
  bg "first$i" "$SWITCHMAN" -c "$SW_CONF" --lockname "first$i" -- true
  pids+=("$BG_PID")
done
for p in "${pids[@]}"; do
  wait_exit "$p" 30 || fail "a first run did not finish"
  assert_eq 0 "$RC" "a first run racing others"
done
assert_eq "{}" "$(zkctl get "$SW_PREFIX")" "an auto-created prefix's data"

step "simple locking: switchman -- cmd"
sw plain -- sh -c 'echo ran'
assert_eq 0 "$RC" "a plain run"
assert_eq ran "$OUT" "the command's output"
assert_match "Executing sh -c echo ran" "$ERR" "the Executing line"

step "the lock is locks/<basename of CMD's first word> holding '<fqdn> <pid>'"
sw_bg holder -- /bin/sleep 30
holder=$BG_PID
wait_for "zkctl exists $SW_PREFIX/locks/sleep" 30 || fail "no lock node"
assert_eq "$SW_HOST $holder" "$(zkctl get $SW_PREFIX/locks/sleep)" "lock data"
stat=$(zkctl stat $SW_PREFIX/locks/sleep)
assert_match "ephemeralOwner=[0-9a-f]+" "$stat" "the lock is ephemeral"
[[ $stat == *"ephemeralOwner=0 "* ]] && fail "the lock node is not ephemeral"

step "a second run while the lock is held does not run: exit 0, or -E/config"
sw second -- sleep 1
assert_eq 0 "$RC" "lock held: the original's status"
assert_match "Lock $SW_PREFIX/locks/sleep already exists|Lock sleep already exists" "$ERR" \
  "the original's message"
sw second_e -E 3 -- sleep 1
assert_eq 3 "$RC" "lock held with -E 3"
sw second_long --exit-conflict=4 -- sleep 1
assert_eq 4 "$RC" "lock held with --exit-conflict=4"
sw_conf '"conflict_exit_code": 5'
sw second_conf -- sleep 1
assert_eq 5 "$RC" "lock held with conflict_exit_code 5"
sw second_both -E 6 -- sleep 1
assert_eq 6 "$RC" "the flag wins over the config key"
sw_conf

step "--no-lock runs while the lock is held"
sw nolock --no-lock -- sleep 0
assert_eq 0 "$RC" "--no-lock"
assert_match "Executing sleep 0" "$ERR" "--no-lock ran the command"
kill -TERM "$holder"
wait_exit "$holder" 20 || fail "the holder did not stop on SIGTERM"
assert_eq 143 "$RC" "SIGTERM to switchman: the command's death by SIGTERM"
zkctl exists $SW_PREFIX/locks/sleep && fail "the lock outlived its holder"

step "exit statuses: the command's code, 128+N for a signal, 126/127"
sw three -- sh -c 'exit 3'
assert_eq 3 "$RC" "the command's code"
assert_match "Child [0-9]+ exited with 3" "$ERR" "the original's warning"
sw killed -- sh -c 'kill -KILL $$'
assert_eq 137 "$RC" "killed by SIGKILL (the original exits 0)"
sw missing -- no-such-command-anywhere
assert_eq 127 "$RC" "command not found"
assert_match "Failed to exec" "$ERR" "exec failure message"

step "CMD as Perl's exec runs it: one word with metacharacters goes to sh"
sw shell -- "echo one > $T/shell.out"
assert_eq 0 "$RC" "a shell command"
assert_eq one "$(cat "$T/shell.out")" "the shell ran the redirect"
zkctl exists "$SW_PREFIX/locks/shell.out" || true  # lock is gone after the run
sw split -- "echo a   b"
assert_eq "a b" "$OUT" "one word without metacharacters is split"

step "queueing (a rolling release): switchman --lockname \$(hostname)-rr --lease rr=1:1"
sw_data '{"resources": ["rr"]}'
for i in 1 2 3; do
  sw_bg "rr$i" --lockname "host$i-rr" --lease rr=1:1 -- \
    sh -c "echo \$(date +%s%N) start >>$T/rr.log; sleep 0.3; echo \$(date +%s%N) end >>$T/rr.log"
  eval "rr_pid$i=$BG_PID"
  # Each queues before the next starts, so the order is theirs.
  sw_log "rr$i" "Added task in queue for rr" || fail "rr$i did not queue"
done
for i in 1 2 3; do
  eval "p=\$rr_pid$i"
  wait_exit "$p" 60 || fail "rr$i did not finish"
  assert_eq 0 "$RC" "rr$i"
done
assert_eq "start end start end start end" "$(awk '{print $2}' "$T/rr.log" | xargs)" \
  "one at a time"
assert_eq "" "$(sw_tree)" "nothing left under the prefix"

step "the same task queued twice: the second does not run"
sw_bg q1 --lockname same --lease rr=1:1 -- sleep 30
q1=$BG_PID
sw_log q1 "Executing" || fail "q1 did not run"
sw_bg q2 --lockname other --lease rr=1:1 -- true
q2=$BG_PID
sw_log q2 "is full|Added task in queue" || fail "q2 did not queue"
sw q3 --no-lock --lockname other --lease rr=1:1 -- true
assert_eq 0 "$RC" "already queued"
assert_match "already queued" "$ERR" "the already-queued debug line"
kill -TERM "$q1"
wait_exit "$q1" 20 || fail "q1 did not stop"
wait_exit "$q2" 30 || fail "q2 did not run after q1"
assert_eq 0 "$RC" "q2 ran once q1 had gone"

step "leasing local resources: FQDN_cpu=1:CPU, FQDN_mem=4096:MEMMB"
sw_data '{"resources": ["FQDN_cpu", "FQDN_mem"]}'
sw_bg local --lease FQDN_cpu=1:CPU --lease FQDN_mem=4096:MEMMB -- sleep 30
local_pid=$BG_PID
sw_log local "Executing" || fail "the local-resources example did not run"
cpus=$(getconf _NPROCESSORS_ONLN)
memmb=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
assert_match "^$SW_PREFIX/semaphores/${SW_HOST}_cpu/leases/1_${cpus}_[0-9]{10}\$" \
  "$(sw_nodes "$SW_PREFIX/semaphores/${SW_HOST}_cpu/leases")" "the cpu lease"
assert_match "^$SW_PREFIX/semaphores/${SW_HOST}_mem/leases/4096_${memmb}_[0-9]{10}\$" \
  "$(sw_nodes "$SW_PREFIX/semaphores/${SW_HOST}_mem/leases")" "the memory lease"
kill -TERM "$local_pid"
wait_exit "$local_pid" 20 || fail "the local-resources run did not stop"

step "the manual's expression: --lease FQDN_mem='4:int(MEMMB/1024)' leases 4 GB"
sw expr --lease FQDN_mem='4:int(MEMMB/1024)' -- true
assert_eq 0 "$RC" "the manual's lease expression"
assert_match "Semaphore ${SW_HOST}_mem acquired: $SW_PREFIX/semaphores/${SW_HOST}_mem/leases/4_$((memmb / 1024))_[0-9]{10}" \
  "$ERR" "the lease taken: 4 of int(MEMMB/1024)"

step "groups: -g runs only on the group's hosts, nested groups resolve"
sw_data "{\"groups\": {\"g1\": [\"$SW_HOST\"], \"g2\": \"other.example.com\", \"all\": [\"g2\", \"g1\"]}}"
sw ing -g g1 -- echo in
assert_eq in "$OUT" "a host of the group runs it"
sw nested -g all -- echo nested
assert_eq nested "$OUT" "a host of a subgroup runs it"
sw outg -g g2 -- echo out
assert_eq 0 "$RC" "not in the group: exit 0"
assert_eq "" "$OUT" "not in the group: not run"
sw outg_e -g g2 -E 9 -- echo out
assert_eq 9 "$RC" "not in the group with -E 9"

step "a chroot in zkhosts works, and is created when missing"
printf '{"zkhosts": "%s/apps/sw", "prefix": "%s"}\n' "$ZK_HOSTS" "$SW_PREFIX" >"$T/chroot.conf"
zkctl exists /apps && fail "/apps exists before the run"
run chroot "$SWITCHMAN" -c "$T/chroot.conf" --lockname chrooted -- \
  echo ran
assert_eq 0 "$RC" "a run under a missing chroot"
assert_eq ran "$OUT" "the command ran under the chroot"
assert_eq "{}" "$(zkctl get "/apps/sw$SW_PREFIX")" "the prefix under the chroot"
zkctl exists "/apps/sw$SW_PREFIX/locks" || fail "no locks node under the chroot"

step "conch switchman is the same tool"
run conch_sw "$CONCH" switchman -c "$SW_CONF" -- echo via-conch
assert_eq 0 "$RC" "conch switchman"
assert_eq via-conch "$OUT" "conch switchman ran the command"

step "-h and -v exit 1, as the original"
run help "$SWITCHMAN" -h
assert_eq 1 "$RC" "-h"
assert_match "lease RES=COUNT:TOTAL" "$OUT" "the manual"
run version "$SWITCHMAN" --version
assert_eq 1 "$RC" "--version"
assert_match "^switchman 1.16" "$OUT" "the version line"

step "the log file has the original's format, at loglevel and above"
sw_conf "\"logfile\": \"$T/sw.log\", \"loglevel\": \"info\""
sw logged -- true
assert_eq 0 "$RC" "a run with a log file"
assert_match "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}	\[[0-9]+\]	Executing true$" \
  "$(grep Executing "$T/sw.log")" "the Executing line in the log file"
grep -q "Lock $SW_PREFIX/locks/true taken" "$T/sw.log" &&
  fail "a debug line reached a log file at info"
sw_conf

pass
