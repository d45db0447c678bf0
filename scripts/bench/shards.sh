#!/usr/bin/env bash
# shards.sh [--trainings T] [--epochs E] [--shards N] [--ranks R] [--dir DIR] [--bin BIN]
# A sweep of T trainings (default 10^7: 4 optimizers x 250 learning rates x
# T/1000 seeds) run as N shards one after another (default 4; each as a
# cluster's array task would run it), then merged; wall time and peak RSS
# of each step (/usr/bin/time -v), the merged table checked against nothing
# but its own shards (test_resume holds merge = single run). With --ranks R
# (an MPI build, mpirun on PATH): the MPI run of T/10 trainings on R ranks
# of one thread each against the single process on R threads, same table.
# Writes about 260 bytes per training into DIR (default a temporary one,
# removed at the end).
set -euo pipefail
T=10000000 E=5 N=4 R=0 DIR="" BIN=""
while [ $# -gt 0 ]; do
  case $1 in
    --trainings) T=$2; shift 2 ;; --epochs) E=$2; shift 2 ;; --shards) N=$2; shift 2 ;;
    --ranks) R=$2; shift 2 ;; --dir) DIR=$2; shift 2 ;; --bin) BIN=$2; shift 2 ;;
    *) echo "shards.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$here/build/orbitsweep}
[ -x "$BIN" ] || { echo "shards.sh: no orbitsweep at $BIN (scripts/test.sh builds it)" >&2; exit 2; }
if [ -z "$DIR" ]; then DIR=$(mktemp -d /tmp/os_shards.XXXXXX); trap 'rm -rf "$DIR"' EXIT; fi
seeds=$((T / 1000))
# shellcheck disable=SC2054  # the commas are flag values
sweep=(--optimizer sgd,momentum,rmsprop,adam --lr 'logspace(-4,-0.5,250)' --seeds "$seeds" --epochs "$E" --quiet)
measure() { # label, command...: one markdown row of wall seconds and peak RSS
  local label=$1; shift
  /usr/bin/time -v "$@" 2> "$DIR/time.log" >/dev/null || { cat "$DIR/time.log" >&2; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$DIR/time.log")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$DIR/time.log")
  printf '| %s | %s | %s |\n' "$label" "$wall" "$rss"
}
echo "$T trainings x $E epochs ($(nproc) cores), $N shards then merge:"
echo
echo "| step | wall s | peak RSS MB |"
echo "|---|---:|---:|"
parts=()
for k in $(seq 1 "$N"); do
  measure "shard $k/$N" "$BIN" run "${sweep[@]}" --shard "$k/$N" -o "$DIR/part-$k.csv"
  parts+=("$DIR/part-$k.csv")
done
measure "merge" "$BIN" merge "${parts[@]}" -o "$DIR/all.csv" --quiet
rows=$(($(wc -l < "$DIR/all.csv") - 1))
echo
echo "merged: $rows rows, $(du -m "$DIR/all.csv" | cut -f1) MB"
rm -f "$DIR"/part-*.csv "$DIR/all.csv"
if [ "$R" -gt 0 ]; then
  command -v mpirun >/dev/null 2>&1 || { echo "shards.sh: --ranks needs mpirun (openmpi-bin)" >&2; exit 2; }
  t=$((T / 10)); s=$((t / 1000))
  # shellcheck disable=SC2054
  small=(--optimizer sgd,momentum,rmsprop,adam --lr 'logspace(-4,-0.5,250)' --seeds "$s" --epochs "$E" --quiet)
  echo
  echo "$t trainings x $E epochs: one process on $R threads against $R MPI ranks of one thread:"
  echo
  echo "| run | wall s | peak RSS MB (the largest process) |"
  echo "|---|---:|---:|"
  measure "1 process, --threads $R" "$BIN" run "${small[@]}" --threads "$R" -o "$DIR/single.csv"
  measure "mpirun -np $R, --threads 1" mpirun --allow-run-as-root --oversubscribe -np "$R" "$BIN" run "${small[@]}" \
    --threads 1 -o "$DIR/mpi.csv"
  cmp "$DIR/single.csv" "$DIR/mpi.csv" && echo && echo "the MPI table is the single process's, byte for byte"
fi
