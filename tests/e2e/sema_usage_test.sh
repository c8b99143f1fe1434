#!/usr/bin/env bash
# The front end of `conch sema`: help, every usage error (exit 64, nothing
# runs, no key written) and the Go flag spellings that must work.
source "$(dirname "$0")/common.sh"

store_start

# sema_all_keys: how many keys exist under /conch/v1/sema/.
sema_all_keys() {
  local keys
  keys=$(keys_under /conch/v1/sema/) || return 1
  if [[ -z $keys ]]; then echo 0; else wc -l <<<"$keys"; fi
}

step "sema --help prints usage on stdout and exits 0"
run sema_help timeout 30 "$CONCH" sema --help
assert_eq 0 "$RC" "conch sema --help exit code"
assert_match 'max' "$OUT" "conch sema --help output"
assert_match 'weight' "$OUT" "conch sema --help output"
assert_match 'spread' "$OUT" "conch sema --help output"
run help "$CONCH" help
assert_eq 0 "$RC" "conch help exit code"
assert_match 'sema' "$OUT" "conch help lists sema"

# expect_usage NAME ARGS...: conch ARGS must exit 64 with a message on
# stderr, and the command (touch $T/ran) must not run. Bounded by timeout
# (124) in case a wrong acceptance makes it wait.
expect_usage() {
  local name=$1
  shift
  rm -f "$T/ran"
  run "usage_$name" timeout 30 "$CONCH" "$@"
  assert_eq 64 "$RC" "usage error '$name' (conch $*) exit code"
  [[ -n $ERR ]] || fail "usage error '$name' printed nothing on stderr"
  [[ ! -e $T/ran ]] || fail "usage error '$name' ran the command"
}

step "usage errors exit 64 without running anything"
long_name=$(printf 'a%.0s' {1..129})
expect_usage no_max sema su -- touch "$T/ran"
expect_usage max_zero sema su --max 0 -- touch "$T/ran"
expect_usage max_negative sema su --max -1 -- touch "$T/ran"
expect_usage max_not_a_number sema su --max abc -- touch "$T/ran"
expect_usage max_without_value sema su --max
expect_usage weight_above_max sema su --max 3 --weight 4 -- touch "$T/ran"
expect_usage weight_zero sema su --max 3 --weight 0 -- touch "$T/ran"
expect_usage weight_negative sema su --max 3 --weight -1 -- touch "$T/ran"
expect_usage spread_weight_2 sema su --max 3 --spread --weight 2 -- touch "$T/ran"
expect_usage name_with_slash sema a/b --max 2 -- touch "$T/ran"
expect_usage name_empty sema "" --max 2 -- touch "$T/ran"
expect_usage name_129_bytes sema "$long_name" --max 2 -- touch "$T/ran"
expect_usage missing_name sema
expect_usage missing_name_before_dashes sema -- touch "$T/ran"
expect_usage missing_command sema su --max 2
expect_usage missing_command_after_dashes sema su --max 2 --
expect_usage bad_flag sema su --max 2 --bogus -- touch "$T/ran"
expect_usage kill_after_vs_ttl sema su --max 2 --ttl 3s --kill-after 2s -- touch "$T/ran"
expect_usage wait_not_a_duration sema su --max 2 --wait abc -- touch "$T/ran"
assert_eq 0 "$(sema_all_keys)" "keys under /conch/v1/sema/ after the usage errors"

# expect_runs NAME ARGS...: conch ARGS must run the command (which prints
# "ran") and exit 0.
expect_runs() {
  local name=$1
  shift
  run "runs_$name" timeout 30 "$CONCH" "$@"
  assert_eq 0 "$RC" "'$name' (conch $*) exit code"
  assert_eq ran "$OUT" "'$name' (conch $*) stdout"
}

step "Go flag spellings are accepted"
expect_runs single_dash sema su -max 2 -nonblock -ttl=3s -kill-after 1s -- echo ran
expect_runs double_dash_equals sema su --max=2 --weight=2 --nonblock --ttl=3s --kill-after=1s -- echo ran
expect_runs double_dash_space sema su --max 2 --weight 1 --ttl 3s --kill-after 1s --nonblock -- echo ran
expect_runs flags_after_max sema su --spread --max 1 --wait 5s -- echo ran
expect_runs weight_equals_max sema su --max 3 --weight 3 -- echo ran
expect_runs name_128_bytes sema "${long_name:1}" --max 1 --nonblock -- echo ran
CONCH_TTL=3s expect_runs env_ttl sema su --max 1 --kill-after 1s -- echo ran
CONCH_TTL=3s expect_runs env_ttl_alone sema su --max 1 -- echo ran
# Not in a subshell: a failed check must end the script (or, with
# CONCH_E2E_KEEP_GOING=1, be counted by it).
unset CONCH_ENDPOINTS
expect_runs endpoints_flag sema su --max 1 --endpoints "$STORE_ENDPOINTS" \
  --dial-timeout 20s -- echo ran
export CONCH_ENDPOINTS=$STORE_ENDPOINTS
assert_eq 0 "$(sema_all_keys)" "keys under /conch/v1/sema/ at the end"

step "unreachable store: 69 after the dial timeout given, nothing runs"
rm -f "$T/ran"
run unreachable timeout 20 "$CONCH" sema su --max 1 --endpoints "$STORE_UNREACHABLE" \
  --dial-timeout 1s -- touch "$T/ran"
assert_eq 69 "$RC" "--endpoints $STORE_UNREACHABLE --dial-timeout 1s"
assert_match 'within 1s' "$ERR" "the error names the --dial-timeout given"
[[ ! -e $T/ran ]] || fail "the command ran although the store was unreachable"

pass
