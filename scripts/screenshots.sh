#!/usr/bin/env bash
# Regenerates the inspector screenshots in docs/ (docs/inspector*.png) from the browser tests: the live daemon's
# inspector and `syncvisor replay --inspect` over the recorded warm-restart traces. A plain `npm test` writes its
# screenshots to a temporary directory instead. Needs Debian's chromium and a built CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build
UPDATE_SCREENSHOTS=1 ./node_modules/.bin/vitest run test/e2e/inspector.browser.test.ts test/e2e/inspector.replay.browser.test.ts
ls -l docs/inspector*.png
