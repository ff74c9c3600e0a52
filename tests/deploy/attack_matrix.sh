#!/usr/bin/env bash
# Runs `collab-attack matrix` and passes only when every cell matches the catalogue: every
# attack SUCCEEDED under stage2, BLOCKED under hardened, each single strong control blocking
# its own attack, and every other cell as recorded. It runs from a scratch folder with the
# default parallelism, as a learner would (the catalogue is found through the source tree),
# and writes the JSON result to JSON_OUT for the doc test to reuse (fixture
# attack_matrix_result). The wire attacks capture on lo with libpcap, which needs root (or
# CAP_NET_RAW): elsewhere the test is skipped (77).
# usage: attack_matrix.sh COLLAB_ATTACK SAMPLE_DATA JSON_OUT
set -uo pipefail
attack=$1 sample=$2 json_out=$3
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: the wire attacks need root (or CAP_NET_RAW) to capture on lo"
  exit 77
fi
rm -f "$json_out"
scratch=$(mktemp -d) || exit 1
trap 'rm -rf "$scratch"' EXIT
cd "$scratch" || exit 1
start=$(date +%s)
"$attack" matrix --sample-data "$sample" --json-out "$json_out"
rc=$?
echo "attack matrix: exit $rc after $(($(date +%s) - start)) s; JSON in $json_out"
exit $rc
