#!/usr/bin/env bash
# switchman and the original Perl tool share one cluster during a
# migration, in both directions. The nodes the Perl tool writes (made here
# by conch_switchman_peer, which follows its protocol node for node) are
# honoured by ours, and ours are honoured by the peer:
#   - locks: a peer's lock stops our run (exit 0, or -E), also one that
#     appears while ours waits for a lease; ours stops the peer's run
#     ("lock exists");
#   - queues: a peer's entry ahead of ours keeps ours waiting until it goes;
#     a peer's entry with our lock name makes ours "already queued", and
#     the other way round; runs of both kinds queued on one resource run in
#     their queue order;
#   - leases: the <count>_<total>_<seq> nodes count the same for both (a
#     lease that fits runs beside the peer's, one that does not waits for
#     it); a disagreeing TOTAL is a "Totals mismatch" for both, and ours
#     then leaves nothing behind;
#   - every node ours creates holds "<fqdn> <pid>" like the Perl tool's.
# stores: zookeeper
# (switchman keeps the Perl tool's layout, which is ZooKeeper's)
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/switchman.sh"

sw_start
sw_data '{"resources": ["rr", "res"]}'

# peer_holds NAME: waits until the peer started with `peer_bg NAME` prints
# the path of the node it holds (lock, queue or lease); sets PEER_NODE to
# that path.
peer_holds() {
  wait_for "[[ -s $T/$1.out ]]" 30 || fail "peer $1 holds nothing: $(cat "$T/$1.err")"
  PEER_NODE=$(head -n 1 "$T/$1.out")
}

# stop_bg PID NAME: SIGTERM to a background process (ours or the peer),
# then waits for its exit; RC is its status.
stop_bg() {
  kill -TERM "$1"
  wait_exit "$1" 30 || fail "$2 did not stop on SIGTERM"
}

# zk_watched PATH SESSION_HEX: true once that session has a watch on PATH
# (ZooKeeper's wchp lists each watched path, then its sessions, one a
# line, indented by a tab).
# shellcheck disable=SC2317 # called through wait_for
zk_watched() {
  local answer
  answer=$(zk_4lw 0 wchp) || return 1
  awk -v path="$1" -v sid="$(printf '0x%x' "$((16#$2))")" '
    /^\t/ { if (on && $1 == sid) found = 1; next }
    { on = ($0 == path) }
    END { exit !found }' <<<"$answer"
}

# marker_cmd NAME: a command that records its start in $T/NAME.ran, then
# waits to be stopped.
marker_cmd() {
  echo "echo ran > '$T/$1.ran'; exec sleep 60"
}

step "a lock written by the peer stops our run: exit 0, or -E 3"
peer_bg plock lock "$SW_PREFIX" shared
plock=$BG_PID
peer_holds plock
assert_eq "$SW_PREFIX/locks/shared" "$PEER_NODE" "the peer's lock"
assert_match "^[^ ]+ $plock\$" "$(zkctl get "$SW_PREFIX/locks/shared")" "the peer's lock data"
sw lock_held --lockname shared -- sh -c "echo ran > '$T/lock_held.ran'"
assert_eq 0 "$RC" "the lock is the peer's: the original's status"
assert_match "Lock shared already exists|Lock $SW_PREFIX/locks/shared already exists" "$ERR" \
  "the lock-held message"
sw lock_held_e -E 3 --lockname shared -- sh -c "echo ran > '$T/lock_held.ran'"
assert_eq 3 "$RC" "the lock is the peer's, with -E 3"
[[ -e $T/lock_held.ran ]] && fail "our run ran its command under the peer's lock"
stop_bg "$plock" "the peer's lock"
assert_eq 0 "$RC" "the peer's lock ended"

step "our lock stops the peer's run: \"lock exists\""
sw_bg ourlock --lockname shared -- sh -c "$(marker_cmd ourlock)"
ourlock=$BG_PID
sw_log ourlock "Lock $SW_PREFIX/locks/shared taken" || fail "our run did not take the lock"
assert_eq "$SW_HOST $ourlock" "$(zkctl get "$SW_PREFIX/locks/shared")" \
  "our lock node holds '<fqdn> <pid of switchman>'"
run peer_run_lock "$PEER" "$ZK_HOSTS" run "$SW_PREFIX" shared -- true
assert_eq 0 "$RC" "the peer's run under our lock"
assert_eq "lock exists" "$OUT" "the peer's verdict"
stop_bg "$ourlock" "our lock holder"

step "a peer's queue entry ahead of ours: ours waits, and runs once it goes"
peer_bg pqueue queue "$SW_PREFIX" rr ahead
pqueue=$BG_PID
peer_holds pqueue
pentry=$PEER_NODE
assert_match "^$SW_PREFIX/queues/rr/ahead-[0-9]{10}\$" "$pentry" "the peer's queue entry"
sw_bg behind --lockname behind --lease rr=1:1 -- sh -c "echo ran > '$T/behind.ran'"
behind=$BG_PID
sw_log behind "Added task in queue for rr: $SW_PREFIX/queues/rr/behind-[0-9]{10}" ||
  fail "ours did not queue"
ourentry=$(sw_nodes "$SW_PREFIX/queues/rr" | grep '/behind-')
assert_eq "$SW_HOST $behind" "$(zkctl get "$ourentry")" \
  "our queue entry holds '<fqdn> <pid of switchman>'"
# Ours watches the entry ahead of it: from then on it moves only when that
# entry goes, so "has not run" means something.
[[ $(cat "$T/behind.err") =~ session\ ([0-9a-f]+)\ granted ]] || fail "our session id"
wait_for "zk_watched '$pentry' ${BASH_REMATCH[1]}" 30 || fail "ours does not watch the peer's entry"
[[ -e $T/behind.ran ]] && fail "ours ran while the peer's entry was ahead of it"
grep -q "Semaphore rr" "$T/behind.err" && fail "ours went for the lease while not at the head"
proc_alive "$behind" || fail "ours exited while queued behind the peer"
stop_bg "$pqueue" "the peer's queue entry"
wait_exit "$behind" 30 || fail "ours did not run after the peer's entry went"
assert_eq 0 "$RC" "ours after the peer's entry went"
[[ -e $T/behind.ran ]] || fail "ours did not run its command"

step "a peer's queue entry with our lock name: ours is already queued"
peer_bg psame queue "$SW_PREFIX" rr twin
psame=$BG_PID
peer_holds psame
sw twin --lockname twin --lease rr=1:1 -- sh -c "echo ran > '$T/twin.ran'"
assert_eq 0 "$RC" "already queued by the peer"
assert_match "Task twin is already queued: $SW_PREFIX/queues/rr/twin-[0-9]{10}" "$ERR" \
  "the already-queued line names the peer's entry"
sw twin_e -E 3 --lockname twin --lease rr=1:1 -- sh -c "echo ran > '$T/twin.ran'"
assert_eq 3 "$RC" "already queued by the peer, with -E 3"
[[ -e $T/twin.ran ]] && fail "ours ran although the peer had queued its lock name"
assert_eq "$PEER_NODE" "$(sw_nodes "$SW_PREFIX/queues/rr")" "the queue: the peer's entry only"
stop_bg "$psame" "the peer's queue entry"

step "a peer's lease 2 of 4: ours with res=2:4 fits and runs beside it"
peer_bg please1 lease "$SW_PREFIX" res 2 4
please1=$BG_PID
peer_holds please1
plnode1=$PEER_NODE
assert_match "^$SW_PREFIX/semaphores/res/leases/2_4_[0-9]{10}\$" "$plnode1" "the peer's lease"
sw_bg fits --lockname fits --lease res=2:4 -- sh -c "$(marker_cmd fits)"
fits=$BG_PID
sw_log fits "Executing" || fail "ours did not run beside the peer's lease"
zkctl exists "$plnode1" || fail "the peer's lease went while ours ran"
ourlease=$(sw_nodes "$SW_PREFIX/semaphores/res/leases" | grep -vxF "$plnode1")
assert_match "^$SW_PREFIX/semaphores/res/leases/2_4_[0-9]{10}\$" "$ourlease" "our lease's name"
assert_eq "$SW_HOST $fits" "$(zkctl get "$ourlease")" \
  "our lease holds '<fqdn> <pid of switchman>'"
assert_eq "" "$(sw_nodes "$SW_PREFIX/semaphores/res/lock")" \
  "the semaphore's mutex once ours holds its lease"

step "a third lease does not fit: the peer's says full, ours waits for a release"
run peer_third "$PEER" "$ZK_HOSTS" lease "$SW_PREFIX" res 2 4
assert_eq 11 "$RC" "the peer's third lease"
assert_eq full "$OUT" "the peer's verdict on a third lease"
sw_bg third --lockname third --lease res=2:4 -- sh -c "$(marker_cmd third)"
third=$BG_PID
sw_log third "Semaphore res is full \(4 of 4 in use\); waiting" || fail "our third did not wait"
[[ -e $T/third.ran ]] && fail "our third ran with the semaphore full"
stop_bg "$please1" "the peer's lease"
sw_log third "Semaphore res acquired: $SW_PREFIX/semaphores/res/leases/2_4_[0-9]{10}" ||
  fail "our third did not take the lease the peer released"
wait_for "[[ -s $T/third.ran ]]" 30 || fail "our third did not run"
stop_bg "$third" "our third"
stop_bg "$fits" "ours beside the peer"
assert_eq "" "$(sw_tree)" "nothing left once all have gone"

step "ours with res=3:4 waits until the peer's 2 of 4 go"
peer_bg please2 lease "$SW_PREFIX" res 2 4
please2=$BG_PID
peer_holds please2
sw_bg big --lockname big --lease res=3:4 -- sh -c "$(marker_cmd big)"
big=$BG_PID
sw_log big "Semaphore res is full \(2 of 4 in use\); waiting" || fail "ours with 3 of 4 did not wait"
[[ -e $T/big.ran ]] && fail "ours with 3 of 4 ran beside the peer's 2 of 4"
stop_bg "$please2" "the peer's lease"
wait_for "[[ -s $T/big.ran ]]" 30 || fail "ours with 3 of 4 did not run once the peer's lease went"
stop_bg "$big" "ours with 3 of 4"

step "totals mismatch: the peer holds res of 4, ours asks res=1:5 -> 65, nothing left"
peer_bg please3 lease "$SW_PREFIX" res 2 4
please3=$BG_PID
peer_holds please3
plnode3=$PEER_NODE
sw mismatch --lockname mismatch --lease res=1:5 -- sh -c "echo ran > '$T/mismatch.ran'"
assert_eq 65 "$RC" "a lease whose total disagrees with the peer's"
assert_match "Totals mismatch: $plnode3" "$ERR" "the message names the peer's lease"
[[ -e $T/mismatch.ran ]] && fail "ours ran despite the totals mismatch"
assert_eq "" "$(sw_nodes "$SW_PREFIX/queues/res")" "the res queue after the mismatch"
assert_eq "" "$(sw_nodes "$SW_PREFIX/semaphores/res/lock")" "the res mutex after the mismatch"
assert_eq "$plnode3" "$(sw_nodes "$SW_PREFIX/semaphores/res/leases")" \
  "the res leases after the mismatch: the peer's only"
stop_bg "$please3" "the peer's lease"

step "totals mismatch the other way: ours holds res of 4, the peer's of 5 exits 3"
sw_bg hold4 --lockname hold4 --lease res=1:4 -- sh -c "$(marker_cmd hold4)"
hold4=$BG_PID
wait_for "[[ -s $T/hold4.ran ]]" 30 || fail "ours did not take res=1:4"
run peer_mismatch "$PEER" "$ZK_HOSTS" lease "$SW_PREFIX" res 1 5
assert_eq 3 "$RC" "the peer's lease with another total"
assert_match "Totals mismatch" "$ERR" "the peer's message"
stop_bg "$hold4" "ours holding res=1:4"

step "our rr=1:1 lease leaves the peer's rr 1 1 no room: full"
sw_bg rrhold --lockname rrhold --lease rr=1:1 -- sh -c "$(marker_cmd rrhold)"
rrhold=$BG_PID
wait_for "[[ -s $T/rrhold.ran ]]" 30 || fail "ours did not take rr=1:1"
run peer_full "$PEER" "$ZK_HOSTS" lease "$SW_PREFIX" rr 1 1
assert_eq 11 "$RC" "the peer's lease while ours holds rr"
assert_eq full "$OUT" "the peer's verdict"

step "ours queued: the peer's run with the same lock name is already queued"
sw_bg rrwait --lockname rrwait --lease rr=1:1 -- sh -c "echo ran > '$T/rrwait.ran'"
rrwait=$BG_PID
sw_log rrwait "Semaphore rr is full" || fail "ours did not wait for rr"
run peer_twin "$PEER" "$ZK_HOSTS" run "$SW_PREFIX" rrwait --lease rr=1:1 -- true
assert_eq 0 "$RC" "the peer's run of a lock name we queued"
assert_eq "already queued" "$OUT" "the peer's verdict"
stop_bg "$rrwait" "our queued run"

step "a peer's lock that appears while ours waits for a lease: ours leaves without running"
sw_bg latelock --lockname latelock --lease rr=1:1 -- sh -c "echo ran > '$T/latelock.ran'"
latelock=$BG_PID
sw_log latelock "Semaphore rr is full" || fail "ours did not wait for rr"
peer_bg plate lock "$SW_PREFIX" latelock
plate=$BG_PID
peer_holds plate
wait_exit "$latelock" 30 || fail "ours kept waiting after the peer took its lock"
assert_eq 0 "$RC" "the lock appeared while waiting: the original's status"
assert_match "Lock watch received while waiting for rr" "$(cat "$T/latelock.err")" \
  "the lock-appeared message"
[[ -e $T/latelock.ran ]] && fail "ours ran although the peer took its lock"
assert_eq "" "$(sw_nodes "$SW_PREFIX/queues/rr")" "rr's queue after ours left"
stop_bg "$plate" "the peer's lock"
stop_bg "$rrhold" "ours holding rr"
assert_eq "" "$(sw_tree)" "nothing left before the FIFO round"

step "FIFO across both: peer A holds rr, then ours B and peer C queue; A, B, C run in order"
# fifo_cmd [GATE]: a command for `sh -c CMD NAME` that appends
# "<ns> NAME start" and "<ns> NAME end" to $T/fifo.log, waiting for GATE (a
# file) in between if given.
fifo_cmd() {
  # shellcheck disable=SC2016 # expanded by the command's shell
  local line='echo "$(date +%s%N) $0'
  local gate=
  [[ -n ${1:-} ]] && gate="while [ ! -e '$1' ]; do sleep 0.05; done;"
  echo "$line start\" >>'$T/fifo.log'; $gate sleep 0.2; $line end\" >>'$T/fifo.log'"
}
bg fifoA "$PEER" "$ZK_HOSTS" run "$SW_PREFIX" fifoA --lease rr=1:1 -- \
  sh -c "$(fifo_cmd "$T/fifo.gate")" A
fifoA=$BG_PID
wait_for "grep -qx running '$T/fifoA.out'" 30 || fail "peer A did not run"
sw_bg fifoB --lockname fifoB --lease rr=1:1 -- sh -c "$(fifo_cmd)" B
fifoB=$BG_PID
sw_log fifoB "Semaphore rr is full" || fail "ours (B) did not wait behind A"
bg fifoC "$PEER" "$ZK_HOSTS" run "$SW_PREFIX" fifoC --lease rr=1:1 -- sh -c "$(fifo_cmd)" C
fifoC=$BG_PID
wait_for "sw_nodes '$SW_PREFIX/queues/rr' | grep -q '/fifoC-'" 30 || fail "peer C did not queue"
assert_match "/fifoB-[0-9]{10} [^ ]+/fifoC-[0-9]{10}\$" "$(sw_nodes "$SW_PREFIX/queues/rr" | xargs)" \
  "the queue: B, then C"
[[ -e $T/fifo.log ]] && grep -q ' [BC] ' "$T/fifo.log" && fail "B or C ran while A held rr"
touch "$T/fifo.gate"
for p in "$fifoA" "$fifoB" "$fifoC"; do
  wait_exit "$p" 60 || fail "run $p of the FIFO round did not finish"
  assert_eq 0 "$RC" "run $p of the FIFO round"
done
assert_eq "A start A end B start B end C start C end" \
  "$(awk '{print $2, $3}' "$T/fifo.log" | xargs)" "one at a time, in queue order"
assert_eq "$(sort -n "$T/fifo.log")" "$(cat "$T/fifo.log")" "the stamps grow"
assert_eq "" "$(sw_tree)" "nothing left under the prefix"

pass
