#!/usr/bin/env bash
# The swarm as users run it, with docker-compose (Debian's 1.29, or the v2 plugin) on a real
# engine (tests/deploy/engine.sh): usage: compose_test.sh MODE SOURCE_DIR CACHE_DIR
#   stage2    `up` the swarm, `restart broker` mid-scenario; the coordinator exits 0 with every
#             task completed and the observer saw every event (each task completed, each
#             project closed, its event numbers in order without a gap)
#   hardened  the same over CURVE with docker-compose.hardened.yml; the audit chain verifies
#   attack    the attack profile's sniffer on the bus: a login with its password under
#             stage2; under hardened only encrypted traffic, no password
#   cluster   docker-compose.cluster.yml: redis and two brokers; the first broker is killed
#             mid-scenario, the agents fail over, the coordinator exits 0 with every task
#             completed, and the state holds exactly 3 projects and 12 tasks
# Tears down by project name (down -v, one-off containers) and asserts that nothing of the
# project is left, nor of the private engine. Exit 77 only when no engine can be had.
set -uo pipefail
mode=${1:?usage: compose_test.sh stage2|hardened|attack|cluster SOURCE_DIR CACHE_DIR}
top=${2:?source dir}
cache=${3:?cache dir}
here=$(cd "$(dirname "$0")" && pwd)
cd "$top" || exit 1

if command -v docker-compose >/dev/null; then
  compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  echo "skipped: neither docker-compose nor the docker compose plugin is installed"
  exit 77
fi
# shellcheck source=tests/deploy/engine.sh
source "$here/engine.sh"
engine_start "$cache"
rc=$?
[ $rc = 0 ] || exit $rc

project=tc${mode}$$
files=(-f docker-compose.yml)
# the web console's host port (docker-compose.yml's `web`): a free one, not the default 8080
COLLAB_WEB_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export COLLAB_WEB_PORT
say() { echo "== compose_test $mode: $*"; }
fail() {
  echo "compose_test $mode: FAILED: $*" >&2
  dc logs --no-color --tail 30 >&2 2>&1
  exit 1
}
# every compose command bounded in time
dc() { timeout 240 "${compose[@]}" -p "$project" "${files[@]}" "$@"; }

teardown() {
  local status=$? left
  trap - EXIT
  dc --profile attack --profile client --profile audit down -v --remove-orphans --timeout 5 \
    >/dev/null 2>&1
  docker rm -f "$project-sniff" >/dev/null 2>&1
  left=$(engine_project_leftovers "$project")
  if [ -n "$left" ]; then
    echo "compose_test $mode: left behind: $left" >&2
    status=1
  fi
  if [ "${built:-0}" = 1 ] && ! engine_private; then # not in a cache of ours: remove it
    docker rmi taskcollab >/dev/null 2>&1
  fi
  engine_stop
  engine_leftovers || status=1
  [ $status = 0 ] && say "nothing left behind"
  exit $status
}
trap teardown EXIT

built=0
if ! docker image inspect taskcollab >/dev/null 2>&1; then
  say "building the images (scripts/images)"
  timeout 900 scripts/images || fail "scripts/images"
  built=1
fi

# Waits (at most SECONDS) for a line of the container's output matching PATTERN: grep's status
# (the log follower ends on its next write once grep has what it wants).
wait_line() { # container pattern seconds
  (set +o pipefail; timeout "$3" docker logs -f "$1" 2>&1 | grep -q -m1 -- "$2")
}

# The sniffer in the broker's namespace (attack profile), started before the agents log in.
start_sniffer() {
  local stop=(-c 1 --action login) # stage2: the first login decoded is enough
  [ "$1" = hardened ] && stop=(--count 30)
  dc --profile attack run -d --name "$project-sniff" attacker \
    collab-sniff -i any -p 5555 -w - "${stop[@]}" --duration-ms 90000 >/dev/null ||
    fail "cannot start the sniffer"
  wait_line "$project-sniff" ready 60 || fail "the sniffer is not ready"
}

check_sniffed() {
  local out
  timeout 120 docker wait "$project-sniff" >/dev/null || fail "the sniffer did not stop"
  out=$(docker logs "$project-sniff" 2>/dev/null)
  if [ "$1" = stage2 ]; then
    # the frames are written as hex: the login's "password" key and a demo password in clear
    local hexes=() pw
    for pw in admin123 coord123 worker123 worker234 worker345 viewer123; do
      hexes+=(-e "$(printf '%s' "$pw" | od -An -tx1 | tr -d ' \n')")
    done
    grep '"action":"login"' <<<"$out" | grep '"encrypted":false' |
      grep "$(printf password | od -An -tx1 | tr -d ' \n')" | grep -q "${hexes[@]}" ||
      fail "the sniffer saw no login with its password: $(head -c 2000 <<<"$out")"
    say "stage2: the sniffer read a login and its password off the bus"
  else
    [ -n "$out" ] || fail "the sniffer saw no traffic at all"
    grep -qi password <<<"$out" && fail "a password on the bus under CURVE"
    grep -q '"action":"' <<<"$out" && fail "a decoded request under CURVE"
    grep -q '"encrypted":true' <<<"$out" || fail "no encrypted traffic seen: $(head -c 2000 <<<"$out")"
    say "hardened: the sniffer saw only encrypted traffic ($(wc -l <<<"$out") records)"
  fi
}

# The observer saw every event: each task completed, each project closed, each #seq once.
# Prints what is missing and returns 1 while something is.
observer_complete() {
  local lines t seqs
  lines=$(dc logs --no-color observer | sed 's/^[^|]*| //')
  for t in $(seq 1 12); do
    grep -q "task_status_changed task=$t .*status=completed" <<<"$lines" ||
      { echo "the observer did not see task $t completed"; return 1; }
  done
  [ "$(grep -c ' project_closed ' <<<"$lines")" = 3 ] ||
    { echo "the observer did not see 3 projects closed"; return 1; }
  # every number once, in order, none missing: after the broker's restart the client library
  # asks for the events pushed to the cut connection before it hands over a newer one
  seqs=$(grep -oE ' #[0-9]+ ' <<<"$lines" | tr -d ' #')
  [ "$seqs" = "$(seq 1 "$(wc -l <<<"$seqs")")" ] ||
    { echo "the observer's event numbers are out of order, or have a gap or a repeat"; return 1; }
  echo "$(wc -l <<<"$seqs") events"
}

# The observer catches up within its heartbeat (one second in compose): after a broker
# restart, the events pushed to its old connection are replayed. Polled, 30 s at most.
check_observer() {
  local deadline=$((SECONDS + 30)) why
  until why=$(observer_complete); do
    [ $SECONDS -lt $deadline ] || fail "$why"
    sleep 0.5
  done
  say "the observer saw every event ($why)"
}

# The whole scenario; with "restart", the broker restarted in the middle of it.
run_swarm() {
  local cid code out
  # a kill or restart must land mid-scenario: with the workers' default 500 ms the scenario
  # ended 2.3 s after its first completed task, before the check below ran, in a clean CI run
  # on a loaded machine; 2 s a task makes that window about 8 s
  [ -n "${1:-}" ] && export COLLAB_WORK_MS=2000
  dc up -d || fail "up"
  cid=$(dc ps -q coordinator)
  if [ "${1:-}" = kill ]; then
    wait_line "$cid" " is completed" 120 || fail "no task completed"
    [ "$(docker inspect -f '{{.State.Running}}' "$cid")" = true ] ||
      fail "the scenario ended before the broker was killed: nothing was tested mid-scenario"
    say "killing broker1 mid-scenario (SIGKILL)"
    dc kill broker >/dev/null 2>&1 || fail "kill broker"
  fi
  if [ "${1:-}" = restart ]; then
    wait_line "$cid" " is completed" 120 || fail "no task completed"
    [ "$(docker inspect -f '{{.State.Running}}' "$cid")" = true ] ||
      fail "the scenario ended before the broker's restart: nothing was tested mid-scenario"
    say "restarting the broker mid-scenario"
    dc restart -t 10 broker || fail "restart broker"
  fi
  code=$(timeout 180 docker wait "$cid") || fail "the coordinator did not finish in time"
  out=$(docker logs "$cid" 2>&1)
  [ "$code" = 0 ] || fail "the coordinator exited $code"
  grep -q "^12 of 12 tasks completed" <<<"$out" || fail "not every task completed: $(tail -5 <<<"$out")"
  say "coordinator: exit 0, $(grep -m1 'tasks completed' <<<"$out")"
  check_observer
}

# The broker's container is healthy again (its healthcheck, after a restart): 60 s at most.
wait_healthy() {
  local cid deadline=$((SECONDS + 60))
  cid=$(dc ps -q broker)
  until [ "$(docker inspect -f '{{.State.Health.Status}}' "$cid" 2>/dev/null)" = healthy ]; do
    [ $SECONDS -lt $deadline ] || fail "the broker is not healthy again"
    sleep 0.5
  done
}

# Nothing acknowledged was lost: after a second restart, once the scenario is over, the
# interactive client (`run --rm client`, the menu typed on its stdin) reads every project and
# task back from the broker's state volume, and they are exactly what the coordinator was
# acknowledged: each project's name and status, each task's worker, status and result.
# The web console, from the host, on the published loopback port: coordinator1 logs in and
# its board holds the scenario's three projects with their twelve tasks. The login sends the
# console's Origin (strong csrf checks it) and the cookie is passed by hand (curl's jar keeps
# a Secure __Host- cookie, strong web_session's, from http://). Under hardened the gateway's
# bus clients speak CURVE.
check_web() {
  local base=http://127.0.0.1:$COLLAB_WEB_PORT hdr out n cookie deadline=$((SECONDS + 30))
  hdr=$(mktemp)
  until out=$(curl -sf -D "$hdr" -H "Origin: $base" -H 'Content-Type: application/json' \
      -d '{"agent_id": "coordinator1", "password": "coord123"}' "$base/api/login" 2>&1); do
    [ $SECONDS -lt $deadline ] || { rm -f "$hdr"; fail "web: no login on $base: $out"; }
    sleep 0.5
  done
  cookie=$(tr -d '\r' <"$hdr" | sed -n 's/^[Ss]et-[Cc]ookie: *\([^;]*\).*/\1/p' | head -1)
  rm -f "$hdr"
  [ -n "$cookie" ] || fail "web: the login set no cookie"
  out=$(curl -sf -H "Cookie: $cookie" "$base/api/board") || fail "web: no board"
  n=$(python3 -c 'import json, sys; b = json.load(sys.stdin)
print(len(b["projects"]), sum(len(p["tasks"]) for p in b["projects"]))' <<<"$out") ||
    fail "web: the board is not what the API says: $out"
  [ "$n" = "3 12" ] || fail "web: the board shows $n projects and tasks, not 3 12"
  say "web console on 127.0.0.1:$COLLAB_WEB_PORT: coordinator1's board holds 3 projects, 12 tasks"
}

check_state_kept() {
  local coord menu client want got
  coord=$(docker logs "$(dc ps -q coordinator)" 2>&1)
  dc restart -t 10 broker >/dev/null 2>&1 || fail "restart broker after the scenario"
  wait_healthy
  menu=$'1\ncoordinator1\ncoord123\n7\n1\n7\n2\n7\n3\n0\n'
  client=$(printf '%s' "$menu" | dc run --rm client 2>&1) || fail "the client: $(tail -5 <<<"$client")"
  want=$(sed -nE 's/^project ([0-9]+) (.*) \((open|closed)\)$/project \1 \2 \3/p;
                  s/^  task ([0-9]+) +[a-z_]+ +([^ ]+) +([a-z_]+) +(.*)$/task \1 \2 \3 \4/p' <<<"$coord")
  got=$(awk '
    /Project #[0-9]+: / { sub(/.*Project #/, ""); id = $0; sub(/:.*/, "", id)
                          name = $0; sub(/^[0-9]+: /, "", name); next }
    /^  owner: / { for (i = 1; i <= NF; i++) if ($i == "status:") print "project " id " " name " " $(i + 1); next }
    /^  [0-9]+ +[a-z_]+ +[^ ]+ / { task = "task " $1 " " $3 " " $2; next }
    /^         result: / { r = $0; sub(/^ *result: /, "", r); print task " " r }' <<<"$client")
  [ -n "$want" ] || fail "no summary from the coordinator"
  [ "$got" = "$want" ] ||
    fail "the state read back differs from what was acknowledged:$(diff <(echo "$want") <(echo "$got") | head -20)"
  say "after a second restart the client read back all $(grep -c '^task' <<<"$got") tasks and $(grep -c '^project' <<<"$got") projects as acknowledged"
}

verify_audit() {
  dc stop -t 10 broker || fail "stop broker"
  dc --profile audit run --rm audit || fail "the audit chain does not verify"
  say "the audit chain verifies"
}

case $mode in
  stage2) run_swarm restart; check_state_kept; check_web ;;
  hardened)
    files+=(-f docker-compose.hardened.yml)
    run_swarm
    check_web
    verify_audit
    ;;
  attack)
    for profile in stage2 hardened; do
      [ $profile = hardened ] && files+=(-f docker-compose.hardened.yml)
      start_sniffer $profile
      dc up -d || fail "up ($profile)"
      check_sniffed $profile
      dc --profile attack down -v --remove-orphans --timeout 5 >/dev/null 2>&1
      docker rm -f "$project-sniff" >/dev/null 2>&1
    done
    ;;
  cluster)
    files+=(-f docker-compose.cluster.yml)
    run_swarm kill
    # --no-deps: `run` would start the killed broker1 again, whose node name is still held
    # (it expires 10 s after its holder stopped refreshing it), and wait for it
    stats=$(dc run --rm --no-deps admin collab-admin stats 2>&1) || fail "admin stats: $stats"
    grep -qE "^projects +3$" <<<"$stats" && grep -qE "^tasks +12$" <<<"$stats" ||
      fail "the state does not hold exactly 3 projects and 12 tasks: $stats"
    say "after broker1's death the state holds exactly 3 projects and 12 tasks"
    # Redis is on the store network only: an agent's container cannot reach it, a broker's can
    out=$(dc run --rm --no-deps --entrypoint redis-cli admin -h redis -p 6379 ping 2>&1) &&
      fail "an agent's container reached Redis: $out"
    out=$(dc exec -T broker2 redis-cli -h redis -p 6379 ping 2>&1) ||
      fail "broker2 cannot reach Redis: $out"
    [ "$out" = PONG ] || fail "broker2's ping of Redis answered: $out"
    say "Redis answers the brokers and is out of the agents' reach"
    ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
