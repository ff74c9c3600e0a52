#!/usr/bin/env bash
# store_snoop.sh: control 17 on a real redis-server (scripts/lib/redis.sh) and two real
# brokers. Open Redis: collab-attack store-snoop SUCCEEDED (exit 0), and a broker with
# store_access=strong refuses to start on it. Redis with `user default off` and one
# least-privilege ACL user per broker (redis_start --users): both brokers start with
# store_access=strong, a broker that logs in as nobody is refused, and store-snoop is
# BLOCKED (exit 10) by store_access. Waits are on conditions with deadlines; every process is
# stopped by pid.
# usage: store_snoop.sh COLLAB_BROKER COLLAB_ATTACK SAMPLE_DATA
set -euo pipefail
broker_exe=$1 attack_exe=$2 sample=$3
. "$(dirname "$0")/../../scripts/lib/redis.sh"
dir=$(mktemp -d /tmp/collab-store-snoop.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  redis_stop
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "store_snoop: FAIL: $*" >&2; exit 1; }
creds=$sample/test_credentials.json
mkdir "$dir/pw"
while read -r agent pw; do
  case "$agent" in '' | \#*) continue ;; esac
  (umask 077; printf '%s\n' "$pw" >"$dir/pw/$agent.pw")
done <"$sample/test_passwords.txt"

# starts broker NODE (extra options after) on $REDIS_URL; sets ENDPOINT, or returns 1 with
# its output in $dir/NODE.log when it exits instead of listening (deadline 10 s)
start_broker() {
  local node=$1 deadline=$((SECONDS + 10))
  shift
  rm -f "$dir/$node.log" # an earlier phase's log must not be read as this broker's
  "$broker_exe" --bind 'tcp://127.0.0.1:*' --store "$REDIS_URL" --node "$node" \
    --credentials "$creds" --state "$dir/$node.db" --security-log "$dir/$node.seclog" \
    --log-level error --set "state_at_rest.key_file=$dir/state.key" \
    --set "audit.key_file=$dir/audit.key" "$@" >"$dir/$node.log" 2>&1 &
  local pid=$!
  while [ $SECONDS -lt $deadline ]; do
    if grep -q '^listening' "$dir/$node.log"; then
      pids+=("$pid")
      ENDPOINT=$(awk '/^listening/ {print $2; exit}' "$dir/$node.log")
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { wait "$pid" || true; return 1; }
    sleep 0.05
  done
  kill "$pid"; wait "$pid" || true
  fail "broker $node neither listened nor exited within 10 s"
}
snoop() { # the attack's exit code
  local rc=0
  "$attack_exe" store-snoop --broker "$1" --store "$REDIS_URL" --victim-passwords "$dir/pw" \
    --victim-credentials "$creds" >"$dir/snoop.out" 2>"$dir/snoop.err" || rc=$?
  return $rc
}

# an open store: the attack succeeds, and a strong broker refuses it
mkdir "$dir/open"
redis_start "$dir/open" || fail "redis_start (open)"
start_broker a || fail "broker a on the open store: $(cat "$dir/a.log")"
A=$ENDPOINT
start_broker b || fail "broker b on the open store: $(cat "$dir/b.log")"
rc=0; snoop "$A" || rc=$?
[ $rc = 0 ] && grep -q '^SUCCEEDED' "$dir/snoop.out" ||
  fail "store-snoop on an open store: exit $rc: $(cat "$dir/snoop.out" "$dir/snoop.err")"
start_broker c --set store_access=strong && fail "a strong broker started on an open store"
grep -q 'store_access is strong, but' "$dir/c.log" || fail "c's refusal: $(cat "$dir/c.log")"
for p in "${pids[@]}"; do kill "$p"; wait "$p" || true; done
pids=()
redis_stop

# the store locked: an ACL user per broker, the default user off
mkdir "$dir/locked"
redis_start "$dir/locked" --users a,b || fail "redis_start --users a,b"
[ "$(stat -c %a "$REDIS_DIR/a.redispw")" = 600 ] || fail "a.redispw is not 0600"
start_broker a --set store_access=strong --store-password-file "$REDIS_DIR/a.redispw" ||
  fail "a strong broker with its ACL user: $(cat "$dir/a.log")"
A=$ENDPOINT
start_broker b --set store_access=strong --store-password-file "$REDIS_DIR/b.redispw" ||
  fail "broker b with its ACL user: $(cat "$dir/b.log")"
start_broker c --set store_access=strong && fail "a strong broker without a user started"
grep -q 'wants authentication' "$dir/c.log" || fail "c's refusal: $(cat "$dir/c.log")"
rc=0; snoop "$A" || rc=$?
[ $rc = 10 ] && grep -q '^BLOCKED: the store refuses unauthenticated clients' "$dir/snoop.out" ||
  fail "store-snoop on a locked store: exit $rc: $(cat "$dir/snoop.out" "$dir/snoop.err")"
echo "store_snoop: open store SUCCEEDED, locked store BLOCKED, strong brokers refuse an open store"
