# shellcheck shell=bash
# Helpers shared by the bench/ scripts: messages, the conch binary, and
# bounded waits on processes, files and etcd keys. Expects ROOT (the
# repository) to be set, and EP (the etcd endpoint) before count_keys or
# wait_keys is called.

die() { echo "bench: error: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

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
