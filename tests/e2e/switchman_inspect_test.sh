#!/usr/bin/env bash
# The read-only subcommands of `conch switchman` against a real ZooKeeper:
#   - ls (human and --json) shows who holds a lock, who waits in a queue and
#     in which position, and each resource's use, total and holders, for
#     our runs and the Perl tool's nodes (made by conch_switchman_peer)
#     alike, and changes nothing;
#   - check-groups CRONTAB: OK when every switchman job's group resolves
#     (through a subgroup too), 2 naming the jobs whose group does not;
#   - check-hosts: OK when every group has a member that answers the TCP
#     probe (a refusal counts as an answer), 2 naming the groups whose
#     members all fail;
#   - ZooKeeper unreachable: ls exits 69, the checks 2.
# stores: zookeeper
# (switchman keeps the Perl tool's layout, which is ZooKeeper's)
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/switchman.sh"

sw_start
PEER_HOST=peer.example.com
sw_data "{\"resources\": [\"rr\", \"res\"],
  \"groups\": {\"g1\": [\"g2\"], \"g2\": [\"$SW_HOST\"]}}"

step "ls on an empty layout: every section says (none), resources listed"
run ls_empty "$CONCH" switchman ls -c "$SW_CONF"
assert_eq 0 "$RC" "ls with nothing held"
assert_eq 2 "$(grep -c '^(none)$' "$T/ls_empty.out")" "LOCKS and QUEUES are (none)"
assert_match $'\nrr +0/\\?\n+res +0/\\?' "$OUT" "the listed resources, unused"

step "set up: our run holds a lock and rr, ours and a peer's wait in rr's queue, a peer holds res"
sw_bg holder --lockname holder --lease rr=1:1 -- sh -c "echo \$\$ > '$T/holder.pid'; exec sleep 60"
holder=$BG_PID
wait_for "[[ -s $T/holder.pid ]]" 30 || fail "the holder did not run"
sw_bg waiter --lockname waiter --lease rr=1:1 -- true
waiter=$BG_PID
sw_log waiter "Semaphore rr is full" || fail "the waiter did not queue"
bg pqueue "$PEER" --fqdn "$PEER_HOST" "$ZK_HOSTS" queue "$SW_PREFIX" rr pq
pqueue=$BG_PID
wait_for "[[ -s $T/pqueue.out ]]" 30 || fail "the peer did not queue: $(cat "$T/pqueue.err")"
bg please "$PEER" --fqdn "$PEER_HOST" "$ZK_HOSTS" lease "$SW_PREFIX" res 2 4
please=$BG_PID
wait_for "[[ -s $T/please.out ]]" 30 || fail "the peer took no lease: $(cat "$T/please.err")"
plnode=$(head -n 1 "$T/please.out")
tree_before=$(sw_tree)

step "ls --json: the lock, the queue positions, the resources' use and holders"
run ls_json "$CONCH" switchman ls -c "$SW_CONF" --json
assert_eq 0 "$RC" "ls --json"
assert_eq 1 "$(grep -c '' "$T/ls_json.out")" "one line of JSON"
json=$OUT
jqv() { jq -c "$1" <<<"$json"; }
assert_eq '[{"name":"holder","host":"'"$SW_HOST"'","pid":'"$holder"',"data":"'"$SW_HOST $holder"'"}]' \
  "$(jqv '[.locks[] | {name, host, pid, data}]')" "the locks"
assert_match '^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"$' "$(jqv '.locks[0].since')" \
  "the lock's since"
assert_eq '[{"position":1,"lockname":"waiter","host":"'"$SW_HOST"'","pid":'"$waiter"'},{"position":2,"lockname":"pq","host":"'"$PEER_HOST"'","pid":'"$pqueue"'}]' \
  "$(jqv '[.queues[] | select(.resource == "rr") | .entries[] | {position, lockname, host, pid}]')" \
  "rr's queue"
assert_match '^"waiter-[0-9]{10}"$' "$(jqv '.queues[] | select(.resource == "rr") | .entries[0].node')" \
  "the head's node"
assert_eq '["rr","res"]' "$(jqv '[.resources[].name]')" "the resources, in the prefix list's order"
assert_eq '{"listed_as":"rr","in_store":true,"used":1,"total":1,"totals":[1]}' \
  "$(jqv '.resources[0] | {listed_as, in_store, used, total, totals}')" "rr's use"
assert_eq '[{"count":1,"total":1,"host":"'"$SW_HOST"'","pid":'"$holder"'}]' \
  "$(jqv '[.resources[0].holders[] | {count, total, host, pid}]')" "rr's holders"
assert_eq '{"listed_as":"res","in_store":true,"used":2,"total":4,"totals":[4]}' \
  "$(jqv '.resources[1] | {listed_as, in_store, used, total, totals}')" "res's use"
assert_eq '[{"node":"'"${plnode##*/}"'","count":2,"total":4,"host":"'"$PEER_HOST"'","pid":'"$please"'}]' \
  "$(jqv '[.resources[1].holders[] | {node, count, total, host, pid}]')" "res's holders (the peer's lease)"

step "ls: the same in the human form"
run ls_human "$CONCH" switchman ls -c "$SW_CONF"
assert_eq 0 "$RC" "ls"
human=$OUT
assert_match $'(^|\n)holder +'"$SW_HOST +$holder +[0-9-]+ [0-9:]+"$'\n' "$human" "the lock's row"
assert_match $'\nrr +1 +waiter +'"$SW_HOST +$waiter "'[^\n]*'$'\nrr +2 +pq +'"$PEER_HOST +$pqueue " \
  "$human" "the queue's rows"
assert_match $'\nrr +1/1 +1_1_[0-9]{10} +'"$SW_HOST +$holder " "$human" "rr's row"
assert_match $'\nres +2/4 +'"${plnode##*/} +$PEER_HOST +$please " "$human" "res's row"
assert_eq "$tree_before" "$(sw_tree)" "the tree after ls (it only reads)"

for p in "$waiter" "$pqueue" "$please" "$holder"; do
  kill -TERM "$p"
  wait_exit "$p" 30 || fail "$p did not stop"
done
assert_eq "" "$(sw_tree)" "nothing left once all have gone"

step "check-groups: a job whose group resolves through a subgroup is OK"
cat >"$T/crontab" <<EOF
# a user crontab
MAILTO=""
* * * * * /usr/local/bin/switchman -g g1 -- cmd
*/5 * * * * /usr/bin/other-tool --flag
EOF
run groups_ok "$CONCH" switchman check-groups "$T/crontab" -c "$SW_CONF"
assert_eq 0 "$RC" "check-groups with a resolvable group"
assert_eq OK "$OUT" "check-groups verdict"

step "check-groups: a job with an undescribed group is CRITICAL, named in the output"
echo '30 2 * * * /usr/local/bin/switchman -g missing -- nightly' >>"$T/crontab"
run groups_bad "$CONCH" switchman check-groups "$T/crontab" -c "$SW_CONF"
assert_eq 2 "$RC" "check-groups with an undescribed group"
assert_eq "$T/crontab: /usr/local/bin/switchman -g missing -- nightly" "$OUT" \
  "check-groups names the failing job (and only it)"
run groups_verbose "$CONCH" switchman check-groups "$T/crontab" -c "$SW_CONF" -v
assert_eq 2 "$RC" "check-groups -v"
assert_match "^line 5: .*-g missing.*Group <missing> is not described" "$ERR" "check-groups -v: why"

step "check-hosts: a group whose member refuses the probe port is up"
# Port 1 on 127.0.0.1 refuses at once: the host answered.
sw_data '{"groups": {"local": ["127.0.0.1"], "nested": "local", "mixed": ["host.invalid", "127.0.0.1"]}}'
run hosts_ok env CONCH_SWITCHMAN_PROBE_PORT=1 "$CONCH" switchman check-hosts -c "$SW_CONF"
assert_eq 0 "$RC" "check-hosts with every group up"
assert_eq OK "$OUT" "check-hosts verdict"
run hosts_pos env CONCH_SWITCHMAN_PROBE_PORT=1 "$CONCH" switchman check-hosts "$SW_CONF"
assert_eq 0 "$RC" "check-hosts CONFIG (the original's form)"
assert_eq OK "$OUT" "check-hosts CONFIG verdict"

step "check-hosts: a group whose only host does not resolve is CRITICAL"
sw_data '{"groups": {"local": ["127.0.0.1"], "dead": "host.invalid"}}'
run hosts_bad env CONCH_SWITCHMAN_PROBE_PORT=1 "$CONCH" switchman check-hosts -c "$SW_CONF"
assert_eq 2 "$RC" "check-hosts with a dead group"
assert_eq "groups: dead" "$OUT" "check-hosts names the dead group"

step "ZooKeeper unreachable: ls 69, the checks 2"
printf '{"zkhosts": "127.0.0.1:1", "prefix": "%s"}\n' "$SW_PREFIX" >"$T/unreachable.conf"
run ls_down "$CONCH" switchman ls -c "$T/unreachable.conf"
assert_eq 69 "$RC" "ls with ZooKeeper unreachable"
assert_eq "" "$OUT" "ls prints nothing on stdout"
assert_match "^switchman: .*127.0.0.1:1" "$ERR" "ls says why, in one line"
assert_eq 1 "$(grep -c '' "$T/ls_down.err")" "lines on stderr"
run groups_down "$CONCH" switchman check-groups "$T/crontab" -c "$T/unreachable.conf"
assert_eq 2 "$RC" "check-groups with ZooKeeper unreachable"
assert_match "127.0.0.1:1" "$OUT" "check-groups prints the connection error"
run hosts_down env CONCH_SWITCHMAN_PROBE_PORT=1 "$CONCH" switchman check-hosts -c "$T/unreachable.conf"
assert_eq 2 "$RC" "check-hosts with ZooKeeper unreachable"
assert_match "127.0.0.1:1" "$OUT" "check-hosts prints the connection error"

pass
