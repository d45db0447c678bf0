#!/usr/bin/env bash
# gpu-check.sh — every GPU check in one command, for a machine with an NVIDIA
# GPU, the CUDA toolkit, CMake and ninja (no GoogleTest, no network needed).
#
#   scripts/gpu-check.sh [BUILD_DIR]          (default build-gpu)
#   GPU_CHECK_TUNE=1 scripts/gpu-check.sh     also bench the training kernel
#                                              built for 3 and 4 blocks per SM
#
# Steps (each under `timeout`, the whole run well under 8 minutes on an H200):
#   1. configure and build (tests too when GoogleTest is installed)
#   2. orbitsweep devices
#   3. os_gpu_selftest: Philox on the device (cuRAND and our port), batch
#      orders, CPU vs GPU byte-identical tables at every tile size
#   4. CLI parity: `run --backend cpu` vs `run --backend cuda --tile T` over a
#      grid with every optimizer, scheduler, shuffle mode and dtype, a
#      diverging lr and fully masked starts; chunks, orders on the fly, --data
#   5. compute-sanitizer memcheck, racecheck and synccheck on small sweeps
#   6. orbitsweep bench --backend cuda (1K, 10K, 100K, 1M trainings)
#   7. the default 6,144-training sweep timed end to end, and its table vs the CPU's
#   8. scripts/bench/compare.py against PyTorch on the GPU (when torch has CUDA)
# Prints a summary; exits 1 if a correctness check (1, 3, 4, 5, 7's table)
# failed, else 0. Logs: BUILD_DIR/gpu-check/.
# shellcheck disable=SC2054  # commas inside flag values, not array separators
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

B=${1:-build-gpu}
L=$B/gpu-check
T_START=$(date +%s)
FAILED=0
SUMMARY=()

elapsed() { echo $(($(date +%s) - T_START)); }
note() { SUMMARY+=("$1"); echo "== $1"; }
fail() { FAILED=1; note "FAIL $1"; }

# run NAME LIMIT CMD...: runs CMD under timeout with its output in $L/NAME.log.
run() {
  local name=$1 limit=$2
  shift 2
  local t0
  t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" >"$L/$name.log" 2>&1
  local rc=$?
  RUN_SECS=$(($(date +%s) - t0))
  [ $rc -eq 124 ] && echo "   ($name: timed out after ${limit}s)" >>"$L/$name.log"
  return $rc
}

show_tail() { tail -n "${2:-15}" "$L/$1.log" | sed 's/^/   | /'; }

mkdir -p "$L" || exit 1
echo "gpu-check: $(date -u +%FT%TZ) in $(pwd), build dir $B"

# ---- 1. configure and build ------------------------------------------------
tests=OFF
[ -f /usr/include/gtest/gtest.h ] || [ -f /usr/local/include/gtest/gtest.h ] && tests=ON
gen=()
command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
if run configure 180 cmake -S . -B "$B" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DOS_BUILD_TESTS=$tests &&
   grep -q "CUDA backend ON" "$L/configure.log" &&
   run build 420 cmake --build "$B" -j "$(nproc)"; then
  note "PASS build (${RUN_SECS}s, tests $tests)"
else
  fail "configure/build (see $L/configure.log, $L/build.log)"
  show_tail configure 10
  [ -f "$L/build.log" ] && show_tail build 30
  printf '%s\n' "" "gpu-check summary:" "${SUMMARY[@]/#/  }"
  exit 1
fi
OSW=$B/orbitsweep

# ---- 2. devices --------------------------------------------------------------
run devices 60 "$OSW" devices
sed 's/^/   /' "$L/devices.log"
if ! grep -q "^gpu [0-9]" "$L/devices.log"; then
  fail "no usable GPU listed by orbitsweep devices"
fi

# ---- 3. self-test ------------------------------------------------------------
if run selftest 300 "$B/os_gpu_selftest"; then
  note "PASS os_gpu_selftest ($(tail -n 1 "$L/selftest.log"), ${RUN_SECS}s)"
else
  fail "os_gpu_selftest (rc $?, $L/selftest.log)"
  grep -E "^(FAIL|SKIP)|^  " "$L/selftest.log" | head -n 40 | sed 's/^/   | /'
fi
if [ "$tests" = ON ]; then
  if run ctest 300 ctest --test-dir "$B" -R "Cuda|cuda|gpu" --output-on-failure; then
    note "PASS ctest CUDA tests ($(grep -E 'tests passed' "$L/ctest.log"))"
  else
    fail "ctest CUDA tests ($L/ctest.log)"
    show_tail ctest 30
  fi
fi

# ---- 4. CLI parity -----------------------------------------------------------
P=$L/parity
mkdir -p "$P"
GRID=(--optimizer sgd,momentum,nesterov,rmsprop,adam --lr 0.001,0.05,0.5,30
      --scheduler constant --scheduler multistep:milestones=2/4/4/6,gamma=0.5
      --scheduler multiplicative:factor=0.8,start=6,end=24,every=2
      --scheduler step:step_size=3,gamma=0.7 --scheduler exponential:gamma=0.97
      --scheduler cosine:t_max=7,eta_min=0.001
      --batch-size 32,48 --epochs 3,4 --init-wa 0.001,0.003,0.1 --seeds 2 --seed 5 --quiet)
parity_ok=0
parity_bad=0
# parity_case LABEL RUN_ARGS... -- VARIANT...: the CPU table of RUN_ARGS against
# `--backend cuda` runs of RUN_ARGS, one per VARIANT 'ENV=V|CUDA-ONLY FLAGS'.
parity_case() {
  local label=$1
  shift
  local cpu_args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do cpu_args+=("$1"); shift; done
  shift
  if ! run "parity-$label-cpu" 300 "$OSW" run --backend cpu "${cpu_args[@]}" -o "$P/$label-cpu.csv"; then
    parity_bad=$((parity_bad + 1))
    echo "   $label: the CPU run failed"; show_tail "parity-$label-cpu" 5
    return
  fi
  local v
  for v in "$@"; do
    local envs=${v%%|*} extra=${v#*|}
    local tag
    tag="$label-$(echo "$envs $extra" | tr -c 'A-Za-z0-9' '_')"
    # shellcheck disable=SC2086
    if run "parity-$tag" 300 env $envs "$OSW" run --backend cuda "${cpu_args[@]}" $extra -o "$P/$tag.csv" &&
       cmp -s "$P/$label-cpu.csv" "$P/$tag.csv"; then
      parity_ok=$((parity_ok + 1))
    else
      parity_bad=$((parity_bad + 1))
      echo "   MISMATCH $label [$envs $extra]"
      show_tail "parity-$tag" 3
      [ -f "$P/$tag.csv" ] && diff "$P/$label-cpu.csv" "$P/$tag.csv" | head -n 4 | sed 's/^/   | /'
    fi
  done
}
TILES=("|--tile 0" "|--tile 1" "|--tile 2" "|--tile 4" "|--tile 8")
for dt in float32 float64; do
  for sh in shared trial none; do
    parity_case "$dt-$sh" "${GRID[@]}" --dtype "$dt" --shuffle "$sh" -- "${TILES[@]}"
  done
done
parity_case f32-shared-knobs "${GRID[@]}" --shuffle shared -- \
  "|--cuda-chunk 37 --tile 0" "|--cuda-chunk 500 --tile 1" \
  "|--cuda-table-bytes 0 --tile 0" "|--cuda-table-bytes 0 --tile 8"
EPOCH=(--optimizer sgd,momentum,rmsprop,adam --lr 0.01,0.3,30 --scheduler step:step_size=2,gamma=0.5
       --scheduler cosine:t_max=3 --sched-step epoch --weight-decay 0,0.01 --dampening 0,0.1
       --batch-size 7,48,400 --epochs 3 --n 301 --seeds 2 --shuffle trial --quiet)
parity_case epoch-wd-n301 "${EPOCH[@]}" -- "|--tile 0" "|--tile 1" "|--tile 8"
parity_case epoch-wd-n301-f64 "${EPOCH[@]}" --dtype float64 -- "|--tile 0" "|--tile 2"
"$OSW" data --n 300 --seed 9 -o "$P/data.csv" --quiet >/dev/null 2>&1
DATA=(--data "$P/data.csv" --optimizer momentum,adam --lr 0.01,0.1 --scheduler constant
      --scheduler multistep:milestones=3/6,gamma=0.5 --batch-size 32 --epochs 4 --seeds 3 --quiet)
for sh in shared trial none; do
  parity_case "datafile-$sh" "${DATA[@]}" --shuffle "$sh" -- "|--tile 0" "|--tile 4"
done
if [ $parity_bad -eq 0 ] && [ $parity_ok -gt 0 ]; then
  note "PASS CLI parity: $parity_ok GPU tables byte-identical to the CPU's"
else
  fail "CLI parity: $parity_bad mismatches or failures, $parity_ok identical (logs in $L)"
fi

# ---- 5. compute-sanitizer ----------------------------------------------------
CS=$(command -v compute-sanitizer || true)
[ -z "$CS" ] && for c in /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  [ -x "$c" ] && CS=$c && break
done
if [ -z "$CS" ]; then
  note "SKIP compute-sanitizer (not found)"
else
  SMALL=(--optimizer sgd,adam --lr 0.01,30 --scheduler constant --scheduler cosine:t_max=5
         --batch-size 16,48 --epochs 2 --n 100 --seeds 2 --init-wa 0.001,0.1 --quiet)
  for c in "memcheck|--leak-check full|--tile 1 --shuffle shared" "memcheck||--tile 8 --shuffle trial" \
           "memcheck||--tile 2 --dtype float64 --shuffle none" "racecheck||--tile 8 --shuffle trial" \
           "synccheck||--tile 4 --shuffle shared" "initcheck||--tile 1 --shuffle trial"; do
    IFS='|' read -r tool topts rargs <<<"$c"
    tag="sanitizer-$tool-$(echo "$rargs" | tr -c 'A-Za-z0-9' '_')"
    # shellcheck disable=SC2086
    if run "$tag" 180 "$CS" --tool "$tool" $topts --error-exitcode 1 "$OSW" run --backend cuda "${SMALL[@]}" $rargs \
         -o "$L/$tag.csv"; then
      note "PASS compute-sanitizer $tool ($rargs, ${RUN_SECS}s)"
    else
      fail "compute-sanitizer $tool ($rargs): $L/$tag.log"
      grep -E "=========" "$L/$tag.log" | head -n 12 | sed 's/^/   | /'
    fi
  done
fi

# ---- 6. bench ----------------------------------------------------------------
if run bench 240 "$OSW" bench --backend cuda; then
  sed 's/^/   /' "$L/bench.log"
  note "INFO bench: $(awk '$1 ~ /^[0-9]+$/ {printf "%s: %s evals/s; ", $1, $6}' "$L/bench.log")"
else
  fail "bench ($L/bench.log)"
  show_tail bench 10
fi
for b in "trial|--sizes 10000,1000000 --shuffle trial" "f64|--sizes 10000,100000 --dtype float64"; do
  IFS='|' read -r tag bargs <<<"$b"
  # shellcheck disable=SC2086
  if run "bench-$tag" 120 "$OSW" bench --backend cuda $bargs; then
    note "INFO bench $bargs: $(awk '$1 ~ /^[0-9]+$/ {printf "%s: %s evals/s; ", $1, $6}' "$L/bench-$tag.log")"
  else
    note "WARN bench $bargs failed or timed out ($L/bench-$tag.log)"
  fi
done

# ---- 7. the default sweep, end to end ------------------------------------------
DEFAULT=(--optimizer sgd,momentum,rmsprop,adam --lr 'logspace(-4,-0.5,64)' --scheduler constant
         --scheduler multistep:milestones=4/8/10/12/14/16/18/20/22/24,gamma=0.8
         --scheduler multiplicative:factor=0.8,start=6,end=24,every=2 --seeds 8 --epochs 100 --batch-size 64)
t0=$(date +%s.%N)
if run default-gpu 120 "$OSW" run --backend cuda "${DEFAULT[@]}" -o "$L/default-gpu.csv"; then
  t1=$(date +%s.%N)
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
  note "INFO default 6,144-training sweep on the GPU: ${wall}s end to end (target < 1 s); $(grep '^time' "$L/default-gpu.log")"
  if run default-cpu 300 "$OSW" run --backend cpu "${DEFAULT[@]}" -o "$L/default-cpu.csv" &&
     cmp -s "$L/default-cpu.csv" "$L/default-gpu.csv"; then
    note "PASS default sweep: GPU table byte-identical to the CPU's (CPU took ${RUN_SECS}s)"
  else
    fail "default sweep: GPU table differs from the CPU's"
    diff "$L/default-cpu.csv" "$L/default-gpu.csv" | head -n 4 | sed 's/^/   | /'
  fi
else
  fail "default sweep on the GPU ($L/default-gpu.log)"
  show_tail default-gpu 5
fi

# ---- 8. against PyTorch ------------------------------------------------------
PY=""
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null 2>&1 && timeout 60 "$p" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
    PY=$p
    break
  fi
done
if [ ! -f scripts/bench/compare.py ]; then
  note "SKIP compare.py (not in this checkout)"
elif [ -z "$PY" ]; then
  note "SKIP compare.py (no python3 with CUDA-enabled torch)"
elif [ "$(elapsed)" -gt 330 ]; then
  note "SKIP compare.py (time budget: $(elapsed)s used)"
elif run compare 150 "$PY" scripts/bench/compare.py --device cuda --trainings 10000 --orbitsweep "$OSW"; then
  sed 's/^/   /' "$L/compare.log" | head -n 40
  note "INFO compare.py --device cuda --trainings 10000 (${RUN_SECS}s): see $L/compare.log"
else
  note "WARN compare.py failed or timed out (${RUN_SECS}s): $L/compare.log"
  show_tail compare 10
fi

# ---- optional: register budget ----------------------------------------------
if [ "${GPU_CHECK_TUNE:-0}" = 1 ]; then
  for mb in 3 4; do
    if [ "$(elapsed)" -gt 420 ]; then note "SKIP tune $mb (time budget)"; continue; fi
    if run "tune$mb-build" 300 bash -c "cmake -S . -B '$B-mb$mb' ${gen[*]} -DOS_BUILD_TESTS=OFF -DOS_CUDA_MIN_BLOCKS=$mb >/dev/null &&
         cmake --build '$B-mb$mb' -j $(nproc) --target orbitsweep" &&
       run "tune$mb" 120 "$B-mb$mb/orbitsweep" bench --backend cuda --sizes 10000,1000000; then
      note "INFO OS_CUDA_MIN_BLOCKS=$mb bench: $(awk '$1 ~ /^[0-9]+$/ {printf "%s: %s evals/s; ", $1, $6}' "$L/tune$mb.log")"
    else
      note "WARN tune $mb failed ($L/tune$mb*.log)"
    fi
  done
fi

echo
echo "gpu-check summary ($(elapsed)s):"
printf '  %s\n' "${SUMMARY[@]}"
[ $FAILED -eq 0 ] && echo "gpu-check: all correctness checks passed" || echo "gpu-check: FAILED"
exit $FAILED
