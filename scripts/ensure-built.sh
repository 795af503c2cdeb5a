#!/usr/bin/env bash
# Installs npm dependencies and builds when the checkout is fresh or sources changed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm install (not ci): npm 11 rejects this lock in ci for optional packages of other platforms,
  # though install resolves exactly the locked versions.
  npm install --no-audit --no-fund
fi
npm run --silent build
