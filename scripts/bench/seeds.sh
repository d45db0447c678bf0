#!/usr/bin/env bash
# seeds.sh — a seed-heavy sweep against an lr grid of the same size, in one run:
#
#   seeds:   orbitsweep run --seeds K --lr 0.01                 (K trainings, K datasets)
#   lr grid: orbitsweep run --lr 'logspace(-4,0,K)'             (K trainings, 1 dataset)
#
# both Adam, constant lr, the same --epochs and dtype. Each command runs
# REPEAT times (alternating, to share the machine's noise); prints every wall
# time and peak RSS, the medians and the ratio seeds / lr grid (issue 12's
# target: at most 1.5).
#
# usage: scripts/bench/seeds.sh [BINARY] [K] [EPOCHS] [REPEAT] [extra run flags...]
#        defaults: build/orbitsweep 40000 100 3
set -euo pipefail
bin=${1:-build/orbitsweep}
k=${2:-40000}
epochs=${3:-100}
repeat=${4:-3}
shift $(($# < 4 ? $# : 4))
[ -x "$bin" ] || { echo "seeds.sh: no binary '$bin' (build first: scripts/test.sh)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# wall seconds and peak RSS (KB) of one run, as "S KB"
one() {
    local t0 t1
    t0=$(date +%s.%N)
    if command -v /usr/bin/time >/dev/null; then
        /usr/bin/time -f '%M' -o "$tmp/rss" "$bin" run --quiet -o "$tmp/out.csv" "$@"
    else
        "$bin" run --quiet -o "$tmp/out.csv" "$@"; echo 0 >"$tmp/rss"
    fi
    t1=$(date +%s.%N)
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}') $(tail -1 "$tmp/rss")"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

seeds_cmd=(--seeds "$k" --lr 0.01 --epochs "$epochs" "$@")
grid_cmd=(--lr "logspace(-4,0,$k)" --epochs "$epochs" "$@")
echo "seeds:   $bin run ${seeds_cmd[*]}"
echo "lr grid: $bin run ${grid_cmd[*]}"
: >"$tmp/s"
: >"$tmp/g"
for ((i = 1; i <= repeat; ++i)); do
    read -r s sr < <(one "${seeds_cmd[@]}")
    read -r g gr < <(one "${grid_cmd[@]}")
    printf 'run %d: seeds %.2f s (%d MB)   lr grid %.2f s (%d MB)\n' "$i" "$s" $((sr / 1024)) "$g" $((gr / 1024))
    echo "$s" >>"$tmp/s"
    echo "$g" >>"$tmp/g"
done
ms=$(median <"$tmp/s")
mg=$(median <"$tmp/g")
printf 'median: seeds %.2f s, lr grid %.2f s, ratio seeds / lr grid %.2f (target <= 1.5)\n' "$ms" "$mg" \
    "$(awk -v a="$ms" -v b="$mg" 'BEGIN {print a / b}')"
