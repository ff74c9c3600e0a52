# bench_coldstart.sh: scripts/bench's `coldstart` scenario (bench/README.md, "The cold
# start"), sourced by scripts/bench, whose helpers and settings (TMP, B, BROKER, PASSWD, PW,
# cl_port, get, row_abs, ROWS, NOTES) it uses.
#
# A credentials file of COLD_AGENTS agents (bench-coord and workers bench-cNNNNN, bcrypt
# cost 4, made by bench/mkagents as the class scenario makes its agents); a state written through the
# broker's own store module by bench/coldfill: one session per agent, COLD_TASKS tasks of
# bench-coord in projects of 1,000, each agent's event stream filled to its retention,
# COLD_EVENTS / COLD_AGENTS (100) events each; then bench/coldstart starts the broker on it
# COLD_RUNS times (--set events.retention=that): exec to its listening line, to the answer
# of a login sent then, VmRSS/VmHWM after it. The bytes on disk are the file's after the
# fill (the store closes: SQLite checkpoints the WAL into the file and deletes it), split by
# table with SQLite's dbstat (the sqlite3 shell): tasks = tasks, their index and the
# projects; events = the event log. With /proc/sys/vm/drop_caches writable, one more start
# after dropping the page cache (a broker started after the machine booted); COLD_DROP=0
# skips it (the page cache is the whole machine's: a test run must not drop it).
# COLD_CREDS=FILE reuses a credentials file made before (the 10,000 hashes take about 100 s).
# Results: $TMP/coldfill.res, $TMP/coldstart.res, $TMP/coldstart-cold.res, $TMP/colddisk.res.

COLD_AGENTS=${COLD_AGENTS:-10000} COLD_TASKS=${COLD_TASKS:-100000}
COLD_EVENTS=${COLD_EVENTS:-1000000} COLD_RUNS=${COLD_RUNS:-3} COLD_DROP=${COLD_DROP:-1}
COLDFILL=$B/bench/coldfill COLDSTART=$B/bench/coldstart

cold_creds() {
  local dir=$TMP/cold/creds
  # COLD_CREDS=FILE: a file made so before (--keep leaves it in TMP/cold), for reruns
  if [ -n "${COLD_CREDS:-}" ]; then cp "$COLD_CREDS" "$TMP/cold/creds.json"; return; fi
  if [ "$BUILD" = 1 ] && [ -z "${MKAGENTS_BUILT:-}" ]; then # scripts/bench builds the rest
    cmake --build "$B" --target mkagents >/dev/null || return 1
    MKAGENTS_BUILT=1
  fi
  rm -rf "$dir"; mkdir -p "$dir"
  echo "$PW" | "$PASSWD" --cost 4 --role coordinator bench-coord >"$dir/c.json" || return 1
  # the workers in one process (bench/mkagents, as the class scenario makes its agents)
  echo "$PW" | "$MKAGENTS" --prefix bench-c --digits 5 --first 0 --count $((COLD_AGENTS - 1)) \
    --role worker >"$dir/w.json" || return 1
  { echo '{"agents": ['; cat "$dir/c.json" "$dir/w.json" | paste -sd, -; echo ']}'; } >"$TMP/cold/creds.json"
  rm -rf "$dir"
}

# cold_disk: bytes by table (dbstat), into colddisk.res
cold_disk() {
  local db=$TMP/cold/state.db size wal=0
  size=$(stat -c %s "$db")
  [ -f "$db-wal" ] && wal=$(stat -c %s "$db-wal")
  if ! command -v sqlite3 >/dev/null; then
    echo "result scenario=colddisk phase=disk file_bytes=$size wal_bytes=$wal" >"$TMP/colddisk.res"
    return 0
  fi
  sqlite3 -readonly "$db" 'SELECT name, sum(pgsize) FROM dbstat GROUP BY name' |
    awk -F'|' -v size="$size" -v wal="$wal" -v t="$COLD_TASKS" -v e="$(get coldfill fill events)" '
      { b[$1] = $2 }
      END {
        tasks = b["tasks"] + b["tasks_project"] + b["projects"]; events = b["event_log"]
        agents = b["agents"] + b["sqlite_autoindex_agents_1"] + b["sessions"] + b["sqlite_autoindex_sessions_1"]
        printf "result scenario=colddisk phase=disk file_bytes=%.0f wal_bytes=%.0f task_bytes=%.0f event_bytes=%.0f agent_bytes=%.0f per_task=%.0f per_event=%.0f\n",
          size, wal, tasks, events, agents, t ? tasks / t : 0, e ? events / e : 0 }' >"$TMP/colddisk.res"
}

cold_start() { # NAME RUNS
  local port; port=$(cl_port)
  "$COLDSTART" --endpoint "tcp://127.0.0.1:$port" --creds "$TMP/cold/creds.json" --agent bench-coord \
    --password "$PW" --runs "$2" --last-task "$COLD_TASKS" -- \
    "$BROKER" --bind "tcp://127.0.0.1:$port" --state "$TMP/cold/state.db" \
    --credentials "$TMP/cold/creds.json" --security-log "$TMP/cold/security.log" \
    --set "events.retention=$(get coldfill fill retention)" ${BENCH_BROKER_ARGS:-} \
    >"$TMP/$1.res" 2>"$TMP/$1.log" || { echo "bench: coldstart failed:" >&2; tail -20 "$TMP/$1.log" >&2; return 1; }
}

scen_coldstart() {
  local t0
  rm -rf "$TMP/cold"; mkdir -p "$TMP/cold"
  echo "== coldstart: credentials of $COLD_AGENTS agents (bcrypt cost 4)" >&2
  t0=$(date +%s.%N)
  cold_creds || { echo "bench: the cold start's credentials could not be made" >&2; return 1; }
  COLD_CREDS_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
  echo "== coldstart: a state of $COLD_TASKS tasks and $COLD_EVENTS events through the store (bench/coldfill)" >&2
  "$COLDFILL" --state "$TMP/cold/state.db" --creds "$TMP/cold/creds.json" --tasks "$COLD_TASKS" \
    --events "$COLD_EVENTS" >"$TMP/coldfill.res" 2>"$TMP/coldfill.log" ||
    { echo "bench: coldfill failed:" >&2; cat "$TMP/coldfill.log" >&2; return 1; }
  cold_disk
  echo "== coldstart: $COLD_RUNS starts of the broker on it" >&2
  cold_start coldstart "$COLD_RUNS" || return 1
  rm -f "$TMP/coldstart-cold.res"
  if [ "$COLD_DROP" = 1 ] && [ -w /proc/sys/vm/drop_caches ]; then
    echo "== coldstart: one start after dropping the page cache" >&2
    sync && echo 3 >/proc/sys/vm/drop_caches && cold_start coldstart-cold 1 || true
  fi
}

# cold_row SCENARIO FIGURE VALUE TEXT: a reported figure (no target); none is a failure
cold_row() {
  if [ -n "$3" ]; then
    ROWS+=("| $1 | $2 | $3 | $4 | - | - | reported |")
  else
    ROWS+=("| $1 | $2 | - | $4 | - | - | **ERROR** (no figure) |"); FAILED=1
  fi
}

# cold_report: the table's rows and notes
cold_report() {
  local scen="cold start: $COLD_TASKS tasks, $COLD_EVENTS events, $COLD_AGENTS agents"
  local first listen
  first=$(awk -v v="$(get coldstart median first_ms)" 'BEGIN { if (v != "") printf "%.2f", v / 1000 }')
  listen=$(awk -v v="$(get coldstart median listen_ms)" 'BEGIN { if (v != "") printf "%.2f", v / 1000 }')
  row_abs "$scen" "exec to the first answered request (s), median of $COLD_RUNS" "$first" \
    "exec to listening: $listen s" "<=" 5
  cold_row "$scen" "broker VmRSS after loading (KiB)" "$(get coldstart median rss_kb)" \
    "VmHWM $(get coldstart median hwm_kb) KiB"
  cold_row "$scen" "bytes on disk per task" "$(get colddisk disk per_task)" \
    "$(get colddisk disk task_bytes) B for $COLD_TASKS tasks and their projects"
  cold_row "$scen" "bytes on disk per event" "$(get colddisk disk per_event)" \
    "$(get colddisk disk event_bytes) B for $(get coldfill fill events) events"
  local runs; runs=$(for i in $(seq "$COLD_RUNS"); do printf '%s/%s ms ' "$(get coldstart "run$i" listen_ms)" "$(get coldstart "run$i" first_ms)"; done)
  NOTES+=("Cold start: the state (bench/coldfill, through the broker's store module) holds $(get coldfill fill agents) agents with one session each, $(get coldfill fill projects) projects, $(get coldfill fill tasks) tasks and $(get coldfill fill events) retained events ($(get coldfill fill retention) per agent, each stream full: the broker runs with --set events.retention=$(get coldfill fill retention)); the credentials took ${COLD_CREDS_S:-?} s (bench/mkagents, cost 4), the state $(get coldfill fill seconds) s. Starts (listening/first answer): ${runs}with the page cache warm (the file just written).")
  [ -s "$TMP/coldstart-cold.res" ] &&
    NOTES+=("Cold start after dropping the page cache (sync; echo 3 > /proc/sys/vm/drop_caches): listening $(get coldstart-cold median listen_ms) ms, first answer $(get coldstart-cold median first_ms) ms, VmRSS $(get coldstart-cold median rss_kb) KiB.")
  NOTES+=("Cold start, disk: the file $(get colddisk disk file_bytes) B after the fill (WAL $(get colddisk disk wal_bytes) B: checkpointed at close); by dbstat, tasks with their index and projects $(get colddisk disk task_bytes) B, the event log $(get colddisk disk event_bytes) B, agents and sessions $(get colddisk disk agent_bytes) B.")
}
