#!/usr/bin/env bash
# cluster_soak.sh: a randomized soak of `conch elect --restart` against a
# 3-member store whose members are killed and started again, one at a
# time, for as long as asked. Not part of ctest (it runs for minutes); run
# it by hand or before a release:
#
#   tests/soak/cluster_soak.sh [--store etcd|zookeeper] [--seconds N]
#                              [--wrappers K] [--seed S]
#
# Defaults: etcd, 300 s, 4 wrappers, a seed from $RANDOM (printed, so a run
# can be repeated). CONCH_BIN selects the binary (default build/conch).
#
# K wrappers compete for one office with --restart, --ttl 5s and
# --kill-after 1s; each command holds for 0.1-1 s. Meanwhile the chaos loop
# picks a member at random (the cluster's leader included), SIGKILLs it,
# leaves it down for 1-4 s, starts it again on its old ports and data, and
# waits until it serves before the next round, so a quorum is always up.
#
# It fails (exit 1) when:
#  - two commands ran at once: each command takes a marker directory with
#    its pid in it, and finds the previous holder's pid dead (a holder
#    killed by SIGKILL leaves its marker behind, which is fine as long as
#    its process is gone);
#  - a wrapper ended on its own (with --restart only a signal ends one);
#  - a wrapper reported the store unreachable while a quorum was up
#    ("unreachable at" naming every member), the failure a call in flight
#    on a dying member used to cause;
#  - no command completed at all.
# Holds lost to a fault (exit 70 of one round, then a new round) are
# counted and reported, not failed: they are the fail-closed rule at work.
source "$(dirname "$0")/../e2e/common.sh"

store=${CONCH_TEST_STORE:-etcd}
seconds=300
wrappers=4
seed=$RANDOM
while (($#)); do
  case $1 in
    --store) store=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --wrappers) wrappers=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "usage: $0 [--store etcd|zookeeper] [--seconds N] [--wrappers K] [--seed S]" >&2
       exit 64 ;;
  esac
done
[[ $store == etcd || $store == zookeeper ]] || { echo "unknown store $store" >&2; exit 64; }
CONCH_TEST_STORE=$store
RANDOM=$seed
echo "soak: store $store, $seconds s, $wrappers wrappers, seed $seed"

store_restart() {
  if [[ $store == etcd ]]; then etcd_restart "$1"; else zk_restart "$1"; fi
}

store_start 3

# The command: take the marker, hold for 0.1-1 s, give it back.
marker=$T/holder
cat >"$T/cmd.sh" <<EOF
#!/bin/sh
if ! mkdir "$marker" 2>/dev/null; then
  old=\$(cat "$marker/pid" 2>/dev/null)
  if [ -n "\$old" ] && kill -0 "\$old" 2>/dev/null; then
    echo "overlap: \$\$ started while \$old runs, \$(date +%T.%N)" >>"$T/violations"
  fi
  rm -rf "$marker"
  mkdir "$marker" 2>/dev/null
fi
echo \$\$ >"$marker/pid"
echo "start \$\$ \$(date +%s%N)" >>"$T/runs"
sleep 0.\$(( (\$\$ % 9) + 1 ))
rm -rf "$marker"
echo "end \$\$ \$(date +%s%N)" >>"$T/runs"
EOF
chmod +x "$T/cmd.sh"
: >"$T/runs"

step "start $wrappers wrappers"
pids=()
for ((w = 0; w < wrappers; w++)); do
  bg "w$w" "$CONCH" elect soak --restart --ttl 5s --kill-after 1s -- "$T/cmd.sh"
  pids+=("$BG_PID")
done
wait_for "[[ \$(grep -c '^end ' '$T/runs') -ge 1 ]]" 60 || fail "no command completed within 60 s"

step "chaos for $seconds s"
faults=0
end=$((SECONDS + seconds))
while ((SECONDS < end)); do
  sleep "$((RANDOM % 4 + 1)).$((RANDOM % 10))"
  victim=$((RANDOM % 3))
  store_kill "$victim"
  faults=$((faults + 1))
  sleep "$((RANDOM % 3 + 1)).$((RANDOM % 10))"
  store_restart "$victim" || fail "member $victim did not come back"
  for p in "${pids[@]}"; do
    proc_alive "$p" || fail "wrapper $p ended on its own (fault $faults)"
  done
done

step "stop the wrappers"
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${pids[@]}"; do wait_exit "$p" 30 || fail "wrapper $p still runs 30 s after SIGTERM"; done

runs=$(grep -c '^end ' "$T/runs")
lost=$(cat "$T"/w*.err | grep -c 'lost\|fail-closed' || true)
unreachable=$(cat "$T"/w*.err | grep -c 'unreachable at' || true)
echo "soak: $faults member kills, $runs commands completed, $lost hold losses reported, $unreachable 'unreachable' errors"
grep -h 'lost\|fail-closed' "$T"/w*.err | sed 's/^/   /' | head -20
if [[ -s $T/violations ]]; then
  cat "$T/violations" >&2
  fail "two commands ran at once"
fi
((runs > 0)) || fail "no command completed"
((unreachable == 0)) || {
  grep -h 'unreachable at' "$T"/w*.err | head -5 >&2
  fail "a wrapper called the store unreachable while a quorum was up"
}
pass
