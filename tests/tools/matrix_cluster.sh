#!/usr/bin/env bash
# matrix_cluster.sh: the attack matrix's cluster cells. `collab-attack matrix --attacks
# store-snoop --configs stage2,store_access` runs each cell on a fresh redis-server and two
# fresh brokers: store-snoop must be SUCCEEDED under stage2 and BLOCKED under store_access,
# as the catalogue says, with no cell differing (exit 0).
# usage: matrix_cluster.sh COLLAB_ATTACK SAMPLE_DATA BROKER
set -uo pipefail
attack=$1 sample=$2 broker=$3
out=$(mktemp /tmp/collab-matrix-cluster.XXXXXX)
trap 'rm -f "$out"' EXIT
"$attack" matrix --attacks store-snoop --configs stage2,store_access --sample-data "$sample" \
  --broker-exe "$broker" --json-out "$out"
rc=$?
python3 - "$out" "$rc" <<'PY'
import json, sys
cells = {c["config"]: c for c in json.load(open(sys.argv[1]))["cells"]}
want = {"stage2": "SUCCEEDED", "store_access": "BLOCKED"}
bad = [(k, cells.get(k, {}).get("verdict"), cells.get(k, {}).get("reason")) for k in want
       if cells.get(k, {}).get("verdict") != want[k]]
if bad or sorted(cells) != sorted(want) or sys.argv[2] != "0":
    sys.exit("matrix_cluster: FAIL: exit %s, cells %s" % (sys.argv[2], bad or sorted(cells)))
if "refuses unauthenticated" not in cells["store_access"]["reason"]:
    sys.exit("matrix_cluster: FAIL: store_access's reason: %s" % cells["store_access"]["reason"])
print("matrix_cluster: store-snoop SUCCEEDED under stage2, BLOCKED under store_access")
PY
