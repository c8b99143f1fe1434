# shellcheck shell=bash
# tests/e2e/switchman.sh: what the switchman scripts share, sourced after
# common.sh by tests/e2e/switchman_*_test.sh (which run on ZooKeeper only:
# switchman's layout is the Perl tool's, in ZooKeeper).
#
# Provides:
#   SWITCHMAN   the binary under test under the name "switchman" (the link
#               next to $CONCH, or $CONCH_SWITCHMAN_BIN)
#   PEER        conch_switchman_peer, a client that follows the Perl tool's
#               protocol ($CONCH_SWITCHMAN_PEER_BIN; see
#               tests/servers/switchman_peer.cc)
#   SW_PREFIX   the prefix znode of the test config (/switchman)
#   SW_CONF     the test config file
#   SW_HOST     the FQDN switchman uses (exported as SWITCHMAN_FQDN)
#   sw_start    starts ZooKeeper and writes $SW_CONF
#   sw_conf [JSON-MEMBERS]
#               rewrites $SW_CONF with extra members, e.g.
#               sw_conf '"termination_timeout": 1'
#   sw_data JSON
#               sets the prefix data (created when missing)
#   sw NAME ARGS...
#               runs switchman -c $SW_CONF ARGS in the foreground with
#               DEBUG=1 (see run in common.sh: RC, OUT, ERR)
#   sw_bg NAME ARGS...
#               the same in the background (see bg)
#   sw_log NAME REGEX [TIMEOUT_S]
#               waits until $T/NAME.err has a line matching REGEX
#   peer_bg NAME ARGS...
#               starts the Perl-protocol peer in the background
#   sw_nodes PATH
#               the children of PATH (full paths), one a line
#   sw_tree     every node under $SW_PREFIX that is not a directory of the
#               layout: locks, queue entries, mutex entries and leases

SWITCHMAN=${CONCH_SWITCHMAN_BIN:-$(dirname "$CONCH")/switchman}
PEER=${CONCH_SWITCHMAN_PEER_BIN:-$_common_dir/../../build/tests/servers/conch_switchman_peer}
SW_PREFIX=/switchman
SW_CONF=$T/sw.conf
SW_HOST=host1.example.com
export SWITCHMAN_FQDN=$SW_HOST
unset DEBUG POSIXLY_CORRECT

for _bin in "$SWITCHMAN" "$PEER"; do
  if [[ ! -x $_bin ]]; then
    echo "FAIL [$TEST_NAME]: $_bin not found (build the conch and conch_switchman_peer targets)" >&2
    exit 1
  fi
done

sw_start() {
  store_start
  sw_conf
}

# shellcheck disable=SC2120 # the extra members are optional
sw_conf() {
  local extra=${1:+, $1}
  printf '{"zkhosts": "%s", "prefix": "%s"%s}\n' "$ZK_HOSTS" "$SW_PREFIX" \
    "$extra" >"$SW_CONF"
}

sw_data() {
  zkctl set "$SW_PREFIX" "$1" >/dev/null || fail "could not set the prefix data"
}

sw() {
  local name=$1
  shift
  run "$name" env DEBUG=1 "$SWITCHMAN" -c "$SW_CONF" "$@"
}

sw_bg() {
  local name=$1
  shift
  bg "$name" env DEBUG=1 "$SWITCHMAN" -c "$SW_CONF" "$@"
}

sw_log() {
  wait_for "grep -Eq -- '$2' '$T/$1.err' 2>/dev/null" "${3:-30}"
}

peer_bg() {
  local name=$1
  shift
  bg "$name" "$PEER" "$ZK_HOSTS" "$@"
}

sw_nodes() {
  zkctl ls "$1"
}

sw_tree() {
  local dir
  sw_nodes "$SW_PREFIX/locks"
  for dir in $(sw_nodes "$SW_PREFIX/queues"); do sw_nodes "$dir"; done
  for dir in $(sw_nodes "$SW_PREFIX/semaphores"); do
    sw_nodes "$dir/lock"
    sw_nodes "$dir/leases"
  done
}
