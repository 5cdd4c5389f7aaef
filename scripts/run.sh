#!/usr/bin/env bash
# Quick start, command one: install what is missing, build, and run the daemon on the sample config.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
exec build/eventrouter serve -c config/eventrouter.yaml "$@"
