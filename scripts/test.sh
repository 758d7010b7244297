#!/usr/bin/env bash
# The whole test suite: typecheck, then every vitest suite (real ONNX Runtime, SQLite, Chromium), then one
# plain closing line "tests: N passed, N failed, N skipped". Extra arguments go to vitest (e.g. a folder).
set -uo pipefail
cd "$(dirname "$0")/.."
npx tsc --noEmit -p tsconfig.json || { echo "typecheck failed"; echo "tests: 0 passed, 1 failed"; exit 1; }
mkdir -p test-artifacts
npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json "$@"
status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-artifacts/vitest.json", "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit $status
