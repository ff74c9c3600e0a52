#!/usr/bin/env bash
# images_offline (ctest): scripts/images --offline on a private engine; the base tag, no
# debian:12, no compiler and no secret key in the runtime image, and nothing left behind.
# usage: images_offline.sh SOURCE_DIR CACHE_DIR   (exit 77: no engine can be had)
set -uo pipefail
src=$1 cache=$2
source "$src/tests/deploy/engine.sh"
engine_start "$cache"
rc=$?
[ $rc = 0 ] || exit $rc

fail() { echo "FAIL: $*"; exit 1; }
check() {
  "$src/scripts/images" --offline || fail "scripts/images --offline"
  docker image inspect taskcollab/base:bookworm >/dev/null 2>&1 || fail "no taskcollab/base:bookworm"
  docker image inspect taskcollab >/dev/null 2>&1 || fail "no taskcollab image"
  if engine_private; then
    # the private daemon never had debian:12: the offline base must not pose as it
    docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -qx 'debian:12' && fail "a debian:12 tag exists"
  else
    # a user's own daemon may hold the real debian:12; ours must not be it
    [ "$(docker image inspect -f '{{.Id}}' debian:12 2>/dev/null)" != \
      "$(docker image inspect -f '{{.Id}}' taskcollab/base:bookworm)" ] || fail "debian:12 is our base"
  fi
  docker run --rm taskcollab sh -c '! command -v cc gcc c++ clang' >/dev/null ||
    fail "the runtime image holds a compiler"
  local secrets
  secrets=$(docker run --rm taskcollab sh -c 'find / -xdev \( -name "*_secret*" -o -name "*.key_secret" \) 2>/dev/null')
  [ -z "$secrets" ] || fail "secret keys in the image: $secrets"
  # the public parts are still there: the broker's public certificate
  docker run --rm taskcollab test -f /opt/taskcollab/sample_data/curve/broker.cert ||
    fail "the image lacks the public sample data"
  docker run --rm taskcollab collab-broker --help >/dev/null || fail "collab-broker does not run"
  docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^taskcollab'
}
check
engine_stop
engine_leftovers || fail "the engine left something behind"
echo "images_offline: OK"
