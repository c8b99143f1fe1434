#!/usr/bin/env bash
# --watch: prints the current state, then one line per leader change (not
# per waiter), "<office> -" for a vacancy, leader lines as --who prints
# them; --json uses {"office":...,"leader":null} for a vacancy. SIGTERM or
# SIGINT ends it with exit 0. Lines must appear as they happen (flushed).
source "$(dirname "$0")/common.sh"

store_start

# expect_line WATCHNAME N EXPECTED: line N of the watcher's output must be
# EXPECTED, and come within 20 s.
expect_line() {
  local file=$T/$1.out
  wait_for "[[ \$(wc -l <'$file') -ge $2 ]]" 20 ||
    fail "$1: no line $2 within 20 s (expected [$3])"
  assert_eq "$3" "$(sed -n "$2p" "$file")" "$1: line $2"
}

# who_line OFFICE: the --who line for the current leader, built from the
# store.
who_line() {
  jq -r --arg o "$1" '"\($o) \(.value.host) pid=\(.value.pid) since=\(.value.started) rev=\(.rev)"' \
    <<<"$(leader_json "$1")"
}

step "text: vacant, then each leader, then vacant again"
bg watch "$CONCH" elect wt --watch
watcher=$BG_PID
expect_line watch 1 "wt -"
bg a "$CONCH" elect wt -- sh -c "$(holder_sleep_cmd "$T/a.pid")"
a=$BG_PID
wait_for "[[ -s $T/a.pid ]]" 30 || fail "A's child did not start"
expect_line watch 2 "$(who_line wt)"
assert_match "^wt $HOST pid=$a since=" "$(sed -n 2p "$T/watch.out")" "watch line for A"

step "a waiter joining the queue prints nothing; the leader leaving prints the next"
# B's key comes before A's deletion in the watch stream, so a line printed
# for B's arrival would come before the line for B's leadership: line 3.
bg b "$CONCH" elect wt -- sh -c "$(holder_sleep_cmd "$T/b.pid")"
b=$BG_PID
wait_queued b || fail "B did not queue"
assert_eq 2 "$(key_count wt)" "keys with A holding and B queued"
kill -TERM "$a"
wait_exit "$a" 20 || fail "A still running 20 s after SIGTERM"
assert_eq 143 "$RC" "A's exit code (its child 'sleep' got SIGTERM)"
wait_for "[[ -s $T/b.pid ]]" 20 || fail "B did not take over"
expect_line watch 3 "$(who_line wt)"
assert_match "^wt $HOST pid=$b since=" "$(sed -n 3p "$T/watch.out")" "watch line for B"

step "the last leader leaves: the vacancy is printed"
kill -TERM "$b"
wait_exit "$b" 20 || fail "B still running 20 s after SIGTERM"
assert_eq 143 "$RC" "B's exit code (its child 'sleep' got SIGTERM)"
expect_line watch 4 "wt -"

step "a holder written by another tool, then its lease or session ended"
put_holder wt '{"host":"node-watch","pid":12345,"started":"2026-01-01T00:00:00Z"}'
expect_line watch 5 "wt node-watch pid=12345 since=2026-01-01T00:00:00Z rev=$HOLDER_REV"
holder_end "$HOLDER_LEASE" || fail "could not end the holder's lease or session"
expect_line watch 6 "wt -"

step "SIGTERM ends the watch with exit 0"
kill -TERM "$watcher"
wait_exit "$watcher" 20 || fail "watcher still running 20 s after SIGTERM"
assert_eq 0 "$RC" "--watch exit code after SIGTERM"
assert_eq 6 "$(wc -l <"$T/watch.out")" "watch lines at the end"

step "--json: vacancy object, leader object, vacancy again"
bg watch_json "$CONCH" elect wj --watch --json
watcher=$BG_PID
null_line='{"leader":null,"office":"wj"}'
wait_for "[[ \$(wc -l <'$T/watch_json.out') -ge 1 ]]" 20 || fail "--watch --json printed nothing"
assert_eq "$null_line" "$(sed -n 1p "$T/watch_json.out" | jq -cS .)" "--watch --json line 1"
put_holder wj '{"host":"node-watch","pid":12345,"started":"2026-01-01T00:00:00Z"}'
wait_for "[[ \$(wc -l <'$T/watch_json.out') -ge 2 ]]" 20 || fail "--watch --json: no leader line"
assert_eq "wj node-watch 12345 2026-01-01T00:00:00Z $HOLDER_REV" \
  "$(sed -n 2p "$T/watch_json.out" | jq -r '"\(.office) \(.host) \(.pid) \(.started) \(.rev)"')" \
  "--watch --json leader line"
holder_end "$HOLDER_LEASE" || fail "could not end the holder's lease or session"
wait_for "[[ \$(wc -l <'$T/watch_json.out') -ge 3 ]]" 20 || fail "--watch --json: no vacancy line"
assert_eq "$null_line" "$(sed -n 3p "$T/watch_json.out" | jq -cS .)" "--watch --json line 3"

step "SIGINT ends the watch with exit 0"
kill -INT "$watcher"
wait_exit "$watcher" 20 || fail "watcher still running 20 s after SIGINT"
assert_eq 0 "$RC" "--watch --json exit code after SIGINT"

pass
