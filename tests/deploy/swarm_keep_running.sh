#!/usr/bin/env bash
# scripts/swarm's subcommands and --keep-running, as the docs use them: `dir`, `endpoint`
# (before, during and after a swarm), COLLAB_SWARM_PORT=auto and COLLAB_SWARM_NO_BUILD=1, a
# coordinator that keeps working in rounds with one session that stays open, and the client
# command the script prints, run as printed. Usage: swarm_keep_running.sh BUILD SRC PROFILE
set -euo pipefail
build=$1 src=$2 profile=$3
work=$(mktemp -d /tmp/swarm-keep.XXXXXX)
export COLLAB_BUILD_DIR=$build COLLAB_SWARM_DIR=$work/run COLLAB_SWARM_PORT=auto COLLAB_SWARM_NO_BUILD=1
export COLLAB_SWARM_CREDENTIALS=$src/sample_data/test_credentials.json
export COLLAB_SWARM_PASSWORDS=$src/sample_data/test_passwords.txt
swarm=$src/scripts/swarm
cleanup() { "$swarm" stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$work"/out "$work"/run/coordinator.log; do
  [ -f "$f" ] && { echo "-- $f" >&2; tail -n 30 "$f" >&2; }; done; exit 1; }
# waits (polling, 60 s deadline) until the command succeeds
until_ok() { for _ in $(seq 600); do "$@" && return 0; sleep 0.1; done; return 1; }

[ "$("$swarm" dir)" = "$work/run" ] || fail "scripts/swarm dir does not print COLLAB_SWARM_DIR"
if "$swarm" endpoint 2>/dev/null; then fail "endpoint succeeded with no swarm running"; fi

(cd /tmp && "$swarm" --keep-running --work-ms 50 --profile "$profile") > "$work/out" 2>&1 ||
  fail "scripts/swarm --keep-running exited $?"
grep -q '^== every task completed' "$work/out" || fail "no '== every task completed'"
grep -q '12 of 12 tasks completed' "$work/out" || fail "the first round's summary is not shown"

E=$("$swarm" endpoint) || fail "scripts/swarm endpoint exited $? with a swarm running"
[[ "$E" =~ ^tcp://127\.0\.0\.1:[0-9]+$ ]] || fail "endpoint '$E' is not tcp://127.0.0.1:PORT"
[ "$E" = "$(awk '/^listening/ {print $2; exit}' "$work/run/broker.log")" ] ||
  fail "endpoint '$E' is not where the broker listens"
[ "$(cat "$work/run/endpoint")" = "$E" ] || fail "\$RUN/endpoint differs"
for a in admin coordinator1 worker1 viewer1 coordinator2 viewer2; do
  [ -f "$work/run/$a.pw" ] || fail "no $a.pw in the run folder"
done

# the coordinator keeps working with fresh names, from one session that stays open
curve=()
[ "$profile" = hardened ] && curve=(--curve-server-key "$src/sample_data/curve/broker.cert"
                                   --curve-cert "$src/sample_data/curve/admin.cert_secret")
sessions() {
  "$build/agents/admin/collab-admin" --broker "$E" --agent admin --password-file "$work/run/admin.pw" \
    --credentials "$COLLAB_SWARM_CREDENTIALS" "${curve[@]}" --json list-sessions coordinator1
}
first=$(sessions) || fail "list-sessions failed"
until_ok grep -q 'created project [0-9]*: Quarterly metrics (round 3)' "$work/run/coordinator.log" ||
  fail "no round 3 of the scenario"
until_ok grep -q 'closed project [0-9]*: Quarterly metrics (round 3)' "$work/run/coordinator.log" ||
  fail "round 3's project was not closed"
second=$(sessions) || fail "list-sessions failed"
handle() { grep -o '"handle":[0-9]*' <<<"$1" | sort -u; }
[ -n "$(handle "$first")" ] && [ "$(handle "$first")" = "$(handle "$second")" ] ||
  fail "the coordinator's session changed between rounds: '$first' then '$second'"

# the client command exactly as printed works for this profile
cmd=$(awk '/explore with:/ {getline; print; exit}' "$work/out")
[ -n "$cmd" ] || fail "no client command printed"
if [ "$profile" = hardened ]; then grep -q -- '--curve-dir' <<<"$cmd" || fail "no CURVE options: $cmd"; fi
client_out=$(cd /tmp && printf '1\ncoordinator1\ncoord123\n4\n0\n' | eval "$cmd") ||
  fail "the printed client command exited $?: $cmd"
grep -q 'Logged in as coordinator1 (role coordinator)' <<<"$client_out" ||
  fail "the printed client command could not log in: $client_out"
grep -q 'projects\? in all' <<<"$client_out" || fail "the printed client could not list projects"

"$swarm" stop > /dev/null 2>&1
if "$swarm" endpoint 2>/dev/null; then fail "endpoint succeeded after stop"; fi
[ ! -f "$work/run/endpoint" ] || fail "\$RUN/endpoint left behind after stop"
echo "swarm --keep-running ($profile): dir, endpoint, rounds with one session, the client command: ok"
