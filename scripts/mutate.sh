#!/usr/bin/env bash
# mutate.sh — the mutation check: plant each bug of scripts/mutants.txt,
# rebuild (CPU build in build-mutate/), run ctest, report which test killed
# it and the survivors (scripts/mutate.py). A whole run takes about an hour
# on 2 cores; CI runs the smoke test.
#
#   scripts/mutate.sh             every mutant
#   scripts/mutate.sh --smoke     the first three (CI)
#   scripts/mutate.sh --only ID   one mutant (and --markdown for the note's table)
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@")
if [ "${1:-}" = "--smoke" ]; then args=(--smoke 3 "${@:2}"); fi
exec python3 scripts/mutate.py "${args[@]}"
