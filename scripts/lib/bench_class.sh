# bench_class.sh: scripts/bench's scale scenarios `class` and `fanout` (bench/README.md, "A
# class" and "Fan-out"), sourced by scripts/bench, whose helpers (start_broker,
# start_server, stop_server, run, get, row, detail, TMP, B, PW, ROWS, NOTES) it uses.
# Neither is in the default list: --only class, --only fanout.
#
# class:  CLASS_AGENTS agents (bench-aNNNN, default 5000) connected, logged in and subscribed
#         at once while bench-coord assigns tasks among them (CLASS_RATE rounds a second,
#         default 20: an assignment and a write that sends the measured agent an event); the
#         same connections against bench/echo, one round trip each, for libzmq's own memory.
# fanout: FANOUT_OBSERVERS observers (bench-oNNNN, default 1000) subscribed with all: true;
#         bench-coord creates FANOUT_EVENTS projects (default 200) one at a time, each
#         project_created timed to the first and the last observer's receipt.
# Their agents are made once per run by bench/mkagents (bcrypt cost 4, own salt and HMAC key
# each, two processes) into a credentials file of the scenario's own, gen_creds's agents
# and its own: the other scenarios' brokers do not load thousands of extra agents, and each
# file stays under the broker's credentials file limit. Thousands of connections need file
# descriptors (a DEALER is a TCP socket and a mailbox's eventfd; the servers hold one socket
# per connection): both scenarios raise `ulimit -n` (root here; the hard limit too when
# allowed), for the generator and the servers they start.

CLASS_AGENTS=${CLASS_AGENTS:-5000} CLASS_RATE=${CLASS_RATE:-20}
FANOUT_OBSERVERS=${FANOUT_OBSERVERS:-1000} FANOUT_EVENTS=${FANOUT_EVENTS:-200}
CLASS_LOGIN_WINDOW=${CLASS_LOGIN_WINDOW:-128} # logins in flight, under hash.queue_max (256)
# the class's timed window: three times --duration (15 s, 300 events to the measured agent)
CLASS_DURATION=${CLASS_DURATION:-$(awk -v d="$DURATION" 'BEGIN { print d * 3 }')}
MKAGENTS=$B/bench/mkagents

# class_creds KIND PREFIX COUNT ROLE: makes $TMP/creds-KIND.json, gen_creds's agents and
# COUNT agents PREFIXNNNN (two mkagents processes), and notes how long it took
class_creds() {
  local kind=$1 prefix=$2 n=$3 role=$4 t0 half p1 secs
  if [ "$BUILD" = 1 ] && [ -z "${MKAGENTS_BUILT:-}" ]; then # scripts/bench builds the rest
    cmake --build "$B" --target mkagents >/dev/null || return 1
    MKAGENTS_BUILT=1
  fi
  echo "== credentials ($n agents $prefix.... at bcrypt cost 4: bench/mkagents)" >&2
  t0=$(date +%s.%N)
  half=$(((n + 1) / 2))
  echo "$PW" | "$MKAGENTS" --prefix "$prefix" --first 0 --count "$half" --role "$role" \
    >"$TMP/$kind-1.lines" &
  p1=$!
  echo "$PW" | "$MKAGENTS" --prefix "$prefix" --first "$half" --count $((n - half)) --role "$role" \
    >"$TMP/$kind-2.lines" || { wait "$p1" || true; return 1; }
  wait "$p1" || return 1
  { echo '{"agents": ['; cat "$TMP"/creds/*.json "$TMP/$kind-1.lines" "$TMP/$kind-2.lines" | paste -sd, -; echo ']}'; } \
    >"$TMP/creds-$kind.json"
  rm -f "$TMP/$kind-1.lines" "$TMP/$kind-2.lines"
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  NOTES+=("Credentials of $kind: $n agents $prefix.... ($role) made in $secs s by bench/mkagents (bcrypt cost 4, each with its own salt and HMAC key, two processes), once for the run; $(wc -c <"$TMP/creds-$kind.json") bytes with gen_creds's.")
}

# class_fds N: enough file descriptors for N connections held by one process
class_fds() {
  local want=$((2 * $1 + 2048))
  [ "$(ulimit -n)" -ge "$want" ] && return 0
  [ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge "$want" ] || ulimit -Hn "$want" 2>/dev/null || true
  ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  [ "$(ulimit -n)" -ge "$want" ] ||
    echo "bench: ulimit -n is $(ulimit -n), below the $want that $1 connections may need" >&2
}

# row_info SCENARIO FIGURE VALUE DETAIL: a reported figure without a target (kept in the
# history, not drawn)
row_info() {
  if [ -z "$3" ]; then
    ROWS+=("| $1 | $2 | - | $4 | - | - | **ERROR** (no figure) |"); FAILED=1; return
  fi
  ROWS+=("| $1 | $2 | $3 | $4 | - | - | reported |")
}

scen_class() {
  class_fds "$CLASS_AGENTS"
  echo "== class: $CLASS_AGENTS agents logged in and subscribed, one coordinator at $CLASS_RATE rounds/s (ulimit -n $(ulimit -n))" >&2
  # the scenario's credentials: given after start_broker's and run's own, they win
  if start_broker class-broker --credentials "$TMP/creds-class.json"; then
    run class-broker --creds "$TMP/creds-class.json" --duration "$CLASS_DURATION" --scenario class --agents "$CLASS_AGENTS" --rate "$CLASS_RATE" \
      --login-window "$CLASS_LOGIN_WINDOW" || true
    stop_server
  else
    echo "bench: the broker did not start:" >&2; cat "$TMP/class-broker.err" >&2
  fi
  echo "== class: echo holding the same $CLASS_AGENTS connections" >&2
  if start_server class-echo "$ECHO"; then
    run class-echo --echo --scenario class --agents "$CLASS_AGENTS" --login-window "$CLASS_LOGIN_WINDOW" || true
    stop_server
  fi
}

scen_fanout() {
  class_fds "$FANOUT_OBSERVERS"
  # one project per event: the creator's quota (limits.projects_per_agent, 100) is raised
  local quota=$((FANOUT_EVENTS + 10)) sets=()
  [ "$quota" -le 100 ] || sets=(--set "limits.projects_per_agent=$quota")
  FANOUT_SETS=${sets[*]}
  echo "== fanout: project_created to $FANOUT_OBSERVERS observers, $FANOUT_EVENTS times" >&2
  start_broker fanout-broker --credentials "$TMP/creds-fanout.json" "${sets[@]}" || { echo "bench: the broker did not start:" >&2; cat "$TMP/fanout-broker.err" >&2; return 1; }
  run fanout-broker --creds "$TMP/creds-fanout.json" --scenario fanout --observers "$FANOUT_OBSERVERS" --events "$FANOUT_EVENTS" \
    --login-window "$CLASS_LOGIN_WINDOW" || true
  stop_server
}

class_table() {
  class_creds class bench-a "$CLASS_AGENTS" worker || { echo "bench: bench/mkagents failed" >&2; FAILED=1; return 0; }
  attempt scen_class class-broker class-echo
  local scen="class: $CLASS_AGENTS agents logged in and subscribed"
  local bpa epc own
  bpa=$(get class-broker join bytes_per_agent) epc=$(get class-echo join bytes_per_agent)
  own=$([ -n "$bpa" ] && [ -n "$epc" ] && awk -v a="$bpa" -v b="$epc" 'BEGIN { printf "%.0f", a - b }' || true)
  row_info "$scen" "broker RSS per connected agent (bytes)" "$bpa" \
    "echo: $epc B per connection (libzmq's share)"
  row_info "$scen" "broker's own RSS per agent, echo's subtracted (bytes)" "$own" \
    "broker $bpa B - echo $epc B"
  row_info "$scen" "time to accept all $CLASS_AGENTS logins (s)" "$(get class-broker join login_s)" \
    "hashing pool CPU $(get class-broker join hash_cpu_s) s ($(get class-broker join hash_cpu_per_s) s/s; budget 0.6 s/s); $(get class-broker join retries) busy retries, $(get class-broker join errors) errors"
  row_info "$scen" "event p99 to one agent, the others connected (us)" "$(get class-broker event p99_us)" \
    "p50 $(get class-broker event p50_us) us, max $(get class-broker event max_us) us, $(get class-broker event requests) events; the causing write's reply p99 $(get class-broker cause p99_us) us"
  detail class-broker logins; detail class-broker event; detail class-broker cause
  detail class-broker assign; detail class-echo logins
  NOTES+=("Class: broker RSS $(get class-broker join rss_before_kb) KiB with the credentials loaded and the coordinator in, $(get class-broker join rss_after_kb) KiB with $(get class-broker join joined) of $CLASS_AGENTS agents logged in and subscribed ($(get class-broker class rss_end_kb) KiB after the coordinator's rounds); echo $(get class-echo join rss_before_kb) -> $(get class-echo join rss_after_kb) KiB with the same connections, one round trip each. The $CLASS_AGENTS connections, opened at once, were all up in $(get class-broker join connect_s) s (echo: $(get class-echo join connect_s) s). Logins $CLASS_LOGIN_WINDOW in flight at most (hash.queue_max is 256): the $CLASS_AGENTS took $(get class-broker join login_s) s from the first sent to the last answered ($(get class-broker join all_s) s to the last subscribe; login p50 $(get class-broker logins p50_us) us, max $(get class-broker logins max_us) us). The hashing pool used $(get class-broker join hash_cpu_s) s of CPU meanwhile, $(get class-broker join hash_cpu_per_s) s per second against its budget of 0.6 (hash.budget_ms on 2 CPUs).")
  NOTES+=("Class rounds: bench-coord, at $(get class-broker class rate) rounds/s, assigned $(get class-broker class assigned) tasks among agents 1..$((CLASS_AGENTS - 1)) (their events read as they came: $(get class-broker class others_events) received, $(get class-broker class agents_missing) agents short, $(get class-broker class agents_extra) with more) and moved agent 0's task through in_progress, failed, reassign (each an event to agent 0, timed from the write's send to its receipt; assignment replies p99 $(get class-broker assign p99_us) us). At the end $(get class-broker class alive) of $CLASS_AGENTS agents answered a heartbeat ($(get class-broker class alive_errors) errors). Unread events would wait in libzmq's queues (the broker's ROUTER holds 100,000 messages per connection, its SNDHWM, then drops them silently; the agent's stream keeps the latest 1,000 for subscribe since).")
}

fanout_table() {
  class_creds fanout bench-o "$FANOUT_OBSERVERS" observer || { echo "bench: bench/mkagents failed" >&2; FAILED=1; return 0; }
  attempt scen_fanout fanout-broker
  local scen="fanout: project_created to $FANOUT_OBSERVERS observers, $FANOUT_EVENTS times"
  row_info "$scen" "p99 send to the last observer's receipt (us)" "$(get fanout-broker last p99_us)" \
    "p50 $(get fanout-broker last p50_us) us, max $(get fanout-broker last max_us) us"
  row_info "$scen" "p99 send to the first observer's receipt (us)" "$(get fanout-broker first p99_us)" \
    "p50 $(get fanout-broker first p50_us) us; creator's reply p99 $(get fanout-broker reply p99_us) us"
  row_info "$scen" "p99 first to last observer (us)" "$(get fanout-broker spread p99_us)" \
    "p50 $(get fanout-broker spread p50_us) us, max $(get fanout-broker spread max_us) us"
  detail fanout-broker logins; detail fanout-broker first; detail fanout-broker last
  detail fanout-broker spread; detail fanout-broker reply
  NOTES+=("Fan-out: $FANOUT_OBSERVERS observers (role observer) logged in and subscribed with all: true (project_created goes to the owner and to every such subscriber, PROTOCOL.md 7); bench-coord, not subscribed, created one project at a time (the observers' connections were up in $(get fanout-broker join connect_s) s, their logins and subscribes took $(get fanout-broker join all_s) s), each round waiting for its reply and every observer's event; errors (sequence gaps): $(get fanout-broker last errors). From the event's timestamp (taken before the commit) to the last receipt: p99 $(get fanout-broker ts_last p99_us) us, to the millisecond. ${FANOUT_SETS:+Broker: $FANOUT_SETS (one project per event).}")
}
