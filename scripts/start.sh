#!/usr/bin/env bash
# The main job on the bundled default, from a fresh checkout: install, explain the bundled demo library with the
# bundled demo model (command line), then open the app on it in browser mode (no Electron binary needed).
#   bash scripts/start.sh            install if needed, explain, then serve the app (Ctrl-C to stop)
#   bash scripts/start.sh --no-serve install if needed and explain only
set -euo pipefail
cd "$(dirname "$0")/.."
export ELECTRON_SKIP_BINARY_DOWNLOAD=1 ONNXRUNTIME_NODE_INSTALL=skip

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== installing npm packages (offline-safe flags; better-sqlite3 may compile for about a minute)"
  npm install --no-audit --no-fund
fi

echo "== explaining the demo library (resources/demo/samples) with the demo model"
node bin/saliency.js explain resources/demo/samples --model builtin:demo \
  --method gradcam,lime,rise --ensemble mean --set lime.samples=300 --set rise.masks=1000 --out out/demo
echo "   maps and overlays: out/demo/<image>/<method>.png, numbers: out/demo/results.json"

if [ "${1:-}" = "--no-serve" ]; then exit 0; fi
echo "== building the app and opening it in browser mode"
npm run build:renderer --silent
exec node bin/saliency.js serve --model builtin:demo
