#!/usr/bin/env bash
# The swarm across hosts: the broker in one network namespace, each agent in its own, each
# linked to the broker's by a veth pair, so agents reach it over a real (virtual) network
# rather than loopback. Every task of the scenario must complete.
# Usage: netns_swarm.sh BUILD_DIR SOURCE_DIR. Exit 77 (skip) where namespaces cannot be made.
set -euo pipefail
BUILD=$1 SRC=$2
tag="tc$$"
agents=(worker1 worker2 worker3 coordinator1)
declare -A pw=([worker1]=worker123 [worker2]=worker234 [worker3]=worker345 [coordinator1]=coord123)

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! ip netns add "$tag-probe" 2>/dev/null; then
  echo "skipped: cannot create network namespaces here (needs root and iproute2)"
  exit 77
fi
ip netns del "$tag-probe"

work=$(mktemp -d /tmp/collab-netns-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for ns in broker "${agents[@]}"; do ip netns del "$tag-$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$tag-broker"
ip -n "$tag-broker" link set lo up
i=0
for a in "${agents[@]}"; do
  i=$((i + 1))
  ip netns add "$tag-$a"
  ip -n "$tag-$a" link set lo up
  ip link add "${tag}a$i" netns "$tag-$a" type veth peer name "${tag}b$i" netns "$tag-broker"
  ip -n "$tag-$a" addr add "10.231.$i.2/24" dev "${tag}a$i"
  ip -n "$tag-broker" addr add "10.231.$i.1/24" dev "${tag}b$i"
  ip -n "$tag-$a" link set "${tag}a$i" up
  ip -n "$tag-broker" link set "${tag}b$i" up
done

creds=$SRC/sample_data/test_credentials.json
ip netns exec "$tag-broker" "$BUILD/broker/collab-broker" --bind "tcp://0.0.0.0:5555" \
  --state "$work/state.db" --credentials "$creds" --security-log "$work/security.log" \
  > "$work/broker.out" 2> "$work/broker.err" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/broker.out" && break; sleep 0.1; done

i=0
for a in "${agents[@]}"; do
  i=$((i + 1))
  [ "$a" = coordinator1 ] && continue
  ip netns exec "$tag-$a" "$BUILD/agents/worker/collab-worker" --broker "tcp://10.231.$i.1:5555" \
    --agent "$a" --password "${pw[$a]}" --credentials "$creds" --work-ms 50 > "$work/$a.log" 2>&1 &
  pids+=($!)
done
set +e
timeout 120 ip netns exec "$tag-coordinator1" "$BUILD/agents/coordinator/collab-coordinator" \
  --broker "tcp://10.231.4.1:5555" --agent coordinator1 --password coord123 \
  --credentials "$creds" --scenario "$SRC/sample_data/scenario.json" > "$work/coordinator.log" 2>&1
rc=$?
set -e
cat "$work/coordinator.log" | tail -16
# the broker saw each agent from its own namespace's address, not from loopback
for n in 1 2 3 4; do
  grep -q "\"peer\":\"10.231.$n.2\"" "$work/security.log" ||
    { echo "no login from 10.231.$n.2 in the broker's security log"; exit 1; }
done
[ $rc -eq 0 ] && grep -q "12 of 12 tasks completed" "$work/coordinator.log"
echo "netns swarm: every task completed across 5 network namespaces"
