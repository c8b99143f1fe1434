#!/usr/bin/env bash
# Each tick once: three conchd (nodes a, b, c, --history 100) and an
# `@every 1s` job that appends its CONCH_TICK and node to a file, for 30
# ticks. Then all three stop on
# SIGTERM (each exits 0), and:
#   - no tick is in the file twice;
#   - the ticks in the file are within 1 of the seconds between the first
#     and the last (none skipped);
#   - every tick in the file has a result record with exit 0, outcome ran,
#     from the node that ran it;
#   - more than one node ran ticks;
#   - the fire records and the result records name the same ticks, and the
#     fencing token (rev) grows with the tick.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/cron.sh"

store_start
want=30

step "three daemons"
for n in a b c; do conchd_bg "$n" --history 100; done
assert_eq 3 "$(cron_nodes | wc -l)" "node keys with three daemons up"

step "an @every 1s job for $want ticks"
# --overlap allow: no run hold, so only the claim of the tick keeps it from
# running twice, and no tick is skipped on a loaded machine. The command
# ignores SIGTERM, so that a run the daemons' stop catches still ends with
# 0 (a run takes milliseconds, far from the job's 5 s kill-after).
run add "$CONCH" cron add once --schedule '@every 1s' --overlap allow -- \
  sh -c "trap '' TERM; echo \"\$CONCH_TICK \$CONCH_NODE\" >> '$T/ticks'"
assert_eq 0 "$RC" "cron add once"
wait_for "(( \$(lines '$T/ticks') >= $want ))" 90 ||
  fail "only $(lines "$T/ticks") ticks ran within 90 s"

step "SIGTERM to all three: each exits 0"
conchd_stop a b c
assert_eq "" "$(cron_nodes)" "node keys after all daemons stopped"

step "no tick twice, none skipped"
dups=$(awk '{print $1}' "$T/ticks" | sort | uniq -d)
assert_eq "" "$dups" "ticks that ran twice"
n=$(lines "$T/ticks")
first=$(unix_of "$(awk '{print $1}' "$T/ticks" | sort | head -n 1)")
last=$(unix_of "$(awk '{print $1}' "$T/ticks" | sort | tail -n 1)")
span=$((last - first + 1))
echo "   $n ticks ran from the first to the last of $span seconds"
assert_le $((span - 1)) "$n" "ticks that ran vs seconds from the first to the last"
assert_le "$n" $((span + 1)) "ticks that ran vs seconds from the first to the last"

step "every tick has a result: exit 0, outcome ran, from the node that ran it"
results=$(cron_results once)
fires=$(cron_fires once)
# One jq over all of them (jq starts slowly): a line per tick that is not
# as it should be.
bad=$(jq -rn --argjson results "$(jq -s . <<<"$results")" --rawfile ticks "$T/ticks" '
  ($results | map({(.t): .}) | add // {}) as $by |
  $ticks | split("\n") | map(select(. != "") | split(" ")) | .[] |
  .[0] as $tick | .[1] as $node | ($tick | fromdate | tostring) as $t |
  $by[$t] as $r |
  if $r == null then "\($tick) ran on \($node) but has no result record"
  elif [$r.exit, $r.outcome, $r.node, $r.tick] != [0, "ran", $node, $tick] then
    "\($tick) ran on \($node); its result: \($r | tojson)"
  else empty end')
assert_eq "" "$bad" "ticks without a result of exit 0, outcome ran, from their node"

step "more than one node ran ticks"
nodes=$(awk '{print $2}' "$T/ticks" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
echo "   ticks per node: $nodes"
assert_lt 1 "$(awk '{print $2}' "$T/ticks" | sort -u | wc -l)" "nodes that ran ticks"

step "fire records == result records; rev grows with the tick"
assert_eq "$(jq -r .t <<<"$fires")" "$(jq -r .t <<<"$results")" "ticks with a fire record vs with a result"
revs=$(jq -r .rev <<<"$results")
assert_eq "$(sort -n <<<"$revs" | uniq)" "$revs" "result revs in tick order (strictly growing)"
# Every result was written by the node whose claim the fire record holds.
assert_eq "$(jq -r .host <<<"$fires")" "$(jq -r .node <<<"$results")" "claimer vs result node, tick by tick"

pass
