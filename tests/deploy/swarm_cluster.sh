#!/usr/bin/env bash
# swarm_cluster (ctest): scripts/swarm --brokers 2 --kill-broker-after 4, the cluster of
# issue 16 as a learner starts it: a private redis-server, two brokers sharing it, the agents
# spread over both; broker b1 is killed with -9 mid-run. The agents move to b2 without a new
# login, the scenario completes, and the state holds exactly 3 projects and 12 tasks (the
# admin's stats at the end): no write was lost, none was done twice.
# usage: swarm_cluster.sh SOURCE_DIR BUILD_DIR RUN_DIR
set -uo pipefail
src=$1 build=$2 run=$3
rm -rf "$run"
# Two consecutive free ports picked at random in 20000..32767 (as the integration tests'
# brokers do), not `--port auto`: auto scans up from 49152, where the brokers of tests running
# beside this one crowd, and once b1 is killed another test's broker could take its port and
# answer the agents that still list it.
port=
for _ in $(seq 20); do
  p=$((20000 + RANDOM % 12767))
  if ! ss -Htln "( sport = :$p or sport = :$((p + 1)) )" | grep -q .; then port=$p; break; fi
done
[ -n "$port" ] || { echo "swarm_cluster: no two free ports"; exit 1; }
out=$(COLLAB_BUILD_DIR=$build COLLAB_SWARM_DIR=$run \
  COLLAB_SWARM_CREDENTIALS=$src/sample_data/test_credentials.json \
  COLLAB_SWARM_PASSWORDS=$src/sample_data/test_passwords.txt \
  timeout 240 "$src/scripts/swarm" --no-build --port "$port" --work-ms 50 --brokers 2 \
  --kill-broker-after 4 2>&1)
rc=$?
echo "$out" | grep -E "^== |tasks completed|^projects|^tasks "
fail() { echo "swarm_cluster: FAILED: $*"; echo "$out" | tail -40; exit 1; }
[ $rc = 0 ] || fail "scripts/swarm exited $rc"
grep -q "^== killed broker b1" <<<"$out" || fail "broker b1 was not killed mid-run"
grep -q "^12 of 12 tasks completed" <<<"$out" || fail "not every task completed"
grep -qE "^projects +3$" <<<"$out" || fail "the state does not hold exactly 3 projects"
grep -qE "^tasks +12$" <<<"$out" || fail "the state does not hold exactly 12 tasks"
if pgrep -f "$run/" >/dev/null; then fail "processes of the run are left: $(pgrep -af "$run/")"; fi
rm -rf "$run"
echo "swarm_cluster: OK"
