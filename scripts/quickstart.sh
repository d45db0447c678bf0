#!/usr/bin/env bash
# quickstart.sh — build orbitsweep and run the default sweep: the case
# study's four optimizers x 64 log-spaced learning rates x its three
# schedulers x 8 seeds (6,144 trainings, 100 epochs, batch 64). Leaves
# results.csv, summary.csv (one row per configuration, seeds pooled) and
# heatmaps of the final error and success rate (drawn from summary.csv) in
# OUT_DIR (default: out/).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out}

scripts/setup.sh
gen=(); command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
cmake -S . -B build "${gen[@]}" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target orbitsweep

mkdir -p "$out"
build/orbitsweep run \
  --optimizer sgd,momentum,rmsprop,adam \
  --lr 'logspace(-4,-0.5,64)' \
  --scheduler none \
  --scheduler multistep:milestones=4/8/10/12/14/16/18/20/22/24,gamma=0.8 \
  --scheduler multiplicative:factor=0.8,start=6,end=24,every=2 \
  --seeds 8 --epochs 100 --batch-size 64 \
  -o "$out/results.csv"

build/orbitsweep summarize "$out/results.csv" -o "$out/summary.csv"
# the heatmaps from the summary: the same figures as from results.csv (one
# configuration per cell), without reading every training
/usr/bin/python3 scripts/plot.py heatmap "$out/summary.csv" -o "$out/heatmap_param_error.png"
/usr/bin/python3 scripts/plot.py heatmap "$out/summary.csv" -o "$out/heatmap_success.png" --metric success
