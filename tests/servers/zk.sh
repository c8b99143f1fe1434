# shellcheck shell=bash
# tests/servers/zk.sh: start and fault real ZooKeeper servers for e2e
# scripts, as etcd.sh does for etcd (and as tests/servers/zk_server.cc does
# for the C++ tests, with the same JVM flags and zoo.cfg).
#
# Source this file from bash; it defines functions and globals only and
# starts nothing by itself. It uses etcd.sh's harness (cleanup on exit,
# watchdog, $HARNESS_DIR): source etcd.sh first, or this file sources it
# from its own directory. Every server listens on 127.0.0.1 only, on ports
# picked fresh for each start, with its data in a private directory under
# $HARNESS_DIR, so scripts can run in parallel without sharing anything.
#
# The servers are the Debian zookeeper package's jars run by java directly.
# CONCH_JAVA_BIN overrides the java launcher (default: java on PATH) and
# CONCH_ZK_CLASSPATH the class path (default: /usr/share/java/zookeeper.jar,
# whose manifest names its dependencies, plus slf4j-simple.jar for logging).
#
# Globals after a start:
#   ZK_HOSTS     comma-separated host:port of every member, the connect
#                string (exported)
#   ZK_URL       zk://$ZK_HOSTS, the form conch takes (exported)
#   ZK_EPS[i]    client host:port of member i
#   ZK_PIDS[i]   pid of member i (empty once killed)
#   ZK_DIR       dir holding each member's m<i>/zoo.cfg, m<i>/data, m<i>.log
#
# Every server grants session timeouts from 1 s to 120 s (tickTime 500 ms)
# and answers every four-letter word; see zk_4lw and zk_mode.

if ! declare -F harness_on_exit >/dev/null; then
  # shellcheck source=etcd.sh
  source "$(dirname "${BASH_SOURCE[0]}")/etcd.sh"
fi

ZK_JAVA_BIN=${CONCH_JAVA_BIN:-java}
ZK_CLASSPATH=${CONCH_ZK_CLASSPATH:-/usr/share/java/zookeeper.jar}
if [[ -z ${CONCH_ZK_CLASSPATH:-} && -r /usr/share/java/slf4j-simple.jar ]]; then
  # slf4j-api alone logs nothing; slf4j-simple is the binding.
  ZK_CLASSPATH+=:/usr/share/java/slf4j-simple.jar
fi

ZK_EPS=()
ZK_PIDS=()
ZK_DIR=
ZK_HOSTS=
ZK_URL=

# The reasons for each flag and setting are in zk_server.cc (kJvmFlags,
# kCommonConfig): a small, fast-starting JVM without JMX port or hsperfdata
# file that drops empty containers after 1 s, and a server with short
# ticks, no fsync and no connection limit. ZK_CONTAINER_CHECK_MS, if set
# before a start, replaces the 1 s (the benchmarks use the server's own
# default, 60 s, as a production server would).
_ZK_JVM_FLAGS=(
  -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto
  -XX:-UsePerfData -Djava.net.preferIPv4Stack=true
  -Dorg.slf4j.simpleLogger.defaultLogLevel=info
  -Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.NIOServerCnxn=warn
  -Dorg.slf4j.simpleLogger.showDateTime=true
  -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS
  -Dorg.slf4j.simpleLogger.showThreadName=true
)
_ZK_COMMON_CONFIG='tickTime=500
initLimit=20
syncLimit=6
minSessionTimeout=1000
maxSessionTimeout=120000
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
forceSync=no
preAllocSize=1024
snapshot.trust.empty=true
fastleader.maxNotificationInterval=2000'

# zk_require: makes sure java and the ZooKeeper jars exist. When they do
# not, the script fails (exit 1) if CONCH_REQUIRE_SERVERS=1, and otherwise
# skips with exit 77 (ctest's SKIP_RETURN_CODE for these tests).
zk_require() {
  if command -v "$ZK_JAVA_BIN" >/dev/null && [[ -r ${ZK_CLASSPATH%%:*} ]]; then
    return 0
  fi
  if [[ ${CONCH_REQUIRE_SERVERS:-} == 1 ]]; then
    echo "FAIL: java or zookeeper.jar not found and CONCH_REQUIRE_SERVERS=1" >&2
    exit 1
  fi
  echo "SKIP: java or zookeeper.jar not found" >&2
  exit 77
}

# zk_4lw I CMD: prints member I's whole answer to the four-letter word CMD
# (ruok, srvr, mntr, ...). Fails (printing nothing) when the connection
# fails or the member does not start answering within 3 s (killed,
# frozen). Runs in a subshell, so a connection reset cannot SIGPIPE the
# script.
zk_4lw() (
  local fd first rest=
  exec {fd}<>"/dev/tcp/127.0.0.1/${ZK_EPS[$1]##*:}" || exit 1
  printf '%s' "$2" >&"$fd" || exit 1
  IFS= read -r -t 3 -N 1 first <&"$fd" || exit 1
  # The rest comes in the same write: read to EOF, or for 1 s at most,
  # since ZooKeeper 3.8 answers a word that arrives before it loaded its
  # database but never closes that connection (ZOOKEEPER-5051). A read
  # that times out keeps what it got.
  IFS= read -r -t 1 -d '' rest <&"$fd"
  printf '%s' "$first$rest"
) 2>/dev/null

# zk_mode I: prints member I's role from srvr: standalone, leader or
# follower; nothing when it does not answer or does not serve.
zk_mode() {
  local answer
  answer=$(zk_4lw "$1" srvr) || return 0
  [[ $answer =~ Mode:\ ([a-z]+) ]] && echo "${BASH_REMATCH[1]}"
  return 0
}

# zk_leader: prints the index of the one running member that reports
# leader; fails when none or several do (a thawed old leader reports leader
# until it notices it lost its followers).
zk_leader() {
  local i leader=
  for i in "${!ZK_PIDS[@]}"; do
    [[ -n ${ZK_PIDS[i]} && $(zk_mode "$i") == leader ]] || continue
    [[ -n $leader ]] && return 1
    leader=$i
  done
  [[ -n $leader ]] && echo "$leader"
}

# _zk_write_config I PORTS...: writes member I's data dir, myid and zoo.cfg
# for a cluster whose ports are PORTS (one client port per member when
# standalone, else client, quorum and election port per member).
_zk_write_config() {
  local i=$1 ports=("${@:2}") n dir=$ZK_DIR/m$1
  local members=$((${#ports[@]} == 1 ? 1 : ${#ports[@]} / 3))
  local each=$((members == 1 ? 1 : 3))
  mkdir -p "$dir/data" || return 1
  {
    echo "$_ZK_COMMON_CONFIG"
    echo "dataDir=$dir/data"
    echo "clientPortAddress=127.0.0.1"
    echo "clientPort=${ports[each * i]}"
    # Without server.N lines QuorumPeerMain runs a standalone server.
    for ((n = 0; members > 1 && n < members; n++)); do
      echo "server.$((n + 1))=127.0.0.1:${ports[3 * n + 1]}:${ports[3 * n + 2]}"
    done
  } >"$dir/zoo.cfg" || return 1
  if ((members > 1)); then echo "$((i + 1))" >"$dir/data/myid"; fi
  ZK_EPS[i]="127.0.0.1:${ports[each * i]}"
}

# _zk_launch I: starts member I's JVM in the background (working dir
# m<I>, output appended to m<I>.log) and records its pid.
_zk_launch() {
  local i=$1 dir=$ZK_DIR/m$1
  (
    cd "$dir" || exit 1
    unset JAVA_TOOL_OPTIONS JDK_JAVA_OPTIONS _JAVA_OPTIONS CLASSPATH
    exec "$ZK_JAVA_BIN" "${_ZK_JVM_FLAGS[@]}" \
      "-Dznode.container.checkIntervalMs=${ZK_CONTAINER_CHECK_MS:-1000}" \
      "-XX:ErrorFile=$dir/hs_err_%p.log" -cp "$ZK_CLASSPATH" \
      org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg"
  ) </dev/null >>"$ZK_DIR/m$i.log" 2>&1 &
  ZK_PIDS[i]=$!
  harness_track_pid "${ZK_PIDS[i]}"
}

# _zk_wait_ready MODE I...: waits up to 30 s until members I... answer ruok
# with imok and, unless MODE is "any", serve (srvr shows a Mode: standalone
# for one member, leader or follower in an ensemble). ruok alone says imok
# as soon as the client port is open, even while a member looks for a
# quorum. Returns 1 early if a member exits (a port was taken, say).
_zk_wait_ready() {
  local need=$1 deadline=$((SECONDS + 30)) i pending mode
  shift
  while ((SECONDS <= deadline)); do
    pending=
    for i in "$@"; do
      if ! kill -0 "${ZK_PIDS[i]}" 2>/dev/null; then
        echo "zookeeper member $i exited during start; log tail:" >&2
        tail -n 15 "$ZK_DIR/m$i.log" >&2
        ZK_PIDS[i]=
        return 1
      fi
      [[ -n $pending ]] && continue
      if [[ $(zk_4lw "$i" ruok) != imok ]]; then
        pending=$i
      elif [[ $need != any ]]; then
        mode=$(zk_mode "$i")
        if ((${#ZK_PIDS[@]} == 1)); then
          [[ $mode == standalone ]] || pending=$i
        else
          [[ $mode == leader || $mode == follower ]] || pending=$i
        fi
      fi
    done
    [[ -z $pending ]] && return 0
    sleep 0.1
  done
  echo "zookeeper member $pending not ready within 30 s; log tail:" >&2
  tail -n 15 "$ZK_DIR/m$pending.log" >&2
  return 1
}

# _zk_start_members N: one attempt at starting an N-member ensemble.
_zk_start_members() {
  local n=$1 i ports
  # etcd.sh's picker: ports below the ephemeral range, so that no outgoing
  # connection takes a killed member's port before zk_restart.
  read -r -a ports <<<"$(_etcd_free_ports $((n == 1 ? 1 : 3 * n)))"
  for ((i = 0; i < n; i++)); do
    _zk_write_config "$i" "${ports[@]}" || return 1
  done
  for ((i = 0; i < n; i++)); do _zk_launch "$i"; done
  _zk_wait_ready mode "${!ZK_PIDS[@]}"
}

# zk_start [N]: starts N members (default 1; 1 runs standalone, more form
# a quorum ensemble with ids 1..N), retrying up to 3 times with fresh
# ports. Waits until every member serves (at most 30 s per attempt), then
# exports ZK_HOSTS and ZK_URL. Fails the script (exit 1) if it cannot. Only
# one ensemble per script.
zk_start() {
  local n=${1:-1} attempt
  zk_require
  if ((${#ZK_PIDS[@]} > 0)); then
    echo "FAIL: zookeeper already started in this script" >&2
    exit 1
  fi
  harness_on_exit zk_stop_all
  for attempt in 1 2 3; do
    ZK_DIR=$(mktemp -d "$HARNESS_DIR/zk.XXXXXX") || exit 1
    if _zk_start_members "$n"; then
      ZK_HOSTS=$(IFS=,; echo "${ZK_EPS[*]}")
      ZK_URL=zk://$ZK_HOSTS
      export ZK_HOSTS ZK_URL
      return 0
    fi
    echo "zookeeper start attempt $attempt failed, retrying" >&2
    zk_stop_all
  done
  echo "FAIL: could not start $n-member zookeeper" >&2
  exit 1
}

# zk_kill I: SIGKILLs member I and reaps it.
zk_kill() {
  local pid=${ZK_PIDS[$1]}
  [[ -z $pid ]] && return 0
  kill -CONT "$pid" 2>/dev/null
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  ZK_PIDS[$1]=
  return 0
}

# zk_freeze I: SIGSTOPs member I. It keeps its sockets (the kernel still
# accepts connections) but answers nothing.
zk_freeze() {
  kill -STOP "${ZK_PIDS[$1]}"
}

# zk_thaw I: SIGCONTs member I.
zk_thaw() {
  kill -CONT "${ZK_PIDS[$1]}"
}

# zk_restart I: starts killed member I again with the same ports, config
# and data, and waits (at most 30 s) until it answers ruok and, when a
# majority of the members is then running, serves. Returns 1 if it does
# not (the member is then killed again).
zk_restart() {
  local i=$1 running=0 pid need=any
  if [[ -n ${ZK_PIDS[i]} ]]; then
    echo "zk_restart: member $i is still running" >&2
    return 1
  fi
  _zk_launch "$i"
  for pid in "${ZK_PIDS[@]}"; do [[ -n $pid ]] && running=$((running + 1)); done
  ((2 * running > ${#ZK_PIDS[@]})) && need=mode
  _zk_wait_ready "$need" "$i" && return 0
  zk_kill "$i"
  return 1
}

# zk_stop_all: kills every member (SIGCONT first, so a frozen one can die),
# reaps them and removes the data directory. Safe to call twice.
zk_stop_all() {
  local i
  for i in "${!ZK_PIDS[@]}"; do
    [[ -z ${ZK_PIDS[i]} ]] && continue
    kill -CONT "${ZK_PIDS[i]}" 2>/dev/null
    kill -KILL "${ZK_PIDS[i]}" 2>/dev/null
  done
  for i in "${!ZK_PIDS[@]}"; do
    [[ -n ${ZK_PIDS[i]} ]] && wait "${ZK_PIDS[i]}" 2>/dev/null
  done
  ZK_PIDS=()
  ZK_EPS=()
  [[ -n $ZK_DIR ]] && rm -rf "$ZK_DIR"
  ZK_DIR=
  return 0
}
