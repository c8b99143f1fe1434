#!/usr/bin/env bash
# `conch sema` ordering and capacity: waiters are admitted in strict arrival
# (create revision) order, and with 20 contenders on --max 3 never more than
# 3 children run at once, the slots are actually used (3 at once), and every
# contender runs once and exits 0.
source "$(dirname "$0")/common.sh"

store_start

step "10 waiters queued one by one behind a holder on --max 1 run in that order"
bg holder "$CONCH" sema so --max 1 -- sh -c "
  echo \$\$ > '$T/holder.pid'
  while [ ! -e '$T/release' ]; do sleep 0.02; done"
holder=$BG_PID
wait_for "[[ -s $T/holder.pid ]]" 30 || fail "holder's child did not start"
waiters=()
for i in 1 2 3 4 5 6 7 8 9 10; do
  bg "w$i" "$CONCH" sema so --max 1 -- sh -c "echo $i >> '$T/order'"
  waiters+=("$BG_PID")
  # Its key exists before the next waiter starts: arrival order is i.
  wait_queued "w$i" || fail "waiter $i did not queue"
done
assert_eq 11 "$(sema_count so)" "keys with the holder and 10 waiters"
[[ ! -e $T/order ]] || fail "a waiter ran while the holder held the only slot: $(paste -sd ' ' "$T/order")"
touch "$T/release"
wait_exit "$holder" 20 || fail "holder did not exit after its child finished"
assert_eq 0 "$RC" "holder's exit code"
for i in "${!waiters[@]}"; do
  wait_exit "${waiters[i]}" 30 || fail "waiter $((i + 1)) did not finish"
  assert_eq 0 "$RC" "waiter $((i + 1))'s exit code"
done
assert_eq "1 2 3 4 5 6 7 8 9 10" "$(paste -sd ' ' "$T/order")" "order in which the waiters ran"
assert_eq 0 "$(sema_count so)" "keys under so at the end"

step "20 contenders on --max 3: at most 3 at once, all run and exit 0"
# Each child stamps its start, waits until 3 children have started (so the
# first three are proven to run at once, however slowly the wrappers come
# up; a semaphore that admitted fewer would leave them waiting until their
# 30 s give-up), then works 0.2 .. 0.5 s and stamps its stop, both in ns.
contenders=()
start=$(now_ms)
for i in $(seq 1 20); do
  d=$((2 + i % 4))
  bg "c$i" "$CONCH" sema sc --max 3 --ttl 10s --kill-after 1s -- sh -c "
    echo \"start $i \$(date +%s%N)\" >> '$T/conc.log'
    n=0
    while [ \$(grep -c '^start ' '$T/conc.log') -lt 3 ]; do
      n=\$((n + 1)); [ \$n -lt 1500 ] || exit 9; sleep 0.02
    done
    sleep 0.$d
    echo \"stop $i \$(date +%s%N)\" >> '$T/conc.log'"
  contenders+=("$BG_PID")
done
for i in "${!contenders[@]}"; do
  wait_exit "${contenders[i]}" 60 || fail "contender $((i + 1)) did not finish within 60 s"
  assert_eq 0 "$RC" "contender $((i + 1))'s exit code (9: fewer than 3 ran at once)"
done
echo "   20 contenders done in $(($(now_ms) - start)) ms"
assert_eq 20 "$(grep -c '^start ' "$T/conc.log")" "start lines in the log"
assert_eq 20 "$(grep -c '^stop ' "$T/conc.log")" "stop lines in the log"
assert_eq 20 "$(awk '$1 == "start" {print $2}' "$T/conc.log" | sort -u | wc -l)" \
  "distinct contenders that started"
# Each start is +1 and each stop -1; at equal times a stop counts first.
peak=$(awk '$1 == "start" {print $3, 1} $1 == "stop" {print $3, -1}' "$T/conc.log" |
  sort -k1,1n -k2,2n | awk '{n += $2; if (n > m) m = n} END {print m + 0}')
echo "   at most $peak children ran at once"
assert_lt "$peak" 4 "children running at once on --max 3"
assert_eq 3 "$peak" "children running at once at the peak (20 contenders, 3 slots)"
assert_eq 0 "$(sema_count sc)" "keys under sc at the end"

pass
