#!/usr/bin/env bash
# examples/catalogue.sh [OUT_PNG] — the scheduler catalogue in one sweep:
# every optimizer x logspace(-4,0,32) x {none, linear warm-up then cosine,
# onecycle, cyclic, plateau} x 8 seeds, 100 epochs of batch 64 (800 updates),
# and its heatmap of the median final param_error (default
# docs/heatmap_catalogue.png). Prints the run's summary line with its time.
#
# Every optimizer of the build (the list of `orbitsweep --help`). lr is the
# peak lr of onecycle and cyclic (max_lr) and the initial lr of the others.
# It builds nothing: build/orbitsweep must exist. ORBITSWEEP=..., PYTHON=...
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/docs/heatmap_catalogue.png}
BIN=${ORBITSWEEP:-$ROOT/build/orbitsweep}
PY=${PYTHON:-/usr/bin/python3}
[ -x "$BIN" ] || { echo "examples/catalogue.sh: $BIN not found; build it first" >&2; exit 2; }
OPTS=$("$BIN" --help | awk '/^optimizers/{on=1; next} on && /^$/{exit} on{print $1}' | paste -sd, -)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$BIN" run --optimizer "$OPTS" --lr 'logspace(-4,0,32)' --seeds 8 --epochs 100 \
    --scheduler none \
    --scheduler 'sequential(linear:start_factor=0.1,total_iters=80;cosine:t_max=720;milestones=80)' \
    --scheduler onecycle:total_steps=800 \
    --scheduler cyclic:base_lr=0.0001,step_size_up=200 \
    --scheduler plateau:patience=5 \
    -o "$W/results.csv"
"$PY" "$ROOT/scripts/plot.py" heatmap "$W/results.csv" --metric param_error -o "$OUT"
