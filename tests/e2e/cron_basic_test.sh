#!/usr/bin/env bash
# `conch cron` without a daemon: add (the stored JSON, every flag, an edit
# by re-adding), ls (text, --json, --last, both; `[]` when empty), next of
# a stored job (its zone and --from), rm (0, then 1 "job not found"), the
# usage errors (64 with one line on stderr, nothing on stdout, nothing
# written), the store errors (69), conchd's own usage errors, and the
# original's smoke script (conch-smoke.sh) step by step.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/cron.sh"

store_start

# usage_error NAME ARGS...: `conch ARGS` must exit 64 with exactly one
# line on stderr, nothing on stdout. Sets ERR.
usage_error() {
  local name=$1
  shift
  run "$name" "$CONCH" "$@"
  assert_eq 64 "$RC" "$name: exit code of conch $*"
  assert_eq "" "$OUT" "$name: stdout of conch $*"
  assert_eq 1 "$(wc -l <"$T/$name.err")" "$name: stderr lines of conch $* [$ERR]"
}

step "empty: ls prints the header only, --json prints []"
run ls_empty "$CONCH" cron ls
assert_eq 0 "$RC" "cron ls (no jobs)"
assert_eq "NAME  SCHEDULE" "$OUT" "cron ls (no jobs)"
run ls_empty_json "$CONCH" cron ls --json
assert_eq 0 "$RC" "cron ls --json (no jobs)"
assert_eq "[]" "$OUT" "cron ls --json (no jobs; the original printed null)"
run ls_empty_last "$CONCH" cron ls --last
assert_eq 0 "$RC" "cron ls --last (no jobs)"
assert_eq "NAME  SCHEDULE  LAST-TICK  NODE  EXIT  DURATION" "$OUT" "cron ls --last (no jobs)"
run ls_empty_last_json "$CONCH" cron ls --last --json
assert_eq "[]" "$OUT" "cron ls --last --json (no jobs)"

step "add: silent 0; the stored JSON, schedule canonical with CRON_TZ="
run add_j1 "$CONCH" cron add j1 --schedule '*/5 * * * *' --tz UTC -- echo hi
assert_eq 0 "$RC" "cron add j1"
assert_eq "" "$OUT$ERR" "output of cron add j1"
j1=$(cron_job_json j1) || fail "no key $CRON/job/j1 after cron add"
assert_eq "CRON_TZ=UTC */5 * * * *" "$(jq -r .schedule <<<"$j1")" "j1's schedule"
assert_eq '["echo","hi"]' "$(jq -c .cmd <<<"$j1")" "j1's cmd"
assert_eq 10m "$(jq -r .run_ttl <<<"$j1")" "j1's run_ttl (default)"
assert_match "^[^@ ]+@$HOST\$" "$(jq -r .added_by <<<"$j1")" "j1's added_by"
assert_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' \
  "$(jq -r .added_at <<<"$j1")" "j1's added_at"
added=$(unix_of "$(jq -r .added_at <<<"$j1")")
assert_le $(($(date +%s) - 60)) "$added" "j1's added_at vs now"
# The original's five fields only, in its order, when every flag has its
# default (so that the original's conchd reads the job unchanged).
assert_eq '["schedule","cmd","run_ttl","added_by","added_at"]' "$(jq -c keys_unsorted <<<"$j1")" \
  "j1's fields"

step "add with every flag: each is stored"
run add_j2 "$CONCH" cron add j2 --schedule '0 12 * * *' --tz Europe/Berlin --run-ttl 30s \
  --overlap allow --missed run-once --starting-deadline 1m --kill-after 2s \
  --tag role=db --tag zone=x --hosts h1,h2 -- sh -c 'echo "a b"'
assert_eq 0 "$RC" "cron add j2 (every flag)"
j2=$(cron_job_json j2) || fail "no key $CRON/job/j2"
assert_eq "CRON_TZ=Europe/Berlin 0 12 * * *" "$(jq -r .schedule <<<"$j2")" "j2's schedule"
assert_eq '["sh","-c","echo \"a b\""]' "$(jq -c .cmd <<<"$j2")" "j2's cmd"
assert_eq 30s "$(jq -r .run_ttl <<<"$j2")" "j2's run_ttl"
assert_eq allow "$(jq -r .overlap <<<"$j2")" "j2's overlap"
assert_eq run-once "$(jq -r .missed <<<"$j2")" "j2's missed"
assert_eq 60 "$(jq -r .starting_deadline <<<"$j2" | sed 's/^1m0s$/60/; s/^60s$/60/')" \
  "j2's starting_deadline ($(jq -r .starting_deadline <<<"$j2"))"
assert_eq 2s "$(jq -r .kill_after <<<"$j2")" "j2's kill_after"
assert_eq '{"role":"db","zone":"x"}' "$(jq -c .tags <<<"$j2")" "j2's tags"
assert_eq '["h1","h2"]' "$(jq -c .hosts <<<"$j2")" "j2's hosts"
run add_j3 "$CONCH" cron add j3 --schedule 'TZ=America/New_York 0 0 * * *' -- true
assert_eq 0 "$RC" "cron add j3 (a TZ= prefix)"
assert_eq "CRON_TZ=America/New_York 0 0 * * *" "$(cron_job_json j3 | jq -r .schedule)" \
  "j3's schedule (TZ= written as CRON_TZ=)"

step "ls: a tab-aligned table sorted by name; --json; --last"
run ls "$CONCH" cron ls
assert_eq 0 "$RC" "cron ls"
expected="NAME  SCHEDULE
j1    CRON_TZ=UTC */5 * * * *
j2    CRON_TZ=Europe/Berlin 0 12 * * *
j3    CRON_TZ=America/New_York 0 0 * * *"
assert_eq "$expected" "$OUT" "cron ls"
run ls_json "$CONCH" cron ls --json
assert_eq 0 "$RC" "cron ls --json"
assert_eq '[{"name":"j1","schedule":"CRON_TZ=UTC */5 * * * *"},{"name":"j2","schedule":"CRON_TZ=Europe/Berlin 0 12 * * *"},{"name":"j3","schedule":"CRON_TZ=America/New_York 0 0 * * *"}]' \
  "$OUT" "cron ls --json"
run ls_last "$CONCH" cron ls --last
assert_eq 0 "$RC" "cron ls --last"
expected="NAME  SCHEDULE                            LAST-TICK  NODE  EXIT  DURATION
j1    CRON_TZ=UTC */5 * * * *             —          —     —     —
j2    CRON_TZ=Europe/Berlin 0 12 * * *    —          —     —     —
j3    CRON_TZ=America/New_York 0 0 * * *  —          —     —     —"
assert_eq "$expected" "$OUT" "cron ls --last (never fired)"
run ls_last_json "$CONCH" cron ls --last --json
assert_eq 0 "$RC" "cron ls --last --json"
assert_eq '{"duration":null,"exit":null,"last_tick":null,"name":"j1","node":null,"schedule":"CRON_TZ=UTC */5 * * * *"}' \
  "$(jq -c '.[0]' <<<"$OUT")" "cron ls --last --json, j1"
assert_eq 3 "$(jq length <<<"$OUT")" "items of cron ls --last --json"

step "next <name>: the job's ticks in its zone"
run next_j1 "$CONCH" cron next j1 --from 2030-01-01T10:00:00Z --count 3
assert_eq 0 "$RC" "cron next j1 --from"
assert_eq $'2030-01-01T10:05:00Z\n2030-01-01T10:10:00Z\n2030-01-01T10:15:00Z' "$OUT" "cron next j1 --from"
run next_j2 "$CONCH" cron next j2 --from 2030-07-01T00:00:00Z --count 2
assert_eq 0 "$RC" "cron next j2 --from"
assert_eq $'2030-07-01T12:00:00+02:00\n2030-07-02T12:00:00+02:00' "$OUT" "cron next j2 (Berlin, summer)"
run next_now "$CONCH" cron next j1
assert_eq 0 "$RC" "cron next j1"
assert_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-5][05]:00Z$' "$OUT" "cron next j1 (one tick)"
now=$(date +%s)
next=$(unix_of "$OUT")
assert_lt "$((now - 1))" "$next" "j1's next tick vs now"
assert_le "$next" $((now + 300)) "j1's next tick is within 5 minutes"
run next_missing "$CONCH" cron next nosuch
assert_eq 1 "$RC" "cron next of a missing job"
assert_match 'job not found: nosuch' "$ERR" "cron next of a missing job"

step "add again: an edit replaces the job"
run edit_j1 "$CONCH" cron add j1 --schedule '@hourly' --tz UTC -- echo edited
assert_eq 0 "$RC" "cron add j1 again"
j1=$(cron_job_json j1)
assert_eq "CRON_TZ=UTC @hourly" "$(jq -r .schedule <<<"$j1")" "j1's schedule after the edit"
assert_eq '["echo","edited"]' "$(jq -c .cmd <<<"$j1")" "j1's cmd after the edit"
run ls_after_edit "$CONCH" cron ls --json
assert_eq '["j1","j2","j3"]' "$(jq -c 'map(.name)' <<<"$OUT")" "jobs after the edit"

step "usage errors: 64, one line, nothing written"
before=$(store_dump)
usage_error bad_field cron add bad --schedule '0 0 30 2 *' -- true
assert_match 'day of month \(field 3\)' "$ERR" "unsatisfiable schedule names the field"
usage_error bad_minute cron add bad --schedule '61 * * * *' -- true
assert_match 'minute \(field 1\)' "$ERR" "minute 61 names the field"
usage_error bad_tz cron add bad --schedule '0 0 * * *' --tz Mars/Base -- true
assert_match 'Mars/Base' "$ERR" "unknown --tz names the zone"
usage_error bad_tz_prefix cron add bad --schedule 'TZ=Mars/Base 0 0 * * *' -- true
assert_match 'Mars/Base' "$ERR" "unknown TZ= prefix names the zone"
usage_error bad_every cron add bad --schedule '@every 500ms' -- true
assert_match '500ms' "$ERR" "@every 500ms"
usage_error bad_slash cron add a/b --schedule '@every 1m' -- true
assert_match "a/b" "$ERR" "a name with '/'"
usage_error bad_space cron add 'a b' --schedule '@every 1m' -- true
usage_error no_cmd cron add bad --schedule '@every 1m'
assert_match 'command' "$ERR" "a missing command"
usage_error empty_cmd cron add bad --schedule '@every 1m' --
usage_error no_schedule cron add bad -- true
assert_match 'schedule' "$ERR" "a missing --schedule"
usage_error bad_overlap cron add bad --schedule '@every 1m' --overlap sometimes -- true
usage_error bad_missed cron add bad --schedule '@every 1m' --missed never -- true
usage_error bad_tag cron add bad --schedule '@every 1m' --tag role -- true
usage_error bad_ttl cron add bad --schedule '@every 1m' --run-ttl -1s -- true
usage_error bad_hosts cron add bad --schedule '@every 1m' --hosts a,,b -- true
usage_error bad_flag cron add bad --schedule '@every 1m' --bogus -- true
usage_error unknown_action cron frob x
assert_match 'frob' "$ERR" "an unknown action"
usage_error no_action cron
usage_error rm_no_name cron rm
usage_error rm_cmd cron rm j1 -- true
usage_error ls_flag cron ls --schedule '@every 1m'
usage_error run_neg cron run j1 --wait -1s
assert_eq "$before" "$(store_dump)" "the store after the usage errors"

step "help: 0"
run help "$CONCH" cron --help
assert_eq 0 "$RC" "cron --help"

step "rm: silent 0, then 1 'job not found'"
run rm_j1 "$CONCH" cron rm j1
assert_eq 0 "$RC" "cron rm j1"
assert_eq "" "$OUT$ERR" "output of cron rm j1"
cron_job_json j1 >/dev/null && fail "$CRON/job/j1 still there after cron rm"
run rm_j1_again "$CONCH" cron rm j1
assert_eq 1 "$RC" "cron rm of a missing job"
assert_eq "" "$OUT" "stdout of cron rm of a missing job"
assert_match 'job not found: j1' "$ERR" "cron rm of a missing job"
assert_eq 1 "$(wc -l <"$T/rm_j1_again.err")" "stderr lines of cron rm of a missing job"
run ls_after_rm "$CONCH" cron ls --json
assert_eq '["j2","j3"]' "$(jq -c 'map(.name)' <<<"$OUT")" "jobs after cron rm j1"
for j in j2 j3; do
  run "rm_$j" "$CONCH" cron rm "$j"
  assert_eq 0 "$RC" "cron rm $j"
done
run ls_none "$CONCH" cron ls --json
assert_eq "[]" "$OUT" "cron ls --json after removing every job"

step "store errors: 69"
unreachable=(--endpoints "$STORE_UNREACHABLE" --dial-timeout 1s)
for args in "ls" "ls --last" "rm e" "history e" "pause e" "resume e" "run e" "next e"; do
  # shellcheck disable=SC2086 # word splitting wanted
  run store_err timeout 30 "$CONCH" cron $args "${unreachable[@]}"
  assert_eq 69 "$RC" "cron $args against an unreachable store"
done
run store_err_add timeout 30 "$CONCH" cron add e "${unreachable[@]}" --schedule @hourly -- true
assert_eq 69 "$RC" "cron add against an unreachable store"

step "conchd's usage errors: 64 with one line; --help 0"
for args in "--bogus" "--history 0" "x" "-- true" "--tag role" "--ttl 3s"; do
  # shellcheck disable=SC2086 # word splitting wanted
  run conchd_usage timeout 30 "$CONCHD" $args
  assert_eq 64 "$RC" "conchd $args"
  assert_eq 1 "$(wc -l <"$T/conchd_usage.err")" "stderr lines of conchd $args [$ERR]"
done
run conchd_help "$CONCH" conchd --help
assert_eq 0 "$RC" "conch conchd --help"
assert_match '^usage: conchd' "$OUT" "conch conchd --help"
run conchd_store timeout 30 "$CONCHD" --endpoints "$STORE_UNREACHABLE" --dial-timeout 1s
assert_eq 69 "$RC" "conchd against an unreachable store"

step "the original's smoke script"
run smoke_who "$CONCH" elect x --who
assert_eq 1 "$RC" "elect x --who (vacant)"
run smoke_elect "$CONCH" elect x -- true
assert_eq 0 "$RC" "elect x -- true"
run smoke_sema "$CONCH" sema s --max 1 --who
# Nobody holds or waits: the negative answer, 1, and nothing printed.
assert_eq 1 "$RC" "sema s --max 1 --who (empty)"
assert_eq "" "$OUT" "stdout of sema s --max 1 --who (empty)"
run smoke_add "$CONCH" cron add smoke --schedule '@every 1m' -- true
assert_eq 0 "$RC" "cron add smoke"
run smoke_ls "$CONCH" cron ls --last
assert_eq 0 "$RC" "cron ls --last"
assert_match $'\nsmoke +CRON_TZ=[^ ]+ @every 1m +— +— +— +—$' "$OUT" "cron ls --last (smoke)"
run smoke_rm "$CONCH" cron rm smoke
assert_eq 0 "$RC" "cron rm smoke"

pass
