# engine.sh: finds a container engine for the tests, or starts a private dockerd and removes
# everything it made afterwards. Source it from bash; it sets no shell options of its own.
#
# Functions (all return 0 on success):
#   engine_start CACHE_DIR
#       Exports DOCKER_HOST for a working engine. First an engine that already answers
#       `docker info` (DOCKER_HOST, else /var/run/docker.sock): used as is, never stopped.
#       Else, as root with dockerd installed (or installable with apt-get), starts a PRIVATE
#       dockerd: socket, pid file and exec-root in a fresh /tmp/tce.XXXXXX (short paths, unix
#       sockets have a 108-byte limit), data-root in CACHE_DIR/data (images only, kept so that
#       later tests of the same run reuse them; `rm -rf build` removes it), its own bridge
#       tceNNNN and an address pool that no host route uses, iptables on (compose DNS and NAT
#       to the Debian mirror need it). Waits for `docker info` with a 60 s deadline.
#       Installs `trap engine_stop EXIT` when it started a daemon (chain your own trap after
#       it: `trap 'mine; engine_stop' EXIT`).
#       Returns 77 with a line "skipped: ..." when no engine can be had, 1 on a real failure.
#   engine_stop
#       Private daemon only (else nothing): SIGTERM by pid, wait (30 s, then SIGKILL), then
#       removes what it made: bridges on its addresses, iptables rules on its bridges and pool,
#       the DOCKER* chains if they did not exist before and no other dockerd runs, mounts
#       under its folders (lazily), the /tmp folder. Idempotent.
#   engine_leftovers
#       Prints and fails (1) on whatever engine_stop should have removed: our dockerd or
#       containerd alive, mounts under our folders, our bridges, rules or DOCKER* chains.
#   engine_private
#       0 when the engine is a private daemon started by engine_start.
#   engine_project_leftovers PROJECT
#       Prints the containers (one-off ones included), networks and volumes that carry the
#       compose project's label; nothing when it was torn down.
# Variables set: DOCKER_HOST (exported), ENGINE_OWNED (1: private), ENGINE_RUN (the /tmp
# folder), ENGINE_DATA (data-root), ENGINE_PID, ENGINE_BRIDGE, ENGINE_POOL (10.N.0.0/16).

_engine_say() { echo "engine: $*" >&2; }

_engine_answers() { timeout 10 docker ${1:+-H "$1"} info >/dev/null 2>&1; }

# A 10.N.0.0/16 that no host route or address and no other private engine's bridge uses.
_engine_pick_pool() {
  local used n
  used=$(ip -4 route show table all 2>/dev/null; ip -4 addr 2>/dev/null)
  for n in $(shuf -i 200-250 2>/dev/null || seq 200 250); do
    grep -q "10\.$n\." <<<"$used" || { echo "$n"; return 0; }
  done
  return 1
}

_engine_iptables_chains() {
  local t
  for t in filter nat; do iptables -t "$t" -S 2>/dev/null | awk -v t="$t" '$1=="-N" && $2 ~ /^DOCKER/ {print t":"$2}'; done
}

engine_private() { [ "${ENGINE_OWNED:-0}" = 1 ]; }

engine_start() {
  local cache=${1:?engine_start CACHE_DIR}
  ENGINE_OWNED=0
  command -v docker >/dev/null || { echo "skipped: no docker CLI installed"; return 77; }
  if [ -n "${DOCKER_HOST:-}" ] && _engine_answers "$DOCKER_HOST"; then
    _engine_say "using the engine at DOCKER_HOST=$DOCKER_HOST (not ours: never stopped)"
    export DOCKER_HOST; return 0
  fi
  if [ -S /var/run/docker.sock ] && _engine_answers unix:///var/run/docker.sock; then
    export DOCKER_HOST=unix:///var/run/docker.sock
    _engine_say "using the system engine at $DOCKER_HOST (not ours: never stopped)"; return 0
  fi
  [ "$(id -u)" = 0 ] || { echo "skipped: no running container engine, and starting one needs root"; return 77; }
  if ! command -v dockerd >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null 2>&1 ||
      { echo "skipped: no container engine, and the docker.io package cannot be installed"; return 77; }
  fi
  command -v dockerd >/dev/null && command -v iptables >/dev/null ||
    { echo "skipped: dockerd or iptables is missing"; return 77; }
  local n
  n=$(_engine_pick_pool) || { echo "engine: no free 10.N.0.0/16 for the private pool" >&2; return 1; }
  mkdir -p "$cache/data" || return 1
  ENGINE_DATA=$(cd "$cache/data" && pwd)
  ENGINE_RUN=$(mktemp -d /tmp/tce.XXXXXX) || return 1
  ENGINE_POOL=10.$n.0.0/16
  ENGINE_BRIDGE=tce$n
  ENGINE_CHAINS_BEFORE=$(_engine_iptables_chains)
  # chains seen now while another dockerd runs are that daemon's (another test run's private
  # engine, or the system's): once no dockerd runs any more, they are nobody's and go too
  ENGINE_OTHER_AT_START=0
  _engine_other_dockerd && ENGINE_OTHER_AT_START=1
  ENGINE_FWD_BEFORE=$(cat /proc/sys/net/ipv4/ip_forward)
  ENGINE_FWD_POLICY=$(iptables -S FORWARD 2>/dev/null | awk '$1=="-P"{print $3}')
  ENGINE_LINKS_BEFORE=$(ip -o link show type bridge | awk -F': ' '{print $2}')
  ENGINE_OWNED=1
  trap engine_stop EXIT
  ip link add name "$ENGINE_BRIDGE" type bridge && ip addr add "10.$n.255.1/24" dev "$ENGINE_BRIDGE" &&
    ip link set "$ENGINE_BRIDGE" up || { engine_stop; return 1; }
  export DOCKER_HOST=unix://$ENGINE_RUN/docker.sock
  dockerd -H "$DOCKER_HOST" --data-root "$ENGINE_DATA" --exec-root "$ENGINE_RUN/exec" \
    --pidfile "$ENGINE_RUN/docker.pid" --bridge "$ENGINE_BRIDGE" --iptables=true \
    --default-address-pool "base=$ENGINE_POOL,size=24" >"$ENGINE_RUN/dockerd.log" 2>&1 &
  ENGINE_PID=$!
  local deadline=$((SECONDS + 60))
  until _engine_answers "$DOCKER_HOST"; do
    if ! kill -0 "$ENGINE_PID" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      _engine_say "the private dockerd did not come up; its log:"; tail -20 "$ENGINE_RUN/dockerd.log" >&2
      engine_stop; return 1
    fi
    sleep 0.2 # poll interval; the deadline above bounds the wait
  done
  _engine_say "private dockerd pid $ENGINE_PID at $DOCKER_HOST (data-root $ENGINE_DATA, bridge $ENGINE_BRIDGE, pool $ENGINE_POOL)"
}

# Rules (-A lines of `iptables -t T -S`) that mention our bridges or our pool, as "TABLE RULE".
_engine_our_rules() {
  local t b pat pfx=${ENGINE_POOL%.0.0/16}.
  pat="${pfx//./\\.}"
  for b in "$ENGINE_BRIDGE" $(_engine_our_bridges); do pat+="|$b( |$)"; done
  for t in filter nat; do
    iptables -t "$t" -S 2>/dev/null | grep -E -- "^-A .*($pat)" | sed "s/^/$t /"
  done
  return 0
}

# Bridges made by our daemon: ours, and any holding an address in our pool.
_engine_our_bridges() {
  local b pfx=${ENGINE_POOL%.0.0/16}.
  for b in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    if [ "$b" = "$ENGINE_BRIDGE" ] || ip -4 -o addr show dev "$b" 2>/dev/null | grep -q " inet $pfx"; then echo "$b"; fi
  done
}

_engine_mounts() {
  local d
  for d in "$ENGINE_RUN" "$ENGINE_DATA"; do
    [ -n "$d" ] && awk -v d="$d" 'index($5, d"/") == 1 || $5 == d {print $5}' /proc/self/mountinfo
  done | sort -r
}

_engine_procs() {
  local p
  for p in /proc/[0-9]*; do
    { tr "\0" " " <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$ENGINE_RUN/" && echo "${p#/proc/}"
  done
  return 0
}

# The DOCKER* chains to keep when no dockerd runs any more: those that were there before us
# while no other dockerd ran (a stopped system docker's), none if one ran (its own).
_engine_chains_kept() {
  [ "${ENGINE_OTHER_AT_START:-0}" = 1 ] || printf '%s\n' "$ENGINE_CHAINS_BEFORE"
}

_engine_other_dockerd() {
  local p
  for p in $(pgrep -x dockerd); do [ "$p" != "${ENGINE_PID:-}" ] && return 0; done
  return 1
}

engine_stop() {
  engine_private || return 0
  [ -n "${ENGINE_RUN:-}" ] || return 0
  local i p line t b c
  if [ -n "${ENGINE_PID:-}" ] && kill -0 "$ENGINE_PID" 2>/dev/null; then
    kill -TERM "$ENGINE_PID"
    for i in $(seq 300); do kill -0 "$ENGINE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$ENGINE_PID" 2>/dev/null && kill -KILL "$ENGINE_PID"
    wait "$ENGINE_PID" 2>/dev/null
  fi
  for p in $(_engine_procs); do kill -KILL "$p" 2>/dev/null; done # containerd and shims, if orphaned
  for line in $(_engine_mounts); do umount -l "$line" 2>/dev/null; done
  _engine_our_rules | while read -r t line; do
    eval "iptables -t $t ${line/#-A/-D}" 2>/dev/null
  done
  for b in $(_engine_our_bridges); do ip link del "$b" 2>/dev/null; done
  if ! _engine_other_dockerd; then
    local kept
    kept=$(_engine_chains_kept)
    for c in $(_engine_iptables_chains); do
      grep -qx "$c" <<<"$kept" && continue
      t=${c%%:*}
      iptables -t "$t" -S | grep -E -- "^-A [A-Z]+ .*-j ${c#*:}$" | while read -r line; do
        eval "iptables -t $t ${line/#-A/-D}" 2>/dev/null
      done
      iptables -t "$t" -F "${c#*:}" 2>/dev/null
    done
    for c in $(_engine_iptables_chains); do
      grep -qx "$c" <<<"$kept" || iptables -t "${c%%:*}" -X "${c#*:}" 2>/dev/null
    done
    [ -n "$ENGINE_FWD_POLICY" ] && iptables -P FORWARD "$ENGINE_FWD_POLICY"
    echo "$ENGINE_FWD_BEFORE" >/proc/sys/net/ipv4/ip_forward
  fi
  [ -z "$(_engine_mounts)" ] && rm -rf "$ENGINE_RUN"
  ENGINE_PID=
}

engine_project_leftovers() {
  local f=label=com.docker.compose.project=${1:?engine_project_leftovers PROJECT}
  docker ps -aq --filter "$f"
  docker network ls -q --filter "$f"
  docker volume ls -q --filter "$f"
}

engine_leftovers() {
  engine_private || return 0
  local out="" c
  [ -n "${ENGINE_PID:-}" ] && kill -0 "$ENGINE_PID" 2>/dev/null && out+="dockerd pid $ENGINE_PID alive"$'\n'
  [ -n "$(_engine_procs)" ] && out+="processes under $ENGINE_RUN: $(_engine_procs | paste -sd' ' -)"$'\n'
  [ -n "$(_engine_mounts)" ] && out+="mounts: $(_engine_mounts | paste -sd' ' -)"$'\n'
  [ -n "$(_engine_our_bridges)" ] && out+="bridges: $(_engine_our_bridges | paste -sd' ' -)"$'\n'
  [ -n "$(_engine_our_rules)" ] && out+="iptables rules: $(_engine_our_rules | paste -sd';' -)"$'\n'
  if ! _engine_other_dockerd; then
    for c in $(_engine_iptables_chains); do
      grep -qx "$c" <<<"$(_engine_chains_kept)" || out+="iptables chain $c"$'\n'
    done
  fi
  [ -d "$ENGINE_RUN" ] && out+="folder $ENGINE_RUN"$'\n'
  [ -z "$out" ] && return 0
  printf 'engine leftovers:\n%s' "$out" >&2
  return 1
}
