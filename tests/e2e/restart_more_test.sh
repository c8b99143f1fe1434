#!/usr/bin/env bash
# --restart between rounds: every pause before the next campaign lasts at
# least 1 s (the first exactly 1 s, later ones drawn from [1 s, 3 x the
# previous); the exact draw is unit-tested), each round campaigns with a
# new key, and a stop signal during a pause ends the wrapper with 128+N
# without starting another round.
source "$(dirname "$0")/common.sh"

store_start

# round_cmd FILE: a command that appends "<CONCH_REV> <ms>" to $T/FILE and
# exits 0 at once.
round_cmd() {
  echo "echo \"\$CONCH_REV \$((\$(date +%s%N) / 1000000))\" >> '$T/$1'"
}

# office_revision OFFICE: a number that changes whenever a key under the
# office is created or deleted: on etcd the store's revision; on ZooKeeper
# the pzxid of the office's node, which must exist as a persistent node
# (see signal_in_pause).
office_revision() {
  local rev
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    rev=$(etcdctl_ get /conch/ -w json | jq .header.revision)
  else
    rev=$(zkctl stat "/conch/v1/elect/$1" | sed -n 's/.* pzxid=\([0-9]*\).*/\1/p')
  fi
  [[ $rev =~ ^[0-9]+$ ]] || return 1
  echo "$rev"
}

# rounds FILE: how many rounds have recorded themselves in $T/FILE.
rounds() {
  if [[ -s $T/$1 ]]; then wc -l <"$T/$1"; else echo 0; fi
}

step "four rounds of a command that exits at once: every pause is at least 1 s"
bg paced "$CONCH" elect rp --restart --ttl 3s --kill-after 1s -- sh -c "$(round_cmd paced.runs)"
wrapper=$BG_PID
# The pauses may add up to 1 + 3 + 9 s; campaigns come on top.
wait_for "(( \$(rounds paced.runs) >= 4 ))" 40 || fail "fewer than 4 rounds within 40 s"
kill -TERM "$wrapper"
wait_exit "$wrapper" 20 || fail "wrapper still running 20 s after SIGTERM"
assert_eq 0 "$(key_count rp)" "keys after the wrapper exited"
prev_rev=0 prev_ms=
for i in 1 2 3 4; do
  read -r rev ms < <(sed -n "${i}p" "$T/paced.runs")
  assert_lt "$prev_rev" "$rev" "CONCH_REV of round $i (a new key each round)"
  if [[ -n $prev_ms ]]; then
    echo "   round $i started $((ms - prev_ms)) ms after round $((i - 1))"
    assert_le 1000 $((ms - prev_ms)) "ms between the starts of rounds $((i - 1)) and $i"
  fi
  prev_rev=$rev prev_ms=$ms
done

# signal_in_pause ATTEMPT: one try at landing SIGTERM inside the first
# pause. Returns 2 when the signal could not be shown to have been sent
# inside the pause (the caller tries again); otherwise checks the outcome.
signal_in_pause() {
  local tag=pause$1 wrapper sent rev_before rev_after start1 exited
  # ZooKeeper removes an empty container (a change of its parent's
  # children, not of the office's) at any moment: the office's own node is
  # made persistent, so that only keys under it change its pzxid.
  if [[ $CONCH_TEST_STORE == zookeeper ]]; then
    key_put "/conch/v1/elect/$tag" "" || fail "$tag: could not create the office's node"
  fi
  bg "$tag" "$CONCH" elect "$tag" --restart --ttl 3s --kill-after 1s -- sh -c "$(round_cmd "$tag.runs")"
  wrapper=$BG_PID
  # The wrapper logs this line after releasing, right before pausing.
  wait_for "err_has $tag 'queueing again in'" 20 || fail "$tag: no pause after the first round"
  kill -TERM "$wrapper"
  sent=$(now_ms)
  rev_before=$(office_revision "$tag") || fail "$tag: store revision"
  wait_exit "$wrapper" 20 || fail "$tag: wrapper still running 20 s after SIGTERM in the pause"
  exited=$(now_ms)
  rev_after=$(office_revision "$tag") || fail "$tag: store revision"
  read -r _ start1 < <(sed -n 1p "$T/$tag.runs")
  # The first pause lasts 1 s and begins after round 1 started, so a
  # signal sent within 1 s of that start was sent inside the pause.
  if (($(rounds "$tag.runs") == 1 && sent - start1 >= 1000)); then
    echo "   $tag: SIGTERM sent $((sent - start1)) ms after round 1 started, maybe after the pause; again"
    return 2
  fi
  echo "   $tag: SIGTERM sent $((sent - start1)) ms after round 1 started; exit $((exited - sent)) ms later"
  assert_eq 143 "$RC" "$tag: exit code after SIGTERM in the pause"
  assert_eq 1 "$(rounds "$tag.runs")" "$tag: rounds run"
  assert_eq "$rev_before" "$rev_after" "$tag: store revision after the exit (no new campaign)"
  assert_eq 0 "$(key_count "$tag")" "$tag: keys after the wrapper exited"
  assert_eq 1 "$(grep -c 'queueing again in' "$T/$tag.err")" "$tag: pauses logged"
  return 0
}

step "SIGTERM during the pause: exit 143, no further round"
for attempt in 1 2 3; do
  signal_in_pause "$attempt"
  case $? in
    0) break ;;
    2) ((attempt < 3)) || fail "could not send SIGTERM inside the pause in 3 attempts" ;;
    *) fail "signal_in_pause failed" ;;
  esac
done

pass
