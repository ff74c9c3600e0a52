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
# each, two processes), beside gen_creds's. Thousands of connections need file descriptors
# (a DEALER is a TCP socket and a mailbox): both scenarios raise `ulimit -n` (root may raise
# the hard limit too), for the generator and the servers they start.

CLASS_AGENTS=${CLASS_AGENTS:-5000} CLASS_RATE=${CLASS_RATE:-20}
FANOUT_OBSERVERS=${FANOUT_OBSERVERS:-1000} FANOUT_EVENTS=${FANOUT_EVENTS:-200}
CLASS_LOGIN_WINDOW=${CLASS_LOGIN_WINDOW:-128} # logins in flight, under hash.queue_max (256)
MKAGENTS=$B/bench/mkagents
CLASS_CREDS_S=

# class_creds: the scale scenarios' agents, into $TMP/creds/ (gen_creds joins the files)
class_creds() {
  local n=0 o=0 t0 half
  wants class && n=$CLASS_AGENTS
  wants fanout && o=$FANOUT_OBSERVERS
  [ "$n" -gt 0 ] || [ "$o" -gt 0 ] || return 0
  echo "== credentials ($n class agents, $o observers at bcrypt cost 4: bench/mkagents)" >&2
  t0=$(date +%s.%N)
  half=$(((n + 1) / 2))
  # two processes, one per CPU; each line is one entry
  echo "$PW" | "$MKAGENTS" --prefix bench-a --first 0 --count "$half" >"$TMP/creds/zz-a1.json" &
  local p1=$!
  echo "$PW" | "$MKAGENTS" --prefix bench-a --first "$half" --count $((n - half)) >"$TMP/creds/zz-a2.json" &
  local p2=$!
  echo "$PW" | "$MKAGENTS" --prefix bench-o --first 0 --count "$o" --role observer >"$TMP/creds/zz-o.json" || return 1
  wait "$p1" && wait "$p2" || return 1
  CLASS_CREDS_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  [ -s "$TMP/creds/zz-a1.json" ] || rm -f "$TMP/creds/zz-a1.json"
  [ -s "$TMP/creds/zz-a2.json" ] || rm -f "$TMP/creds/zz-a2.json"
  [ -s "$TMP/creds/zz-o.json" ] || rm -f "$TMP/creds/zz-o.json"
  NOTES+=("Scale credentials: $n class agents and $o observers made in $CLASS_CREDS_S s (bench/mkagents, bcrypt cost 4, each with its own salt and HMAC key, two processes), once for the run.")
}

# file descriptors: a DEALER holds a TCP socket and a mailbox's eventfd
class_fds() {
  local want=$((4 * ${1} + 4096))
  [ "$(ulimit -n)" -ge "$want" ] && return 0
  ulimit -Hn "$want" 2>/dev/null || true
  ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  [ "$(ulimit -n)" -ge "$want" ] || echo "bench: ulimit -n is $(ulimit -n), below the $want that $1 connections may need" >&2
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
  if start_broker class-broker; then
    run class-broker --scenario class --agents "$CLASS_AGENTS" --rate "$CLASS_RATE" \
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
  start_broker fanout-broker "${sets[@]}" || { echo "bench: the broker did not start:" >&2; cat "$TMP/fanout-broker.err" >&2; return 1; }
  run fanout-broker --scenario fanout --observers "$FANOUT_OBSERVERS" --events "$FANOUT_EVENTS" \
    --login-window "$CLASS_LOGIN_WINDOW" || true
  stop_server
}

class_table() {
  attempt scen_class class-broker class-echo
  local scen="class: $CLASS_AGENTS agents logged in and subscribed"
  local bpa epc own
  bpa=$(get class-broker join bytes_per_agent) epc=$(get class-echo join bytes_per_agent)
  own=$([ -n "$bpa" ] && [ -n "$epc" ] && awk -v a="$bpa" -v b="$epc" 'BEGIN { printf "%.0f", a - b }')
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
  NOTES+=("Class: broker RSS $(get class-broker join rss_before_kb) KiB with the credentials loaded and the coordinator in, $(get class-broker join rss_after_kb) KiB with $(get class-broker join joined) of $CLASS_AGENTS agents logged in and subscribed ($(get class-broker class rss_end_kb) KiB after the coordinator's rounds); echo $(get class-echo join rss_before_kb) -> $(get class-echo join rss_after_kb) KiB with the same connections, one round trip each. Logins $CLASS_LOGIN_WINDOW in flight at most (hash.queue_max is 256): the $CLASS_AGENTS took $(get class-broker join login_s) s from the first sent to the last answered ($(get class-broker join all_s) s to the last subscribe; login p50 $(get class-broker logins p50_us) us, max $(get class-broker logins max_us) us). The hashing pool used $(get class-broker join hash_cpu_s) s of CPU meanwhile, $(get class-broker join hash_cpu_per_s) s per second against its budget of 0.6 (hash.budget_ms on 2 CPUs).")
  NOTES+=("Class rounds: bench-coord, at $(get class-broker class rate) rounds/s, assigned $(get class-broker class assigned) tasks among agents 1..$((CLASS_AGENTS - 1)) (their events read as they came: $(get class-broker class others_events) received, $(get class-broker class agents_missing) agents short, $(get class-broker class agents_extra) with more) and moved agent 0's task through in_progress, failed, reassign (each an event to agent 0, timed from the write's send to its receipt; assignment replies p99 $(get class-broker assign p99_us) us). At the end $(get class-broker class alive) of $CLASS_AGENTS agents answered a heartbeat ($(get class-broker class alive_errors) errors). Unread events would wait in libzmq's queues (the broker's ROUTER holds 100,000 messages per connection, its SNDHWM, then drops them silently; the agent's stream keeps the latest 1,000 for subscribe since).")
}

fanout_table() {
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
  NOTES+=("Fan-out: $FANOUT_OBSERVERS observers (role observer) logged in and subscribed with all: true (project_created goes to the owner and to every such subscriber, PROTOCOL.md 7); bench-coord, not subscribed, created one project at a time, each round waiting for its reply and every observer's event; errors (sequence gaps): $(get fanout-broker last errors). From the event's timestamp (taken before the commit) to the last receipt: p99 $(get fanout-broker ts_last p99_us) us, to the millisecond. ${FANOUT_SETS:+Broker: $FANOUT_SETS (one project per event).}")
}
