#!/usr/bin/env bash
# `conch sema <name> --max N --who`: one line per key in queue order,
# "<name>[<used>/<max>] <HELD|WAIT>  <host> pid=<pid> since=<started>
# rev=<rev> weight=<w> pos=<n>", used being the summed weight of the held
# keys; --json prints one object per key (NDJSON). Exit 0 when a key
# exists, 1 when none (nothing printed), 69 when the store is unreachable.
source "$(dirname "$0")/common.sh"

store_start

step "empty semaphore: nothing printed, exit 1"
run empty timeout 30 "$CONCH" sema sw --max 2 --who
assert_eq 1 "$RC" "--who on an empty semaphore"
assert_eq "" "$OUT" "--who output on an empty semaphore"
run empty_json timeout 30 "$CONCH" sema sw --max 2 --who --json
assert_eq 1 "$RC" "--who --json on an empty semaphore"
assert_eq "" "$OUT" "--who --json output on an empty semaphore"

step "two holders and a waiter on --max 2"
for tag in a b; do
  bg "$tag" "$CONCH" sema sw --max 2 -- sh -c "$(holder_sleep_cmd "$T/$tag.pid")"
  declare "$tag=$BG_PID"
  wait_for "[[ -s $T/$tag.pid ]]" 30 || fail "$tag's child did not start"
done
bg c "$CONCH" sema sw --max 2 -- true
c=$BG_PID
wait_queued c || fail "C did not queue"
assert_eq 3 "$(sema_count sw)" "keys with A and B holding and C waiting"

entries=$(sema_entries sw)
expected=""
pids=("$a" "$b" "$c")
states=(HELD HELD WAIT)
for i in 0 1 2; do
  entry=$(sed -n "$((i + 1))p" <<<"$entries")
  started[i]=$(jq -r .value.started <<<"$entry")
  revs[i]=$(jq -r .rev <<<"$entry")
  leases[i]=$(lease_hex_of "$(jq -r .key <<<"$entry")")
  assert_eq "${pids[i]}" "$(jq -r .value.pid <<<"$entry")" "pid in key $((i + 1))"
  expected+="sw[2/2] ${states[i]}  $HOST pid=${pids[i]} since=${started[i]} rev=${revs[i]} weight=1 pos=$i"$'\n'
done
expected=${expected%$'\n'}

step "--who: HELD, HELD, WAIT with 2/2 used, positions 0, 1, 2"
run who timeout 30 "$CONCH" sema sw --max 2 --who
assert_eq 0 "$RC" "--who with holders"
assert_eq "$expected" "$OUT" "--who output"

step "--who --json: one object per key"
run who_json timeout 30 "$CONCH" sema sw --max 2 --who --json
assert_eq 0 "$RC" "--who --json with holders"
jq -e . >/dev/null <<<"$OUT" || fail "--who --json output is not JSON: [$OUT]"
assert_eq 3 "$(jq -s length <<<"$OUT")" "JSON values printed by --who --json"
assert_eq 3 "$(wc -l <"$T/who_json.out")" "lines printed by --who --json (NDJSON)"
for i in 0 1 2; do
  obj=$(jq -s -c ".[$i]" <<<"$OUT")
  assert_eq sw "$(jq -r .name <<<"$obj")" "object $i .name"
  assert_eq 2 "$(jq -r .max <<<"$obj")" "object $i .max"
  assert_eq "${states[i]}" "$(jq -r .state <<<"$obj")" "object $i .state"
  assert_eq "$HOST" "$(jq -r .host <<<"$obj")" "object $i .host"
  assert_eq "${pids[i]}" "$(jq -r .pid <<<"$obj")" "object $i .pid"
  assert_eq "${started[i]}" "$(jq -r .started <<<"$obj")" "object $i .started"
  assert_eq number "$(jq -r '.rev | type' <<<"$obj")" "object $i .rev type"
  assert_eq "${revs[i]}" "$(jq -r .rev <<<"$obj")" "object $i .rev"
  assert_eq 1 "$(jq -r .weight <<<"$obj")" "object $i .weight"
  assert_eq "$i" "$(jq -r .pos <<<"$obj")" "object $i .pos"
  # An int64 lease id is not exact as a JSON number: expected as the hex
  # string of the key, as `conch elect --who --json` prints it.
  assert_eq "${leases[i]}" "$(jq -r .lease <<<"$obj")" "object $i .lease (hex, as in the key)"
done

step "used counts weights: a weight-2 holder and a weight-1 waiter on --max 2"
bg h "$CONCH" sema sx --max 2 --weight 2 -- sh -c "$(holder_sleep_cmd "$T/h.pid")"
h=$BG_PID
wait_for "[[ -s $T/h.pid ]]" 30 || fail "the weight-2 holder's child did not start"
bg q "$CONCH" sema sx --max 2 -- true
q=$BG_PID
wait_queued q || fail "the weight-1 waiter did not queue"
assert_eq 2 "$(sema_count sx)" "keys with the weight-2 holder and the waiter"
entries=$(sema_entries sx)
h_entry=$(sed -n 1p <<<"$entries")
q_entry=$(sed -n 2p <<<"$entries")
run who_weight timeout 30 "$CONCH" sema sx --max 2 --who
assert_eq 0 "$RC" "--who with a weight-2 holder"
assert_eq "sx[2/2] HELD  $HOST pid=$h since=$(jq -r .value.started <<<"$h_entry") rev=$(jq -r .rev <<<"$h_entry") weight=2 pos=0
sx[2/2] WAIT  $HOST pid=$q since=$(jq -r .value.started <<<"$q_entry") rev=$(jq -r .rev <<<"$q_entry") weight=1 pos=1" \
  "$OUT" "--who output with a weight-2 holder"

step "a holder leaves: --who shows the waiter admitted"
kill -TERM "$a"
wait_exit "$a" 20 || fail "A still running 20 s after SIGTERM"
assert_eq 143 "$RC" "A's exit code"
wait_exit "$c" 20 || fail "C (true) did not run and exit after A left"
assert_eq 0 "$RC" "C's exit code"
run who_after timeout 30 "$CONCH" sema sw --max 2 --who
assert_eq 0 "$RC" "--who with one holder left"
assert_eq "sw[1/2] HELD  $HOST pid=$b since=${started[1]} rev=${revs[1]} weight=1 pos=0" \
  "$OUT" "--who output with B alone"

step "unreachable store: 69"
CONCH_ENDPOINTS=$STORE_UNREACHABLE run unreachable timeout 30 "$CONCH" sema sw --max 2 --who --dial-timeout 1s
assert_eq 69 "$RC" "--who against an unreachable store"
assert_eq "" "$OUT" "--who output against an unreachable store"

pass
