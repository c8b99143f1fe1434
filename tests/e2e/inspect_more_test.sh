#!/usr/bin/env bash
# The read-only modes against a running holder:
# - `--who --json` carries the leader's key in the store and its command
#   line (argv joined by spaces) as `key` and `cmd`;
# - `--assert` inside a conch-run command for the same office (CONCH_NAME
#   and CONCH_LEASE of this session) is 0; from another process on this
#   host, outside any conch-run command, only the host counts, so it is 0
#   too; inside a command for this office but of another session (its
#   CONCH_LEASE not the leader's) it is 1; inside a command for another
#   office only the host counts.
source "$(dirname "$0")/common.sh"

store_start

step "--who --json: key and cmd of the leader"
bg holder "$CONCH" elect iw -- sh -c 'exec sleep 600' holder "arg with spaces"
holder=$BG_PID
wait_for "[[ \$(key_count iw) == 1 ]] && err_has holder 'holding office'" 20 ||
  fail "the holder did not take the office"
bg waiter "$CONCH" elect iw -- true
wait_for "[[ \$(key_count iw) == 2 ]]" 20 || fail "the waiter did not queue"
leader_key=$(office_keys iw | head -n 1)
run who_json "$CONCH" elect iw --who --json
assert_eq 0 "$RC" "--who --json exit code"
assert_eq "$leader_key" "$(jq -r .key <<<"$OUT")" "--who --json .key (the leader's key)"
assert_match "$(lease_key_re /conch/v1/elect/iw/ "$(jq -r .lease <<<"$OUT")")" \
  "$(jq -r .key <<<"$OUT")" "--who --json .key vs .lease"
assert_eq "sh -c exec sleep 600 holder arg with spaces" "$(jq -r .cmd <<<"$OUT")" "--who --json .cmd"
assert_eq "$holder" "$(jq -r .pid <<<"$OUT")" "--who --json .pid (the leader's wrapper)"

step "a holder whose command runs --assert for its own office"
# The command asserts, in its own session, and records the exit code and
# the JSON; then it waits until told to stop.
assert_cmd() {
  echo "'$CONCH' elect $1 --assert; echo \$? > '$T/$2.rc'
    '$CONCH' elect $1 --assert --json > '$T/$2.json'
    echo \"\$CONCH_LEASE\" > '$T/$2.lease'
    while [ ! -e '$T/$2.release' ]; do sleep 0.05; done"
}
bg inside "$CONCH" elect ia -- sh -c "$(assert_cmd ia inside)"
inside=$BG_PID
wait_for "[[ -s $T/inside.lease ]]" 20 || fail "the command did not run its --assert"
assert_eq 0 "$(<"$T/inside.rc")" "--assert inside the command for the same office"
assert_eq "true $HOST" "$(jq -r '"\(.held) \(.host)"' <"$T/inside.json")" \
  "--assert --json inside the command for the same office"
assert_eq "$(leader_json ia | jq .rev)" "$(jq .rev <"$T/inside.json")" \
  "--assert --json .rev inside the command"
own_lease=$(<"$T/inside.lease")
assert_match "$(lease_key_re /conch/v1/elect/ia/ "$own_lease")" "$(office_keys ia)" \
  "the key of the asserting session"

step "from another process on this host, outside any conch-run command: 0"
run outside env -u CONCH_NAME -u CONCH_LEASE -u CONCH_REV "$CONCH" elect ia --assert --json
assert_eq 0 "$RC" "--assert from outside while this host holds"
assert_eq "true $HOST" "$(jq -r '"\(.held) \(.host)"' <<<"$OUT")" "--assert --json from outside"

step "inside a command for this office but of another session: 1"
# Another session on this host: a wrapper queued behind the holder.
bg ia_waiter "$CONCH" elect ia -- true
ia_waiter=$BG_PID
wait_for "[[ \$(key_count ia) == 2 ]]" 20 || fail "the second wrapper on ia did not queue"
other_lease=$(lease_hex_of "$(office_keys ia | tail -n 1)")
[[ $other_lease != "$own_lease" ]] || fail "the queued wrapper has the holder's lease"
CONCH_NAME=ia CONCH_LEASE=$other_lease run other_session "$CONCH" elect ia --assert --json
assert_eq 1 "$RC" "--assert with CONCH_LEASE of another session"
assert_eq false "$(jq -r .held <<<"$OUT")" "--assert --json .held with another session's lease"
CONCH_NAME=ia CONCH_LEASE=$own_lease run same_session "$CONCH" elect ia --assert
assert_eq 0 "$RC" "--assert with the leader's CONCH_LEASE (control)"

step "inside a command for another office: only the host counts"
bg other_office "$CONCH" elect ib -- sh -c "
  '$CONCH' elect ia --assert; echo \$? > '$T/other_office.rc'"
wait_exit "$BG_PID" 20 || fail "the command for office ib did not finish"
assert_eq 0 "$RC" "exit code of the command for office ib"
assert_eq 0 "$(cat "$T/other_office.rc" 2>/dev/null)" \
  "--assert for ia inside a command for ib, while this host holds ia"

step "the holder ends"
touch "$T/inside.release"
wait_exit "$inside" 20 || fail "the asserting holder did not exit"
assert_eq 0 "$RC" "the asserting holder's exit code"
wait_exit "$ia_waiter" 20 || fail "the queued wrapper on ia did not run after the holder"
assert_eq 0 "$RC" "the queued wrapper's exit code"
kill -TERM "$holder"
wait_exit "$holder" 20 || fail "the iw holder still runs 20 s after SIGTERM"

pass
