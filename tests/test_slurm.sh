#!/usr/bin/env bash
# test_slurm.sh ORBITSWEEP — the Slurm examples (scripts/slurm) run as Slurm
# would run them, without Slurm: three array tasks (SLURM_ARRAY_TASK_ID
# 1..3 of 3) and the merge job, over a small sweep; the merged table must be
# the single run's, byte for byte.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/os_slurm.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/sweep.env" <<ENV
OS_BIN=$bin
OS_OUT=$tmp/out
OS_SWEEP=(--optimizer sgd,adam --lr 'logspace(-3,-1,9)' --seeds 3 --epochs '1,20' --quiet)
ENV
export OS_ENV=$tmp/sweep.env
for k in 1 2 3; do
  SLURM_ARRAY_TASK_ID=$k SLURM_ARRAY_TASK_COUNT=3 SLURM_CPUS_PER_TASK=1 bash "$here/scripts/slurm/shards.sbatch"
done
bash "$here/scripts/slurm/merge.sbatch" >/dev/null
"$bin" run --optimizer sgd,adam --lr 'logspace(-3,-1,9)' --seeds 3 --epochs 1,20 --quiet -o "$tmp/single.csv"
cmp "$tmp/out/results.csv" "$tmp/single.csv"
test -s "$tmp/out/summary.csv"
echo "test_slurm: 3 array tasks + merge = the single run's table"
