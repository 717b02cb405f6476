#!/usr/bin/env bash
# Installs what syncvisor needs on a fresh Debian machine with Node 20, as root: Debian packages when missing
# (redis-server, iproute2; for tests also chromium and systemd; for `npm run bench` a C compiler and libhiredis-dev
# for the C reference peer), then npm ci (builds the netlink addon and dist/) when node_modules is missing or older
# than package-lock.json. Usage: scripts/ensure-deps.sh [run|test|bench]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v ip >/dev/null || need+=(iproute2)
if [ "$mode" = test ]; then
  command -v chromium >/dev/null || need+=(chromium)
  command -v systemd-analyze >/dev/null || need+=(systemd)
fi
if [ "$mode" = bench ]; then
  command -v cc >/dev/null || need+=(gcc)
  [ -f /usr/include/hiredis/hiredis.h ] || need+=(libhiredis-dev)
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

stamp=node_modules/.syncvisor-lock.sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "syncvisor: npm ci (builds the netlink addon and dist/)" >&2
  npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
else
  # Sources may have changed since the last build.
  [ -f build/Release/syncvisor_netlink.node ] || npm run install
  npm run build >/dev/null
fi
