#!/usr/bin/env bash
# conch with gRPC, protobuf and absl linked statically (CONCH_STATIC_GRPC=ON,
# the default) versus shared (=OFF): what each binary loads, how fast it
# starts, and the whole of bench/elect_vs_etcdctl.sh with both side by side.
#
# usage: bench/static_vs_shared.sh [--out FILE] [--quick] [--build-root DIR] [--rev REV]
#   --out FILE        also write the tables and every raw sample to FILE
#   --quick           far fewer repetitions (a smoke test of the harness)
#   --build-root DIR  build in DIR/static and DIR/shared from DIR/src, and
#                     keep them; an existing DIR is brought up to date and
#                     rebuilt incrementally (default: a temporary directory,
#                     removed on exit)
#   --rev REV         build commit REV (git archive) instead of the work tree
# env:
#   JOBS              parallel build jobs (default: nproc); builds run under
#                     nice -n 19
#
# Steps:
#   1. copy the work tree (tracked and untracked, not ignored, files) or REV
#      to DIR/src, so that both variants build from the same sources;
#   2. build the conch target twice, RelWithDebInfo, -DCONCH_STATIC_GRPC=ON
#      and =OFF;
#   3. count what each binary loads: `ldd` entries, shared objects mapped in
#      a running wrapper (/proc/<pid>/maps of `conch elect ... -- sleep`
#      against a throwaway etcd), and the relocations the dynamic loader
#      processes at start (LD_DEBUG=statistics, `conch --version`);
#   4. time `conch --version` (start-up without the store), the two
#      binaries in turn run by run (hyperfine -N, one run of each per round);
#   5. run bench/elect_vs_etcdctl.sh with CONCH_BIN=the static binary and
#      --also-conch shared=the shared binary (all three tools in turn).
# Must: the static binary's ldd lists only glibc (libc, libm, the dynamic
# loader, the vDSO); the script exits 1 if it lists anything else.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/etcd.sh
source "$ROOT/scripts/lib/etcd.sh"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

COMMAND="bench/static_vs_shared.sh $*"
OUT="" QUICK=() BUILD_ROOT="" REV=""
START_RUNS=100 START_WARMUP=5
while (($#)); do
  case $1 in
    --out) [[ $# -ge 2 ]] || usage_error "--out needs a file"
           OUT=$2; shift 2 ;;
    --quick) QUICK=(--quick); START_RUNS=10 START_WARMUP=2; shift ;;
    --build-root) [[ $# -ge 2 ]] || usage_error "--build-root needs a directory"
                  BUILD_ROOT=$2; shift 2 ;;
    --rev) [[ $# -ge 2 ]] || usage_error "--rev needs a commit"
           REV=$2; shift 2 ;;
    -h|--help) bench_usage '^set -euo' ;;
    *) usage_error "unknown argument: $1 (try --help)" ;;
  esac
done
OUT=$(abs_path "$OUT")
JOBS=${JOBS:-$(nproc)}
bench_require_tools cmake git python3 etcd etcdctl ldd timeout
export ETCDCTL_API=3
STARTED=$SECONDS

# The wrapper of step 3 while it runs, stopped on exit.
WRAPPER_PID=""
# shellcheck disable=SC2317  # run by bench_cleanup
stop_wrapper() {
  if [[ -n $WRAPPER_PID ]]; then
    kill -TERM "$WRAPPER_PID" 2>/dev/null || true
    wait_bounded "$WRAPPER_PID" 10 || true
  fi
}
bench_workdir conch-static-shared stop_wrapper
[[ -n $BUILD_ROOT ]] || BUILD_ROOT=$WORK/builds
BUILD_ROOT=$(abs_path "$BUILD_ROOT")

# --- 1. sources ----------------------------------------------------------------
# Files whose content did not change keep their time stamps, so that a kept
# build root rebuilds only what changed.
STAGE=$WORK/stage
mkdir -p "$STAGE" "$BUILD_ROOT/src"
if [[ -n $REV ]]; then
  SOURCE="commit $(git -C "$ROOT" rev-parse --short "$REV")"
  git -C "$ROOT" archive "$REV" | tar -x -C "$STAGE"
else
  SOURCE="work tree at $(repo_state)"
  (cd "$ROOT" && git ls-files -z -co --exclude-standard \
     | while IFS= read -r -d '' f; do if [[ -f $f ]]; then printf '%s\0' "$f"; fi; done \
     | xargs -0 -r cp --parents -t "$STAGE")
fi
(cd "$STAGE" && find . -type f -print0) | while IFS= read -r -d '' f; do
  if ! cmp -s "$STAGE/$f" "$BUILD_ROOT/src/$f"; then
    mkdir -p "$(dirname "$BUILD_ROOT/src/$f")"
    cp "$STAGE/$f" "$BUILD_ROOT/src/$f"
  fi
done
(cd "$BUILD_ROOT/src" && find . -type f -print0) | while IFS= read -r -d '' f; do
  [[ -e $STAGE/$f ]] || rm -f "$BUILD_ROOT/src/$f"
done
log "sources: $SOURCE, in $BUILD_ROOT/src"

# --- 2. builds -----------------------------------------------------------------
for variant in static shared; do
  flag=ON; [[ $variant == static ]] || flag=OFF
  log "building the $variant variant (-DCONCH_STATIC_GRPC=$flag) in $BUILD_ROOT/$variant, -j$JOBS"
  nice -n 19 cmake -S "$BUILD_ROOT/src" -B "$BUILD_ROOT/$variant" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCONCH_STATIC_GRPC=$flag >"$WORK/$variant.configure.log" 2>&1 \
    || die "configuring $variant failed: $(tail -n 20 "$WORK/$variant.configure.log")"
  nice -n 19 cmake --build "$BUILD_ROOT/$variant" --target conch -j"$JOBS" >"$WORK/$variant.build.log" 2>&1 \
    || die "building $variant failed: $(tail -n 20 "$WORK/$variant.build.log")"
done
STATIC=$BUILD_ROOT/static/conch
SHARED=$BUILD_ROOT/shared/conch

# --- 3. what each binary loads -----------------------------------------------------
log "etcd data dir: $WORK/etcd"
etcd_start "$WORK" || die "could not start etcd (log: $WORK/etcd.log)"
EP=$ETCD_ENDPOINT
RAW=$WORK/raw
mkdir -p "$RAW"
declare -A LDD MAPPED RELOC RELATIVE
FAILURES=()
for variant in static shared; do
  bin=$BUILD_ROOT/$variant/conch
  ldd "$bin" >"$RAW/ldd_$variant" 2>&1 || die "ldd $bin failed: $(cat "$RAW/ldd_$variant")"
  LDD[$variant]=$(grep -c . "$RAW/ldd_$variant")
  # A wrapper holding an office while its child sleeps: every library it
  # will ever need is mapped by then. (The child's command is single-quoted
  # on purpose: it expands in the child.)
  d=$WORK/maps_$variant
  mkdir -p "$d"
  # shellcheck disable=SC2016
  "$bin" elect "maps-$variant" --endpoints "$EP" -- sh -c 'echo $$ > "$1/child_pid"; exec sleep 30' sh "$d" \
    >"$d/out" 2>&1 &
  WRAPPER_PID=$!
  wait_file "$d/child_pid" 15 || die "$variant: the wrapper's child did not start ($(cat "$d/out"))"
  awk '$6 ~ /\.so(\.|$)/ {print $6}' "/proc/$WRAPPER_PID/maps" | sort -u >"$RAW/mapped_$variant"
  MAPPED[$variant]=$(grep -c . "$RAW/mapped_$variant" || true)
  kill -TERM "$(cat "$d/child_pid")" 2>/dev/null || true
  wait_bounded "$WRAPPER_PID" 15 || true
  WRAPPER_PID=""
  LD_DEBUG=statistics "$bin" --version >/dev/null 2>"$RAW/ld_stats_$variant" \
    || die "$bin --version failed"
  RELOC[$variant]=$(awk -F: '/ number of relocations:/{gsub(/ /, "", $3); print $3; exit}' "$RAW/ld_stats_$variant")
  RELATIVE[$variant]=$(awk -F: '/number of relative relocations:/{gsub(/ /, "", $3); print $3; exit}' "$RAW/ld_stats_$variant")
done
# Must: the static variant depends on glibc only.
others=$(grep -v -E '^\s*(linux-vdso\.so|libc\.so|libm\.so|/lib64/ld-linux|ld-linux)' "$RAW/ldd_static" || true)
if [[ -n $others ]]; then
  FAILURES+=("the static binary must depend on glibc only, but ldd lists: $(echo "$others" | awk '{print $1}' | paste -sd' ')")
fi

# --- 4. start-up ----------------------------------------------------------------------
log "start-up: \`conch --version\`, static and shared in turn, $START_RUNS rounds after $START_WARMUP untimed"
interleave_wall "$RAW" "$START_RUNS" "$START_WARMUP" \
  static "$(printf '%q ' "$STATIC" --version)" shared "$(printf '%q ' "$SHARED" --version)" \
  || die "a timed run failed: $(tail -n 5 "$RAW/wall.err")"
etcd_stop

TABLE=$WORK/table.md
python3 - "$RAW" "$START_RUNS" "${LDD[static]}" "${LDD[shared]}" "${MAPPED[static]}" \
  "${MAPPED[shared]}" "${RELOC[static]:-?}" "${RELOC[shared]:-?}" "${RELATIVE[static]:-?}" \
  "${RELATIVE[shared]:-?}" >"$TABLE" <<'PY' || die "the report failed"
import math, statistics, sys
raw, runs = sys.argv[1], sys.argv[2]
ldd, mapped, reloc, relative = (sys.argv[i:i + 2] for i in (3, 5, 7, 9))
wall = {v: [float(x) for x in open(f"{raw}/wall_{v}") if x.strip()] for v in ("static", "shared")}
def p95(xs):
    s = sorted(xs)
    return s[max(0, math.ceil(0.95 * len(s)) - 1)]
print("| | conch, static gRPC | conch, shared gRPC |")
print("| --- | ---: | ---: |")
print(f"| `ldd` entries | {ldd[0]} | {ldd[1]} |")
print(f"| shared objects mapped in a running wrapper (`/proc/<pid>/maps`) | {mapped[0]} | {mapped[1]} |")
print(f"| symbol relocations at start (`LD_DEBUG=statistics`) | {reloc[0]} | {reloc[1]} |")
print(f"| relative relocations at start | {relative[0]} | {relative[1]} |")
for name, f in (("mean", statistics.mean), ("median", statistics.median), ("p95", p95)):
    print(f"| `conch --version`, wall, {name} of {runs} (ms) | {f(wall['static']):.2f} | {f(wall['shared']):.2f} |")
with open(f"{raw}/samples.md", "w") as out:
    for v in ("static", "shared"):
        out.write(f"- `conch --version` wall time, {v} (ms, in run order): "
                  + ", ".join(f"{x:g}" for x in wall[v]) + "\n")
PY

bench_summary "conch: static versus shared gRPC" "$TABLE" \
  "built from $SOURCE; $(nproc) CPUs, Linux $(uname -r)" "start-up timing: $WALL_METHOD"
for f in "${FAILURES[@]}"; do echo; echo "MUST BROKEN: $f"; done

# --- 5. the elect benchmark with both -------------------------------------------------------
log "running bench/elect_vs_etcdctl.sh with both variants"
# Its raw results go into our --out file; the note on where it wrote them
# would name a file removed on exit.
set +o pipefail
CONCH_BIN=$STATIC "$ROOT/bench/elect_vs_etcdctl.sh" "${QUICK[@]}" --label static \
  --also-conch "shared=$SHARED" ${OUT:+--out "$WORK/elect.md"} | sed '/^raw results written to /d'
elect_rc=${PIPESTATUS[0]}
set -o pipefail
ELAPSED=$((SECONDS - STARTED))

if [[ -n $OUT ]]; then
  {
    bench_out_head "conch: static versus shared gRPC, raw results" \
      "JOBS=$JOBS; the run took ${ELAPSED} s, builds included"
    echo "- built from $SOURCE, RelWithDebInfo, \`cmake --build … --target conch\`"
    machine_info ""
    echo "- static: $STATIC"
    echo "- shared: $SHARED"
    echo "- start-up timing: $WALL_METHOD"
    echo
    cat "$TABLE"
    echo
    for f in "${FAILURES[@]}"; do echo "**Must broken:** $f"; echo; done
    cat "$RAW/samples.md"
    echo
    echo "\`ldd\`, static:"; echo; sed 's/^\s*/    /' "$RAW/ldd_static"; echo
    echo "\`ldd\`, shared:"; echo; sed 's/^\s*/    /' "$RAW/ldd_shared"; echo
    if [[ -f $WORK/elect.md ]]; then echo; sed 's/^#/##/' "$WORK/elect.md"; fi
  } >"$OUT"
  echo; echo "raw results written to $OUT"
fi
((${#FAILURES[@]} == 0)) || exit 1
exit "$elect_rc"
