#!/usr/bin/env bash
# Installs what is missing, rebuilds what changed, and runs the daemon on its embedded default (a private
# redis-server, both services). A developer run: runtime files and the state file go to per-user directories
# ($XDG_RUNTIME_DIR/syncvisor or /tmp/syncvisor-UID, $XDG_STATE_HOME/syncvisor or ~/.local/state/syncvisor), not to
# /run, /var/lib and /cloud-native; SYNCVISOR_PATHS_MODE=system npm start uses the standard paths.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh run
export SYNCVISOR_PATHS_MODE=${SYNCVISOR_PATHS_MODE:-user}
exec node bin/syncvisor.js run "$@"
