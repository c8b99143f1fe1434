#!/usr/bin/env bash
# A ZooKeeper server older than 3.5 has no container nodes: it answers a
# container create with UNIMPLEMENTED and closes the connection (the
# session survives, and the client reconnects to it). conch then creates
# its parents as persistent nodes, says so under CONCH_DEBUG, and works as
# usual: elect, a handover between two wrappers, sema.
# stores: zookeeper
# (it emulates a ZooKeeper server older than 3.5, which has no container
# nodes: the test's 3.8 server behind a proxy that answers container
# creates as 3.4 does, see RefuseContainers in tests/servers/tcp_proxy.h)
#
# A client cannot read a node's kind: a 3.8 server reports ephemeralOwner 0
# for a container as for a persistent node (DataNode.getClientEphemeralOwner
# hides the container marker). What tells them apart is the server's
# container reaper (every 1 s here, see zk.sh): it deletes a container that
# has had children and is empty, and never a persistent node. So the last
# step lets the reaper delete the empty containers of a run made straight
# at the server, and then finds the offices made through the old server,
# empty for longer, still there.
source "$(dirname "$0")/common.sh"
source "$_common_dir/../servers/proxy.sh"

store_start
proxy_start "$(store_endpoint 0)"
old_server="zk://$PROXY_EP"
proxy_cmd "containers refuse" || fail "the proxy does not answer"
assert_eq ok "$PROXY_ANSWER" "the proxy's answer to 'containers refuse'"

# refused_now: sets REFUSED to how many container creates the proxy has
# refused so far. (Not through $(...): the proxy's coprocess fds are the
# script's own.)
refused_now() {
  proxy_cmd refused || fail "the proxy does not answer"
  REFUSED=$PROXY_ANSWER
  [[ $REFUSED =~ ^[0-9]+$ ]] || fail "the proxy's count of refused creates: [$REFUSED]"
}

# First, on a fresh store: no parent exists yet, so this run creates every
# one, through the old server.
step "elect through the old server falls back to persistent parents"
zkctl exists /conch && fail "/conch exists before the first run"
run first env CONCH_DEBUG=1 "$CONCH" elect --endpoints "$old_server" o1 -- true
assert_eq 0 "$RC" "elect through the old server"
[[ $ERR == *"the server has no container nodes"* ]] ||
  fail "no fallback line in elect's debug log"
refused_now
echo "   the proxy refused $REFUSED container create(s)"
assert_lt 0 "$REFUSED" "container creates the proxy refused"
zkctl exists /conch/v1/elect/o1 || fail "the office o1 is missing after its run"

# A new office, so that the holder itself meets the refusal (and the
# reconnect after it) before it holds; the waiter finds the office there.
step "a holder and a waiter through the old server hand over"
refused_now
before=$REFUSED
bg holder "$CONCH" elect --endpoints "$old_server" o3 -- \
  sh -c "$(holder_sleep_cmd "$T/h.pid")"
holder=$BG_PID
wait_for "[[ -s $T/h.pid ]] || ! proc_alive $holder" 30
[[ -s $T/h.pid ]] || fail "the holder's command did not start"
refused_now
assert_lt "$before" "$REFUSED" "container creates refused, before and after the holder started"
bg waiter "$CONCH" elect --endpoints "$old_server" o3 -- true
waiter=$BG_PID
wait_queued waiter || fail "the waiter did not queue"
kill -TERM "$holder"
wait_exit "$holder" 20 || fail "the holder still runs 20 s after SIGTERM"
assert_eq 143 "$RC" "the holder's exit code (its child got SIGTERM)"
wait_exit "$waiter" 30 || fail "the waiter did not run after the holder left"
assert_eq 0 "$RC" "the waiter's exit code"
assert_eq 0 "$(key_count o3)" "keys left in the office"

step "sema through the old server"
refused_now
before=$REFUSED
run sema "$CONCH" sema --endpoints "$old_server" s1 --max 1 -- true
assert_eq 0 "$RC" "sema through the old server"
refused_now
assert_lt "$before" "$REFUSED" "container creates refused, before and after sema"

# The reaper takes its candidates (empty containers) at the start of each
# pass, and deletes them through the server's request pipeline, in order.
# /conch/v1/sema/s2/1 is deleted in the first pass after the run below
# ends, and s2 only in a later pass (it had a child when that one began).
# o1, o3 and s1/1 were empty before s2/1 was created: were they containers,
# they would have been candidates of that first pass, and deleted before
# s2 is.
step "straight at the server, parents are containers: deleted when empty, unlike the old server's"
run direct "$CONCH" sema --endpoints "$ZK_URL" s2 --max 1 -- \
  "$ZK_TOOL" "$ZK_HOSTS" exists /conch/v1/sema/s2/1
assert_eq 0 "$RC" "sema straight at the server (its command checks /conch/v1/sema/s2/1 exists)"
wait_for "! zkctl exists /conch/v1/sema/s2" 30 ||
  fail "the server did not delete /conch/v1/sema/s2 once empty: not a container"
for node in /conch/v1/elect/o1 /conch/v1/elect/o3 /conch/v1/sema/s1/1; do
  zkctl exists "$node" ||
    fail "$node, made through the old server, was deleted when empty: a container"
done

pass
