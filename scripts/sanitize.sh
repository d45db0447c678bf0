#!/usr/bin/env bash
# sanitize.sh — the whole test suite built with AddressSanitizer and
# UndefinedBehaviorSanitizer (CPU build in build-asan/; the CUDA kernels'
# code runs in test_cuda_emu). Exits with ctest's status. Built without MPI:
# Open MPI's own allocations would read as leaks (the MPI tests say they skip
# here; the normal build runs them).
set -euo pipefail
cd "$(dirname "$0")/.."
gen=(); command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
cmake -S . -B build-asan "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOS_SANITIZE=ON -DOS_ENABLE_CUDA=OFF -DOS_ENABLE_MPI=OFF \
  -DOS_BUILD_TESTS=ON >/dev/null
cmake --build build-asan >/dev/null
# the figures and the peer benchmark are Python: nothing of ours to sanitize there
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$(nproc)" -E '^(test_plots|bench_quick|bench_host_quick)$'
