#!/usr/bin/env bash
# doc_containers (ctest): the README's container commands, as written, on a real engine.
# usage: doc_containers.sh SOURCE_DIR BUILD_DIR CACHE_DIR PYTHON
# Starts the engine (engine.sh), then tests/docs/doc_commands.py --containers runs every
# `docker-compose` and `scripts/images` command of README.md in order under one project name:
# an `up` stated to run "until Ctrl-C" in a first terminal, the client "in another terminal"
# beside it. Afterwards it tears the project down by name (all profiles, down -v) and fails on
# whatever is left of the project or of the private engine. Exit 77 only when no engine can be
# had (engine.sh says why).
set -uo pipefail
src=${1:?source dir} build=${2:?build dir} cache=${3:?cache dir} py=${4:-python3}
source "$src/tests/deploy/engine.sh"
engine_start "$cache"
rc=$?
[ $rc = 0 ] || exit $rc
command -v docker-compose >/dev/null || { echo "skipped: docker-compose is not installed"; exit 77; }

export COMPOSE_PROJECT_NAME=tcdoc$$
teardown() {
  local status=$1 left
  trap - EXIT
  local over
  for over in docker-compose.cluster.yml docker-compose.hardened.yml; do # each file's volumes
    (cd "$src" && timeout 120 docker-compose -f docker-compose.yml -f "$over" \
      --profile attack --profile client --profile audit down -v --remove-orphans --timeout 5) \
      >/dev/null 2>&1
  done
  left=$(engine_project_leftovers "$COMPOSE_PROJECT_NAME")
  [ -z "$left" ] || { echo "doc_containers: left behind: $left" >&2; status=1; }
  engine_stop
  engine_leftovers || status=1
  [ "$status" = 0 ] && echo "doc_containers: nothing left behind"
  exit "$status"
}
trap 'teardown 1' EXIT
"$py" "$src/tests/docs/doc_commands.py" --containers --source "$src" --build "$build" README.md
teardown $?
