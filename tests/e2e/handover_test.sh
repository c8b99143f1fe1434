#!/usr/bin/env bash
# Handover between wrappers, all with --ttl 30s so that nothing here can be
# explained by a lease expiring: a clean exit hands the office to the queued
# waiter at once (well before the leaver's 30 s TTL could run out), and a
# queued waiter stopped by SIGTERM leaves no stale key that would hold up
# the waiter behind it.
source "$(dirname "$0")/common.sh"

store_start

step "a clean exit hands over to the queued waiter at once, not after the TTL"
bg a "$CONCH" elect ho --ttl 30s -- sh -c "
  echo \$\$ > '$T/a.pid'
  while [ ! -e '$T/release_a' ]; do sleep 0.02; done
  $(stamp a.end)"
a=$BG_PID
wait_for "[[ -s $T/a.pid ]]" 30 || fail "A's child did not start"
bg b "$CONCH" elect ho --ttl 30s -- sh -c "$(stamp b.start); $(holder_sleep_cmd "$T/b.pid")"
b=$BG_PID
wait_queued b || fail "B did not queue"
assert_eq 2 "$(key_count ho)" "keys with A holding and B queued"
[[ ! -e $T/b.start ]] || fail "B's child started while A held the office"
touch "$T/release_a"
wait_exit "$a" 20 || fail "A did not exit after its child finished"
assert_eq 0 "$RC" "A's exit code"
wait_for "[[ -s $T/b.start ]]" 20 || fail "B's child did not start after A's exit"
gap=$(($(<"$T/b.start") - $(<"$T/a.end")))
echo "   B's child started $gap ms after A's child ended"
assert_le 0 "$gap" "ms from A's child ending to B's child starting (never before)"
assert_lt "$gap" 15000 "ms from A's child ending to B's child starting (A released; its lease had 30 s)"

step "SIGTERM to a queued waiter: its key is gone at once"
bg c "$CONCH" elect ho --ttl 30s -- touch "$T/c.ran"
c=$BG_PID
wait_queued c || fail "C did not queue"
bg d "$CONCH" elect ho --ttl 30s -- sh -c "$(stamp d.start)"
d=$BG_PID
wait_queued d || fail "D did not queue"
keys=$(office_keys ho)
assert_eq 3 "$(wc -l <<<"$keys")" "keys with B holding, C and D queued"
c_key=$(sed -n 2p <<<"$keys")
kill -TERM "$c"
wait_exit "$c" 20 || fail "C still running 20 s after SIGTERM"
assert_eq 143 "$RC" "C's exit code"
# Read right after C exited: a key left to its 30 s lease would still be
# there.
remaining=$(office_keys ho | paste -sd ' ')
assert_eq "$(sed -n 1p <<<"$keys") $(sed -n 3p <<<"$keys")" "$remaining" \
  "keys right after C exited (C's key $c_key must be gone)"

step "the next waiter's child starts at once when the holder leaves, not after the TTL"
start=$(now_ms)
kill -TERM "$b"
wait_exit "$b" 20 || fail "B still running 20 s after SIGTERM"
assert_eq 143 "$RC" "B's exit code (its child 'sleep' got SIGTERM)"
wait_for "[[ -s $T/d.start ]]" 20 || fail "D's child did not start after B left"
gap=$(($(<"$T/d.start") - start))
echo "   D's child started $gap ms after SIGTERM to B"
assert_lt "$gap" 15000 "ms from SIGTERM to B until D's child started (B's lease had 30 s)"
wait_exit "$d" 20 || fail "D did not exit"
assert_eq 0 "$RC" "D's exit code"
[[ ! -e $T/c.ran ]] || fail "C ran its command after SIGTERM"
assert_eq 0 "$(key_count ho)" "keys at the end"

pass
