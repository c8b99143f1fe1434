#!/usr/bin/env bash
# --assert: exit 0 when the leader's host is this host (and its create
# revision is at least --min-rev), 1 when vacant or held elsewhere, 69 when
# the store is unreachable; --json prints {"held":bool,"rev":N,"host":...}.
source "$(dirname "$0")/common.sh"

store_start

step "vacant: 1"
run vacant "$CONCH" elect as --assert
assert_eq 1 "$RC" "--assert on a vacant office"
run vacant_json "$CONCH" elect as --assert --json
assert_eq 1 "$RC" "--assert --json on a vacant office"
assert_eq false "$(jq -r .held <<<"$OUT")" "--assert --json .held when vacant"

step "held from this host: 0, subject to --min-rev"
bg holder "$CONCH" elect as -- sh -c "$(holder_sleep_cmd "$T/holder.pid")"
wait_for "[[ -s $T/holder.pid ]]" 30 || fail "holder's child did not start"
rev=$(leader_json as | jq .rev)
assert_match '^[1-9][0-9]*$' "$rev" "the leader's create revision"
run held "$CONCH" elect as --assert
assert_eq 0 "$RC" "--assert while held here"
run min_rev_1 "$CONCH" elect as --assert --min-rev 1
assert_eq 0 "$RC" "--assert --min-rev 1"
run min_rev_eq "$CONCH" elect as --assert --min-rev "$rev"
assert_eq 0 "$RC" "--assert --min-rev <leader's rev>"
run min_rev_above "$CONCH" elect as --assert --min-rev $((rev + 1))
assert_eq 1 "$RC" "--assert --min-rev <leader's rev + 1>"
# Far above, on either store: etcd's revisions start at 1, ZooKeeper's
# czxids carry the epoch in their upper 32 bits.
run min_rev_huge "$CONCH" elect as --assert --min-rev $((rev + 1000000))
assert_eq 1 "$RC" "--assert --min-rev <leader's rev + 1000000>"
run held_json "$CONCH" elect as --assert --json
assert_eq 0 "$RC" "--assert --json while held here"
assert_eq "true $rev $HOST" "$(jq -r '"\(.held) \(.rev) \(.host)"' <<<"$OUT")" \
  "--assert --json while held here"
assert_eq number "$(jq -r '.rev | type' <<<"$OUT")" "--assert --json .rev type"

step "held by another host: 1"
put_holder af '{"host":"node-watch","pid":12345,"started":"2026-01-01T00:00:00Z"}'
run other "$CONCH" elect af --assert
assert_eq 1 "$RC" "--assert while another host holds"
run other_json "$CONCH" elect af --assert --json
assert_eq 1 "$RC" "--assert --json while another host holds"
assert_eq "false $HOLDER_REV node-watch" "$(jq -r '"\(.held) \(.rev) \(.host)"' <<<"$OUT")" \
  "--assert --json while another host holds"

step "unreachable store: 69"
CONCH_ENDPOINTS=$STORE_UNREACHABLE run unreachable timeout 30 "$CONCH" elect as --assert --dial-timeout 1s
assert_eq 69 "$RC" "--assert against an unreachable store"

pass
