#!/usr/bin/env bash
# examples/run.sh [OUT_DIR] — the case study's experiments, and the same
# questions over hundreds of seeds, with every figure regenerated.
#
# Runs orbitsweep (trace / run / summarize) into a work directory and draws
# the figures with scripts/plot.py into OUT_DIR (default examples/figures).
# It builds nothing: build/orbitsweep must exist (cmake --build build).
#
# Environment:
#   GIF=1           also write animated GIFs of the paths (Figs 3, 9, 12, 14,
#                   16) into OUT_DIR/gif/ (slow, large; not committed)
#   SEED=N          the seed of the single-run figures (default: the first
#                   seed whose single runs show every outcome the case study
#                   reports; SEED=0 is the plain default of orbitsweep)
#   SEEDS=500       seeds per configuration for the convergence probabilities
#   GRID_SEEDS=64   seeds per cell of the learning-rate grids
#   WORK=DIR        work directory for traces and tables [OUT_DIR/work]
#   DPI=100         PNG resolution
#   ORBITSWEEP=...  the engine [build/orbitsweep];  PYTHON=... [/usr/bin/python3]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -gt 1 ]; then echo "usage: examples/run.sh [OUT_DIR]" >&2; exit 2; fi
OUT=${1:-$ROOT/examples/figures}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$ROOT"

BIN=${ORBITSWEEP:-build/orbitsweep}
PY=${PYTHON:-/usr/bin/python3}
WORK=${WORK:-$OUT/work}
GIF=${GIF:-0}
DPI=${DPI:-100}
SEEDS=${SEEDS:-500}
GRID_SEEDS=${GRID_SEEDS:-64}

if [ ! -x "$BIN" ]; then
    echo "examples/run.sh: $BIN not found; build it first:" >&2
    echo "  cmake -S . -B build && cmake --build build" >&2
    exit 2
fi
mkdir -p "$WORK"
[ "$GIF" = 1 ] && mkdir -p "$OUT/gif"

T0=$SECONDS
section() { printf '\n=== %s\n' "$*"; }
say()     { printf -- '--- %s\n' "$*"; }
run()     { printf '+ %s\n' "$*"; "$@"; }
plot()    { run "$PY" scripts/plot.py "$@" --dpi "$DPI"; }
# paths, with an animated twin under OUT/gif/ when GIF=1
paths() {
    local png=$1; shift
    plot paths "$@" -o "$OUT/$png"
    if [ "$GIF" = 1 ]; then
        run "$PY" scripts/plot.py paths "$@" -o "$OUT/gif/$png" --gif --dpi 60
        rm -f "$OUT/gif/$png"  # keep only the GIF beside it
    fi
}

OS() { run "$BIN" "$@"; }
SUM() { run "$BIN" summarize "$1" -o "$2" --quiet; }

MOM_LRS=0.012,0.01,0.005,0.001,0.00015
MS08=multistep:milestones=4/8/10/12/14/16/18/20/22/24,gamma=0.8
MS05=multistep:milestones=5/10/15/20,gamma=0.5
MU08=multiplicative:factor=0.8,start=6,end=24,every=2
MU05=multiplicative:factor=0.5,start=5,end=20,every=5

echo "orbitsweep examples: engine $BIN ($("$BIN" --version)), figures -> $OUT, work -> $WORK"

# ---------------------------------------------------------------------------
section "Sweeps over $SEEDS seeds (the case study's configurations; seeds change data noise and batch order)"
say "momentum at the case study's five learning rates, 100 and 400 epochs, float32 and float64"
for ep in 100 400; do
    OS run --optimizer momentum --lr $MOM_LRS --epochs $ep --seeds "$SEEDS" --quiet \
        -o "$WORK/momentum_$ep.csv"
    SUM "$WORK/momentum_$ep.csv" "$WORK/momentum_${ep}_summary.csv"
    OS run --optimizer momentum --lr $MOM_LRS --epochs $ep --seeds "$SEEDS" --quiet \
        --dtype float64 -o "$WORK/momentum_${ep}_f64.csv"
    SUM "$WORK/momentum_${ep}_f64.csv" "$WORK/momentum_${ep}_f64_summary.csv"
done
say "sgd, momentum, rmsprop, adam at lr 0.01 (§2.1)"
OS run --optimizer sgd,momentum,rmsprop,adam --lr 0.01 --seeds "$SEEDS" --quiet \
    -o "$WORK/four_optimizers.csv"
SUM "$WORK/four_optimizers.csv" "$WORK/four_optimizers_summary.csv"
say "Adam: lr 0.01 fixed, and lr 0.12 fixed / MultiStepLR / MultiplicativeLR (§3.2, §3.3)"
# one table, two blocks: lr 0.01 without a scheduler, then lr 0.12 with each
OS run --optimizer adam --seeds "$SEEDS" --quiet --lr 0.01 --scheduler none \
    --and --lr 0.12 --scheduler none --scheduler $MS08 --scheduler $MS05 \
    --scheduler $MU08 --scheduler $MU05 -o "$WORK/adam_schedulers.csv"
SUM "$WORK/adam_schedulers.csv" "$WORK/adam_schedulers_summary.csv"

if [ -z "${SEED:-}" ]; then
    say "choosing the seed of the single-run figures"
    echo "+ $PY examples/analyze.py seed $WORK/momentum_100.csv $WORK/momentum_400.csv $WORK/four_optimizers.csv"
    SEED=$("$PY" examples/analyze.py seed "$WORK/momentum_100.csv" \
        "$WORK/momentum_400.csv" "$WORK/four_optimizers.csv")
fi
echo "single-run figures use seed $SEED"
trace() { OS trace --seed "$SEED" "$@"; }
DATA=$WORK/data_seed$SEED.csv
OS data --seed "$SEED" -o "$DATA"
DS=(--seed "$SEED" --data "$DATA")  # for plots that draw the data or the loss

# ---------------------------------------------------------------------------
section "§2.1 Four optimizers at lr 0.01, 100 epochs (Figs 1-3)"
D=$WORK/s21; mkdir -p "$D"
for o in sgd momentum rmsprop adam; do
    trace --optimizer $o --lr 0.01 -o "$D/$o.csv"
done
T21=("$D"/sgd.csv "$D"/momentum.csv "$D"/rmsprop.csv "$D"/adam.csv)
say "Fig 1: effective step size per update"
plot step-size "${T21[@]}" --seed "$SEED" -o "$OUT/fig01_step_size.png"
say "Fig 2: the first four steps on the loss contour"
plot paths "${T21[@]}" "${DS[@]}" --first 4 --wa-range 0,0.6 --wb-range 1.45,1.85 \
    --size 9,6 -o "$OUT/fig02_first_steps.png"
say "Fig 3: paths to the minimum"
paths fig03_paths.png "${T21[@]}" "${DS[@]}"

# ---------------------------------------------------------------------------
section "§2.2 SGD with momentum at five learning rates, 100 and 400 epochs (Figs 4-13)"
for ep in 100 400; do
    mkdir -p "$WORK/s22_$ep"
    for lr in ${MOM_LRS//,/ }; do
        trace --optimizer momentum --lr "$lr" --epochs $ep -o "$WORK/s22_$ep/momentum_lr$lr.csv"
    done
done
T100=(); for lr in ${MOM_LRS//,/ }; do T100+=("$WORK/s22_100/momentum_lr$lr.csv"); done
T400=("$WORK/s22_400/momentum_lr0.012.csv" "$WORK/s22_400/momentum_lr0.00015.csv")
say "Figs 4-8: fitted orbits after 100 epochs, all five learning rates"
plot fit "${T100[@]}" "${DS[@]}" -o "$OUT/fig04-08_fit_100epochs.png"
say "Fig 9: paths, 100 epochs"
paths fig09_paths_100epochs.png "${T100[@]}" "${DS[@]}"
say "Figs 10-11: fitted orbits after 400 epochs, lr 0.012 and 0.00015"
plot fit "${T400[@]}" "${DS[@]}" -o "$OUT/fig10-11_fit_400epochs.png"
say "Fig 12: paths, 400 epochs"
paths fig12_paths_400epochs.png "${T400[@]}" "${DS[@]}"
say "Fig 13: gradients of the 400-epoch lr 0.012 run, updates 35-1635"
plot gradients "$WORK/s22_400/momentum_lr0.012.csv" --from 35 --to 1635 --seed "$SEED" \
    -o "$OUT/fig13_gradients.png"

# ---------------------------------------------------------------------------
section "§3.2 / §3.3 Adam at lr 0.12 with MultiStepLR and MultiplicativeLR (Figs 14-16)"
D=$WORK/s3; mkdir -p "$D"
trace --optimizer adam --lr 0.01 -o "$D/adam_lr0.01.csv"
trace --optimizer adam --lr 0.12 -o "$D/adam_lr0.12.csv"
trace --optimizer adam --lr 0.12 --scheduler $MS08 -o "$D/adam_lr0.12_multistep_g0.8.csv"
trace --optimizer adam --lr 0.12 --scheduler $MS05 -o "$D/adam_lr0.12_multistep_g0.5.csv"
trace --optimizer adam --lr 0.12 --scheduler $MU08 -o "$D/adam_lr0.12_multiplicative_f0.8.csv"
trace --optimizer adam --lr 0.12 --scheduler $MU05 -o "$D/adam_lr0.12_multiplicative_f0.5.csv"
say "Fig 14: paths with and without MultiStepLR"
paths fig14_paths_multistep.png "$D"/adam_lr0.01.csv "$D"/adam_lr0.12.csv \
    "$D"/adam_lr0.12_multistep_g0.8.csv "$D"/adam_lr0.12_multistep_g0.5.csv "${DS[@]}"
say "Fig 15: learning rate per update, first 30 updates, all four schedules"
plot lr "$D"/adam_lr0.12_multistep_g0.8.csv "$D"/adam_lr0.12_multistep_g0.5.csv \
    "$D"/adam_lr0.12_multiplicative_f0.8.csv "$D"/adam_lr0.12_multiplicative_f0.5.csv \
    --to 30 --seed "$SEED" -o "$OUT/fig15_lr_schedules.png"
say "Fig 16: paths with and without MultiplicativeLR"
paths fig16_paths_multiplicative.png "$D"/adam_lr0.01.csv "$D"/adam_lr0.12.csv \
    "$D"/adam_lr0.12_multiplicative_f0.8.csv "$D"/adam_lr0.12_multiplicative_f0.5.csv "${DS[@]}"

# ---------------------------------------------------------------------------
section "Beyond one run: convergence probabilities over $SEEDS seeds"
run "$PY" examples/analyze.py tables "$WORK" "$OUT" > /dev/null
echo "wrote $OUT/convergence.md and $OUT/convergence.csv"
cat "$OUT/convergence.md"

section "Beyond one run: whole learning-rate grids x $GRID_SEEDS seeds"
say "four optimizers x logspace(-4,-0.5,57), constant lr"
OS run --optimizer sgd,momentum,rmsprop,adam --lr 'logspace(-4,-0.5,57)' \
    --seeds "$GRID_SEEDS" --quiet -o "$WORK/grid_optimizers.csv"
plot heatmap "$WORK/grid_optimizers.csv" --metric success -o "$OUT/grid_success_heatmap.png"
plot lr-sensitivity "$WORK/grid_optimizers.csv" -o "$OUT/grid_lr_sensitivity.png"
plot profile "$WORK/grid_optimizers.csv" -o "$OUT/grid_profile.png"
say "momentum x geomspace(1e-4,0.03,41) x 100 and 400 epochs"
OS run --optimizer momentum --lr 'geomspace(1e-4,0.03,41)' --epochs 100,400 \
    --seeds "$GRID_SEEDS" --quiet -o "$WORK/grid_momentum_epochs.csv"
plot heatmap "$WORK/grid_momentum_epochs.csv" --metric success --y epochs \
    -o "$OUT/grid_momentum_epochs_heatmap.png"
say "Adam x logspace(-3,0,49) x the case study's schedulers"
OS run --optimizer adam --lr 'logspace(-3,0,49)' --scheduler none --scheduler $MS08 \
    --scheduler $MS05 --scheduler $MU08 --scheduler $MU05 --seeds "$GRID_SEEDS" --quiet \
    -o "$WORK/grid_adam_schedulers.csv"
plot heatmap "$WORK/grid_adam_schedulers.csv" --metric success \
    -o "$OUT/grid_adam_schedulers_heatmap.png"

section "Done in $((SECONDS - T0)) s"
ls -l "$OUT"/*.png
[ "$GIF" = 1 ] && ls -l "$OUT"/gif/
exit 0
