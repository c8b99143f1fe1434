#!/usr/bin/env bash
# `conch sema` weights and --spread. Weights: the admitted set is the longest
# prefix of the queue whose weights fit in --max, so a weight-2 and a
# weight-1 claim share --max 3, a weight-2 head waits while only one unit is
# free and holds back a weight-1 claim behind it (head-of-line), and is
# admitted once two units are free. --spread: a second claim from the same
# host waits although a slot is free, keeps its key (and place) meanwhile,
# and does not block a claim behind it that does not use --spread.
source "$(dirname "$0")/common.sh"

store_start

# sema_held_pids NAME: the wrapper pids of the keys marked "held":true, in
# queue order, space-separated.
sema_held_pids() {
  sema_entries "$1" | jq -r 'select(.value.held? == true) | .value.pid' | paste -sd ' '
}

# gate_cmd TAG: a child that records its pid in $T/TAG.pid and its start in
# $T/TAG.start, runs until $T/TAG.release exists, then stamps $T/TAG.end.
gate_cmd() {
  echo "echo \$\$ > '$T/$1.pid'; $(stamp "$1.start")
    while [ ! -e '$T/$1.release' ]; do sleep 0.02; done
    $(stamp "$1.end")"
}

# release TAG WRAPPER_PID: lets the child TAG finish and checks that its
# wrapper exits 0.
release() {
  touch "$T/$1.release"
  wait_exit "$2" 20 || fail "$1 did not exit after its child finished"
  assert_eq 0 "$RC" "$1's exit code"
}

# The holders have --ttl 30s: a claim admitted well within 15 s of a
# holder's exit was admitted because it released, not because its lease
# ran out.
step "--max 3: a weight-1 (W) and a weight-2 (X) claim run at once"
bg w "$CONCH" sema sw --max 3 --ttl 30s -- sh -c "$(gate_cmd w)"
w=$BG_PID
wait_for "[[ -s $T/w.start ]]" 30 || fail "W's child did not start"
bg x "$CONCH" sema sw --max 3 --weight 2 --ttl 30s -- sh -c "$(gate_cmd x)"
x=$BG_PID
wait_for "[[ -s $T/x.start ]]" 30 || fail "X (weight 2) did not start next to W (weight 1) on --max 3"
assert_eq "$w $x" "$(sema_held_pids sw)" "wrapper pids of the keys marked held"
x_value=$(sema_entries sw | sed -n 2p | jq -c .value)
assert_eq 2 "$(jq -r .weight <<<"$x_value")" "X's .weight"
assert_eq false "$(sema_entries sw | sed -n 1p | jq '.value | has("weight")')" \
  "W's value has a weight field (weight 1)"

step "full (3/3): a weight-2 claim Y and a weight-1 claim Z queue behind"
bg y "$CONCH" sema sw --max 3 --weight 2 -- sh -c "$(gate_cmd y)"
y=$BG_PID
wait_queued y || fail "Y did not queue"
bg z "$CONCH" sema sw --max 3 -- sh -c "$(gate_cmd z)"
z=$BG_PID
wait_queued z || fail "Z did not queue"
assert_eq 4 "$(sema_count sw)" "keys (W and X holding, Y and Z waiting)"
[[ ! -e $T/y.start ]] || fail "Y started while W and X used 3 of 3"
[[ ! -e $T/z.start ]] || fail "Z started while W and X used 3 of 3"

step "W leaves (1 unit free): the weight-2 head Y waits and holds back Z"
release w "$w"
assert_eq 3 "$(sema_count sw)" "keys right after W exited (X holding, Y and Z waiting)"
# A claim queued after W's key was gone must be refused too (head-of-line).
# It is also the later event these checks wait for: Y watches the whole
# queue, so the store tells Y of W's exit before it tells it of this
# claim's key, and this claim then runs its whole course. The stamps
# checked once X leaves show that neither Y nor Z started before X's child
# ended.
run light_behind timeout 30 "$CONCH" sema sw --max 3 --nonblock -- touch "$T/ran_light"
assert_eq 75 "$RC" "--nonblock weight-1 claim behind the waiting weight-2 head"
[[ ! -e $T/ran_light ]] || fail "a weight-1 claim ran ahead of the waiting weight-2 head Y"
[[ ! -e $T/y.start ]] || fail "Y (weight 2) started with X (weight 2) holding 2 of 3"
[[ ! -e $T/z.start ]] || fail "Z (weight 1) ran ahead of the waiting weight-2 head Y"
assert_eq "$x" "$(sema_held_pids sw)" "wrapper pids of the keys marked held (X only)"
assert_eq 3 "$(sema_count sw)" "keys (X holding, Y and Z waiting)"
assert_eq false "$(sema_entries sw | sed -n 2p | jq '.value | has("held")')" \
  "waiting Y's value has a held field"

step "X leaves (3 units free): Y and then Z are admitted at once, not after X's TTL"
release x "$x"
wait_for "[[ -s $T/y.start ]]" 20 || fail "Y did not start after X left"
wait_for "[[ -s $T/z.start ]]" 20 || fail "Z did not start after X left (Y 2 + Z 1 fit in 3)"
gap_y=$(($(<"$T/y.start") - $(<"$T/x.end")))
gap_z=$(($(<"$T/z.start") - $(<"$T/x.end")))
echo "   Y started $gap_y ms and Z $gap_z ms after X's child ended"
assert_le 0 "$gap_y" "ms from X's child ending to Y's child starting (never before)"
assert_le 0 "$gap_z" "ms from X's child ending to Z's child starting (never before)"
assert_lt "$gap_y" 15000 "ms from X's child ending to Y's child starting (X's lease had 30 s)"
assert_lt "$gap_z" 15000 "ms from X's child ending to Z's child starting (X's lease had 30 s)"
assert_eq "$y $z" "$(sema_held_pids sw)" "wrapper pids of the keys marked held"

step "full again (3/3): a weight-3 claim with --nonblock gives up, 75"
run heavy_full timeout 30 "$CONCH" sema sw --max 3 --weight 3 --nonblock -- touch "$T/ran_heavy"
assert_eq 75 "$RC" "--weight 3 --nonblock with 3 of 3 used"
[[ ! -e $T/ran_heavy ]] || fail "--weight 3 ran with 3 of 3 used"
release y "$y"
release z "$z"
assert_eq 0 "$(sema_count sw)" "keys under sw after everyone left"

step "--weight equal to --max takes the whole semaphore"
run heavy_empty timeout 30 "$CONCH" sema sw --max 3 --weight 3 --nonblock -- echo ran
assert_eq 0 "$RC" "--weight 3 --nonblock on an empty --max 3"
assert_eq ran "$OUT" "--weight 3 output"

step "--spread on --max 2: a second claim from this host waits, key kept"
bg s1 "$CONCH" sema ss --max 2 --spread --ttl 30s -- sh -c "$(gate_cmd s1)"
s1=$BG_PID
wait_for "[[ -s $T/s1.start ]]" 30 || fail "first --spread claim did not start"
bg s2 "$CONCH" sema ss --max 2 --spread -- sh -c "$(gate_cmd s2)"
s2=$BG_PID
wait_queued s2 || fail "second --spread claim did not queue"
assert_eq 2 "$(sema_count ss)" "keys with both --spread claims"
s2_key=$(sema_entries ss | sed -n 2p | jq -r .key)
[[ $s2_key =~ $(key_re /conch/v1/sema/ss/2/) ]] || fail "second --spread claim's key: [$s2_key]"
[[ ! -e $T/s2.start ]] || fail "second --spread claim from the same host ran next to the first"
proc_alive "$s2" || fail "second --spread claim exited while waiting"
assert_eq "$s2_key" "$(sema_entries ss | sed -n 2p | jq -r .key)" \
  "second --spread claim's key, still in second place while it waits"
assert_eq "$s1" "$(sema_held_pids ss)" "wrapper pids of the keys marked held"

step "--spread: a skipped claim does not block a plain claim behind it"
bg p "$CONCH" sema ss --max 2 -- sh -c "$(gate_cmd p)"
p=$BG_PID
wait_for "[[ -s $T/p.start ]]" 30 ||
  fail "a plain claim behind the skipped --spread claim did not take the free slot"
[[ ! -e $T/s2.start ]] || fail "second --spread claim ran although the first still holds"
assert_eq "$s2_key" "$(sema_entries ss | sed -n 2p | jq -r .key)" \
  "second --spread claim's key, still in second place"
release p "$p"

step "--spread: the second claim runs when the first exits"
release s1 "$s1"
wait_for "[[ -s $T/s2.start ]]" 20 || fail "second --spread claim did not start after the first left"
gap=$(($(<"$T/s2.start") - $(<"$T/s1.end")))
echo "   the second --spread claim started $gap ms after the first's child ended"
assert_le 0 "$gap" "ms from the first --spread child ending to the second starting (never before)"
assert_lt "$gap" 15000 "ms from the first --spread child ending to the second starting (its lease had 30 s)"
release s2 "$s2"
assert_eq 0 "$(sema_count ss)" "keys under ss at the end"

pass
