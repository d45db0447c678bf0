#!/usr/bin/env bash
# fuzz.sh — run the libFuzzer targets of tests/fuzz (built with clang,
# ASan and UBSan in build-fuzz/) for SECONDS each (default 60), starting
# from the seed corpus in tests/fuzz/corpus (copied: the repository's
# corpus is not changed). Prints each target's executions and findings;
# exits 1 when a target finds a crash, leak or undefined behaviour (the
# input is kept in build-fuzz/findings/).
#
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}

if ! command -v clang >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq clang libomp-dev >/dev/null
fi
gen=(); command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
CC=clang CXX=clang++ cmake -S . -B build-fuzz "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOS_FUZZ=ON \
  -DOS_ENABLE_CUDA=OFF -DOS_BUILD_TESTS=OFF -DOS_NATIVE=OFF >/dev/null
cmake --build build-fuzz --target fuzz_flags fuzz_lists fuzz_csv fuzz_sweepfile >/dev/null

mkdir -p build-fuzz/findings
status=0
for t in flags lists csv sweepfile; do
  work=build-fuzz/corpus-$t
  rm -rf "$work" && mkdir -p "$work" && cp tests/fuzz/corpus/$t/* "$work"/
  log=build-fuzz/fuzz_$t.log
  if ASAN_OPTIONS=detect_leaks=1 build-fuzz/fuzz_$t -max_total_time="$secs" -max_len=4096 -timeout=10 \
       -rss_limit_mb=2048 -artifact_prefix=build-fuzz/findings/$t- "$work" >"$log" 2>&1; then
    verdict="no findings"
  else
    verdict="FINDING (see $log and build-fuzz/findings/)"
    status=1
  fi
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+|#[0-9]+' "$log" | tail -n 1 | grep -Eo '[0-9]+$' || echo '?')
  echo "fuzz_$t: $execs executions in ${secs}s, $verdict"
done
exit $status
