#!/usr/bin/env bash
# submit.sh [N] — the sweep of sweep.env as an array of N shards (default 8)
# and a merge job that starts when every shard has succeeded.
set -euo pipefail
cd "$(dirname "$0")"
n=${1:-8}
array=$(sbatch --parsable --array="1-$n" shards.sbatch)
merge=$(sbatch --parsable --dependency="afterok:$array" merge.sbatch)
echo "shards: job $array (1-$n); merge: job $merge after them"
