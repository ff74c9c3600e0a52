# bench_web.sh: scripts/bench's `web` scenario (docs/WEB.md 8), sourced by scripts/bench,
# whose helpers (start_broker, stop_server, TMP, B, PW, DURATION) it uses.
#
# The swarm runs (a broker, three workers, the coordinator repeating the sample scenario)
# while WEB_STREAMS browsers, played by bench/webstreams, are logged in to collab-web as the
# observer bench-obs, each with its own web session and the page's one event stream. Every
# event's delay from the broker's timestamp to its arrival at the stream client, less the
# same delay for the same agent straight on the bus (what the broker spends before the event
# leaves it: the commit, and its fsync), gives the p99 from the broker to the stream; the
# gateway's resident memory with every session, before and after the streams,
# gives its memory per open stream. Result: $TMP/web.res, one `result ...` line.

WEB_STREAMS=${WEB_STREAMS:-200}
WEBGW=$B/web/collab-web WEBSTREAMS=$B/bench/webstreams
WORKER=$B/agents/worker/collab-worker COORD=$B/agents/coordinator/collab-coordinator

# web_bg NAME CMD...: a helper process of the run, its output in $TMP/NAME.out/.err; its pid
# is appended to WEB_PIDS
WEB_PIDS=()
web_bg() {
  local name=$1; shift
  "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  WEB_PIDS+=($!)
}
web_stop_all() {
  local p
  for p in "${WEB_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${WEB_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  WEB_PIDS=()
}
# web_wait_line FILE PATTERN SECONDS PID: until FILE has a line matching PATTERN (0), PID
# exits (1) or the time is out (1)
web_wait_line() {
  local deadline=$((SECONDS + $3))
  until grep -q -- "$2" "$1" 2>/dev/null; do
    kill -0 "$4" 2>/dev/null && [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
}

scen_web() {
  echo "== web: $WEB_STREAMS browsers' event streams through collab-web, the swarm running" >&2
  start_broker web-broker || { echo "bench: the broker did not start" >&2; return 1; }
  local common=(--broker "$ENDPOINT" --credentials "$TMP/creds.json" --password "$PW")
  # every browser comes from 127.0.0.1: the gateway's per-address budgets would refuse the
  # 200 logins and streams of one benchmark client, so they are raised (printed in the notes)
  web_bg web-gw "$WEBGW" --broker "$ENDPOINT" --bind 127.0.0.1:0 \
    --set "credentials=$TMP/creds.json" --set web.rate_per_s=1000000 \
    --set web.rate_burst=1000000 --set "web.max_streams=$((WEB_STREAMS + 16))"
  local gw=${WEB_PIDS[-1]} url
  web_wait_line "$TMP/web-gw.out" '^collab-web: http://' 10 "$gw" ||
    { echo "bench: collab-web did not start:" >&2; cat "$TMP/web-gw.err" >&2; web_stop_all; stop_server; return 1; }
  url=$(sed -n 's|^collab-web: \(http://[^/]*\)/.*|\1|p' "$TMP/web-gw.out" | head -1)
  local i
  for i in 000 001 002; do
    web_bg "web-w$i" "$WORKER" "${common[@]}" --agent "bench-w$i" --work-ms 200
  done
  web_bg web-streams "$WEBSTREAMS" --url "$url" --agent bench-obs --password "$PW" \
    --streams "$WEB_STREAMS" --duration "$DURATION" --pid "$gw" \
    --broker "$ENDPOINT" --creds "$TMP/creds.json"
  local ws=${WEB_PIDS[-1]}
  if web_wait_line "$TMP/web-streams.out" '^ready ' 120 "$ws"; then
    web_bg web-coord "$COORD" "${common[@]}" --agent bench-coord \
      --scenario "$ROOT/sample_data/scenario.json" --rounds forever --round-pause-ms 200
    wait "$ws" || true
  else
    echo "bench: the streams did not open:" >&2; tail -5 "$TMP/web-streams.err" >&2
  fi
  grep '^result ' "$TMP/web-streams.out" | sed 's/^result /result phase=web /' >"$TMP/web.res" || true
  web_stop_all
  stop_server
  [ -s "$TMP/web.res" ]
}
