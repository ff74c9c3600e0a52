#!/usr/bin/env bash
# test_redis_sh.sh: scripts/lib/redis.sh, the scripts' private redis-server: on TCP with an
# ACL user from an owner-only file, the password is nowhere in the process list, the
# default user is refused and the user's write survives kill -9 and a restart; on a unix
# socket of mode 0700 it answers PING; a group-readable password file is refused. The
# folder is removed at the end. A missing redis-server fails, naming scripts/deps.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/redis.sh"
dir=$(mktemp -d /tmp/collab-redis-sh.XXXXXX)
trap 'redis_stop; rm -rf "$dir"' EXIT
fail() { echo "test_redis_sh: FAIL: $*" >&2; exit 1; }

# the broker's ACL rules here are the C header's (common/collab_redis_acl.h), word for word
acl=$(sed -n '/define COLLAB_REDIS_BROKER_ACL/,/^$/p' "$(dirname "$0")/../../common/collab_redis_acl.h" |
  grep -o '"[^"]*"' | tr -d '"\n' | tr -s ' ' | sed 's/ *$//')
[ -n "$acl" ] && [ "$REDIS_BROKER_RULES" = "resetchannels resetkeys ~tc:* $acl" ] ||
  fail "REDIS_BROKER_RULES differs from COLLAB_REDIS_BROKER_ACL: '$REDIS_BROKER_RULES' vs '$acl'"

mkdir "$dir/tcp" "$dir/unix"
printf 'broker1 pw-in-file-only\n' >"$dir/pass"
chmod 600 "$dir/pass"
redis_start "$dir/tcp" --acl "$dir/pass" || fail "redis_start (TCP, ACL)"
case $REDIS_URL in redis://127.0.0.1:*) ;; *) fail "url $REDIS_URL" ;; esac
ps -eo args | grep -v grep | grep -q pw-in-file-only && fail "the password shows in ps"
[ "$(stat -c %a "$REDIS_DIR/redis.conf")" = 600 ] || fail "redis.conf is not 0600"
[ "$(redis_cli PING 2>&1 </dev/null)" = "NOAUTH Authentication required." ] ||
  fail "the default user is not refused"
out=$(printf 'AUTH broker1 pw-in-file-only\nSET acked yes\n' | redis_cli)
[ "$out" = $'OK\nOK' ] || fail "AUTH and SET said: $out"
kill -9 "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null || true
redis_restart || fail "redis_restart"
out=$(printf 'AUTH broker1 pw-in-file-only\nGET acked\n' | redis_cli)
[ "$out" = $'OK\nyes' ] || fail "after kill -9 and restart, GET said: $out"
redis_stop

redis_start "$dir/unix" --unix || fail "redis_start (unix)"
[ "$(stat -c %a "$REDIS_DIR/redis.sock")" = 700 ] || fail "the socket is not 0700"
[ "$(redis_cli PING </dev/null)" = PONG ] || fail "no PONG on $REDIS_URL"
pid=$REDIS_PID
redis_stop
kill -0 "$pid" 2>/dev/null && fail "redis-server $pid still runs"

chmod 640 "$dir/pass"
mkdir "$dir/refused"
redis_start "$dir/refused" --acl "$dir/pass" 2>"$dir/err" && fail "a 0640 password file was accepted"
grep -q "owner-only" "$dir/err" || fail "the refusal says: $(cat "$dir/err")"
echo "test_redis_sh: all checks passed"
