#!/usr/bin/env bash
# `conch sema` basics: the key /conch/v1/sema/<name>/<max>/<lease hex>
# (ZooKeeper: <session hex>-<sequence>) on the session lease, the holder JSON ("held":true once admitted, absent while
# waiting; "weight" only when not 1), the child's environment, N holders at
# once, a waiter admitted at once (not after the leaver's 30 s TTL)
# whichever holder leaves (the newer one too), --nonblock / --wait / a
# failing --on-acquire giving up with 75 and leaving no key, and a clean
# exit releasing at once.
source "$(dirname "$0")/common.sh"

store_start

# sema_held NAME: how many of its keys say "held":true.
sema_held() {
  sema_entries "$1" | jq -s '[.[] | select(.value.held? == true)] | length'
}

# gate_cmd TAG: a child that records its pid in $T/TAG.pid and its start in
# $T/TAG.start, runs until $T/TAG.release exists, then stamps $T/TAG.end.
gate_cmd() {
  echo "echo \$\$ > '$T/$1.pid'; $(stamp "$1.start")
    while [ ! -e '$T/$1.release' ]; do sleep 0.02; done
    $(stamp "$1.end")"
}

step "two holders at once on --max 2, the child's environment matches its key"
bg a "$CONCH" sema sb --max 2 --ttl 30s -- sh -c "
  echo \"\$CONCH_NAME|\$CONCH_REV|\$CONCH_LEASE\" > '$T/a.env'
  $(gate_cmd a)"
a=$BG_PID
wait_for "[[ -s $T/a.start ]]" 30 || fail "A's child did not start on an empty semaphore"
bg b "$CONCH" sema sb --max 2 --ttl 30s -- sh -c "$(gate_cmd b)"
b=$BG_PID
wait_for "[[ -s $T/b.start ]]" 30 || fail "B's child did not start although one of 2 slots was free"
proc_alive "$a" || fail "A exited while B started"
assert_eq 2 "$(sema_count sb)" "keys with A and B holding"
assert_eq 2 "$(sema_held sb)" "keys marked held with A and B holding"

entries=$(sema_entries sb)
a_entry=$(sed -n 1p <<<"$entries")
a_key=$(jq -r .key <<<"$a_entry")
IFS='|' read -r name rev lease <"$T/a.env"
assert_eq sb "$name" "CONCH_NAME"
assert_eq "$(jq .rev <<<"$a_entry")" "$rev" "CONCH_REV vs A's key's create revision"
assert_match '^[0-9a-f]+$' "$lease" "CONCH_LEASE (lower-case hex)"
assert_match "$(lease_key_re /conch/v1/sema/sb/2/ "$lease")" "$a_key" "A's key"
assert_eq 30000 "$(lease_ttl_ms "$lease")" "TTL (ms) of A's lease $lease"
assert_eq "$a_key" "$(lease_keys "$lease")" "keys bound to A's lease"

step "holder JSON: host, wrapper pid, started, cmd, held; no weight when 1"
a_value=$(jq -c .value <<<"$a_entry")
assert_eq "$HOST" "$(jq -r .host <<<"$a_value")" "A's .host"
assert_eq "$a" "$(jq -r .pid <<<"$a_value")" "A's .pid (the wrapper's)"
assert_eq number "$(jq -r '.pid | type' <<<"$a_value")" "A's .pid type"
assert_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' \
  "$(jq -r .started <<<"$a_value")" "A's .started"
assert_match '^sh -c ' "$(jq -r .cmd <<<"$a_value")" "A's .cmd"
assert_eq true "$(jq -r .held <<<"$a_value")" "A's .held"
assert_eq false "$(jq 'has("weight")' <<<"$a_value")" "A's value has a weight field (weight 1)"

step "a third contender waits: its key has no \"held\""
bg c "$CONCH" sema sb --max 2 --ttl 30s -- sh -c "$(gate_cmd c)"
c=$BG_PID
wait_queued c || fail "C did not queue"
assert_eq 3 "$(sema_count sb)" "keys with A and B holding and C waiting"
[[ ! -e $T/c.start ]] || fail "C's child started while A and B held both slots"
c_value=$(sema_entries sb | sed -n 3p | jq -c .value)
assert_eq false "$(jq 'has("held")' <<<"$c_value")" "waiting C's value has a held field: $c_value"
assert_eq "$c" "$(jq -r .pid <<<"$c_value")" "waiting C's .pid"
assert_eq 2 "$(sema_held sb)" "keys marked held with C waiting"

step "the NEWER holder (B) leaves: C's child starts at once, not after B's TTL"
touch "$T/b.release"
wait_exit "$b" 20 || fail "B did not exit after its child finished"
assert_eq 0 "$RC" "B's exit code"
wait_for "[[ -s $T/c.start ]]" 20 || fail "C's child did not start after B (the newer holder) left"
gap=$(($(<"$T/c.start") - $(<"$T/b.end")))
echo "   C's child started $gap ms after B's child ended"
assert_le 0 "$gap" "ms from B's child ending to C's child starting (never before)"
assert_lt "$gap" 15000 "ms from B's child ending to C's child starting (B's lease had 30 s)"
proc_alive "$a" || fail "A exited while C took B's slot"
wait_for "[[ \$(sema_held sb) == 2 ]]" 20 || fail "keys marked held after C was admitted: $(sema_held sb)"
assert_eq 2 "$(sema_count sb)" "keys after B left (A and C)"

step "--nonblock when full: 75 without waiting, no child, no key left"
run nonblock_full timeout 30 "$CONCH" sema sb --max 2 --nonblock -- touch "$T/ran_nb"
assert_eq 75 "$RC" "--nonblock when full"
[[ ! -e $T/ran_nb ]] || fail "--nonblock ran the command when full"
assert_eq 2 "$(sema_count sb)" "keys after --nonblock gave up"

step "--wait 0 when full: like --nonblock, 75 without waiting, no key left"
run wait0_full timeout 30 "$CONCH" sema sb --max 2 --wait 0 -- touch "$T/ran_w0"
assert_eq 75 "$RC" "--wait 0 when full"
[[ ! -e $T/ran_w0 ]] || fail "--wait 0 ran the command when full"
assert_eq 2 "$(sema_count sb)" "keys after --wait 0 gave up"

step "--wait -1s queues without a limit"
bg wneg "$CONCH" sema sb --max 2 --wait -1s -- touch "$T/ran_wneg"
wneg=$BG_PID
wait_queued wneg || fail "--wait -1s did not queue"
assert_eq 3 "$(sema_count sb)" "keys with A and C holding and the --wait -1s claim"

step "--wait 1s when full: 75 after 1 s, no key left"
# It queues behind the --wait -1s claim, which has then been waiting for
# more than 1 s itself.
run wait1_full timeout 30 "$CONCH" sema sb --max 2 --wait 1s -- touch "$T/ran_w1"
assert_eq 75 "$RC" "--wait 1s when full"
assert_le 1000 "$ELAPSED_MS" "ms until exit 75 (--wait 1s)"
[[ ! -e $T/ran_w1 ]] || fail "--wait 1s ran the command when full"
assert_eq 3 "$(sema_count sb)" "keys after --wait 1s gave up"

step "--wait -1s still waits, and runs once a slot frees"
proc_alive "$wneg" || fail "--wait -1s gave up while full"
[[ ! -e $T/ran_wneg ]] || fail "--wait -1s ran while full"
touch "$T/a.release"
wait_exit "$a" 20 || fail "A did not exit after its child finished"
assert_eq 0 "$RC" "A's exit code"
wait_exit "$wneg" 20 || fail "--wait -1s waiter did not finish after A left"
assert_eq 0 "$RC" "--wait -1s waiter's exit code"
[[ -e $T/ran_wneg ]] || fail "--wait -1s waiter did not run its command"

step "--nonblock with room: runs, the child's exit code passes through"
run nonblock_room timeout 30 "$CONCH" sema sb --max 2 --nonblock -- sh -c 'exit 7'
assert_eq 7 "$RC" "--nonblock with a free slot (child exits 7)"
run nonblock_sig timeout 30 "$CONCH" sema sb --max 2 --nonblock -- sh -c 'kill -INT $$'
assert_eq 130 "$RC" "--nonblock with a free slot (child killed by SIGINT)"

step "a failing --on-acquire: 75, the command does not run, the slot is freed"
run hook_fails timeout 30 "$CONCH" sema sb --max 2 --on-acquire 'exit 3' -- touch "$T/ran_hook"
assert_eq 75 "$RC" "--on-acquire 'exit 3'"
[[ ! -e $T/ran_hook ]] || fail "the command ran although --on-acquire failed"
assert_eq 1 "$(sema_count sb)" "keys after the failed --on-acquire (C only)"

step "a clean exit releases at once"
touch "$T/c.release"
wait_exit "$c" 20 || fail "C did not exit after its child finished"
assert_eq 0 "$RC" "C's exit code"
assert_eq 0 "$(sema_count sb)" "keys right after the last holder exited"
lease_gone "$lease" || fail "A's lease $lease is not gone after A exited"

pass
