#!/usr/bin/env bash
# What the child and the store see: the key /conch/v1/elect/<office>/<lease
# hex> (ZooKeeper: <session hex>-<sequence>) on the session lease (TTL from
# --ttl / CONCH_TTL, default 10 s), the holder JSON (host, wrapper pid,
# started in RFC 3339 UTC, cmd cut to 256 bytes), and the child's
# environment, process group, parent and stdin. On ZooKeeper the office's
# node is a container, removed by the server once empty.
source "$(dirname "$0")/common.sh"

store_start

step "child environment matches the key"
before=$(date -u +%s)
CONCH_E2E_MARK=inherited bg holder "$CONCH" elect ce -- sh -c "
  echo \"\$CONCH_NAME|\$CONCH_REV|\$CONCH_LEASE|\$CONCH_E2E_MARK\" > '$T/env'
  $(holder_sleep_cmd "$T/child.pid")"
wrapper=$BG_PID
wait_for "[[ -s $T/child.pid ]]" 30 || fail "child did not start"
child=$(<"$T/child.pid")
IFS='|' read -r name rev lease mark <"$T/env"
leader=$(leader_json ce)
key=$(jq -r .key <<<"$leader")
assert_eq ce "$name" "CONCH_NAME"
assert_match '^[1-9][0-9]*$' "$rev" "CONCH_REV"
assert_eq "$(jq .rev <<<"$leader")" "$rev" "CONCH_REV vs the key's create revision"
assert_match '^[0-9a-f]+$' "$lease" "CONCH_LEASE (lower-case hex)"
assert_match "$(lease_key_re /conch/v1/elect/ce/ "$lease")" "$key" "the key"
assert_eq inherited "$mark" "an environment variable of the wrapper"

step "the key sits on the session lease, TTL 10 s by default"
assert_eq 10000 "$(lease_ttl_ms "$lease")" "TTL (ms) of lease $lease"
assert_eq "$key" "$(lease_keys "$lease")" "keys bound to lease $lease"

step "holder JSON"
value=$(jq -c .value <<<"$leader")
assert_eq "$HOST" "$(jq -r .host <<<"$value")" "holder .host"
assert_eq "$wrapper" "$(jq -r .pid <<<"$value")" "holder .pid (the wrapper's)"
assert_eq number "$(jq -r '.pid | type' <<<"$value")" "holder .pid type"
started=$(jq -r .started <<<"$value")
assert_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "$started" "holder .started"
started_s=$(date -u -d "$started" +%s)
assert_lt $((before - 2)) "$started_s" "holder .started vs the wrapper's start"
assert_lt "$started_s" $(($(date -u +%s) + 2)) "holder .started vs now"
expected_cmd=$(printf 'sh -c \n  echo "$CONCH_NAME|$CONCH_REV|$CONCH_LEASE|$CONCH_E2E_MARK" > %s\n  %s' \
  "'$T/env'" "$(holder_sleep_cmd "$T/child.pid")")
assert_eq "${expected_cmd:0:256}" "$(jq -j .cmd <<<"$value")" "holder .cmd (argv joined by spaces)"

step "the child leads its own process group and is the wrapper's child"
read -r -a stat <<<"$(sed 's/.*) //' "/proc/$child/stat")"
assert_eq "$wrapper" "${stat[1]}" "child's parent pid"
assert_eq "$child" "${stat[2]}" "child's process group"
kill -TERM "$wrapper"
wait_exit "$wrapper" 20 || fail "wrapper still running 20 s after SIGTERM"
assert_eq 143 "$RC" "wrapper exit code (its child 'sleep' got SIGTERM)"

step "stdin is inherited"
out=$(printf 'line-from-stdin\n' | "$CONCH" elect ce -- cat 2>"$T/stdin.err")
rc=$?
assert_eq 0 "$rc" "exit code of 'cat' under conch"
assert_eq line-from-stdin "$out" "what 'cat' read"

step "--ttl and CONCH_TTL set the lease TTL"
# ttl_child TAG: a child that records its CONCH_LEASE in $T/TAG.lease and
# runs until $T/TAG.release exists.
ttl_child() {
  echo "echo \"\$CONCH_LEASE\" > '$T/$1.lease'
    while [ ! -e '$T/$1.release' ]; do sleep 0.02; done"
}
# check_ttl TAG MS: while the child TAG of wrapper $BG_PID runs, its lease
# has the TTL MS; then it exits 0.
check_ttl() {
  local wrapper=$BG_PID
  wait_for "[[ -s $T/$1.lease ]]" 30 || fail "$1: child did not start"
  assert_eq "$2" "$(lease_ttl_ms "$(<"$T/$1.lease")")" "$1: TTL (ms) of the lease"
  touch "$T/$1.release"
  wait_exit "$wrapper" 20 || fail "$1: wrapper still running 20 s after its child was released"
  assert_eq 0 "$RC" "$1: exit code"
}
bg ttl_flag "$CONCH" elect ce --ttl 4s --kill-after 1s -- sh -c "$(ttl_child ttl_flag)"
check_ttl ttl_flag 4000
CONCH_TTL=6s bg ttl_env "$CONCH" elect ce --kill-after 1s -- sh -c "$(ttl_child ttl_env)"
check_ttl ttl_env 6000

step "holder .cmd is cut to 256 bytes (300 one-char arguments)"
mkdir -p "$T/bin"
printf '#!/bin/sh\necho $$ > "%s"\nexec sleep 60\n' "$T/x.pid" >"$T/bin/x"
chmod +x "$T/bin/x"
args=()
for ((i = 0; i < 299; i++)); do args+=(a); done
PATH="$T/bin:$PATH" bg long "$CONCH" elect cl -- x "${args[@]}"
wait_for "[[ -s $T/x.pid ]]" 30 || fail "'x' did not start"
cmd=$(leader_json cl | jq -j .value.cmd)
full="x ${args[*]}"
assert_eq 256 "${#cmd}" "length of holder .cmd"
assert_eq "${full:0:256}" "$cmd" "holder .cmd"

if [[ $CONCH_TEST_STORE == zookeeper ]]; then
  step "ZooKeeper: an office's node is a container, which the server removes once empty"
  # Every wrapper on ce has exited; the servers check containers each second.
  assert_eq 0 "$(key_count ce)" "keys under ce"
  wait_for "! zkctl exists /conch/v1/elect/ce" 20 ||
    fail "the empty office node /conch/v1/elect/ce is still there after 20 s"
  zkctl exists /conch/v1/elect/cl || fail "the office node of a held office is gone"
fi

pass
