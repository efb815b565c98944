#!/usr/bin/env bash
# Build limpid (Release) and run the whole test suite. Usage: bash tests/run.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j"$(nproc)"
ctest --test-dir "$B" --output-on-failure -j"$(nproc)"
