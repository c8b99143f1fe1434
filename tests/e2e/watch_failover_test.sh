#!/usr/bin/env bash
# A queued waiter whose store member dies: on a 3-member cluster the waiter
# is connected to one member (the victim) while a holder that does not talk
# to the victim holds the office. The victim is SIGKILLed and the holder
# then leaves: the waiter must move to another member, learn of the
# release, and run its command.
#
# etcd: conch's gRPC channel talks to the first member listed that accepts,
# so the victim is m0 and the holder is given m1 and m2 only. ZooKeeper: the
# client picks a member at random; the holder is given the leader only, and
# the victim is the follower the waiter picked (killing the leader would
# stall every session until a new one is elected, a delay this test is not
# about).
source "$(dirname "$0")/common.sh"

store_start 3

# members_of PID: the indexes of the members PID has an established TCP
# connection to, one a line.
members_of() {
  local ports i
  ports=" $(ss -Htnp state established 2>/dev/null |
    awk -v who="pid=$1," 'index($0, who) {n = split($4, a, ":"); printf "%s ", a[n]}')"
  for i in 0 1 2; do
    [[ $ports == *" $(store_endpoint "$i" | sed 's/.*://') "* ]] && echo "$i"
  done
}

# victim_of CONNECTED: the member to kill when the waiter's connections go
# to the members CONNECTED (space-separated); fails when none fits.
victim_of() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    [[ " $1 " == *" 0 "* ]] && echo 0
  else
    [[ $1 =~ ^[0-2]$ && $1 != "$leader" ]] && echo "$1"
  fi
}

if [[ $CONCH_TEST_STORE == etcd ]]; then
  holder_members="1 2"
else
  wait_for "zk_leader >/dev/null" 20 || fail "the ensemble has no leader"
  leader=$(zk_leader)
  holder_members=$leader
fi

step "a holder that talks to members [$holder_members] only"
holder_eps=()
for i in $holder_members; do holder_eps+=("$(store_endpoint "$i")"); done
CONCH_ENDPOINTS=$(store_url "${holder_eps[@]}") bg holder "$CONCH" elect wf \
  -- sh -c "$(holder_sleep_cmd "$T/holder.pid")"
holder=$BG_PID
wait_for "[[ -s $T/holder.pid ]]" 20 || fail "holder's child did not start"
for i in $(members_of "$holder"); do
  [[ " $holder_members " == *" $i "* ]] || fail "the holder is connected to m$i although not given it"
done

step "a waiter on all three members, connected to a member the holder does not use"
# Should it connect elsewhere, the waiter withdraws and queues again, a few
# times at most.
waiter=
for attempt in 1 2 3 4 5 6 7 8; do
  bg "waiter$attempt" "$CONCH" elect wf -- sh -c "$(stamp waiter.ran)"
  waiter=$BG_PID
  { wait_queued "waiter$attempt" && wait_for "[[ \$(key_count wf) == 2 ]]" 20; } ||
    fail "waiter (attempt $attempt) did not queue"
  connected=$(members_of "$waiter" | paste -sd ' ')
  if victim=$(victim_of "$connected"); then
    echo "   the waiter (attempt $attempt) is connected to [$connected]"
    break
  fi
  echo "   the waiter (attempt $attempt) is connected to [$connected]; queueing again"
  kill -TERM "$waiter"
  wait_exit "$waiter" 20 || fail "waiter (attempt $attempt) still running 20 s after SIGTERM"
  assert_eq 143 "$RC" "exit code of a waiter withdrawn by SIGTERM"
  waiter=
done
[[ -n $waiter ]] || fail "no waiter connected to a member the holder does not use in 8 attempts"
survivors=$(for i in 0 1 2; do ((i != victim)) && echo "$i"; done | paste -sd ' ')
waiter_key=$(office_keys wf | tail -n 1)
[[ -e $T/waiter.ran ]] && fail "the waiter ran while the office was held"

step "SIGKILL m$victim, then the holder leaves"
if [[ $CONCH_TEST_STORE == etcd ]]; then
  # For the record: when m0 leads the cluster, the holder's release may
  # have to wait for a new raft leader.
  raft_leader=$(etcdctl_ endpoint status -w simple 2>/dev/null | awk -F', ' '$5 == "true" {print $1}')
  for i in 0 1 2; do
    [[ $raft_leader == "${ETCD_EPS[i]}" ]] && echo "   m$i leads the etcd cluster"
  done
fi
store_kill "$victim"
killed=$(now_ms)
kill -TERM "$holder"
wait_exit "$holder" 20 || fail "holder still running 20 s after SIGTERM"
assert_eq 143 "$RC" "holder's exit code (child 'sleep' got SIGTERM)"

step "the waiter is promoted through another member and runs its command"
wait_for "[[ -s $T/waiter.ran ]]" 30 || fail "the waiter did not run its command within 30 s"
echo "   the waiter's command started $(($(<"$T/waiter.ran") - killed)) ms after m$victim was killed"
wait_exit "$waiter" 20 || fail "waiter still running 20 s after its command ran"
assert_eq 0 "$RC" "waiter's exit code"
with_members "$survivors" lease_gone "$(lease_hex_of "$waiter_key")" ||
  fail "the waiter's lease is not gone after it exited"
assert_eq 0 "$(with_members "$survivors" key_count wf)" "keys at the end"

pass
