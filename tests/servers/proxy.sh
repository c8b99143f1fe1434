# shellcheck shell=bash
# tests/servers/proxy.sh: a TCP proxy between conch and a store, for e2e
# scripts that need to hold traffic back or cut connections, and to learn
# when bytes last crossed. Source after etcd.sh (it uses the harness's
# cleanup). Drives tests/servers/conch_tcp_proxy (tcp_proxy_main.cc) as a
# coprocess; CONCH_PROXY_BIN overrides the binary.
#
#   proxy_start TARGET     starts it in front of TARGET (host:port) and sets
#                          PROXY_EP, the endpoint to give conch
#   proxy_cmd CMD          sends one command ("hold both", "release up",
#                          "cut", "last up", "containers refuse",
#                          "refused", ...; the list is in tcp_proxy_main.cc)
#                          and sets PROXY_ANSWER; returns 1 if the proxy
#                          does not answer within 30 s
#
# With "containers refuse", connections accepted from then on meet a
# ZooKeeper server older than 3.5: a container create is answered
# UNIMPLEMENTED and the connection closed, as ZooKeeper 3.4 does; "refused"
# answers how many container creates were refused so far.
#
# One proxy per script.

PROXY_BIN=${CONCH_PROXY_BIN:-$(dirname "${BASH_SOURCE[0]}")/../../build/tests/servers/conch_tcp_proxy}
PROXY_EP=
PROXY_ANSWER=

proxy_start() {
  local word port
  if [[ ! -x $PROXY_BIN ]]; then
    echo "FAIL: conch_tcp_proxy not found at $PROXY_BIN (set CONCH_PROXY_BIN)" >&2
    exit 1
  fi
  coproc PROXY { exec "$PROXY_BIN" "$1" 2>/dev/null; }
  harness_track_pid "$PROXY_PID"
  if ! read -r -t 30 word port <&"${PROXY[0]}" || [[ $word != port ]]; then
    echo "FAIL: conch_tcp_proxy did not start" >&2
    exit 1
  fi
  PROXY_EP=127.0.0.1:$port
}

proxy_cmd() {
  echo "$*" >&"${PROXY[1]}" || return 1
  read -r -t 30 PROXY_ANSWER <&"${PROXY[0]}"
}
