# shellcheck shell=bash
# Throwaway single-member etcd on free loopback ports, for demo and bench.
# Source this file, then:
#   etcd_start DIR    starts etcd with its data under DIR/etcd; sets
#                     ETCD_ENDPOINT (127.0.0.1:PORT) and ETCD_PID
#   etcd_stop         stops it (TERM, then KILL after 5 s); safe to repeat
# etcd's log goes to DIR/etcd.log.

ETCD_PID=""
ETCD_ENDPOINT=""

# Prints N distinct free TCP ports on 127.0.0.1 (asks the kernel for them).
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

etcd_start() {
  local dir=$1 attempt client peer deadline
  command -v etcd >/dev/null || { echo "etcd not found (apt-get install etcd-server)" >&2; return 1; }
  command -v etcdctl >/dev/null || { echo "etcdctl not found (apt-get install etcd-client)" >&2; return 1; }
  # A port picked as free can be taken before etcd binds it; retry then.
  for attempt in 1 2 3; do
    read -r client peer <<<"$(free_ports 2)"
    rm -rf "$dir/etcd"
    etcd --name conch-throwaway \
      --data-dir "$dir/etcd" \
      --listen-client-urls "http://127.0.0.1:$client" \
      --advertise-client-urls "http://127.0.0.1:$client" \
      --listen-peer-urls "http://127.0.0.1:$peer" \
      --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
      --initial-cluster "conch-throwaway=http://127.0.0.1:$peer" \
      --initial-cluster-state new \
      --logger zap --log-outputs stderr \
      >"$dir/etcd.log" 2>&1 &
    ETCD_PID=$!
    ETCD_ENDPOINT="127.0.0.1:$client"
    deadline=$((SECONDS + 20))
    while ((SECONDS < deadline)); do
      if ! kill -0 "$ETCD_PID" 2>/dev/null; then
        break
      fi
      if ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINT" --dial-timeout 1s \
           --command-timeout 2s endpoint health >/dev/null 2>&1; then
        return 0
      fi
      sleep 0.2
    done
    echo "etcd did not come up on $ETCD_ENDPOINT (attempt $attempt); log tail:" >&2
    tail -n 5 "$dir/etcd.log" >&2 || true
    etcd_stop
  done
  return 1
}

etcd_stop() {
  local pid=$ETCD_PID i
  [[ -n "$pid" ]] || return 0
  ETCD_PID=""
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
