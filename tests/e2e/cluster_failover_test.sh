#!/usr/bin/env bash
# A 3-member cluster loses the member the wrapper talks to. With --ttl 5s
# --kill-after 1s the wrapper must move to another member in time: the child
# keeps running and the wrapper keeps its hold.
#
# The member killed (the victim) is never the one that leads the cluster
# (etcd's raft leader, ZooKeeper's leader): killing it would also stop
# renewals on the others until they elect a new one, a second delay this
# test is not about. conch's etcd client is one gRPC channel over all
# endpoints under pick_first, so it talks to one member at a time: the first
# in the list that accepts, here m0, which the script makes a raft follower
# first. ZooKeeper's client picks a member at random: the victim is the
# follower it picked. The script checks that the wrapper's connection really
# goes to the victim (and starts it again if not) before it kills it, so the
# failover is exercised on every run; a run in which it was not is a
# failure, never a pass.
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

# raft_leader: the index of the etcd member that leads the raft group.
raft_leader() {
  local i
  for i in "${!ETCD_EPS[@]}"; do
    ETCD_ENDPOINTS=${ETCD_EPS[i]} etcdctl_ endpoint status 2>/dev/null |
      awk -F', ' '$5 == "true" {found = 1} END {exit !found}' && echo "$i" && return 0
  done
  return 1
}

# member_id I: etcd member I's id in hex, as etcdctl prints it.
member_id() {
  ETCD_ENDPOINTS=${ETCD_EPS[$1]} etcdctl_ endpoint status | awk -F', ' '{print $2}'
}

# victim_of CONNECTED: the member to kill when the wrapper's connections go
# to the members CONNECTED (space-separated); fails when none fits.
victim_of() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    [[ $1 == 0 ]] && echo 0
  else
    [[ $1 =~ ^[0-2]$ && $(zk_mode "$1") == follower ]] && echo "$1"
  fi
}

if [[ $CONCH_TEST_STORE == etcd ]]; then
  step "m0 is a raft follower"
  wait_for "raft_leader >/dev/null" 20 || fail "the cluster has no raft leader"
  if [[ $(raft_leader) == 0 ]]; then
    ETCD_ENDPOINTS=${ETCD_EPS[0]} etcdctl_ move-leader "$(member_id 1)" >/dev/null ||
      fail "move-leader from m0 to m1"
    wait_for "[[ \$(raft_leader) == [12] ]]" 20 || fail "m0 still leads the raft group"
    echo "   moved the raft leadership from m0 to m$(raft_leader)"
  fi
fi

step "start a holder against all three members until it talks to a follower alone"
wrapper=
for attempt in 1 2 3 4 5 6; do
  bg "holder$attempt" "$CONCH" elect cf --ttl 5s --kill-after 1s \
    -- sh -c "$(holder_sleep_cmd "$T/child$attempt.pid")"
  candidate=$BG_PID
  wait_for "[[ -s $T/child$attempt.pid ]]" 30 || fail "attempt $attempt: child did not start"
  # The key is written, so the client is connected: to which member?
  wait_for "[[ -n \$(members_of $candidate) ]]" 20 ||
    fail "attempt $attempt: no connection from the wrapper to any member"
  connected=$(members_of "$candidate" | paste -sd ' ')
  if victim=$(victim_of "$connected"); then
    wrapper=$candidate
    child=$(<"$T/child$attempt.pid")
    break
  fi
  echo "   attempt $attempt: the wrapper talks to member(s) [$connected], not a follower alone; again"
  kill -TERM "$candidate"
  wait_exit "$candidate" 20 || fail "attempt $attempt: wrapper still running 20 s after SIGTERM"
  assert_eq 143 "$RC" "attempt $attempt: wrapper exit code after SIGTERM"
  wait_for "[[ \$(key_count cf) == 0 ]]" 20 || fail "attempt $attempt: key left behind"
done
[[ -n $wrapper ]] || fail "in 6 attempts the wrapper never talked to a follower alone"
survivors=$(for i in 0 1 2; do ((i != victim)) && echo "$i"; done | paste -sd ' ')
echo "   the wrapper talks to m$victim; the survivors are [$survivors]"
key=$(office_keys cf)
[[ $key =~ $(key_re /conch/v1/elect/cf/) ]] || fail "unexpected keys [$key]"

step "SIGKILL m$victim: the wrapper reconnects to another member"
store_kill "$victim"
killed=$(now_ms)
wait_for "[[ -n \$(members_of $wrapper | grep -vx $victim) ]]" 20 ||
  fail "the wrapper did not connect to another member within 20 s of m$victim's death"
echo "   the wrapper talks to m$(members_of "$wrapper" | head -n 1) \
$(($(now_ms) - killed)) ms after m$victim was killed"

step "for longer than the 5 s TTL after m$victim's death, the child and the wrapper stay"
# A lease still alive after more than its TTL was renewed through the
# survivors.
while (($(now_ms) - killed < 8000)); do
  proc_alive "$child" || { fail "child died $(($(now_ms) - killed)) ms after m$victim was killed"; break; }
  proc_alive "$wrapper" || { fail "wrapper exited $(($(now_ms) - killed)) ms after m$victim was killed"; break; }
  sleep 0.1
done

step "the key is still ours and its lease alive, seen from the survivors"
assert_eq "$key" "$(with_members "$survivors" office_keys cf)" "keys under cf"
with_members "$survivors" lease_alive "$(lease_hex_of "$key")" ||
  fail "the lease of our key is not alive"

step "SIGTERM: the wrapper stops its child and releases through the survivors"
kill -TERM "$wrapper"
wait_exit "$wrapper" 20 || fail "wrapper still running 20 s after SIGTERM"
assert_eq 143 "$RC" "wrapper exit code (child 'sleep' got SIGTERM)"
assert_eq 0 "$(with_members "$survivors" key_count cf)" "keys after the wrapper exited"

pass
