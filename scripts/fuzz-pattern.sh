#!/usr/bin/env bash
# Builds the event-pattern fuzzer (clang + libFuzzer, with ASan/UBSan) and runs it.
#   scripts/fuzz-pattern.sh [SECONDS]      default 60; BUILD_DIR overrides build-fuzz/
# Needs clang++ and libFuzzer (Debian: clang, libclang-rt-dev). Crashes land in the build dir.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${BUILD_DIR:-$root/build-fuzz}")  # absolute: the script cds into it
seconds=${1:-60}

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER="${CXX:-clang++}" -DEVENTROUTER_TESTS=OFF -DEVENTROUTER_BENCH=OFF >/dev/null
cmake --build "$build" --target pattern_fuzzer -j2

corpus=$build/fuzz-corpus/pattern
mkdir -p "$corpus"
cp -n "$root"/fuzz/corpus/pattern/* "$corpus"/ 2>/dev/null || true

cd "$build"
exec "$build/fuzz/pattern_fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
  -dict="$root/fuzz/pattern.dict" "$corpus"
