#!/usr/bin/env bash
# Installs what is missing and runs the daemon on its embedded default (a private redis-server, both services).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh run
exec node bin/syncvisor.js run "$@"
