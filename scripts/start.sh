#!/usr/bin/env bash
# The quick start's run command: the demo deployment on this machine, nothing else to install.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-built.sh >&2
exec node bin/tandem.js demo "$@"
