# shellcheck shell=bash
# Helpers shared by the bench/ scripts: messages, the command line, the
# scratch directory and its cleanup, the conch binary, the throwaway etcd,
# bounded waits on processes, files and etcd keys, interleaved wall-time
# runs, and the report with the description of the machine that goes with
# every set of figures.
# Expects ROOT (the repository) to be set, scripts/lib/etcd.sh to be
# sourced, and EP (the etcd endpoint) before count_keys or wait_keys is
# called.
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
  etcd_stop
  rm -rf "$WORK"
}

# Starts the throwaway etcd of scripts/lib/etcd.sh with its data under
# WORK, dies if it does not come up, and sets EP to its endpoint.
bench_etcd_start() {
  log "etcd data dir (normal disk, not tmpfs): $WORK/etcd"
  etcd_start "$WORK" || die "could not start etcd (log: $WORK/etcd.log)"
  EP=$ETCD_ENDPOINT
}

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
wait_keys() {
  local deadline=$((SECONDS + $3))
  until [[ $(count_keys "$1") -eq $2 ]]; do
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
interleave_wall() {
  local dir=$1 rounds=$2 warmup=$3 r i
  shift 3
  local -a names=() cmds=() hf=()
  while (($#)); do names+=("$1"); cmds+=("$2"); hf+=(-n "$1" "$2"); shift 2; done
  if command -v hyperfine >/dev/null; then
    # shellcheck disable=SC2034  # read by the sourcing script
    WALL_METHOD="hyperfine -N, one run of each command per round (${names[*]}), $rounds rounds after $warmup untimed"
    for ((r = 1 - warmup; r <= rounds; r++)); do
      timeout 300 hyperfine -N --style none --runs 1 --export-json "$dir/hf.json" "${hf[@]}" \
        >"$dir/wall.err" 2>&1 || return 1
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
    WALL_METHOD="date +%s%N around each run, one run of each command per round (${names[*]}), $rounds rounds after $warmup untimed"
    local t0 t1
    local -a argv
    for ((r = 1 - warmup; r <= rounds; r++)); do
      for i in "${!names[@]}"; do
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
BENCH_LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
