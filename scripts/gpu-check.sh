#!/usr/bin/env bash
# gpu-check.sh — the GPU checks in one short run, for a machine with an NVIDIA
# GPU, the CUDA toolkit, CMake and ninja (no GoogleTest, no network, no apt).
#
#   scripts/gpu-check.sh --out DIR [--build DIR] [--deadline S] [--arch LIST] [--tune]
#   scripts/gpu-check.sh --out DIR --dry-run [--build DIR]     (no GPU: CI rehearses it)
#
#   --out DIR      where everything worth reading lands, at most 6 files:
#                    summary.txt    PASS/FAIL/SKIP/INFO lines, written as they happen
#                    bench.txt      the speed table: kernel-only and end-to-end
#                                   evaluations/s, registers, occupancy, the peers
#                    resources.txt  per-kernel registers, spills, stack (ptxas)
#                    logs.tar.gz    every step's log (rewritten after each step)
#   --build DIR    build directory (default build-gpu); an up-to-date one is reused
#   --deadline S   overall deadline in seconds (default 420), checked before every
#                  step and capping every command's timeout; a step that does not
#                  fit is reported as SKIP (deadline), so a cut-off run still reports
#   --arch LIST    CMAKE_CUDA_ARCHITECTURES for the build (default: native when a GPU
#                  is visible, else the project's default)
#   --tune         also build and bench OS_CUDA_MIN_BLOCKS 3 and 4 (if time remains)
#   --dry-run      run every step that needs no GPU (build, the CPU sides of every
#                  parity comparison, each command's flags, the tools' presence, a
#                  CPU bench into bench.txt), and check that the plan's estimated
#                  step times fit the deadline; GPU commands are listed, not run
#
# Steps, in priority order (each with an estimate; the deadline drops the tail):
#   build · devices · self-test (Philox, orders, CPU-vs-GPU tables at every tile)
#   · CLI parity (dtypes x shuffles x tiles, knobs, per-epoch, --data)
#   · hand-over parity (--max-blocks 1 and 3 at every tile; a 72,800-training
#     sweep at --tile 1, more trainings than resident threads)
#   · speed (kernel-only vs end-to-end bench at 10K, 100K, 1M, float32 and
#     float64; achieved occupancy (ncu); the default sweep end to end and its table)
#   · sanitizers (memcheck + leaks and synccheck on multi-round sweeps at tiles
#     1 and 8, racecheck, initcheck; "Device not supported" is SKIP)
#   · peers (scripts/bench/compare.py --device cuda vs PyTorch and JAX, 10K and 1M)
# Exit status: 0 when no check failed, 1 when one did, 2 for bad arguments.
# shellcheck disable=SC2054  # commas inside flag values, not array separators
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)

OUT="" B=build-gpu DEADLINE=420 DRY=0 TUNE=${GPU_CHECK_TUNE:-0} ARCH=""
usage() { sed -n '2,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --out) OUT=${2:-}; shift 2 ;;
    --build) B=${2:-}; shift 2 ;;
    --deadline) DEADLINE=${2:-}; shift 2 ;;
    --arch) ARCH=${2:-}; shift 2 ;;
    --tune) TUNE=1; shift ;;
    --dry-run) DRY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu-check: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done
if [ -z "$OUT" ] || [ -z "$B" ] || ! [[ $DEADLINE =~ ^[0-9]+$ ]]; then
  echo "gpu-check: usage: scripts/gpu-check.sh --out DIR [--build DIR] [--deadline S] [--dry-run] (--help)" >&2
  exit 2
fi
mkdir -p "$OUT" "$B" || exit 2
OUT=$(cd "$OUT" && pwd)
B=$(cd "$B" && pwd)
SUMMARY=$OUT/summary.txt BENCH=$OUT/bench.txt RES=$OUT/resources.txt TARBALL=$OUT/logs.tar.gz
rm -f "$SUMMARY" "$BENCH" "$RES" "$TARBALL"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX") || exit 2
L=$WORK/logs S=$WORK/scratch # logs go into the tarball; tables and data stay out
mkdir -p "$L" "$S"
T_START=$(date +%s)
FAILED=0 N_PASS=0 N_FAIL=0 N_SKIP=0 PLANNED=0

elapsed() { echo $(($(date +%s) - T_START)); }
left() { echo $((DEADLINE - $(elapsed))); }
# say LINE: to the terminal and the summary, as it happens
say() { echo "$1"; echo "$1" >>"$SUMMARY"; }
pass() { N_PASS=$((N_PASS + 1)); say "PASS $1"; }
fail() { N_FAIL=$((N_FAIL + 1)); FAILED=1; say "FAIL $1"; }
skip() { N_SKIP=$((N_SKIP + 1)); say "SKIP $1"; }
info() { say "INFO $1"; }
pack() { tar -czf "$TARBALL.tmp" -C "$WORK" logs 2>/dev/null && mv -f "$TARBALL.tmp" "$TARBALL"; }
finish() {
  say "gpu-check: $N_PASS passed, $N_FAIL failed, $N_SKIP skipped in $(elapsed)s of ${DEADLINE}s$([ $DRY = 1 ] && echo ' (dry run)')"
  say "gpu-check: $([ $FAILED = 0 ] && echo OK || echo FAILED)"
  pack
  rm -rf "$WORK"
}
trap 'say "FAIL interrupted after $(elapsed)s"; FAILED=1; exit 1' INT TERM
trap finish EXIT

# step NAME EST: starts a step when its estimate fits before the deadline
# (else SKIP); counts the estimate into the dry run's plan.
STEP=""
step() {
  STEP=$1
  PLANNED=$((PLANNED + $2))
  pack
  if [ $DRY = 0 ] && [ $(($(elapsed) + $2)) -gt "$DEADLINE" ]; then
    skip "$1 (deadline: $(elapsed)s used of ${DEADLINE}s, the step needs ~$2s)"
    return 1
  fi
  echo "---- $1 ($(elapsed)s)"
  return 0
}

# run NAME LIMIT CMD...: CMD under timeout (LIMIT, or what is left before the
# deadline), output in $L/NAME.log; RUN_SECS is its time. 124: timed out.
run() {
  local name=$1 limit=$2
  shift 2
  local l
  l=$(($(left) - 3))
  [ "$l" -lt "$limit" ] && limit=$l
  if [ "$limit" -lt 1 ]; then
    echo "(not started: the deadline)" >"$L/$name.log"
    RUN_SECS=0
    return 124
  fi
  local t0 rc
  t0=$(date +%s)
  timeout --kill-after=5 "$limit" "$@" >"$L/$name.log" 2>&1
  rc=$?
  RUN_SECS=$(($(date +%s) - t0))
  [ $rc -eq 124 ] && echo "   ($name: timed out after ${limit}s)" >>"$L/$name.log"
  return $rc
}
show_tail() { tail -n "${2:-12}" "$L/$1.log" | sed 's/^/   | /'; }

say "gpu-check $(date -u +%FT%TZ) $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo '+dirty') on $(hostname), build $B, deadline ${DEADLINE}s$([ $DRY = 1 ] && echo ', DRY RUN (no GPU commands)')"
GPU_NAME=$(timeout 20 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -n 1)
info "GPU: ${GPU_NAME:-none visible (nvidia-smi)}"

# ---- build ---------------------------------------------------------------------
OSW=$B/orbitsweep
if step build 120; then
  gen=()
  command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
  tests=OFF
  [ -f /usr/include/gtest/gtest.h ] || [ -f /usr/local/include/gtest/gtest.h ] && tests=ON
  archs=()
  if [ -n "$ARCH" ]; then archs=(-DCMAKE_CUDA_ARCHITECTURES="$ARCH")
  elif [ -n "$GPU_NAME" ] && [ $DRY = 0 ]; then archs=(-DCMAKE_CUDA_ARCHITECTURES=native); fi
  cfg=(cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release "${archs[@]}")
  [ -f "$B/CMakeCache.txt" ] || cfg+=("${gen[@]}" -DOS_BUILD_TESTS=$tests)
  if run configure 90 "${cfg[@]}" && grep -q "CUDA backend ON" "$L/configure.log" &&
     run build 300 cmake --build "$B" -j "$(nproc)" --target orbitsweep os_gpu_selftest; then
    pass "build ($(elapsed)s so far; $(grep -o 'CUDA backend ON.*' "$L/configure.log" | head -n 1))"
  else
    fail "configure/build (logs/configure.log, logs/build.log)"
    show_tail configure 8
    [ -f "$L/build.log" ] && show_tail build 20
    exit 1
  fi
fi
[ -x "$OSW" ] || { fail "no $OSW"; exit 1; }

# ---- devices -------------------------------------------------------------------
HAVE_GPU=0
if step devices 5; then
  run devices 30 "$OSW" devices
  sed 's/^/   /' "$L/devices.log"
  if grep -q "^gpu [0-9]" "$L/devices.log"; then
    HAVE_GPU=1
    pass "devices: $(grep -c '^gpu [0-9]' "$L/devices.log") usable GPU(s)"
  elif [ $DRY = 1 ]; then
    info "devices: no usable GPU (dry run: expected)"
  else
    fail "devices: orbitsweep lists no usable GPU: every GPU step below is skipped"
  fi
fi
# gpu_ok: whether GPU commands run (not in a dry run, not without a GPU)
gpu_ok() { [ $DRY = 0 ] && [ $HAVE_GPU = 1 ]; }

# ---- self-test -----------------------------------------------------------------
if step selftest 30; then
  if gpu_ok; then
    if run selftest 240 "$B/os_gpu_selftest"; then
      pass "os_gpu_selftest ($(tail -n 1 "$L/selftest.log"), ${RUN_SECS}s)"
    else
      fail "os_gpu_selftest (rc $?, logs/selftest.log)"
      grep -E "^(FAIL|SKIP)|^  " "$L/selftest.log" | head -n 30 | sed 's/^/   | /'
    fi
  else
    run selftest 60 "$B/os_gpu_selftest" --quick
    rc=$?
    if [ $rc -eq 77 ]; then skip "os_gpu_selftest: no GPU (it exits 77 as it should: $(head -n 1 "$L/selftest.log"))"
    else fail "os_gpu_selftest without a GPU: rc $rc, not 77"; fi
  fi
fi

# ---- parity: the CPU's table against the GPU's -----------------------------------
P_OK=0 P_BAD=0 P_LISTED=0
# parity_case LABEL RUN_ARGS... -- VARIANT...: the CPU table of RUN_ARGS
# against `--backend cuda RUN_ARGS VARIANT` for each VARIANT (flags).
parity_case() {
  local label=$1
  shift
  local args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
  shift
  if ! run "parity-$label-cpu" 300 "$OSW" run --backend cpu "${args[@]}" -o "$S/$label-cpu.csv"; then
    P_BAD=$((P_BAD + 1))
    echo "   $label: the CPU run failed"
    show_tail "parity-$label-cpu" 4
    return
  fi
  local v tag
  for v in "$@"; do
    tag="$label-$(echo "$v" | tr -c 'A-Za-z0-9' '_')"
    if ! gpu_ok; then
      P_LISTED=$((P_LISTED + 1))
      echo "run --backend cuda ${args[*]} $v" >>"$L/parity-planned.txt"
      continue
    fi
    # shellcheck disable=SC2086
    if run "parity-$tag" 120 "$OSW" run --backend cuda "${args[@]}" $v -o "$S/$tag.csv" &&
       cmp -s "$S/$label-cpu.csv" "$S/$tag.csv"; then
      P_OK=$((P_OK + 1))
    else
      P_BAD=$((P_BAD + 1))
      echo "   MISMATCH $label [$v]"
      show_tail "parity-$tag" 3
      [ -f "$S/$tag.csv" ] && diff "$S/$label-cpu.csv" "$S/$tag.csv" | head -n 4 | sed 's/^/   | /'
    fi
    rm -f "$S/$tag.csv"
  done
  rm -f "$S/$label-cpu.csv"
}
# parity_report WHAT: one line for the cases run since parity_reset
parity_reset() { P_OK=0 P_BAD=0 P_LISTED=0; }
parity_report() {
  if [ $P_BAD -gt 0 ]; then fail "$1: $P_BAD mismatches or failures, $P_OK identical (logs/parity-*)"
  elif gpu_ok && [ $P_OK -gt 0 ]; then pass "$1: $P_OK GPU tables byte-identical to the CPU's"
  elif [ $DRY = 1 ]; then pass "$1 (dry run): the CPU tables made, $P_LISTED GPU runs planned (logs/parity-planned.txt)"
  else skip "$1: no GPU"; fi
}

GRID=(--optimizer sgd,momentum,nesterov,rmsprop,adam,adamw,nadam,radam,adamax,adagrad,adadelta,lion --lr 0.001,0.05,0.5,30
      --scheduler none --scheduler multistep:milestones=2/4/4/6,gamma=0.5
      --scheduler multiplicative:factor=0.8,start=6,end=24,every=2
      --scheduler step:step_size=3,gamma=0.7 --scheduler exponential:gamma=0.97
      --scheduler cosine:t_max=7,eta_min=0.001
      --batch-size 32,48 --epochs 3,4 --init-wa 0.001,0.003,0.1 --seeds 2 --seed 5 --quiet)
if step "CLI parity" 50; then
  parity_reset
  for dt in float32 float64; do
    for sh in shared trial none; do
      parity_case "$dt-$sh" "${GRID[@]}" --dtype "$dt" --shuffle "$sh" -- \
        "--tile 0" "--tile 1" "--tile 2" "--tile 4" "--tile 8"
    done
  done
  parity_case f32-knobs "${GRID[@]}" --shuffle shared -- \
    "--cuda-chunk 37 --tile 0" "--cuda-chunk 500 --tile 1" "--cuda-table-bytes 0 --tile 0" \
    "--cuda-table-bytes 0 --tile 8" "--block 1000 --tile 2"
  EPOCH=(--optimizer sgd,momentum,rmsprop,adam --lr 0.01,0.3,30 --scheduler step:step_size=2,gamma=0.5
         --scheduler cosine:t_max=3 --sched-step epoch --weight-decay 0,0.01 --dampening 0,0.1
         --batch-size 7,48,400 --epochs 3 --n 301 --seeds 2 --shuffle trial --quiet)
  parity_case epoch-n301 "${EPOCH[@]}" -- "--tile 0" "--tile 1" "--tile 8"
  parity_case epoch-n301-f64 "${EPOCH[@]}" --dtype float64 -- "--tile 0" "--tile 2"
  "$OSW" data --n 300 --seed 9 -o "$S/data.csv" --quiet >/dev/null 2>&1
  DATA=(--data "$S/data.csv" --optimizer momentum,adam --lr 0.01,0.1 --scheduler none
        --scheduler multistep:milestones=3/6,gamma=0.5 --batch-size 32 --epochs 4 --seeds 3 --quiet)
  for sh in shared trial none; do
    parity_case "datafile-$sh" "${DATA[@]}" --shuffle "$sh" -- "--tile 0" "--tile 4"
  done
  parity_report "CLI parity"
fi

# ---- the hand-over: lanes taking a second training while tile-mates train on ----
if step "hand-over parity" 40; then
  parity_reset
  for sh in shared trial; do
    parity_case "handover-$sh" "${GRID[@]}" --shuffle "$sh" -- \
      "--max-blocks 1 --tile 1" "--max-blocks 3 --tile 1" "--max-blocks 1 --tile 2" "--max-blocks 3 --tile 4" \
      "--max-blocks 1 --tile 8" "--max-blocks 3 --tile 8"
  done
  parity_case handover-f64 "${GRID[@]}" --dtype float64 --shuffle none -- "--max-blocks 2 --tile 1" "--max-blocks 2 --tile 8"
  # 72,800 trainings at tile 1: more than the 67,584 threads an H200 holds
  # at once, so the uncapped grid runs in rounds too
  BIG=(--optimizer sgd,momentum,nesterov,rmsprop,adam --lr 'logspace(-4,-0.5,139),30' --scheduler none
       --scheduler step:step_size=2,gamma=0.7 --init-wa 0.1,0.003 --epochs 2,3 --seeds 13 --n 128
       --batch-size 32 --quiet)
  parity_case handover-72800 "${BIG[@]}" -- "--tile 1" "--tile 1 --max-blocks 100"
  parity_report "hand-over parity"
fi

# ---- speed -----------------------------------------------------------------------
# bench_rows LOG: its table rows, "N: E2E evals/s e2e, K evals/s kernel; "
bench_rows() { awk '$1 ~ /^[0-9]+$/ {printf "%s: %s e2e, %s kernel; ", $1, $6, $9}' "$1"; }
if step speed 60; then
  {
    echo "gpu-check bench, $(date -u +%FT%TZ), $(git rev-parse --short HEAD 2>/dev/null), ${GPU_NAME:-no GPU}"
    echo "columns: run_s and sample_evals/s end to end (plan of the launch order, uploads, kernels, copies"
    echo "back, result rows); kernel_s and kernel_evals/s the training and final-loss kernels alone (cudaEvents)"
  } >"$BENCH"
  if gpu_ok; then
    for dt in float32 float64; do
      if run "bench-$dt" 120 "$OSW" bench --backend cuda --dtype "$dt" --sizes 10000,100000,1000000; then
        { echo; cat "$L/bench-$dt.log"; } >>"$BENCH"
        info "bench $dt: $(bench_rows "$L/bench-$dt.log")"
      else
        fail "bench $dt (logs/bench-$dt.log)"
        show_tail "bench-$dt" 6
      fi
    done
    if run bench-trial 60 "$OSW" bench --backend cuda --shuffle trial --sizes 10000,1000000; then
      { echo; cat "$L/bench-trial.log"; } >>"$BENCH"
      info "bench float32 --shuffle trial: $(bench_rows "$L/bench-trial.log")"
    fi
  else
    run bench-cpu 60 "$OSW" bench --backend cpu --sizes 1000 --epochs 2
    { echo; echo "(dry run: a CPU bench, for the table's format)"; cat "$L/bench-cpu.log"; } >>"$BENCH"
    if [ -n "$(bench_rows "$L/bench-cpu.log")" ]; then pass "bench (dry run, CPU): $(bench_rows "$L/bench-cpu.log")"
    else fail "bench (dry run, CPU): no table rows (logs/bench-cpu.log)"; fi
  fi
  # registers, spills and stack per kernel: ptxas's own report (no GPU needed)
  if run resources 240 bash scripts/kernel-resources.sh --quick; then
    cp "$L/resources.log" "$RES"
    { echo; echo "registers (scripts/kernel-resources.sh; full table in resources.txt):"
      grep -E '^cu_train_kernel' "$RES" | head -n 16; } >>"$BENCH"
    info "registers: $(awk '/^cu_train_kernel<float, *1/ {print $0; exit}' "$RES")"
  else
    skip "kernel resources (logs/resources.log: $(tail -n 1 "$L/resources.log"))"
  fi
  NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null || true)
  if gpu_ok && [ -n "$NCU" ]; then
    if run occupancy 90 "$NCU" --kernel-name regex:cu_train_kernel --launch-skip 1 --launch-count 1 \
         --metrics sm__warps_active.avg.pct_of_peak_sustained_active,launch__occupancy_limit_registers,launch__registers_per_thread,sm__maximum_warps_per_active_cycle_pct \
         "$OSW" bench --backend cuda --sizes 1000000; then
      info "achieved occupancy (1M float32): $(grep -E 'warps_active|registers_per_thread|maximum_warps' "$L/occupancy.log" | awk '{print $1 "=" $NF}' | tr '\n' ' ')"
      { echo; echo "ncu, 1M trainings float32:"; grep -E 'sm__|launch__' "$L/occupancy.log"; } >>"$BENCH"
    else
      skip "achieved occupancy (ncu failed or timed out: logs/occupancy.log)"
    fi
  elif gpu_ok; then
    skip "achieved occupancy (no ncu)"
  fi
  # the default sweep end to end, and its table
  DEFAULT=(--optimizer sgd,momentum,rmsprop,adam --lr 'logspace(-4,-0.5,64)' --scheduler none
           --scheduler multistep:milestones=4/8/10/12/14/16/18/20/22/24,gamma=0.8
           --scheduler multiplicative:factor=0.8,start=6,end=24,every=2 --seeds 8 --epochs 100 --batch-size 64)
  if run default-cpu 120 "$OSW" run --backend cpu "${DEFAULT[@]}" -o "$S/default-cpu.csv"; then
    cpu_s=$RUN_SECS
    if gpu_ok; then
      t0=$(date +%s.%N)
      if run default-gpu 60 "$OSW" run --backend cuda "${DEFAULT[@]}" -o "$S/default-gpu.csv"; then
        wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.3f", b - a}')
        info "default 6,144-training sweep on the GPU: ${wall}s end to end, the process included (target < 1 s); $(grep '^time' "$L/default-gpu.log" | head -n 1)"
        echo "default sweep (6,144 trainings), GPU end to end: ${wall}s; CPU: ${cpu_s}s" >>"$BENCH"
        if cmp -s "$S/default-cpu.csv" "$S/default-gpu.csv"; then pass "default sweep: GPU table byte-identical to the CPU's"
        else fail "default sweep: GPU table differs from the CPU's"; fi
      else
        fail "default sweep on the GPU (logs/default-gpu.log)"
      fi
    else
      pass "default sweep (dry run): the CPU table (${cpu_s}s); the GPU run planned"
    fi
  else
    fail "default sweep on the CPU (logs/default-cpu.log)"
  fi
fi

# ---- compute-sanitizer on multi-round sweeps ----------------------------------------
CS=$(command -v compute-sanitizer || true)
[ -z "$CS" ] && for c in /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  [ -x "$c" ] && CS=$c && break
done
if step sanitizers 60; then
  # 192 trainings: with --max-blocks 1 (one block of 64 threads) 3 rounds at
  # tile 1 and 24 at tile 8, so lanes hand over under the sanitizers
  SMALL=(--optimizer sgd,adam --lr 0.01,0.1,30 --scheduler none --scheduler cosine:t_max=5
         --batch-size 16,48 --epochs 2 --n 100 --seeds 4 --init-wa 0.001,0.1 --quiet)
  # tool|tool options|run flags
  CASES=("memcheck|--leak-check full|--tile 1 --max-blocks 1 --shuffle shared"
         "memcheck|--leak-check full|--tile 8 --max-blocks 1 --shuffle trial"
         "synccheck||--tile 1 --max-blocks 1 --shuffle shared"
         "synccheck||--tile 8 --max-blocks 1 --shuffle trial"
         "memcheck||--tile 2 --max-blocks 1 --dtype float64 --shuffle none"
         "racecheck||--tile 8 --max-blocks 1 --shuffle trial"
         "initcheck||--tile 1 --max-blocks 1 --shuffle trial")
  if [ -z "$CS" ]; then
    skip "compute-sanitizer: not found"
  elif ! run sanitizer-version 20 "$CS" --version; then
    skip "compute-sanitizer: does not start (logs/sanitizer-version.log)"
  fi
  for c in "${CASES[@]}"; do
    IFS='|' read -r tool topts rargs <<<"$c"
    tag="sanitizer-$tool-$(echo "$rargs" | tr -c 'A-Za-z0-9' '_')"
    # every case's flags are checked on the CPU first
    # shellcheck disable=SC2086
    if ! run "$tag-cpu" 60 "$OSW" run --backend cpu "${SMALL[@]}" $rargs -o "$S/$tag-cpu.csv"; then
      fail "sanitizer case $tool ($rargs): the CPU run fails (logs/$tag-cpu.log)"
      continue
    fi
    if ! gpu_ok || [ -z "$CS" ]; then
      echo "$CS --tool $tool $topts --error-exitcode 1 orbitsweep run --backend cuda ${SMALL[*]} $rargs" >>"$L/sanitizers-planned.txt"
      continue
    fi
    # shellcheck disable=SC2086
    run "$tag" 90 "$CS" --tool "$tool" $topts --error-exitcode 1 "$OSW" run --backend cuda "${SMALL[@]}" $rargs \
      -o "$S/$tag.csv"
    rc=$?
    if grep -qiE "device not supported|not supported on this device|unsupported device" "$L/$tag.log"; then
      skip "compute-sanitizer $tool ($rargs): device not supported by this compute-sanitizer"
    elif [ $rc -eq 124 ]; then
      skip "compute-sanitizer $tool ($rargs): timed out (${RUN_SECS}s, the deadline)"
    elif [ $rc -eq 0 ] && cmp -s "$S/$tag-cpu.csv" "$S/$tag.csv"; then
      pass "compute-sanitizer $tool ($rargs; ${RUN_SECS}s; table = CPU's)"
    else
      fail "compute-sanitizer $tool ($rargs): rc $rc (logs/$tag.log)"
      grep -E "=========" "$L/$tag.log" | head -n 10 | sed 's/^/   | /'
    fi
  done
  if [ $DRY = 1 ]; then
    pass "sanitizers (dry run): every case's flags run on the CPU; compute-sanitizer ${CS:-not found here}; $(wc -l <"$L/sanitizers-planned.txt") GPU runs planned"
  fi
fi

# ---- peers: PyTorch and JAX on the same GPU ------------------------------------------
if step peers 50; then
  PY=""
  for p in /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1 && timeout 60 "$p" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
      PY=$p
      break
    fi
  done
  if ! python3 scripts/bench/compare.py --help 2>/dev/null | grep -q -- "--device"; then
    fail "peers: scripts/bench/compare.py --help has no --device"
  elif [ $DRY = 1 ] || [ -z "$PY" ]; then
    have=$(python3 -c 'import importlib.util as u; print(",".join(m for m in ("torch", "jax", "optax") if u.find_spec(m)) or "none")' 2>/dev/null)
    skip "peers: $([ $DRY = 1 ] && echo 'dry run' || echo 'no python3 with CUDA torch'); python modules here: $have"
  else
    for n in 10000 1000000; do
      if run "compare-$n" 60 "$PY" scripts/bench/compare.py --device cuda --trainings "$n" --loop-trainings 2 \
           --orbitsweep "$OSW"; then
        { echo; echo "compare.py --device cuda --trainings $n:"; cat "$L/compare-$n.log"; } >>"$BENCH"
        info "peers at $n trainings: $(grep -E '^ *(orbitsweep|torch|jax)' "$L/compare-$n.log" | awk '{print $1 ":" $(NF-1) "x"}' | tr '\n' ' ')"
      else
        skip "peers at $n trainings: compare.py failed or timed out (${RUN_SECS}s; logs/compare-$n.log)"
      fi
    done
  fi
fi

# ---- optional: the register budget -------------------------------------------------
if [ "$TUNE" = 1 ] && step tune 100 && gpu_ok; then
  for mb in 3 4; do
    if run "tune$mb-build" 150 bash -c "cmake -S . -B '$B-mb$mb' -DOS_BUILD_TESTS=OFF -DOS_CUDA_MIN_BLOCKS=$mb \
         -DCMAKE_CUDA_ARCHITECTURES=${ARCH:-native} >/dev/null && cmake --build '$B-mb$mb' -j $(nproc) --target orbitsweep" &&
       run "tune$mb" 60 "$B-mb$mb/orbitsweep" bench --backend cuda --sizes 10000,1000000; then
      info "OS_CUDA_MIN_BLOCKS=$mb bench: $(bench_rows "$L/tune$mb.log")"
    else
      skip "tune $mb failed or out of time (logs/tune$mb*.log)"
    fi
  done
fi

# ---- the plan against the deadline -------------------------------------------------------
if [ $DRY = 1 ]; then
  if [ $PLANNED -le "$DEADLINE" ]; then pass "plan: the steps' estimates total ${PLANNED}s, within the ${DEADLINE}s deadline"
  else fail "plan: the steps' estimates total ${PLANNED}s, over the ${DEADLINE}s deadline"; fi
fi
exit $FAILED
