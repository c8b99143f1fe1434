#!/usr/bin/env bash
# The demo command: a short, narrated, live demo of leader election with
# `conch elect`, against a throwaway etcd on 127.0.0.1 that is removed again
# at the end.
#
# usage: scripts/demo.sh
# env:   CONCH_BIN  use this conch binary and skip the build (default: build
#                   the `conch` target into build/ and use build/conch)
# The child commands below are single-quoted on purpose: they expand in the child.
# shellcheck disable=SC2016
set -euo pipefail

case ${1:-} in
  "") ;;
  -h|--help) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "demo: unknown argument: $1 (try --help)" >&2; exit 2 ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
# shellcheck source=scripts/lib/etcd.sh
source scripts/lib/etcd.sh

OFFICE=demo-office
T0=$(date +%s%N)
say() { printf '\n[%s] %s\n' "$(date +%T.%3N)" "$*"; }
die() { printf '\ndemo: FAILED: %s\n' "$*" >&2; exit 1; }

WORK=$(mktemp -d -t conch-demo.XXXXXX)
A_PID="" B_PID=""
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM HUP
  for pid in $A_PID $B_PID; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $A_PID $B_PID; do wait "$pid" 2>/dev/null || true; done
  if [[ -n $ETCD_PID ]]; then
    echo "demo: stopping etcd (pid $ETCD_PID) and removing $WORK"
  fi
  etcd_stop
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

echo "demo: step 1/3, dependencies"
scripts/install-deps.sh

if [[ -n ${CONCH_BIN:-} ]]; then
  echo "demo: step 2/3, using CONCH_BIN=$CONCH_BIN (no build)"
  CONCH=$CONCH_BIN
else
  echo "demo: step 2/3, building the conch binary (the first build takes a while)"
  if ! { cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
         cmake --build build -j"$(nproc)" --target conch; } >"$WORK/build.log" 2>&1; then
    tail -n 40 "$WORK/build.log" >&2
    die "build failed (last 40 lines above)"
  fi
  CONCH=$ROOT/build/conch
fi
[[ -x $CONCH ]] || die "no conch binary at $CONCH"

echo "demo: step 3/3, starting a throwaway etcd"
etcd_start "$WORK" || die "etcd did not start (log: $WORK/etcd.log)"
export CONCH_ENDPOINTS=$ETCD_ENDPOINT
echo "demo: etcd is up on $ETCD_ENDPOINT, data in $WORK/etcd"

cat <<EOF

============================================================================
 Leader election with conch
============================================================================
Two contenders, A and B, want to run a command as the single holder of the
office "$OFFICE". Only one may run at a time; the other waits in line and
takes over the moment the first one's command exits. Both use:

  conch elect $OFFICE --ttl 3s --kill-after 1s -- <command>
EOF

# Each command prints a few stamped lines; A's also stamps the moment it
# exits and B's the moment it starts, so the handover can be measured.
A_CMD='echo "  A| got the office at $(date +%T.%3N) (CONCH_NAME=${CONCH_NAME:-?} CONCH_REV=${CONCH_REV:-?})"
for i in 1 2 3 4; do echo "  A| working, step $i of 4, $(date +%T.%3N)"; sleep 0.5; done
echo "  A| done, exiting at $(date +%T.%3N)"
date +%s%N > "$1/a_exit"'
B_CMD='date +%s%N > "$1/b_start"
echo "  B| got the office at $(date +%T.%3N) (CONCH_NAME=${CONCH_NAME:-?} CONCH_REV=${CONCH_REV:-?})"
for i in 1 2; do echo "  B| working, step $i of 2, $(date +%T.%3N)"; sleep 0.3; done
echo "  B| done, exiting at $(date +%T.%3N)"'

conch_who() { timeout 10 "$CONCH" elect "$OFFICE" --who; }

say "Before anyone campaigns, the office is vacant:"
echo "  \$ conch elect $OFFICE --who"
set +e; out=$(conch_who 2>&1); rc=$?; set -e
echo "  ${out:-(no output)}   [exit $rc]"
[[ $rc -eq 1 ]] || die "'conch elect $OFFICE --who' should exit 1 while the office is vacant, got $rc"

say "Contender A campaigns. Nobody holds the office, so A wins at once and its command starts:"
timeout 60 "$CONCH" elect "$OFFICE" --ttl 3s --kill-after 1s -- sh -c "$A_CMD" sh "$WORK" &
A_PID=$!
# Wait until A holds the office (its first line is printed by then).
for ((i = 0; i < 200; i++)); do
  conch_who >/dev/null 2>&1 && break
  is_alive=$(kill -0 "$A_PID" 2>/dev/null && echo 1 || echo 0)
  ((is_alive)) || die "contender A exited before it held the office"
  sleep 0.05
done
conch_who >/dev/null 2>&1 || die "contender A did not get the office within 10 s"

say "Contender B campaigns for the same office. A holds it, so B waits in line:"
timeout 60 "$CONCH" elect "$OFFICE" --ttl 3s --kill-after 1s -- sh -c "$B_CMD" sh "$WORK" &
B_PID=$!
sleep 0.3
kill -0 "$B_PID" 2>/dev/null || die "contender B exited instead of waiting"
[[ ! -e $WORK/b_start ]] || die "B's command started while A held the office"

say "Who holds the office now? (asked from a third shell)"
echo "  \$ conch elect $OFFICE --who"
conch_who | sed 's/^/  /' || die "'conch elect $OFFICE --who' failed while A holds the office"
echo "  In etcd, each contender is one key under /conch/v1/elect/$OFFICE/;"
echo "  the oldest key is the holder, the others are the queue:"
ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINT" get --prefix --keys-only \
  "/conch/v1/elect/$OFFICE/" | grep . | sed 's/^/    /'

say "Now we wait: A's command works for about 2 s more; the moment it exits, B's starts."
set +e; wait "$A_PID"; a_rc=$?; set -e; A_PID=""
echo "  (A's conch exited with $a_rc, its command's exit code)"
set +e; wait "$B_PID"; b_rc=$?; set -e; B_PID=""
echo "  (B's conch exited with $b_rc, its command's exit code)"
[[ $a_rc -eq 0 && $b_rc -eq 0 ]] || die "a contender exited non-zero (A $a_rc, B $b_rc)"
[[ -s $WORK/a_exit && -s $WORK/b_start ]] || die "a command did not run to the end"

handover_us=$((($(cat "$WORK/b_start") - $(cat "$WORK/a_exit")) / 1000))
say "Handover: B's command started $((handover_us / 1000)).$(printf '%03d' $((handover_us % 1000))) ms after A's command exited."

say "Both are done and released the office, so it is vacant again:"
echo "  \$ conch elect $OFFICE --who"
set +e; out=$(conch_who 2>&1); rc=$?; set -e
echo "  ${out:-(no output)}   [exit $rc]"
[[ $rc -eq 1 ]] || die "'conch elect $OFFICE --who' should exit 1 once both released, got $rc"

elapsed_ms=$((($(date +%s%N) - T0) / 1000000))
say "Demo finished in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s."
