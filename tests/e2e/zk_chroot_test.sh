#!/usr/bin/env bash
# A chroot in a ZooKeeper address (zk://hosts/a/b/c) is a root of conch's
# own: every node lives under it, nothing is written outside it, and a
# chroot that does not exist yet is created on first use, its missing
# ancestors too, as containers like every other parent. elect, --who and
# sema all work through it.
# stores: zookeeper
# (a chroot is a ZooKeeper address's; etcd has no such thing)
source "$(dirname "$0")/common.sh"

store_start
chroot=/apps/team-a/conch
url="$ZK_URL$chroot"

step "a run under a chroot that does not exist creates it and holds there"
zkctl exists /apps && fail "/apps exists before the first run"
bg holder "$CONCH" elect --endpoints "$url" co -- \
  sh -c "$(holder_sleep_cmd "$T/holder.pid")"
holder=$BG_PID
wait_for "[[ -s $T/holder.pid ]]" 30 || fail "the command did not start under a new chroot"
mine=$(zkctl ls "$chroot/conch/v1/elect/co")
assert_match "^$chroot/conch/v1/elect/co/[0-9a-f]+-[0-9]{10}\$" "$mine" \
  "the holder's node, under the chroot"
zkctl exists /conch && fail "a /conch node was written outside the chroot"

step "--who through the chroot names the holder; without it, nobody"
run who "$CONCH" elect --endpoints "$url" co --who
assert_eq 0 "$RC" "--who through the chroot"
assert_match "^co $HOST pid=$holder " "$OUT" "--who through the chroot"
run who_root "$CONCH" elect --endpoints "$ZK_URL" co --who
assert_eq 1 "$RC" "--who outside the chroot finds the office vacant"

step "a waiter under the same chroot queues behind the holder"
bg waiter "$CONCH" elect --endpoints "$url" co -- true
waiter=$BG_PID
wait_queued waiter || fail "the waiter did not queue"
assert_eq 2 "$(zkctl ls "$chroot/conch/v1/elect/co" | wc -l)" \
  "nodes under the chroot's office"
kill -TERM "$holder"
wait_exit "$holder" 20 || fail "the holder still runs 20 s after SIGTERM"
wait_exit "$waiter" 30 || fail "the waiter did not run after the holder left"
assert_eq 0 "$RC" "the waiter's exit code"
assert_eq "" "$(zkctl ls "$chroot/conch/v1/elect/co")" "nodes left under the office"

step "sema under another new chroot"
run sema "$CONCH" sema --endpoints "$ZK_URL/other/deep/root" sc --max 2 -- true
assert_eq 0 "$RC" "sema under a new chroot"
zkctl exists /other/deep/root/conch || fail "sema wrote nothing under its chroot"
zkctl exists /conch && fail "sema wrote a /conch node outside its chroot"

pass
