#!/usr/bin/env bash
# install_axe.sh PREFIX: axe-core 4 from npm into PREFIX/node_modules (test only, never
# shipped), unless a 4.x is there already. npm missing is a failure: scripts/deps installs it.
set -euo pipefail
prefix=${1:?usage: install_axe.sh PREFIX}
js="$prefix/node_modules/axe-core/axe.min.js"
pkg="$prefix/node_modules/axe-core/package.json"
if [ -f "$js" ] && grep -q '"version": *"4\.' "$pkg"; then
  echo "axe-core $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$pkg" | head -1) already in $prefix"
  exit 0
fi
command -v npm >/dev/null || { echo "install_axe.sh: npm is missing: run scripts/deps" >&2; exit 1; }
mkdir -p "$prefix"
npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error axe-core@4
[ -f "$js" ] || { echo "install_axe.sh: npm did not install $js" >&2; exit 1; }
echo "axe-core installed in $prefix"
