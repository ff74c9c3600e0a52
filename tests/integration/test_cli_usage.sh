#!/usr/bin/env bash
# Every binary of the lab answers --help (exit 0, its usage on standard output), and number
# options that are not numbers, or are out of range, are usage errors (exit 2) before any
# connection; an agent whose endpoint is none (or a list holding one that is none, or a
# list that is none), or whose brokers are down, says so with exit 3 (within the 5 s
# default for the first connection). Arguments: the binaries, as NAME=PATH.
set -uo pipefail
declare -A bin
for a in "$@"; do bin[${a%%=*}]=${a#*=}; done
fails=0 checks=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# expect CODE NEEDLE -- command...: the exit code, and NEEDLE in stdout+stderr
expect() {
  local want=$1 needle=$2; shift 3
  local out rc
  out=$(env -u COLLAB_BROKER -u COLLAB_WORK_MS "$@" < /dev/null 2>&1); rc=$?
  checks=$((checks + 1))
  [ "$rc" = "$want" ] || { fail "$* exited $rc, want $want: $out"; return; }
  grep -qF -- "$needle" <<<"$out" || fail "$*: no '$needle' in: $out"
}
for name in "${!bin[@]}"; do
  expect 0 "usage" -- "${bin[$name]}" --help
  out=$("${bin[$name]}" --help 2>/dev/null)
  grep -qi '^usage' <<<"$out" || fail "$name --help: the usage is not on standard output"
done
w=${bin[collab-worker]} c=${bin[collab-coordinator]} adm=${bin[collab-admin]}
expect 2 "--work-ms: 'abc' is not a number" -- "$w" --work-ms abc
expect 2 "--work-ms: '12ms' is not a number" -- "$w" --work-ms 12ms
expect 2 "--heartbeat-ms: '10' is not a number in 50.." -- "$w" --heartbeat-ms 10
expect 2 "--max-tasks: '-1'" -- "$w" --max-tasks -1
expect 2 "COLLAB_WORK_MS: 'x'" -- env COLLAB_WORK_MS=x "$w"
expect 2 "--rounds: '0' is not a number" -- "$c" --rounds 0
expect 2 "--silence-ms: 'soon'" -- "$c" --silence-ms soon
expect 2 "--round-pause-ms: '1e3'" -- "$c" --round-pause-ms 1e3
expect 2 "--timeout-ms: 'abc' is not a number" -- "$adm" --timeout-ms abc list-agents
expect 2 "--connect-timeout-ms: '-5'" -- "$adm" --connect-timeout-ms -5 list-agents
expect 2 "unknown role 'boss'" -- "$adm" set-role worker1 boss
expect 2 "usage: codec_bench" -- "${bin[codec_bench]}" abc
expect 2 "usage: echo" -- "${bin[echo]}" --reply-bytes abc
# exit 3: an endpoint that is none, a broker that is down (port 1: nothing listens)
expect 3 "'notaurl' is not a broker endpoint" -- "$w" --broker notaurl --agent worker1 --password x
expect 3 "'tcp://127.0.0.1:99999' is not a broker endpoint" -- "$adm" --broker tcp://127.0.0.1:99999 \
  --agent admin --password x list-agents
# a list of endpoints (a cluster's brokers): each checked, the list bounded, from either source
expect 3 "'notaurl' is not a broker endpoint" -- "$w" --broker tcp://127.0.0.1:5555,notaurl \
  --agent worker1 --password x
expect 3 "has an empty endpoint" -- env COLLAB_BROKER=tcp://127.0.0.1:5555, "$adm" --agent admin \
  --password x list-agents
expect 3 "more than 8 endpoints" -- "$c" --agent coordinator1 --password x \
  --broker "$(printf 'tcp://127.0.0.1:%d,' 1 2 3 4 5 6 7 8)tcp://127.0.0.1:9"
expect 3 "no broker answers at tcp://127.0.0.1:1,tcp://127.0.0.1:2" -- "$w" --agent worker1 \
  --password x --broker tcp://127.0.0.1:1,tcp://127.0.0.1:2 --connect-timeout-ms 200
start=$(date +%s%N)
expect 3 "no broker answers at tcp://127.0.0.1:1" -- "$w" --broker tcp://127.0.0.1:1 --agent worker1 --password x
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 8000 ] || fail "a down broker took $ms ms to be reported (the default is 5000)"
start=$(date +%s%N)
expect 3 "no broker answers" -- "$c" --broker tcp://127.0.0.1:1 --agent coordinator1 --password x \
  --connect-timeout-ms 300
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 3000 ] || fail "--connect-timeout-ms 300 took $ms ms"
echo "test_cli_usage: $checks checks over ${#bin[@]} binaries, $fails failed"
[ "$fails" = 0 ]
