#!/usr/bin/env bash
# The article's entry on one machine: client → API gateway → sidecar → services, each in its own
# network namespace. Run as root after `npx tsc -p tsconfig.json`; down.sh undoes everything.
#   ISTHMUS_TOPOLOGY_PREFIX  namespace name prefix (default isthmus-topo)
#   ISTHMUS_TOPOLOGY_STATE   folder for pids and logs (default /tmp/<prefix>)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
P="${ISTHMUS_TOPOLOGY_PREFIX:-isthmus-topo}"
STATE="${ISTHMUS_TOPOLOGY_STATE:-/tmp/$P}"
PROXY_UID=1337
NODE="${NODE:-$(command -v node)}"
ISTHMUS=("$NODE" "$REPO/bin/isthmus.js")

die() { echo "up.sh: $*" >&2; exit 1; }
[[ $EUID -eq 0 ]] || die "needs root (ip netns, iptables)"
for tool in ip iptables setpriv curl; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
[[ -f "$REPO/dist/src/cli/main.js" ]] || die "build first: npx tsc -p tsconfig.json (in $REPO)"
ip netns list | grep -q "^$P-" && die "namespaces $P-* exist already; run down.sh first"

CLIENT="$P-client" GATEWAY="$P-gateway" SERVICES="$P-services"
mkdir -p "$STATE"
: > "$STATE/pids"

# Namespaces and links: client 10.88.0.1 ── 10.88.0.2 gateway 10.88.1.1 ── 10.88.1.2 services.
for ns in "$CLIENT" "$GATEWAY" "$SERVICES"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done
ip link add eth0 netns "$CLIENT" type veth peer name eth-client netns "$GATEWAY"
ip link add eth-services netns "$GATEWAY" type veth peer name eth0 netns "$SERVICES"
ip -n "$CLIENT" addr add 10.88.0.1/30 dev eth0
ip -n "$GATEWAY" addr add 10.88.0.2/30 dev eth-client
ip -n "$GATEWAY" addr add 10.88.1.1/30 dev eth-services
ip -n "$SERVICES" addr add 10.88.1.2/30 dev eth0
for pair in "$CLIENT eth0" "$GATEWAY eth-client" "$GATEWAY eth-services" "$SERVICES eth0"; do
  set -- $pair
  ip -n "$1" link set "$2" up
done
# ClusterIPs (10.96.0.0/16) need a route for connect() to start; the sidecar's nat rule then
# takes the connection before any packet leaves.
ip -n "$GATEWAY" route add 10.96.0.0/16 dev eth-services

start() { # start NS LOG CMD...: a background process inside NS, its pid in $STATE/pids
  local ns="$1" log="$2"; shift 2
  ip netns exec "$ns" "$@" >"$STATE/$log" 2>&1 &
  echo "$!" >> "$STATE/pids"
}

# Services: three echo backends.
start "$SERVICES" reviews-v1.log "${ISTHMUS[@]}" echo --listen 10.88.1.2:9081 --name reviews-v1
start "$SERVICES" reviews-v2.log "${ISTHMUS[@]}" echo --listen 10.88.1.2:9082 --name reviews-v2
start "$SERVICES" ratings-v1.log "${ISTHMUS[@]}" echo --listen 10.88.1.2:9083 --name ratings-v1

# The gateway namespace's outbound TCP goes to the sidecar (uid 1337 and loopback excepted).
"${ISTHMUS[@]}" sidecar --print-iptables --proxy-uid "$PROXY_UID" --listen 127.0.0.1:15001 | while read -r cmd args; do
  # shellcheck disable=SC2086
  ip netns exec "$GATEWAY" $cmd $args
done
start "$GATEWAY" sidecar.log setpriv --reuid="$PROXY_UID" --regid="$PROXY_UID" --clear-groups \
  "${ISTHMUS[@]}" sidecar --config "$HERE/sidecar" --namespace edge --listen 127.0.0.1:15001 --admin-port 15000
start "$GATEWAY" gateway.log "${ISTHMUS[@]}" run --config "$HERE/gateway" --http-port 8080 --admin-port 9901

ready() { ip netns exec "$1" curl -fsS -o /dev/null --max-time 1 "$2" 2>/dev/null; }
for i in $(seq 1 100); do
  if ready "$GATEWAY" http://127.0.0.1:15000/ready && ready "$GATEWAY" http://127.0.0.1:9901/ready \
    && ready "$SERVICES" http://10.88.1.2:9081/ && ready "$SERVICES" http://10.88.1.2:9082/ && ready "$SERVICES" http://10.88.1.2:9083/; then
    echo "up: try  ip netns exec $CLIENT curl -s http://10.88.0.2:8080/api/reviews -H 'end-user: jason'"
    echo "up: logs in $STATE (gateway.log, sidecar.log); ./down.sh removes it all"
    exit 0
  fi
  sleep 0.2
done
die "not ready after 20 s; see the logs in $STATE"
