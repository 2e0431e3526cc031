#!/bin/bash
# One shard of a sweep, as a Slurm array task. Submit it from the repository root, after `make release`:
#
#   mkdir -p results/shards
#   sbatch --array=1-8 scripts/slurm-shard.sh [SPEC...] [experiments run OPTION...]
#
# Task i of an array of n runs `experiments run SPEC... --shard i/n --db $SHARD_DIR/shard-i-of-n.sqlite OPTION...`.
# With no SPEC, every experiments/*.json. Merge the shards afterwards:
#
#   .build/release/experiments merge --into results/lab.sqlite results/shards/shard-*-of-8.sqlite
#
# Environment (sbatch passes the submitting shell's environment to the job):
#   SHARD_DIR    where the shard databases go (default results/shards, relative to the submit directory)
#   SHARDS       how many shards the sweep has (default: the array's task count). Set it when submitting
#                only some tasks again, e.g. `SHARDS=8 sbatch --array=3 scripts/slurm-shard.sh --resume`.
#   SHARD        i/n, to run one shard outside an array (default outside an array: 1/1, the whole sweep)
#   EXPERIMENTS  the experiments binary (default .build/release/experiments)
#
# Stopping: the runner treats SIGTERM like Ctrl-C: it finishes the current cell, marks the run
# `interrupted` and exits with status 130; submit the same task again with `--resume` to finish it.
# `--signal=B:TERM@300` below sends SIGTERM to the runner alone 5 minutes before the time limit, so it
# stops between cells while its mock server still runs; `scancel --batch --signal=TERM JOB` does the
# same on demand. A plain `scancel` (or the time limit itself) sends SIGTERM to every process of the job;
# the mock server ignores it (it exits with its runner), so the runner still finishes its cell unless
# SIGKILL follows first (the cluster's KillWait); either way `--resume` redoes only unfinished cells.
#
# Pinning: the runner pins its mock server to the machine's last CPU. When the job was given fewer CPUs
# than the node has (tasks share the node), this script passes --no-pin unless --pin or --no-pin is given;
# use `sbatch --exclusive` for measurements undisturbed by other jobs.
#
#SBATCH --job-name=async-patterns
#SBATCH --cpus-per-task=2
#SBATCH --signal=B:TERM@300
set -euo pipefail

fail() {
    echo "slurm-shard.sh: error: $*" >&2
    exit 2
}

# Slurm runs a copy of this script from its spool folder: work from where sbatch was called.
if [ -n "${SLURM_SUBMIT_DIR:-}" ]; then
    cd "$SLURM_SUBMIT_DIR"
fi

if [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
    index=$SLURM_ARRAY_TASK_ID
    count=${SHARDS:-${SLURM_ARRAY_TASK_COUNT:-}}
elif [ -n "${SHARD:-}" ]; then
    index=${SHARD%%/*}
    count=${SHARD#*/}
else
    index=1
    count=${SHARDS:-1}
fi
[[ "$index" =~ ^[0-9]+$ && "$count" =~ ^[0-9]+$ ]] || fail "shard \`$index/$count\` is not i/n"
[ "$index" -ge 1 ] || fail "array task ids start at 1 (submit with --array=1-N), got $index"
[ "$index" -le "$count" ] || fail "shard $index of $count: set SHARDS to the sweep's shard count when submitting some tasks again"

experiments=${EXPERIMENTS:-.build/release/experiments}
[ -x "$experiments" ] || fail "$experiments not found in $(pwd): submit from the repository root after \`make release\`"

pin_given=no
for argument in "$@"; do
    case "$argument" in
        --db | --db=* | --shard | --shard=*) fail "$argument is set by this script (use SHARD_DIR and SHARDS)" ;;
        --pin | --no-pin) pin_given=yes ;;
    esac
done
options=()
online=$(getconf _NPROCESSORS_ONLN)
if [ "$pin_given" = no ] && [ -n "${SLURM_CPUS_ON_NODE:-}" ] && [ "$SLURM_CPUS_ON_NODE" -lt "$online" ]; then
    options+=(--no-pin)  # the last CPU may belong to another job
fi

shard_dir=${SHARD_DIR:-results/shards}
mkdir -p "$shard_dir"
db="$shard_dir/shard-$index-of-$count.sqlite"
echo "shard $index/$count on $(hostname -s) (job ${SLURM_JOB_ID:-none}, ${SLURM_CPUS_ON_NODE:-$online} CPUs): $db"
# exec: the runner is the job's main process, so SIGTERM reaches it directly and its status is the job's.
exec "$experiments" run "$@" "${options[@]}" --shard "$index/$count" --db "$db"
