#!/usr/bin/env bash
# test.sh — build orbitsweep with its tests and run the whole suite (ctest).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
gen=(); command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
# OS_CMAKE_FLAGS: extra configure flags (CI: -DOS_WERROR=ON)
# shellcheck disable=SC2086
cmake -S . -B build "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DOS_BUILD_TESTS=ON ${OS_CMAKE_FLAGS:-} >/dev/null
cmake --build build
ctest --test-dir build --output-on-failure -j "$(nproc)"
