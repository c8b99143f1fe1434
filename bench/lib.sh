# shellcheck shell=bash
# Helpers shared by the bench/ scripts: messages, the command line, the
# scratch directory and its cleanup, the conch binary, the throwaway etcd
# and ZooKeeper, bounded waits on processes, files and etcd keys,
# interleaved wall-time runs, the measurements of wrappers compared side by
# side (the elect benchmarks) and of queues of claims (the sema
# benchmarks), and the report with the description of the machine that
# goes with every set of figures.
# Expects ROOT (the repository) to be set, scripts/lib/etcd.sh to be
# sourced, and EP (the etcd endpoint) before count_keys or wait_keys is
# called; the ZooKeeper helpers expect tests/servers/zk.sh to be sourced.
#
# Every comparison in bench/ runs the things it compares in alternation,
# one run of each per round (A B A B ...), never as one block after another,
# so that drift on the machine (a background job, CPU frequency, etcd's
# database growing) shifts both sides alike instead of biasing the ratio.

die() { echo "bench: error: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }
# A bad command line: prints the message and exits 2.
usage_error() { echo "$*" >&2; exit 2; }

# bench_usage LAST: prints the calling script's head comment, from its
# second line up to the line before the first that matches the sed regex
# LAST, without the leading "# ", and exits 0 (for --help).
bench_usage() {
  sed -n "2,/$1/p" "${BASH_SOURCE[1]}" | sed '$d; s/^# \{0,1\}//'
  exit 0
}

# Prints path $1 made absolute against the current directory; an empty
# path stays empty (an option that was not given).
abs_path() {
  if [[ -z $1 || $1 == /* ]]; then printf '%s\n' "$1"; else printf '%s\n' "$PWD/$1"; fi
}

# bench_require_tools TOOL...: dies unless every TOOL is on PATH.
bench_require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "required tool '$tool' is missing (run scripts/install-deps.sh)"
  done
}

# Sets CONCH_BIN to an absolute path: $CONCH_BIN if given (relative to the
# current directory or the repository), else build/conch.
find_conch_bin() {
  CONCH_BIN=${CONCH_BIN:-build/conch}
  if [[ $CONCH_BIN != /* ]]; then
    if [[ -e $PWD/$CONCH_BIN ]]; then CONCH_BIN=$PWD/$CONCH_BIN
    else CONCH_BIN=$ROOT/$CONCH_BIN; fi
  fi
  [[ -x $CONCH_BIN ]] || die "conch binary not found or not executable: $CONCH_BIN (build it, or set CONCH_BIN)"
}

# True while pid exists and is not a zombie.
is_running() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  [[ ${s%% *} != Z ]]
}
# Waits up to $2 seconds for background pid $1, KILLs it after that; sets
# WAIT_RC to and returns its exit status. (Not for use inside $(...): only
# this shell can reap its own children.)
WAIT_RC=0
wait_bounded() {
  local pid=$1 deadline=$((SECONDS + $2))
  WAIT_RC=0
  while is_running "$pid" && ((SECONDS < deadline)); do sleep 0.02; done
  if is_running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || WAIT_RC=$?
  return "$WAIT_RC"
}
# bench_workdir PREFIX [HOOK]: makes the scratch directory WORK (mktemp,
# PREFIX.XXXXXX), sets BG_PIDS to () and installs bench_cleanup on EXIT;
# INT, TERM and HUP exit 130, which runs it too. Call it in the script's
# own shell, not in $(...). The script adds the pids of the wrappers it
# starts in the background to BG_PIDS. HOOK, a function, stops what only
# the script knows about; it runs first.
bench_workdir() {
  WORK=$(mktemp -d -t "$1.XXXXXX")
  BG_PIDS=()
  BENCH_CLEANUP_HOOK=${2:-}
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM HUP
}
# Runs HOOK, TERMs every pid in BG_PIDS (a wrapper stops its child on TERM,
# and timeout(1) passes the TERM on to it) and reaps it, at most 5 s each,
# then stops etcd and removes WORK.
# shellcheck disable=SC2317  # run by the EXIT trap
bench_cleanup() {
  local pid
  trap - EXIT INT TERM HUP
  if [[ -n $BENCH_CLEANUP_HOOK ]]; then "$BENCH_CLEANUP_HOOK"; fi
  for pid in "${BG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${BG_PIDS[@]}"; do wait_bounded "$pid" 5 || true; done
  if declare -F etcd_stop >/dev/null; then etcd_stop; fi  # ZooKeeper-only benches have none
  rm -rf "$WORK"
}
# A bench_workdir HOOK: TERMs every pid written to a file named child_pid
# anywhere under WORK (the children of the wrappers dirty_sample starts),
# so that they go before their wrappers.
# shellcheck disable=SC2317  # run by bench_cleanup
stop_recorded_children() {
  local pid f
  while IFS= read -r f; do
    pid=$(cat "$f" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]]; then kill -TERM "$pid" 2>/dev/null || true; fi
  done < <(find "$WORK" -name child_pid 2>/dev/null)
}

# Starts the throwaway etcd of scripts/lib/etcd.sh with its data under
# WORK, dies if it does not come up, and sets EP to its endpoint.
bench_etcd_start() {
  log "etcd data dir (normal disk, not tmpfs): $WORK/etcd"
  etcd_start "$WORK" || die "could not start etcd (log: $WORK/etcd.log)"
  EP=$ETCD_ENDPOINT
}

# Dies unless the ZooKeeper C client's header is installed (build_zk_floor
# needs it).
bench_require_zk_client() {
  [[ -r /usr/include/zookeeper/zookeeper.h ]] \
    || die "the ZooKeeper C client's header is missing (apt-get install libzookeeper-mt-dev)"
}
# Starts one throwaway standalone ZooKeeper (tests/servers/zk.sh: ZK_HOSTS,
# ZK_URL, ZK_PIDS, ZK_DIR) and sets ZK_VERSION to the version it reports.
# Call it after bench_workdir, in the script's own shell. zk.sh's harness
# takes the EXIT trap over; bench_cleanup becomes one of its steps (they
# run last in, first out: ZooKeeper stops first).
bench_zk_start() {
  # The harness reaps its killed watchdog with a bare `wait`, which returns
  # 137: under set -e that would end the script with 137 whatever its own
  # status. Steps run last in, first out, so this one, registered first,
  # runs last, just before that wait.
  harness_on_exit 'set +e'
  harness_on_exit bench_cleanup
  # The server's default: the tests' 1 s would drop an office's empty
  # container between two timed runs and make the next run create it again.
  ZK_CONTAINER_CHECK_MS=60000 zk_start 1
  # shellcheck disable=SC2034  # read by the sourcing script
  ZK_VERSION=$(zk_4lw 0 mntr | awk '$1 == "zk_version" {print $2}')
}
# Compiles bench/zk_floor.c against the system's client library into
# $WORK/zk_floor and sets FLOOR to it; dies if it cannot.
build_zk_floor() {
  FLOOR=$WORK/zk_floor
  cc -O2 -DTHREADED -o "$FLOOR" "$ROOT/bench/zk_floor.c" -lzookeeper_mt \
    || die "cannot build bench/zk_floor.c (needs libzookeeper-mt-dev)"
}
# zk_children PATH: prints how many children node PATH has on ZK_HOSTS (0
# when it does not exist). Needs build_zk_floor first.
zk_children() { "$FLOOR" count "$ZK_HOSTS" "$1"; }

# Waits up to $2 seconds for file $1 to exist and be non-empty.
wait_file() {
  local deadline=$((SECONDS + $2))
  until [[ -s $1 ]]; do
    ((SECONDS < deadline)) || return 1
    sleep 0.005
  done
}
count_keys() {
  etcdctl --endpoints "$EP" get --prefix --keys-only "$1" | grep -c . || true
}
# Waits up to $3 seconds until exactly $2 keys exist under prefix $1.
wait_keys() { wait_count "$2" "$3" count_keys "$1"; }
# wait_count N SECS COUNT...: waits up to SECS seconds until the command
# COUNT... prints N, running it every 20 ms.
wait_count() {
  local n=$1 deadline=$((SECONDS + $2))
  shift 2
  until [[ $("$@") -eq $n ]]; do
    ((SECONDS < deadline)) || return 1
    sleep 0.02
  done
}

# The command of a handover's holder, for `sh -c "$HAND_HOLDER_SH" sh DIR
# STAMP`: it writes its pid to DIR/held, waits (at most ~30 s) for the file
# DIR/go, then becomes STAMP, which writes the time to DIR/t_exit and exits
# at once. (Single-quoted on purpose: it expands in the child.)
# shellcheck disable=SC2016,SC2034
HAND_HOLDER_SH='echo $$ > "$1/held"; n=0
while [ ! -e "$1/go" ]; do n=$((n+1)); [ $n -lt 3000 ] || exit 99; sleep 0.01; done
exec "$2" "$1/t_exit"'

# Compiles the stamp helper into $WORK/stamp and sets STAMP to it: a static
# C program that writes CLOCK_REALTIME in ns to the file named by its
# argument and exits at once, so a command's start or end is timed with no
# shell or date(1) start-up.
build_stamp() {
  STAMP=$WORK/stamp
  cat >"$WORK/stamp.c" <<'C'
#include <stdio.h>
#include <time.h>
int main(int argc, char** argv) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  FILE* f = argc > 1 ? fopen(argv[1], "w") : NULL;
  if (f == NULL) return 2;
  fprintf(f, "%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  return fclose(f) == 0 ? 0 : 2;
}
C
  cc -O2 -static -o "$STAMP" "$WORK/stamp.c" || die "cannot build the stamp helper with cc"
}

# interleave_wall DIR ROUNDS WARMUP NAME CMD [NAME CMD ...]
# Times each command ROUNDS times, one run of each per round in the order
# given, after WARMUP untimed rounds, and writes the wall time of every run
# in ms, in run order, to DIR/wall_NAME. CMD is one string of shell words as
# printf %q quotes them; no shell runs in between. With hyperfine each round
# is one `hyperfine -N --runs 1` over all commands (which runs them in the
# order given); without it, a date +%s%N loop. Sets WALL_METHOD; returns
# non-zero (with the failing command's output in DIR/wall.err) if any run
# fails.
# Two options, off unless the caller sets them: WALL_PREPARE, a command run
# untimed before every timed run (hyperfine --prepare; "sleep 0.05" gives
# every run the same idle time before it, so that no command profits from
# the one before it having woken the server), and WALL_ROTATE=1, which
# starts round r with command r (mod the number of commands), so that each
# command runs in each position equally often.
interleave_wall() {
  local dir=$1 rounds=$2 warmup=$3 r i k n
  shift 3
  local -a names=() cmds=() hf=() prep=()
  while (($#)); do names+=("$1"); cmds+=("$2"); shift 2; done
  n=${#names[@]}
  local how="one run of each command per round (${names[*]})"
  if [[ -n ${WALL_PREPARE:-} ]]; then
    prep=(--prepare "$WALL_PREPARE")
    how+=", each run after \`$WALL_PREPARE\`"
  fi
  [[ ${WALL_ROTATE:-0} != 1 ]] || how+=", the order rotated by one each round"
  if command -v hyperfine >/dev/null; then
    # shellcheck disable=SC2034  # read by the sourcing script
    WALL_METHOD="hyperfine -N, $how, $rounds rounds after $warmup untimed"
    for ((r = 1 - warmup; r <= rounds; r++)); do
      hf=()
      for ((k = 0; k < n; k++)); do
        i=$k
        [[ ${WALL_ROTATE:-0} != 1 ]] || i=$(((k + r + warmup + n) % n))
        hf+=(-n "${names[i]}" "${cmds[i]}")
      done
      timeout 300 hyperfine -N --style none --runs 1 "${prep[@]}" --export-json "$dir/hf.json" \
        "${hf[@]}" >"$dir/wall.err" 2>&1 || return 1
      ((r >= 1)) || continue
      python3 - "$dir/hf.json" "$dir" <<'PY' || return 1
import json, sys
for res in json.load(open(sys.argv[1]))["results"]:
    (t,) = res["times"]
    with open(f"{sys.argv[2]}/wall_{res['command']}", "a") as f:
        f.write(f"{t * 1000:.3f}\n")
PY
    done
  else
    # shellcheck disable=SC2034  # read by the sourcing script
    WALL_METHOD="date +%s%N around each run, $how, $rounds rounds after $warmup untimed"
    local t0 t1
    local -a argv
    for ((r = 1 - warmup; r <= rounds; r++)); do
      for ((k = 0; k < n; k++)); do
        i=$k
        [[ ${WALL_ROTATE:-0} != 1 ]] || i=$(((k + r + warmup + n) % n))
        if [[ -n ${WALL_PREPARE:-} ]]; then eval "$WALL_PREPARE" >/dev/null 2>&1 || true; fi
        eval "argv=(${cmds[i]})"
        t0=$(date +%s%N)
        timeout 60 "${argv[@]}" >"$dir/wall.err" 2>&1 || return 1
        t1=$(date +%s%N)
        ((r >= 1)) || continue
        awk -v ns=$((t1 - t0)) 'BEGIN{printf "%.3f\n", ns / 1e6}' >>"$dir/wall_${names[i]}"
      done
    done
  fi
}

# --- wrappers side by side (bench/elect_vs_etcdctl.sh, bench/elect_zk.sh) --
# The functions below run wrappers ("tools") one run of each in turn and
# append what they measure to RAW/<metric>_TOOL, one sample a line. Before
# calling them, the script sets RAW (the directory of raw samples) and
# FAILURES (an array of broken checks, reported after its tables), and
# defines:
#   wrapper_argv TOOL NAME CMD...  sets ARGV to the argv with which tool
#       TOOL contends for NAME (an office or a lock) and runs CMD...
#   count_left TOOL NAME  prints how many contenders (keys, nodes) tool
#       TOOL has for NAME, 0 when none
# Tool TOOL contends under names of its own, b-TOOL, hand-TOOL and
# dirty-TOOL, so no two tools share a queue.

# wait_left TOOL NAME N: waits up to 15 s until tool TOOL has exactly N
# contenders for NAME.
wait_left() { wait_count "$3" 15 count_left "$1" "$2"; }

# sanity_true TOOL...: each TOOL in turn runs `true` as b-TOOL (timeout
# 20 s); dies unless it exits 0 and leaves no contender behind.
# shellcheck disable=SC2153  # ARGV: set by the script's wrapper_argv
sanity_true() {
  local tool out n
  for tool in "$@"; do
    wrapper_argv "$tool" "b-$tool" true
    if ! out=$(timeout 20 "${ARGV[@]}" 2>&1); then
      die "'${ARGV[*]}' failed: ${out:-<no output>}"
    fi
    n=$(count_left "$tool" "b-$tool")
    [[ $n -eq 0 ]] || die "$tool left $n contender(s) for b-$tool behind after exiting"
  done
}

# wall_rounds ROUNDS WARMUP TOOL...: interleave_wall over an uncontended
# `true` of each TOOL (as b-TOOL), in the order given: the wall times go to
# RAW/wall_TOOL and the method to WALL_METHOD (WALL_PREPARE and WALL_ROTATE
# apply); dies if a run fails.
wall_rounds() {
  local rounds=$1 warmup=$2 tool
  shift 2
  local -a args=()
  for tool in "$@"; do
    wrapper_argv "$tool" "b-$tool" true
    args+=("$tool" "$(printf '%q ' "${ARGV[@]}")")
  done
  interleave_wall "$RAW" "$rounds" "$warmup" "${args[@]}" \
    || die "a timed run failed: $(tail -n 5 "$RAW/wall.err")"
}

# rss_rounds ROUNDS TOOL...: ROUNDS rounds of an uncontended `true` of each
# TOOL in turn (as b-TOOL) under /usr/bin/time -f %M; appends the peak RSS
# (KiB) to RAW/rss_TOOL. Dies if a run fails.
rss_rounds() {
  local rounds=$1 i tool
  shift
  for ((i = 0; i < rounds; i++)); do
    for tool in "$@"; do
      wrapper_argv "$tool" "b-$tool" true
      timeout 20 /usr/bin/time -f %M -o "$WORK/rss.tmp" "${ARGV[@]}" >/dev/null 2>"$WORK/rss.err" \
        || die "'${ARGV[*]}' failed under /usr/bin/time: $(cat "$WORK/rss.err")"
      tail -n 1 "$WORK/rss.tmp" >>"$RAW/rss_$tool"
    done
  done
}

# hand_round SERIES TOOL I: handover I of tool TOOL (as hand-TOOL, files in
# WORK/hand/SERIES/TOOL/I); appends its latency, the holder's command exits
# -> the queued waiter's command starts (ms), to RAW/hand_SERIES_TOOL. The
# holder runs HAND_HOLDER_SH, the waiter STAMP itself (build_stamp first),
# so neither side pays a shell or date(1) start-up. SERIES "fresh" releases
# the holder as soon as the waiter's contender is seen, "settled" (any
# other) HAND_SETTLE s later. Dies if a wrapper fails or the waiter runs
# while the holder holds. Both wrappers are reaped here; their pids are in
# BG_PIDS meanwhile, which the caller empties after its rounds.
hand_round() {
  local series=$1 tool=$2 i=$3 settle=0 name d hpid wpid
  [[ $series == fresh ]] || settle=$HAND_SETTLE
  name=hand-$tool
  d=$WORK/hand/$series/$tool/$i
  mkdir -p "$d"
  wait_left "$tool" "$name" 0 || die "$tool: contenders for $name did not go away before round $i"
  wrapper_argv "$tool" "$name" sh -c "$HAND_HOLDER_SH" sh "$d" "$STAMP"
  timeout 60 "${ARGV[@]}" >"$d/holder.out" 2>&1 &
  hpid=$!; BG_PIDS+=("$hpid")
  wait_file "$d/held" 15 || die "$tool: the holder's command did not start within 15 s ($(cat "$d/holder.out"))"
  wrapper_argv "$tool" "$name" "$STAMP" "$d/t_start"
  timeout 60 "${ARGV[@]}" >"$d/waiter.out" 2>&1 &
  wpid=$!; BG_PIDS+=("$wpid")
  wait_left "$tool" "$name" 2 || die "$tool: waiter did not queue (found $(count_left "$tool" "$name") contenders for $name, not 2)"
  [[ ! -e $d/t_start ]] || die "$tool: waiter ran while the holder still held $name"
  sleep "$settle"
  [[ ! -e $d/t_start ]] || die "$tool: waiter ran while the holder still held $name"
  touch "$d/go"
  wait_bounded "$hpid" 30 || die "$tool: holder exited with $WAIT_RC ($(cat "$d/holder.out"))"
  wait_bounded "$wpid" 30 || die "$tool: waiter exited with $WAIT_RC ($(cat "$d/waiter.out"))"
  [[ -s $d/t_exit && -s $d/t_start ]] || die "$tool: round $i is missing a timestamp"
  awk -v ns=$(($(cat "$d/t_start") - $(cat "$d/t_exit"))) 'BEGIN{printf "%.3f\n", ns / 1e6}' \
    >>"$RAW/hand_${series}_$tool"
}

# dirty_rounds ROUNDS TOOL...: ROUNDS rounds of dirty_sample of each TOOL
# in turn; empties BG_PIDS after them.
dirty_rounds() {
  local rounds=$1 i tool
  shift
  for ((i = 1; i <= rounds; i++)); do
    for tool in "$@"; do dirty_sample "$tool" "$i"; done
  done
  BG_PIDS=()
}
# dirty_sample TOOL I: starts tool TOOL (as dirty-TOOL, files in
# WORK/dirty/TOOL/I) with a child that records its pid in child_pid and
# becomes `sleep 30`; once it sleeps, appends the wrapper's Private_Dirty
# (KiB, /proc/<pid>/smaps_rollup) to RAW/dirty_TOOL, then stops the child
# and reaps the wrapper. Check: the sampled pid must be the child's parent,
# or the figure is not the wrapper's; if not, adds to FAILURES. The
# wrapper's pid is in BG_PIDS meanwhile. (Use stop_recorded_children as
# the bench_workdir hook, so that a child left behind is stopped on exit.)
dirty_sample() {
  local tool=$1 i=$2 d pid child ppid k
  d=$WORK/dirty/$tool/$i
  mkdir -p "$d"
  # shellcheck disable=SC2016  # expands in the child
  wrapper_argv "$tool" "dirty-$tool" sh -c 'echo $$ > "$1/child_pid"; exec sleep 30' sh "$d"
  "${ARGV[@]}" >"$d/out" 2>&1 &
  pid=$!; BG_PIDS+=("$pid")
  wait_file "$d/child_pid" 15 || die "$tool: child did not start within 15 s ($(cat "$d/out"))"
  child=$(cat "$d/child_pid")
  # Wait for the exec to sleep so the child is really running.
  for ((k = 0; k < 200; k++)); do
    [[ $(cat "/proc/$child/comm" 2>/dev/null) == sleep ]] && break
    sleep 0.005
  done
  ppid=$(awk '/^PPid:/{print $2}' "/proc/$child/status")
  if [[ $ppid != "$pid" ]]; then
    FAILURES+=("$tool, Private_Dirty sample $i: the child's parent is pid $ppid, not the wrapper ($pid), so the sample is not the wrapper's")
  fi
  sync
  awk '/^Private_Dirty:/{s += $2} END{print s + 0}' "/proc/$pid/smaps_rollup" >>"$RAW/dirty_$tool"
  kill -TERM "$child" 2>/dev/null || true
  wait_bounded "$pid" 15 || true
  rm -f "$d/child_pid"
}

# Dies unless the tools the functions above need are there: timeout, sync,
# date, cc, GNU time as /usr/bin/time and /proc/<pid>/smaps_rollup; notes
# that interleave_wall falls back to a shell loop without hyperfine.
bench_require_wrapper_tools() {
  bench_require_tools timeout sync date cc
  [[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (apt-get install time, or run scripts/install-deps.sh)"
  command -v hyperfine >/dev/null || log "hyperfine not found: timing with a shell loop instead"
  [[ -r /proc/self/smaps_rollup ]] || die "/proc/<pid>/smaps_rollup is not available on this kernel"
}

# --- queues of claims (bench/sema_handoff.sh, bench/sema_zk.sh) ----------
# A measured queue: gate holders that hold until the file DIR/go appears,
# then waiters queued behind them whose command is STAMP DIR/w_J (J = 1, 2,
# ...), which writes the time the command starts.

# wait_settled WHAT CMD...: runs CMD, which prints the store's request
# counters, every SETTLE s until it prints the same twice in a row (every
# waiter has queued, read and armed its watch). Dies if CMD fails ("cannot
# read WHAT") or WHAT did not settle within 60 s.
wait_settled() {
  local what=$1 a b deadline=$((SECONDS + 60))
  shift
  a=$("$@") || die "cannot read $what"
  while :; do
    # shellcheck disable=SC2153  # SETTLE: the script's setting
    sleep "$SETTLE"
    b=$("$@") || die "cannot read $what"
    [[ $a != "$b" ]] || break
    ((SECONDS < deadline)) || die "$what did not settle within 60 s"
    a=$b
  done
}

# queue_waiters DIR N BATCH QUEUED CLAIM COUNT...: starts N waiters in the
# background, `timeout LIMIT "${CLAIM[@]}" STAMP DIR/w_J` with output to
# DIR/w_J.out (CLAIM names an array, the wrapper's argv up to and with its
# `--`), BATCH at a time; after each batch waits up to 60 s until COUNT...
# prints QUEUED (the claims queued before, such as the gate holders) plus
# the waiters started so far, and dies if it does not. Sets WAITER_PIDS to
# the waiters' pids, in J order, and adds them to BG_PIDS.
queue_waiters() {
  local d=$1 n=$2 batch=$3 queued=$4 i j pid
  local -n _qw_claim=$5
  shift 5
  WAITER_PIDS=()
  for ((i = 1; i <= n; i += batch)); do
    for ((j = i; j < i + batch && j <= n; j++)); do
      timeout "$LIMIT" "${_qw_claim[@]}" "$STAMP" "$d/w_$j" >"$d/w_$j.out" 2>&1 &
      pid=$!; BG_PIDS+=("$pid"); WAITER_PIDS+=("$pid")
    done
    wait_count $((queued + j - 1)) 60 "$@" \
      || die "$d: expected $((queued + j - 1)) claims queued, found $("$@") ($*)"
  done
}

# count_stamps DIR: sets STAMPED to how many waiters' stamps DIR/w_<digits>
# exist (no fork, no request to the store).
count_stamps() {
  local -a s=("$1"/w_*[0-9])
  [[ -e ${s[0]} ]] || s=()
  STAMPED=${#s[@]}
}
# wait_stamps DIR N SECS: waits up to SECS seconds, looking at files only,
# until N waiters' stamps exist in DIR; returns 1 if they do not, with
# STAMPED set to how many do.
wait_stamps() {
  local deadline=$((SECONDS + $3))
  while count_stamps "$1"; ((STAMPED < $2)); do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# reap_into FILE WHO PID...: reaps each PID (wait_bounded, 30 s each) and
# appends "WHO K RC" to FILE, K counting the PIDs from 1.
reap_into() {
  local file=$1 who=$2 k=0 pid
  shift 2
  for pid in "$@"; do
    k=$((k + 1))
    wait_bounded "$pid" 30 || true
    echo "$who $k $WAIT_RC" >>"$file"
  done
}

# report_runs REPORTER RUNS TABLE: runs python3 bench/REPORTER RUNS TABLE
# (a sema reporter: the table to TABLE, the raw samples to RUNS/samples.md)
# and sets REPORT_RC to its status (1: a must is broken, which the table
# says); dies if it wrote no table. Then copies RUNS to KEEP, if set.
report_runs() {
  REPORT_RC=0
  python3 "$ROOT/bench/$1" "$2" "$3" || REPORT_RC=$?
  [[ -s $3 ]] || die "the report failed (exit $REPORT_RC)"
  if [[ -n $KEEP ]]; then
    mkdir -p "$KEEP" && cp -r "$2"/. "$KEEP"/ && log "runs kept in $KEEP"
  fi
}

# The repository's commit, with "+ uncommitted changes" when the work tree
# differs from it.
repo_state() {
  local c
  c=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) || { echo unknown; return; }
  if [[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
    c+=" + uncommitted changes"
  fi
  echo "$c"
}

# Prints markdown list items describing the machine and the tools, for the
# head of an --out file: what docs/performance.md quotes under "Machine and
# versions". $1 is the conch binary (optional).
machine_info() {
  local os mem
  os=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")
  mem=$(awk '/^MemTotal:/{printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
  echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- machine: $(nproc) CPUs, $mem RAM, Linux $(uname -r), $os"
  echo "- load average at the start: ${BENCH_LOAD_START:-unknown}; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- etcd $(etcd --version 2>/dev/null | awk '/etcd Version/{print $3}'), etcdctl $(etcdctl version 2>/dev/null | awk '/etcdctl version/{print $3}')"
  if command -v hyperfine >/dev/null; then echo "- $(hyperfine --version)"; fi
  if [[ -x /usr/bin/time ]]; then
    echo "- GNU time $(dpkg-query -W -f='${Version}' time 2>/dev/null || echo '?')"
  fi
  if [[ -n ${1:-} ]]; then
    echo "- conch: $1 ($("$1" --version 2>/dev/null || echo '?'); $(ldd "$1" 2>/dev/null | grep -c .) ldd entries)"
  fi
  echo "- repository: $(repo_state)"
}

# bench_out_head TITLE SETTINGS: prints the head of an --out file: TITLE as
# its heading, then the command line as run (COMMAND) "with SETTINGS",
# which name the environment and the duration of the run.
bench_out_head() {
  echo "# $1"
  echo
  echo "- command: \`$COMMAND\` with $2"
}

# bench_out_results TABLE SAMPLES [CHECK...]: prints the rest of an --out
# file after bench_out_head and its list of settings: a blank line, the
# table(s) in the file TABLE, a blank line, each broken CHECK as "**Check
# failed:** CHECK" and a blank line, then the raw samples in the file
# SAMPLES.
bench_out_results() {
  local table=$1 samples=$2 f
  shift 2
  echo
  cat "$table"
  echo
  for f in "$@"; do echo "**Check failed:** $f"; echo; done
  cat "$samples"
}

# bench_summary TITLE TABLE LINE...: prints a run's results on stdout:
# TITLE as a heading, each LINE (where and how it ran), then the markdown
# table in the file TABLE.
bench_summary() {
  local title=$1 table=$2
  shift 2
  echo
  echo "## $title"
  echo
  printf '%s\n' "$@"
  echo
  cat "$table"
}
# exit_on_failures: if FAILURES holds broken checks, prints each as "CHECK
# FAILED: ..." after a blank line and exits 1.
exit_on_failures() {
  local f
  ((${#FAILURES[@]})) || return 0
  echo
  for f in "${FAILURES[@]}"; do echo "CHECK FAILED: $f"; done
  exit 1
}
BENCH_LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
