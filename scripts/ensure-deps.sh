#!/usr/bin/env bash
# Installs what syncvisor needs on a fresh Debian machine with Node 20, as root: Debian packages when missing
# (redis-server, iproute2; for tests also chromium, systemd and linuxptp; for `npm run bench` a C compiler and
# libhiredis-dev for the C reference peer, golang-go and the prometheus Go client for the Go peer), npm ci when
# node_modules does not match package-lock.json, then the native addons and dist/ when their sources changed. Usage: scripts/ensure-deps.sh [run|test|bench]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v ip >/dev/null || need+=(iproute2)
# node-gyp builds the native addons from source.
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v python3 >/dev/null || need+=(python3)
if [ "$mode" = test ]; then
  command -v chromium >/dev/null || need+=(chromium)
  command -v systemd-analyze >/dev/null || need+=(systemd)
  # Real ptp4l (software timestamps, free_running) for the ptp integration tests; /usr/sbin may not be on PATH.
  command -v ptp4l >/dev/null || [ -x /usr/sbin/ptp4l ] || need+=(linuxptp)
fi
if [ "$mode" = bench ]; then
  command -v cc >/dev/null || need+=(gcc)
  [ -f /usr/include/hiredis/hiredis.h ] || need+=(libhiredis-dev)
  # The Go peer of P1 (bench/goPeer): Go and the prometheus Go client, built in GOPATH mode without network.
  command -v go >/dev/null || need+=(golang-go)
  [ -d /usr/share/gocode/src/github.com/prometheus/client_golang ] || need+=(golang-github-prometheus-client-golang-dev)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "syncvisor: missing Debian packages: ${need[*]} (run as root, or: apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "syncvisor: installing Debian packages: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Three steps, each with its own stamp, so that an interrupted run redoes only the step it was in:
# 1. npm ci without scripts (node_modules matches package-lock.json), 2. the native addons (node-gyp),
# 3. the TypeScript build, only when a source is newer than the last build. Build errors are shown and stop here.
stamp=node_modules/.syncvisor-lock.sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "syncvisor: npm ci (first run: about a minute)" >&2
  npm ci --no-audit --no-fund --ignore-scripts
  echo "$want" >"$stamp"
  rm -f build/.syncvisor-built dist/.syncvisor-built
fi

newer() { # newer STAMP PATH...: true when STAMP is missing or any file under PATH is newer than it
  [ ! -f "$1" ] && return 0
  local s=$1
  shift
  [ -n "$(find "$@" -newer "$s" -type f -print -quit 2>/dev/null)" ]
}

if newer build/.syncvisor-built native binding.gyp; then
  echo "syncvisor: building the native addons (node-gyp)" >&2
  if ! npm run --silent install; then
    echo "syncvisor: the native addon build failed (see above; needs g++, make, python3 and Node's headers)" >&2
    exit 1
  fi
  touch build/.syncvisor-built
fi

if newer dist/.syncvisor-built src tsconfig.json tsconfig.build.json package.json; then
  echo "syncvisor: compiling TypeScript (sources changed)" >&2
  if ! ./node_modules/.bin/tsc -p tsconfig.build.json --incremental --tsBuildInfoFile dist/.tsbuildinfo; then
    echo "syncvisor: the TypeScript build failed (errors above); fix them, or run from the sources: npx tsx src/cli/main.ts" >&2
    exit 1
  fi
  # The one-file CLI that bin/syncvisor.js loads (faster start-up); without it bin falls back to dist/cli/main.js.
  node scripts/bundle.mjs >/dev/null
  touch dist/.syncvisor-built
fi
