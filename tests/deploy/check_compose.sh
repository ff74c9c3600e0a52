#!/usr/bin/env bash
# Validates docker-compose.yml without a container engine: Debian's docker-compose parses and
# resolves it (`config`), and the resolved file has the services, the attack profile and
# the attacker's namespace and capability. Exit 77 (skip) when docker-compose is missing.
set -euo pipefail
compose_file=$1
command -v docker-compose >/dev/null || { echo "skipped: docker-compose is not installed"; exit 77; }
cd "$(dirname "$compose_file")"
docker-compose -f "$compose_file" config -q
services=$(docker-compose -f "$compose_file" config --services | sort | tr '\n' ' ')
want="admin attacker broker client coordinator observer web worker1 worker2 worker3 "
[ "$services" = "$want" ] || { echo "services: got '$services', want '$want'"; exit 1; }
resolved=$(docker-compose -f "$compose_file" --profile attack config)
# only the attacker (profile "attack") and the interactive client (profile "client") are
# behind profiles, so that `up` starts neither
[ "$(grep -c '^    profiles:' <<<"$resolved")" = 2 ] || { echo "exactly two services must have profiles"; exit 1; }
awk '/^  attacker:/{a=1} /^  [a-z0-9]+:$/ && !/attacker/{a=0} a' <<<"$resolved" | grep -q -- "- attack" ||
  { echo "the attacker is not under the attack profile"; exit 1; }
grep -q "network_mode: service:broker" <<<"$resolved" || { echo "attacker not in the broker's namespace"; exit 1; }
grep -q "NET_RAW" <<<"$resolved" || { echo "attacker lacks NET_RAW"; exit 1; }
grep -q "tcp://0.0.0.0:5555" <<<"$resolved" || { echo "broker does not bind all interfaces in compose"; exit 1; }
# the web console is published on the host's loopback only, and it is the only port published
[ "$(grep -cE '^    - ([0-9.]+:)?[0-9]+:[0-9]+/(tcp|udp)$' <<<"$resolved")" = 1 ] &&
  grep -qE '^    - 127\.0\.0\.1:8080:8080/tcp$' <<<"$resolved" ||
  { echo "the web console must be published on 127.0.0.1:8080 only (and nothing else published)"; exit 1; }
for id in admin coordinator1 worker1 worker2 worker3 viewer1; do
  grep -q "COLLAB_AGENT_ID: $id" <<<"$resolved" || { echo "no service logs in as $id"; exit 1; }
done
echo "docker-compose.yml: valid; services and the attack profile as expected"
