#!/usr/bin/env bash
# switchman refuses bad input up front, where the original died late or
# with an unpredictable status: each mistake gets one clear line on stderr,
# its documented exit status (64 usage, 69 ZooKeeper unreachable, 75
# resources_wait_timeout, 1 for -h/-v), and leaves nothing in ZooKeeper:
#   - options, the config file, the prefix data (only when the run needs
#     it: with -g or --lease), leases, lock names, undescribed groups;
#   - ZooKeeper unreachable: 69 within seconds;
#   - POSIXLY_CORRECT: options stop at the first word of CMD;
#   - resources_wait_timeout: 75 after the timeout, and the queue entry is
#     gone.
# stores: zookeeper
# (switchman keeps the Perl tool's layout, which is ZooKeeper's)
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/switchman.sh"

sw_start

# bad NAME RC REGEX ARGS...: runs switchman ARGS (without DEBUG) and checks
# that it exits RC with exactly one line on stderr, matching REGEX, and
# nothing on stdout.
bad() {
  local name=$1 rc=$2 re=$3
  shift 3
  run "$name" "$SWITCHMAN" "$@"
  assert_eq "$rc" "$RC" "$name: exit status"
  assert_eq 1 "$(grep -c '' "$T/$name.err")" "$name: lines on stderr"
  assert_match "$re" "$ERR" "$name: the message"
  assert_eq "" "$OUT" "$name: stdout"
}

# conf NAME TEXT: writes TEXT to $T/NAME.conf and echoes that path.
conf() {
  printf '%s\n' "$2" >"$T/$1.conf"
  echo "$T/$1.conf"
}

# zk_empty WHEN: nothing but ZooKeeper's own node at the root.
zk_empty() {
  assert_eq /zookeeper "$(zkctl ls /)" "the ZooKeeper tree $1"
}

zk_empty "at the start"

step "bad options: 64"
bad unknown 64 "Couldn't parse options.*Unknown option.*--bogus" -c "$SW_CONF" --bogus -- true
bad ambiguous 64 "Couldn't parse options.*--l.*ambiguous" -c "$SW_CONF" --l x -- true
bad lease_noeq 64 "Couldn't parse options.*--lease.*rr" -c "$SW_CONF" --lease rr -- true
bad nocmd 64 "No command provided" -c "$SW_CONF"
bad nocmd_opts 64 "No command provided" -c "$SW_CONF" --lockname x --
zk_empty "after bad options"

step "bad config: 64"
bad conf_missing 64 "$T/none.conf.*No such file" -c "$T/none.conf" -- true
bad conf_notjson 64 "JSON.*$T/notjson.conf|$T/notjson.conf.*JSON" \
  -c "$(conf notjson 'zkhosts = here')" -- true
bad conf_nozk 64 "zkhosts is not defined in $T/nozk.conf" \
  -c "$(conf nozk '{"prefix": "/switchman"}')" -- true
bad conf_noprefix 64 "prefix is not defined in $T/noprefix.conf" \
  -c "$(conf noprefix "{\"zkhosts\": \"$ZK_HOSTS\"}")" -- true
bad conf_prefix 64 "bad prefix: .*a/b" \
  -c "$(conf prefix "{\"zkhosts\": \"$ZK_HOSTS\", \"prefix\": \"a/b\"}")" -- true
bad conf_readlen 64 "bad data_read_len: .*x" \
  -c "$(conf readlen "{\"zkhosts\": \"$ZK_HOSTS\", \"prefix\": \"/switchman\", \"data_read_len\": \"x\"}")" -- true
bad conf_term 64 "bad termination_timeout: .*-1" \
  -c "$(conf term "{\"zkhosts\": \"$ZK_HOSTS\", \"prefix\": \"/switchman\", \"termination_timeout\": -1}")" -- true
bad conf_level 64 "loglevel.*loud" \
  -c "$(conf level "{\"zkhosts\": \"$ZK_HOSTS\", \"prefix\": \"/switchman\", \"loglevel\": \"loud\"}")" -- true
mkdir "$T/logdir"
bad conf_logdir 64 "logfile $T/logdir" \
  -c "$(conf logdir "{\"zkhosts\": \"$ZK_HOSTS\", \"prefix\": \"/switchman\", \"logfile\": \"$T/logdir\"}")" -- true
bad conf_lognodir 64 "logfile $T/nodir/sw.log" \
  -c "$(conf lognodir "{\"zkhosts\": \"$ZK_HOSTS\", \"prefix\": \"/switchman\", \"logfile\": \"$T/nodir/sw.log\"}")" -- true
zk_empty "after bad configs"

step "bad leases: 64, naming the lease (and where a term does not parse, its position)"
bad lease_name 64 '--lease "rr=x:1".*"x".* at position 1' -c "$SW_CONF" --lease rr=x:1 -- true
bad lease_zero 64 '--lease "rr=1:0".*total.*0' -c "$SW_CONF" --lease rr=1:0 -- true
bad lease_over 64 '--lease "rr=2:1".*count 2.*total 1' -c "$SW_CONF" --lease rr=2:1 -- true
bad lease_neg 64 '--lease "rr=-1:1".*-1' -c "$SW_CONF" --lease rr=-1:1 -- true
bad lease_pow 64 '--lease "rr=1:2\*\*3".*"\*\*" at position 2' -c "$SW_CONF" --lease 'rr=1:2**3' -- true
bad lease_octal 64 '--lease "rr=010:20".*"010" at position 1.*octal' -c "$SW_CONF" --lease rr=010:20 -- true
zk_empty "after bad leases"

step "bad lock names: 64"
bad lock_slash 64 "lockname must not contain '/'" -c "$SW_CONF" --lockname a/b -- true
long=$(printf 'a%.0s' {1..513})
bad lock_long 64 "lockname is too long: .*513 bytes" -c "$SW_CONF" --lockname "$long" -- true
zk_empty "after bad lock names"

step "ZooKeeper unreachable: 69, within seconds"
bad unreachable 69 "Failed to connect to ZooKeeper.*127.0.0.1:1" \
  -c "$(conf unreachable '{"zkhosts": "127.0.0.1:1", "prefix": "/switchman"}')" -- true
echo "   gave up after $ELAPSED_MS ms"
assert_lt "$ELAPSED_MS" 20000 "time to give up on an unreachable ZooKeeper"

step "refused after reading ZooKeeper, with no prefix node yet: not even the prefix is made"
bad empty_group 64 "Group <nosuchgroup> is not described" -c "$SW_CONF" -g nosuchgroup -- true
bad empty_res 64 "Unknown resources: zz" -c "$SW_CONF" --lease zz=1:1 -- true
zk_empty "after runs refused for a group or a resource"

step "bad prefix data: 64 when the run needs it (-g or --lease)"
sw_data 'not json'
bad data_notjson_g 64 "Could not decode data" -c "$SW_CONF" -g x -- true
bad data_notjson_l 64 "Could not decode data" -c "$SW_CONF" --lease rr=1:1 -- true
sw_data '[]'
bad data_array 64 "hashref expected" -c "$SW_CONF" -g x -- true
sw_data '{"resources": 1}'
bad data_resources 64 "resources should be an array" -c "$SW_CONF" --lease rr=1:1 -- true
sw_data '{"groups": []}'
bad data_groups 64 "groups should be a hash" -c "$SW_CONF" -g x -- true
sw_data '{"resources": ["rr"], "groups": {"g": ["a.example.com", "b.example.com"]}}'
sw_conf '"data_read_len": 10'
bad data_cut 64 "truncated" -c "$SW_CONF" -g g -- true
sw_conf
bad unknown_res 64 "Unknown resources: zz" -c "$SW_CONF" --lease rr=1:1 --lease zz=1:1 -- true
bad no_group 64 "Group <nosuchgroup> is not described" -c "$SW_CONF" -g nosuchgroup -- true
assert_eq "" "$(zkctl ls "$SW_PREFIX")" "under the prefix after the refused runs"
assert_eq "$SW_PREFIX
/zookeeper" "$(zkctl ls /)" "the ZooKeeper tree after the refused runs"
# A run that needs neither groups nor resources does not read the data.
sw_data 'not json'
sw nodata --lockname nodata -- sh -c 'echo ran'
assert_eq 0 "$RC" "a plain run under bad prefix data"
assert_eq ran "$OUT" "a plain run under bad prefix data ran"
sw_data '{"resources": ["rr"]}'

step "a lock name of exactly 512 bytes is fine"
sw long512 --lockname "$(printf 'b%.0s' {1..512})" -- sh -c 'echo ran'
assert_eq 0 "$RC" "a 512-byte lock name"
assert_eq ran "$OUT" "a 512-byte lock name ran"

step "-h and -v: 1"
run help "$SWITCHMAN" -h
assert_eq 1 "$RC" "-h"
assert_match "Usage: switchman" "$OUT" "the manual on stdout"
run version "$SWITCHMAN" -v
assert_eq 1 "$RC" "-v"
assert_match "^switchman 1.16" "$OUT" "the version on stdout"

step "POSIXLY_CORRECT: options stop at the first word of CMD"
run posix env POSIXLY_CORRECT=1 "$SWITCHMAN" -c "$SW_CONF" echo -g x
assert_eq 0 "$RC" "switchman echo -g x under POSIXLY_CORRECT"
assert_eq "-g x" "$OUT" "-g x went to the command"
run permute "$SWITCHMAN" -c "$SW_CONF" echo -g nosuchgroup
assert_eq 64 "$RC" "without POSIXLY_CORRECT -g after CMD is still an option"

step "resources_wait_timeout: 75 after at least the timeout, queue entry gone"
sw_bg holder --lockname holder --lease rr=1:1 -- sh -c "echo \$\$ > '$T/holder.pid'; exec sleep 60"
holder=$BG_PID
wait_for "[[ -s $T/holder.pid ]]" 30 || fail "the holder did not run"
sw_conf '"resources_wait_timeout": 1'
sw waiter --lockname waiter --lease rr=1:1 -- sh -c "echo ran > '$T/waiter.ran'"
assert_eq 75 "$RC" "resources_wait_timeout ran out"
assert_match "Reached timeout while waiting for resources" "$ERR" "the timeout message"
assert_match "Semaphore rr is full" "$ERR" "it did wait for the lease"
assert_le 1000 "$ELAPSED_MS" "time before giving up (resources_wait_timeout 1)"
echo "   gave up after $ELAPSED_MS ms"
[[ -e $T/waiter.ran ]] && fail "the waiter ran its command"
assert_eq "" "$(sw_nodes "$SW_PREFIX/queues/rr")" "the queue right after the timeout"
assert_eq 1 "$(sw_nodes "$SW_PREFIX/semaphores/rr/leases" | wc -l)" \
  "the leases right after the timeout (the holder's only)"
assert_eq "" "$(sw_nodes "$SW_PREFIX/semaphores/rr/lock")" "the mutex right after the timeout"
sw_conf
kill -TERM "$holder"
wait_exit "$holder" 30 || fail "the holder did not stop"
assert_eq "" "$(sw_tree)" "nothing left under the prefix"

pass
