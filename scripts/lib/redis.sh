# scripts/lib/redis.sh: a private redis-server for scripts, the shell twin of the tests'
# tools/common/redisproc.c. Source it, then:
#   redis_start DIR [--unix] [--acl PASSWORD_FILE | --users NODE,NODE...]
#       writes DIR/redis.conf (DIR must exist and be the caller's own; mode 0700 is set) and
#       starts redis-server DIR/redis.conf: loopback on a free port (retried when taken) or,
#       with --unix, DIR/redis.sock with unixsocketperm 700; appendonly yes, appendfsync
#       always, maxmemory 256mb with noeviction, no RDB. --acl reads `user password` from an
#       owner-only file: `user default off` and that user, whose password is written only
#       into redis.conf (0600), never on a command line. --users: `user default off` and one
#       least-privilege ACL user per broker node (REDIS_BROKER_RULES: its commands, keys
#       under tc: only), each with a fresh random password written to DIR/NODE.redispw
#       (0600, `NODE PASSWORD`: a broker's store.password_file) and into redis.conf.
#       Waits until it answers PING.
#       Sets REDIS_PID, REDIS_URL (redis://127.0.0.1:PORT or unix://DIR/redis.sock),
#       REDIS_PORT (0 with --unix) and REDIS_DIR. Returns 1, with the log, on failure.
#   redis_restart       starts it again on the same folder (its AOF) and port or socket
#   redis_stop          SIGTERM, then SIGKILL after 10 s; the folder is kept (the caller's).
#                       The server is this shell's child: trap EXIT to stop it.
#   redis_cli ARGS...   redis-cli against it (no password: send AUTH on its stdin)
# Needs redis-server and redis-cli, which scripts/deps installs.

redis__free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A broker's ACL rules: common/collab_redis_acl.h's COLLAB_REDIS_BROKER_ACL on the tc: prefix
# (test_redis_sh checks that they are equal).
REDIS_BROKER_RULES='resetchannels resetkeys ~tc:* -@all +@read +@write +@scripting +@keyspace +@connection +@transaction -@dangerous +info +config|get -script|flush -function'

redis__conf() { # DIR UNIX PORT ACL_FILE USERS
  local dir=$1 unix=$2 port=$3 acl=$4 users=${5:-} user="" pw="" node
  if [ -n "$acl" ]; then
    if [ ! -f "$acl" ] || [ $((8#$(stat -c %a "$acl") & 8#077)) -ne 0 ]; then
      echo "redis_start: $acl must be a regular, owner-only file (chmod 600)" >&2
      return 1
    fi
    read -r user pw <"$acl" || true
    if [ -z "$user" ] || [ -z "$pw" ]; then
      echo "redis_start: $acl must hold one line: user password" >&2
      return 1
    fi
  fi
  (
    umask 077
    {
      echo "# a private redis-server (scripts/lib/redis.sh)"
      printf 'daemonize no\ndir %s\nlogfile %s/redis.log\nsave ""\n' "$dir" "$dir"
      printf 'appendonly yes\nappendfsync always\nmaxmemory 256mb\nmaxmemory-policy noeviction\n'
      if [ "$unix" = 1 ]; then
        printf 'port 0\nunixsocket %s/redis.sock\nunixsocketperm 700\n' "$dir"
      else
        printf 'bind 127.0.0.1\nport %s\n' "$port"
      fi
      [ -z "$user" ] || printf 'user default off\nuser %s on >%s ~* &* +@all\n' "$user" "$pw"
      if [ -n "$users" ]; then
        echo "user default off"
        for node in ${users//,/ }; do
          pw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
          printf '%s %s\n' "$node" "$pw" >"$dir/$node.redispw"
          printf 'user %s on >%s %s\n' "$node" "$pw" "$REDIS_BROKER_RULES"
        done
      fi
    } >"$dir/redis.conf"
  )
}

redis_cli() {
  if [ "$REDIS_PORT" = 0 ]; then
    redis-cli -s "$REDIS_DIR/redis.sock" "$@"
  else
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
  fi
}

# Starts redis-server on the written config and waits, at most 15 s, until PING is answered
# (any answer but LOADING: NOAUTH says it serves). Returns 0, 2 when its port was taken, 1.
redis__spawn() {
  local exe
  exe=$(command -v redis-server || true)
  [ -n "$exe" ] && [ -x "$exe" ] || {
    echo "redis_start: redis-server is missing: run scripts/deps (it installs it)" >&2
    return 1
  }
  "$exe" "$REDIS_DIR/redis.conf" </dev/null >/dev/null 2>>"$REDIS_DIR/redis.stderr" &
  REDIS_PID=$!
  local deadline=$((SECONDS + 15)) wait=0.01 answer
  while [ $SECONDS -lt $deadline ]; do
    answer=$(redis_cli PING 2>/dev/null </dev/null || true)
    case $answer in PONG | NOAUTH*) return 0 ;; esac
    if ! kill -0 "$REDIS_PID" 2>/dev/null; then
      wait "$REDIS_PID" 2>/dev/null || true
      grep -q 'Address already in use' "$REDIS_DIR/redis.log" 2>/dev/null && return 2
      echo "redis_start: redis-server exited; its log:" >&2
      tail -20 "$REDIS_DIR/redis.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep "$wait" # a short backoff between connects, bounded by the deadline
    case $wait in 0.01) wait=0.02 ;; 0.02) wait=0.05 ;; esac
  done
  echo "redis_start: redis-server did not answer within 15 s" >&2
  kill -9 "$REDIS_PID" 2>/dev/null || true
  return 1
}

redis_start() {
  local dir=$1 unix=0 acl="" users="" rc=2 attempt
  shift
  while [ $# -gt 0 ]; do
    case $1 in
      --unix) unix=1 ;;
      --acl) acl=$2; shift ;;
      --users) users=$2; shift ;;
      *) echo "redis_start: unknown option $1" >&2; return 1 ;;
    esac
    shift
  done
  chmod 700 "$dir" || return 1
  REDIS_DIR=$(cd "$dir" && pwd)
  for attempt in 1 2 3 4 5; do
    REDIS_PORT=0
    [ "$unix" = 1 ] || REDIS_PORT=$(redis__free_port)
    redis__conf "$REDIS_DIR" "$unix" "$REDIS_PORT" "$acl" "$users" || return 1
    rc=0
    redis__spawn || rc=$?
    [ "$rc" = 2 ] || break
  done
  [ "$rc" = 0 ] || return 1
  if [ "$unix" = 1 ]; then
    REDIS_URL="unix://$REDIS_DIR/redis.sock"
  else
    REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
  fi
}

redis_restart() {
  redis__spawn
}

redis_stop() {
  [ -n "${REDIS_PID:-}" ] || return 0
  kill -CONT "$REDIS_PID" 2>/dev/null || true # a frozen server takes its SIGTERM too
  kill -TERM "$REDIS_PID" 2>/dev/null || true
  # the deadline is a timer process: wait returns when the server or the timer ends first
  sleep 10 </dev/null >/dev/null 2>&1 &
  local timer=$! first=""
  wait -n -p first "$REDIS_PID" "$timer" 2>/dev/null || true
  [ "$first" != "$timer" ] || kill -9 "$REDIS_PID" 2>/dev/null || true
  kill "$timer" 2>/dev/null || true
  wait "$REDIS_PID" "$timer" 2>/dev/null || true
  REDIS_PID=""
}
