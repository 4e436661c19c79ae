#!/usr/bin/env bash
# Undoes up.sh: stops its processes and deletes its namespaces (their links and iptables rules go
# with them). Safe to run twice, or after a failed up.sh.
set -uo pipefail

P="${ISTHMUS_TOPOLOGY_PREFIX:-isthmus-topo}"
STATE="${ISTHMUS_TOPOLOGY_STATE:-/tmp/$P}"

[[ $EUID -eq 0 ]] || { echo "down.sh: needs root" >&2; exit 1; }
if [[ -f "$STATE/pids" ]]; then
  while read -r pid; do kill -TERM "$pid" 2>/dev/null; done < "$STATE/pids"
  for i in $(seq 1 30); do
    alive=0
    while read -r pid; do kill -0 "$pid" 2>/dev/null && alive=1; done < "$STATE/pids"
    [[ $alive -eq 0 ]] && break
    sleep 0.1
  done
  while read -r pid; do kill -KILL "$pid" 2>/dev/null; done < "$STATE/pids"
  rm -f "$STATE/pids"
fi
for ns in "$P-client" "$P-gateway" "$P-services"; do
  ip netns del "$ns" 2>/dev/null
done
echo "down: $P removed (logs kept in $STATE)"
exit 0
