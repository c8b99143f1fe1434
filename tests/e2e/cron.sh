# shellcheck shell=bash
# tests/e2e/cron.sh: what the distributed-cron scripts share, sourced after
# common.sh by tests/e2e/cron_*_test.sh (which run on both stores).
#
# Provides:
#   CONCHD      the daemon under test ($CONCH_CONCHD_BIN, set by ctest;
#               falls back to build/conchd next to $CONCH)
#   CRON        the records' root, /conch/v1/cron
#   daemons     conchd_bg NODE ARGS... starts `conchd ARGS` as node NODE
#               (CONCH_NODE=NODE in its environment, which its jobs
#               inherit), output in $T/NODE.out (the jobs' prefixed lines)
#               and $T/NODE.err (its log), and waits until its session is
#               up: CONCHD_PID[NODE], CONCHD_SESSION[NODE] (hex), and
#               CONCHD_PORT[NODE] when it was given --status-addr ...:0
#               (or CONCH_STATUS_ADDR);
#               conchd_stop NODE... (SIGTERM, each must exit 0);
#               conchd_log NODE TEXT [TIMEOUT_S] (waits for a log line)
#   records     cron_ticks KIND JOB: the tick names (unix seconds) under
#               $CRON/KIND/JOB/, KIND fire or result, one a line, oldest
#               first; cron_count KIND JOB; cron_value KIND JOB TICK;
#               cron_results JOB / cron_fires JOB: one JSON object a
#               record, oldest first, the record's value with "t" (the
#               tick name) added; cron_nodes: the session hex of every
#               live conchd (node/<hex>); cron_job_json JOB
#               key_rev KEY: create revision (etcd) or czxid (ZooKeeper);
#               store_dump: every key under /conch/ with its value
#   history     cron_history JOB: `conch cron history JOB --json` (fails
#               the script unless it exits 0)
#   HTTP        http METHOD URL [BODY]: sets HTTP_CODE and HTTP_BODY
#               (python3's urllib: curl need not be installed); http_raw
#               HOST:PORT REQUEST (a request as written); metric
#               NODE SAMPLE: one sample of conchd NODE's /metrics
#   time        unix_of RFC3339; wait_until_unix S (waits for the wall clock)
#   files       lines FILE: its line count (0 when missing)

CONCHD=${CONCH_CONCHD_BIN:-$(dirname "$CONCH")/conchd}
CRON=/conch/v1/cron
if [[ ! -x $CONCHD ]]; then
  echo "FAIL [$TEST_NAME]: conchd binary not found at $CONCHD (set CONCH_CONCHD_BIN)" >&2
  exit 1
fi
if ! command -v python3 >/dev/null; then
  echo "FAIL [$TEST_NAME]: python3 not found (the HTTP helper needs it)" >&2
  exit 1
fi

# shellcheck disable=SC2034 # CONCHD_SESSION is for the scripts
declare -A CONCHD_PID=() CONCHD_SESSION=() CONCHD_PORT=()

# conchd_bg NODE ARGS...: see above. The log line "<store> session <hex>
# up" comes after the daemon's node key is written.
conchd_bg() {
  local node=$1 line
  shift
  bg "$node" env CONCH_NODE="$node" "$CONCHD" "$@"
  CONCHD_PID[$node]=$BG_PID
  wait_for "grep -Eq '^conchd( [0-9:.]+)?: [a-z]+ session [0-9a-f]+ up' '$T/$node.err'" 30 ||
    fail "conchd $node: no session within 30 s"
  line=$(grep -Eo 'session [0-9a-f]+ up' "$T/$node.err" | head -n 1)
  line=${line#session }
  # shellcheck disable=SC2034 # for the scripts
  CONCHD_SESSION[$node]=${line% up}
  if [[ " $* " == *" --status-addr "* || -n ${CONCH_STATUS_ADDR:-} ]]; then
    wait_for "grep -Eq '^conchd( [0-9:.]+)?: status on .* \\(port [0-9]+\\)' '$T/$node.err'" 30 ||
      fail "conchd $node: no status server within 30 s"
    line=$(grep -Eo '\(port [0-9]+\)' "$T/$node.err" | head -n 1)
    line=${line#(port }
    CONCHD_PORT[$node]=${line%)}
  fi
}

# conchd_stop NODE...: SIGTERM to each at once, then each must exit 0
# within 30 s.
conchd_stop() {
  local node
  for node in "$@"; do kill -TERM "${CONCHD_PID[$node]}"; done
  for node in "$@"; do
    wait_exit "${CONCHD_PID[$node]}" 30 || fail "conchd $node still running 30 s after SIGTERM"
    assert_eq 0 "$RC" "conchd $node's exit code after SIGTERM"
  done
}

# conchd_log NODE TEXT [TIMEOUT_S]: waits until conchd NODE logs TEXT (a
# fixed string) on stderr.
conchd_log() {
  wait_for "err_has '$1' '$2'" "${3:-30}"
}

# cron_ticks KIND JOB: see above.
cron_ticks() {
  local dir=$CRON/$1/$2
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    etcdctl_ get --prefix --keys-only "$dir/" | sed -n 's|^.*/\([0-9]\{10\}\)$|\1|p' | sort
  else
    zkctl ls "$dir" | sed -n 's|^.*/\([0-9]\{10\}\)$|\1|p' | sort
  fi
}

# cron_count KIND JOB: how many records.
cron_count() {
  local ticks
  ticks=$(cron_ticks "$1" "$2") || return 1
  if [[ -z $ticks ]]; then echo 0; else wc -l <<<"$ticks"; fi
}

# cron_value KIND JOB TICK: one record's value; fails when it is absent.
cron_value() {
  key_value "$CRON/$1/$2/$3"
}

# _cron_records KIND JOB: one JSON object a record (see cron_results).
_cron_records() {
  local dir=$CRON/$1/$2 tick value
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    etcdctl_ get --prefix "$dir/" -w json |
      jq -c '.kvs // [] | map({t: (.key | @base64d | split("/") | last),
               v: (.value | @base64d | fromjson? // {raw: .})}) |
             sort_by(.t) | .[] | {t} + .v'
  else
    for tick in $(cron_ticks "$1" "$2"); do
      value=$(zkctl get "$dir/$tick") || continue
      jq -cn --arg t "$tick" --arg raw "$value" '{t: $t} + ($raw | fromjson? // {raw: $raw})'
    done
  fi
}
cron_results() { _cron_records result "$1"; }
cron_fires() { _cron_records fire "$1"; }

# cron_nodes: the session hex of every live conchd, one a line.
cron_nodes() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    etcdctl_ get --prefix --keys-only "$CRON/node/" | sed -n 's|^.*/\([0-9a-f]*\)$|\1|p'
  else
    zkctl ls "$CRON/node" | sed 's|^.*/||'
  fi
}

# cron_job_json JOB: the job's stored JSON.
cron_job_json() {
  key_value "$CRON/job/$1"
}

# cron_history JOB: `conch cron history JOB --json`, which must exit 0.
cron_history() {
  local out
  out=$("$CONCH" cron history "$1" --json 2>"$T/history.err") ||
    fail "cron history $1 --json: exit $?: $(cat "$T/history.err")"
  echo "$out"
}

# http METHOD URL [BODY]: one request with a 20 s timeout. Sets HTTP_CODE
# (000 when the request failed), HTTP_TYPE (the Content-Type) and
# HTTP_BODY.
http() {
  local out
  out=$(python3 - "$@" <<'PY'
import sys, urllib.request, urllib.error
method, url = sys.argv[1], sys.argv[2]
data = sys.argv[3].encode() if len(sys.argv) > 3 else None
req = urllib.request.Request(url, data=data, method=method)
ctype = ""
try:
    with urllib.request.urlopen(req, timeout=20) as r:
        code, body, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
except urllib.error.HTTPError as e:
    code, body, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
except Exception as e:  # refused, timed out
    code, body = 0, str(e).encode()
sys.stdout.write("%03d\n%s\n" % (code, ctype))
sys.stdout.write(body.decode("utf-8", "replace"))
PY
  )
  HTTP_CODE=${out%%$'\n'*}
  out=${out#*$'\n'}
  # shellcheck disable=SC2034 # for the scripts
  HTTP_TYPE=${out%%$'\n'*}
  HTTP_BODY=${out#*$'\n'}
  [[ $out == *$'\n'* ]] || HTTP_BODY=
}

# http_raw HOST:PORT REQUEST: sends REQUEST (printf escapes allowed) as it
# is on one connection and sets HTTP_CODE from the status line (000 when
# none came within 20 s).
http_raw() {
  HTTP_CODE=$(python3 - "$1" "$2" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
req = sys.argv[2].encode().decode("unicode_escape").encode("latin-1")
try:
    s = socket.create_connection((host, int(port)), timeout=20)
    s.sendall(req)
    line = s.makefile("rb").readline().decode("latin-1")
    print(line.split()[1] if len(line.split()) > 1 else "000")
except Exception:
    print("000")
PY
  )
}

# unix_of RFC3339: its unix second.
unix_of() {
  date -u -d "$1" +%s
}

# wait_until_unix S: waits until the wall clock has reached unix second S
# (the passing of scheduled ticks is the event some steps wait for).
wait_until_unix() {
  local left=$(($1 - $(date +%s) + 30))
  ((left < 30)) && left=30
  wait_for "(( \$(date +%s) >= $1 ))" "$left"
}

# lines FILE: FILE's line count, 0 when it does not exist.
lines() {
  if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi
}

# store_dump: every key under /conch/ with its value, one "key value" a
# line, sorted by key (for "nothing was written" checks). ZooKeeper's
# empty nodes (the containers a write creates, which the server may reap
# once empty) are left out.
store_dump() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    etcdctl_ get --prefix /conch/ -w json |
      jq -r '.kvs // [] | .[] | "\(.key | @base64d) \(.value | @base64d)"' | sort
  else
    _zk_dump_tree /conch | sort
  fi
}
_zk_dump_tree() {
  local child value
  zkctl ls "$1" | while read -r child; do
    value=$(zkctl get "$child") || continue
    [[ -n $value ]] && echo "$child $value"
    _zk_dump_tree "$child"
  done
}

# key_rev KEY: KEY's create revision (etcd) or czxid (ZooKeeper), which is
# what conch hands a command as CONCH_REV.
key_rev() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    etcdctl_ get "$1" -w json | jq -r '.kvs // [] | .[0].create_revision // empty'
  else
    zkctl stat "$1" | sed -n 's/^czxid=\([0-9]*\) .*/\1/p'
  fi
}

# metric NODE NAME_WITH_LABELS: the value of one sample on conchd NODE's
# /metrics (it must have been started with --status-addr 127.0.0.1:0);
# nothing if the sample is absent.
metric() {
  http GET "http://127.0.0.1:${CONCHD_PORT[$1]}/metrics"
  [[ $HTTP_CODE == 200 ]] || return 1
  awk -v m="$2" '$1 == m {print $2}' <<<"$HTTP_BODY"
}
