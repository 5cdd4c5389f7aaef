#!/usr/bin/env bash
# Quick start, command two: install what is missing, build, and run the whole test suite.
# SANITIZE=1 builds into build-asan with AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
if [ "${SANITIZE:-0}" = 1 ]; then
  export BUILD_DIR=build-asan
  scripts/build.sh -DEVENTROUTER_SANITIZE=ON -DEVENTROUTER_BENCH=OFF
else
  export BUILD_DIR=build
  scripts/build.sh
fi
cd "$BUILD_DIR"
ctest --output-on-failure -j"$(nproc)" --timeout 900
