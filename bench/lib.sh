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
