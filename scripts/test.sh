#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine with Node 20, as root: installs what is missing, builds, runs vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh test
exec ./node_modules/.bin/vitest run "$@"
