#!/usr/bin/env bash
# Rebuild js/canvas.js, the one ES module the canvas widget loads, from its sources in js/src/:
# install the pinned esbuild and TypeScript (js/package-lock.json) with npm, type-check the
# sources (tsc --checkJs --strict, js/tsconfig.json), then bundle them. Needs Node.js and npm;
# installing or running al_widget does not (the built js/canvas.js is committed).
set -euo pipefail
cd "$(dirname "$0")/../js"

npm ci --no-audit --no-fund --loglevel=error
npx --no-install tsc -p .
node build.mjs
echo "built js/canvas.js from js/src/"
