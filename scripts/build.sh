#!/usr/bin/env bash
# Configures and builds eventrouter into ./build (or $BUILD_DIR), warnings as errors.
# BUILD_TYPE picks the CMake build type (default RelWithDebInfo). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  -DEVENTROUTER_WERROR=ON "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
