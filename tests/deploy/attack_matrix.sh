#!/usr/bin/env bash
# Runs `collab-attack matrix` and passes only when every cell matches the catalogue: every
# attack SUCCEEDED under stage2, BLOCKED under hardened, each single strong control blocking
# its own attack, and every other cell as recorded. The wire attacks capture on lo with
# libpcap, which needs root (or CAP_NET_RAW): elsewhere the test is skipped (77).
set -uo pipefail
attack=$1 sample=$2
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: the wire attacks need root (or CAP_NET_RAW) to capture on lo"
  exit 77
fi
"$attack" matrix -j 3 --sample-data "$sample"
