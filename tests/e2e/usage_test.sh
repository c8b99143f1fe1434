#!/usr/bin/env bash
# The front end: --version, help, every usage error of `conch elect` (exit
# 64, and the command never runs) and the Go flag spellings that must work.
source "$(dirname "$0")/common.sh"

store_start

step "--version prints one version line and exits 0"
run version "$CONCH" --version
assert_eq 0 "$RC" "conch --version exit code"
assert_match '[0-9]+\.[0-9]+' "$OUT" "conch --version output"
assert_eq 1 "$(wc -l <"$T/version.out")" "conch --version line count"

step "help and elect --help print usage on stdout and exit 0"
run help "$CONCH" help
assert_eq 0 "$RC" "conch help exit code"
assert_match 'elect' "$OUT" "conch help output"
run elect_help "$CONCH" elect --help
assert_eq 0 "$RC" "conch elect --help exit code"
assert_match 'kill-after' "$OUT" "conch elect --help output"

step "no arguments: usage on stderr, exit 64"
run noargs "$CONCH"
assert_eq 64 "$RC" "conch (no args) exit code"
assert_eq "" "$OUT" "conch (no args) stdout"
assert_match 'elect' "$ERR" "conch (no args) stderr"

# expect_usage NAME ARGS...: conch ARGS must exit 64 with a message on
# stderr, and the command (touch $T/ran) must not run.
expect_usage() {
  local name=$1
  shift
  rm -f "$T/ran"
  run "usage_$name" "$CONCH" "$@"
  assert_eq 64 "$RC" "usage error '$name' (conch $*) exit code"
  [[ -n $ERR ]] || fail "usage error '$name' printed nothing on stderr"
  [[ ! -e $T/ran ]] || fail "usage error '$name' ran the command"
}

step "usage errors exit 64 without running anything"
long_office=$(printf 'a%.0s' {1..129})
expect_usage unknown_subcommand bogus-subcommand
expect_usage bad_flag elect uo --bogus -- touch "$T/ran"
expect_usage missing_office elect
expect_usage missing_office_before_dashes elect -- touch "$T/ran"
expect_usage missing_command elect uo
expect_usage missing_command_after_dashes elect uo --
expect_usage kill_after_equals_ttl elect uo --ttl 3s --kill-after 3s -- touch "$T/ran"
expect_usage kill_after_above_ttl elect uo --ttl 2s --kill-after 5s -- touch "$T/ran"
expect_usage ttl_below_1s elect uo --ttl 500ms --kill-after 100ms -- touch "$T/ran"
expect_usage ttl_zero elect uo --ttl 0s --kill-after 0s -- touch "$T/ran"
expect_usage ttl_not_a_duration elect uo --ttl abc -- touch "$T/ran"
# A bare integer ("5") is not Go syntax, but conch reads it as seconds on
# purpose (src/base/duration.h), so only clearly bad values are checked.
expect_usage kill_after_unknown_unit elect uo --kill-after 5x -- touch "$T/ran"
expect_usage wait_fraction_without_unit elect uo --wait 1.5 -- touch "$T/ran"
expect_usage min_rev_not_a_number elect uo --assert --min-rev abc
expect_usage office_with_slash elect a/b -- touch "$T/ran"
expect_usage office_empty elect "" -- touch "$T/ran"
expect_usage office_129_bytes elect "$long_office" -- touch "$T/ran"
CONCH_TTL=500ms expect_usage env_ttl_below_1s elect uo --kill-after 100ms -- touch "$T/ran"
CONCH_TTL=3s expect_usage env_ttl_vs_given_kill_after elect uo --kill-after 2s -- touch "$T/ran"

# expect_runs NAME ARGS...: conch ARGS must run the command (which prints
# "ran") and exit 0.
expect_runs() {
  local name=$1
  shift
  run "runs_$name" "$CONCH" "$@"
  assert_eq 0 "$RC" "'$name' (conch $*) exit code"
  assert_eq ran "$OUT" "'$name' (conch $*) stdout"
}

step "Go flag spellings are accepted"
expect_runs single_dash elect uo -nonblock -ttl=3s -kill-after 1s -- echo ran
expect_runs double_dash_equals elect uo --nonblock --ttl=3s --kill-after=1s -- echo ran
expect_runs double_dash_space elect uo --ttl 3s --kill-after 1s --nonblock -- echo ran
expect_runs compound_duration elect uo --ttl 1m30s --kill-after 1500ms -- echo ran
expect_runs office_128_bytes elect "${long_office:1}" --nonblock -- echo ran
CONCH_TTL=3s expect_runs env_ttl elect uo --kill-after 1s -- echo ran

step "a TTL alone lowers the default --kill-after to one that fails closed"
expect_runs default_kill_after_vs_ttl elect uo --ttl 3s -- echo ran
CONCH_TTL=5s CONCH_DEBUG=1 expect_runs env_ttl_alone elect uo -- echo ran
assert_match 'kill-after not given; .* --ttl 5s, so it is 2\.25s' "$ERR" \
  "the debug log of the lowered --kill-after"
# The lowered --kill-after must leave room for renewals: a command that
# outlives the TTL on a healthy store is not killed.
CONCH_TTL=5s expect_runs env_ttl_alone_renewed elect uo -- sh -c 'sleep 6; echo ran'
# So must the largest --kill-after accepted for a TTL (design.md: 1349ms
# for 3s; 1350ms is refused).
expect_runs kill_after_largest_renewed elect uo --ttl 3s --kill-after 1349ms \
  -- sh -c 'sleep 4; echo ran'

step "--endpoints and --dial-timeout as flags, with and without http://"
# Not in a subshell: with CONCH_E2E_KEEP_GOING=1 a failed check in a
# subshell would not be counted by the script.
unset CONCH_ENDPOINTS
expect_runs endpoints_flag elect uo --endpoints "$STORE_ENDPOINTS" \
  --dial-timeout 20s -- echo ran
# http:// is one of etcd's forms; ZooKeeper's is the zk:// of every step.
if [[ $CONCH_TEST_STORE == etcd ]]; then
  expect_runs endpoints_http elect uo --endpoints "http://$ETCD_ENDPOINTS" -- echo ran
fi
expect_runs endpoints_second_is_live elect uo \
  --endpoints "$(store_url 127.0.0.1:1 "$(store_endpoint 0)")" -- echo ran
export CONCH_ENDPOINTS=$STORE_ENDPOINTS

step "global flags before the command, as etcdctl takes them"
unset CONCH_ENDPOINTS
run global_first "$CONCH" --endpoints "$STORE_ENDPOINTS" --ttl=3s elect uo \
  --kill-after 1s -- echo ran
assert_eq 0 "$RC" "conch --endpoints EP --ttl=3s elect ... exit code"
assert_eq ran "$OUT" "conch --endpoints EP --ttl=3s elect ... stdout"
run global_first_sema "$CONCH" -endpoints="$STORE_ENDPOINTS" -quiet sema su \
  --max 1 -- echo ran
assert_eq 0 "$RC" "conch -endpoints=EP -quiet sema ... exit code"
assert_eq ran "$OUT" "conch -endpoints=EP -quiet sema ... stdout"
assert_eq "" "$ERR" "stderr with -quiet before the command"
export CONCH_ENDPOINTS=$STORE_ENDPOINTS
expect_usage global_unknown --max 2 sema su -- touch "$T/ran"
expect_usage global_without_value --ttl
expect_usage global_without_command --endpoints "$STORE_ENDPOINTS"

step "--quiet keeps stderr empty on a clean run"
run quiet "$CONCH" elect uo --quiet -- true
assert_eq 0 "$RC" "conch elect --quiet exit code"
assert_eq "" "$ERR" "conch elect --quiet stderr"

pass
