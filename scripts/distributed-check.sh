#!/usr/bin/env bash
# `make distributed-check`: checks that a sharded sweep merges into the same database as a single run.
#
# 1. Installs slurm-wlm, munge, parallel and sqlite3 when missing, and starts a private single-node Slurm
#    cluster on this machine (its own munged, slurmctld and slurmd, configuration and ports; nothing in /etc).
# 2. Runs the quick profile of $SPEC once, then as $SHARDS shards with `sbatch --array` and
#    scripts/slurm-shard.sh, then with GNU parallel; merges each set of shards and compares it with the
#    single run: the same complete cells (keys, seeds, parameters) and, per cell, the same number of samples,
#    and of samples per HTTP status, error class and attempt.
# 3. Cancels a 2-shard Slurm array of a small spec while its shards are mid-sweep, twice: with a plain
#    `scancel` (SIGTERM to every process of the job) and with `scancel --batch --signal=TERM` (SIGTERM to the
#    runner alone, as scripts/slurm-shard.sh asks before the time limit; the runner must finish its cell, mark
#    the run interrupted and exit with 130). Checks that the shards stopped short, submits them again with
#    --resume, and compares the merge with a single run of the same spec.
#
# Needs root (it starts the daemons) and a release build. Stops everything it started on exit.
# Environment: SPEC (default experiments/engines.json), SHARDS (3), BIN (.build/release),
# CHECK_DIR (/tmp/async-patterns-distributed-check, kept on failure or with KEEP=1),
# SLURMCTLD_PORT / SLURMD_PORT (16817 / 16818).
set -euo pipefail

started=$(date +%s)
cd "$(dirname "$0")/.."
root=$(pwd)
spec=${SPEC:-experiments/engines.json}
shards=${SHARDS:-3}
bin=${BIN:-.build/release}
check_dir=${CHECK_DIR:-/tmp/async-patterns-distributed-check}
cluster=$check_dir/cluster
work=$check_dir/work
node=$(hostname -s 2>/dev/null || echo localhost)
ctld_port=${SLURMCTLD_PORT:-16817}
slurmd_port=${SLURMD_PORT:-16818}
export SLURM_CONF=$cluster/slurm.conf
failures=0
checks=0

say() { printf '\n== %s\n' "$*"; }
pass() {
    checks=$((checks + 1))
    printf 'PASS  %s\n' "$*"
}
fail() {
    checks=$((checks + 1))
    failures=$((failures + 1))
    printf 'FAIL  %s\n' "$*"
}
die() {
    printf 'FAIL  %s\n' "$*" >&2
    checks=$((checks + 1))
    failures=$((failures + 1))
    exit 1
}
elapsed() { echo "$(($(date +%s) - started)) s"; }

# ---------------------------------------------------------------------------------------------------------
# Preconditions

[ "$(id -u)" -eq 0 ] || die "run as root (sudo make distributed-check): the check starts munged, slurmctld and slurmd"
for binary in experiments report mock-server; do
    [ -x "$bin/$binary" ] || die "$bin/$binary is missing: run \`make release\` first"
done
[ -f "$spec" ] || die "spec $spec not found"
scripts/ensure-packages.sh slurm-wlm munge parallel sqlite3

# ---------------------------------------------------------------------------------------------------------
# Processes: a pid is alive until it exits (a zombie counts as gone).

alive() {
    local pid=$1 state
    [ -r "/proc/$pid/stat" ] || return 1
    state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# stop_pidfile FILE NAME: stops the process FILE names if it is still NAME; TERM, then KILL after 10 s.
stop_pidfile() {
    local file=$1 name=$2 pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file" 2>/dev/null || true)
    rm -f "$file"
    [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 0
    grep -qx "$name" "/proc/$pid/comm" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do
        alive "$pid" || return 0
        sleep 0.2
    done
    echo "$name (pid $pid) ignored SIGTERM for 10 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

# Stops the cluster of an earlier call (or this one): its jobs first, then the daemons.
stop_cluster() {
    local ctld
    ctld=$(cat "$cluster/slurmctld.pid" 2>/dev/null || true)
    if [[ "$ctld" =~ ^[0-9]+$ ]] && alive "$ctld" && [ -f "$SLURM_CONF" ]; then
        local jobs
        jobs=$(timeout 10 squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ' || true)
        if [ -n "${jobs// /}" ]; then
            # shellcheck disable=SC2086
            timeout 10 scancel $jobs 2>/dev/null || true
            # shellcheck disable=SC2016 # expanded by the inner shell
            timeout 40 bash -c 'while [ -n "$(squeue -h 2>/dev/null)" ]; do sleep 0.5; done' || true
        fi
    fi
    stop_pidfile "$cluster/slurmd.pid" slurmd
    stop_pidfile "$cluster/slurmctld.pid" slurmctld
    stop_pidfile "$cluster/munged.pid" munged
}

show_logs() {
    local log
    for log in "$cluster/slurmctld.log" "$cluster/slurmd.log" "$cluster/munged.log"; do
        [ -f "$log" ] || continue
        echo "--- last lines of $log"
        tail -n 25 "$log"
    done
}

finish() {
    local status=$?
    trap - EXIT INT TERM
    [ "$failures" -gt 0 ] && [ "$status" -eq 0 ] && status=1
    stop_cluster
    if [ "$status" -eq 0 ] && [ "${KEEP:-0}" != 1 ]; then
        rm -rf "$check_dir"
    else
        echo "kept $check_dir (databases, job output, daemon logs)"
    fi
    echo
    if [ "$status" -eq 0 ]; then
        echo "distributed-check: PASS, $checks checks in $(elapsed)"
    else
        echo "distributed-check: FAIL ($failures of $checks checks failed, status $status) after $(elapsed)"
    fi
    exit "$status"
}
trap finish EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------------------
# The cluster: munged with its own key and socket, slurmctld and slurmd on their own ports.

say "starting a single-node Slurm cluster ($node) in $cluster"
stop_cluster # daemons left by an earlier call that could not clean up
if [ -e "$check_dir" ] && [ ! -f "$check_dir/.distributed-check" ]; then
    die "$check_dir exists and is not a folder this check made: remove it or set CHECK_DIR"
fi
rm -rf "$check_dir"
mkdir -p "$cluster/munge" "$cluster/state" "$cluster/spool" "$work"
touch "$check_dir/.distributed-check"
chmod 755 "$check_dir" "$cluster" "$cluster/munge" # munged insists on a socket path all can traverse
if command -v mungekey >/dev/null; then
    mungekey --create --keyfile="$cluster/munge/munge.key"
else
    dd if=/dev/urandom of="$cluster/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 600 "$cluster/munge/munge.key"
socket=$cluster/munge/munge.socket
munged --socket="$socket" --key-file="$cluster/munge/munge.key" --pid-file="$cluster/munged.pid" \
    --log-file="$cluster/munged.log" --seed-file="$cluster/munge/munged.seed" \
    || { show_logs; die "munged did not start"; }
timeout 10 bash -c "until munge -S '$socket' -n 2>/dev/null | unmunge -S '$socket' >/dev/null 2>&1; do sleep 0.2; done" \
    || { show_logs; die "munged does not answer on $socket"; }

# The node as slurmd sees it (CPUs, sockets, cores, threads, memory).
hardware=$(slurmd -C | head -n 1 | sed 's/^NodeName=[^ ]* //')
cat >"$SLURM_CONF" <<EOF
# Written by scripts/distributed-check.sh: a private single-node cluster, removed when the check ends.
ClusterName=asyncpatterns
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$cluster/state
SlurmdSpoolDir=$cluster/spool
SlurmctldPidFile=$cluster/slurmctld.pid
SlurmdPidFile=$cluster/slurmd.pid
SlurmctldLogFile=$cluster/slurmctld.log
SlurmdLogFile=$cluster/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
KillWait=30
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 $hardware State=UNKNOWN
PartitionName=check Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -c -f "$SLURM_CONF" || { show_logs; die "slurmctld did not start"; }
if ! timeout 20 bash -c 'until scontrol ping 2>/dev/null | grep -q "is UP"; do sleep 0.5; done'; then
    show_logs
    die "slurmctld does not answer on port $ctld_port after 20 s (another program on the port? set SLURMCTLD_PORT)"
fi
slurmd -f "$SLURM_CONF" -N "$node" || { show_logs; die "slurmd did not start"; }
if ! timeout 60 bash -c "until [ \"\$(sinfo -h -n '$node' -o %T 2>/dev/null)\" = idle ]; do sleep 0.5; done"; then
    sinfo -N -l || true
    show_logs
    die "node $node is not idle after 60 s"
fi
pass "Slurm node $node idle ($hardware)"

# ---------------------------------------------------------------------------------------------------------
# Helpers

# complete DB: the number of complete cells (0 when the database does not exist yet).
complete() {
    [ -f "$1" ] || {
        echo 0
        return
    }
    sqlite3 -cmd '.timeout 5000' "$1" "SELECT count(*) FROM cells WHERE status = 'complete'" 2>/dev/null || echo 0
}

# planned SPEC [--shard i/n] [--quick]: the number of cells the runner plans.
planned() {
    "$bin/experiments" run "$@" --dry-run | awk '/: [0-9]+ cells$/ { n += $(NF - 1) } END { print n + 0 }'
}

# submit N DIR SBATCH-OPTION... -- SCRIPT-ARGUMENT...: submits scripts/slurm-shard.sh as the array 1-N with its
# shard databases in DIR, and prints the job id.
submit() {
    local count=$1 dir=$2 options=()
    shift 2
    options+=(--array="1-$count" --cpus-per-task=1)
    options+=(--export="ALL,SHARDS=$count,SHARD_DIR=$dir,EXPERIMENTS=$bin/experiments")
    while [ "$1" != -- ]; do
        options+=("$1")
        shift
    done
    shift
    sbatch --parsable --chdir="$root" --output="$work/slurm-%A_%a.out" "${options[@]}" scripts/slurm-shard.sh "$@" \
        | cut -d';' -f1 || die "sbatch failed"
}

# wait_gone JOB SECONDS: waits until the job has left the queue.
wait_gone() {
    local job=$1 seconds=$2
    if ! timeout "$seconds" bash -c "while [ -n \"\$(squeue -h -j $job 2>/dev/null)\" ]; do sleep 0.5; done"; then
        squeue || true
        tail -n 20 "$work"/slurm-"$job"_*.out 2>/dev/null || true
        show_logs
        die "job $job still queued or running after $seconds s"
    fi
}

# states JOB: every task's state and exit code, one a line ("1 COMPLETED 0:0").
states() {
    scontrol -o show job "$1" | sed -E 's/.*ArrayTaskId=([^ ]+).* JobState=([^ ]+).* ExitCode=([^ ]+).*/\1 \2 \3/' | sort -n
}

# expect_completed LABEL JOB: passes when every task completed with status 0.
expect_completed() {
    local label=$1 job=$2 bad
    bad=$(states "$job" | awk '$2 != "COMPLETED" || $3 != "0:0"')
    if [ -z "$bad" ]; then
        pass "$label: job $job, every task COMPLETED"
    else
        fail "$label: job $job tasks not completed: $(echo "$bad" | tr '\n' ';')"
        tail -n 20 "$work"/slurm-"$job"_*.out || true
    fi
}

# dump DB KIND: a canonical listing, sorted, of what must not depend on sharding.
dump() {
    local query
    case $2 in
        cells) query="SELECT cell_key, experiment, engine, concurrency, repetition, seed, params, planned_requests,
                  warmup_requests FROM cells WHERE status = 'complete'" ;;
        samples) query="SELECT c.cell_key, count(s.cell_id), sum(s.is_final), sum(s.is_warmup)
                  FROM cells c LEFT JOIN samples s ON s.cell_id = c.id WHERE c.status = 'complete' GROUP BY c.id" ;;
        outcomes) query="SELECT c.cell_key, s.status, s.error_class, s.is_final, s.attempt, count(*)
                  FROM cells c JOIN samples s ON s.cell_id = c.id WHERE c.status = 'complete'
                  GROUP BY c.id, s.status, s.error_class, s.is_final, s.attempt" ;;
    esac
    sqlite3 -cmd '.timeout 5000' -separator ' | ' "$1" "$query" | LC_ALL=C sort
}

# compare LABEL REFERENCE MERGED: the merged database against the single run.
compare() {
    local label=$1 reference=$2 merged=$3 kind a b cells samples duplicates
    duplicates=$(sqlite3 "$merged" "SELECT cell_key FROM cells WHERE status = 'complete'
        GROUP BY cell_key HAVING count(*) > 1")
    if [ -z "$duplicates" ]; then
        pass "$label: no cell complete twice"
    else
        fail "$label: cells complete more than once: $(echo "$duplicates" | tr '\n' ' ')"
    fi
    samples=$(sqlite3 "$merged" "SELECT count(*) FROM samples s JOIN cells c ON c.id = s.cell_id
        WHERE c.status = 'complete'")
    for kind in cells samples outcomes; do
        a=$(dump "$reference" "$kind")
        b=$(dump "$merged" "$kind")
        cells=$(printf '%s\n' "$a" | grep -c . || true)
        local what
        case $kind in
            cells) what="the same $cells complete cells (keys, seeds, parameters) as the single run" ;;
            samples) what="the same samples per cell as the single run ($samples samples)" ;;
            outcomes) what="the same samples per cell, HTTP status, error class and attempt as the single run" ;;
        esac
        if [ -n "$a" ] && [ "$a" = "$b" ]; then
            pass "$label: $what"
        else
            fail "$label: not $what; differences (< single run, > merged):"
            diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -n 20 || true
        fi
    done
}

# single LABEL SPEC DB OPTION...: the reference run, outside Slurm.
single() {
    local label=$1 spec=$2 db=$3 expected got
    shift 3
    expected=$(planned "$spec" "$@")
    if ! timeout 600 "$bin/experiments" run "$spec" "$@" --db "$db" >"$db.log" 2>&1; then
        tail -n 20 "$db.log"
        die "$label: the single run failed (log: $db.log)"
    fi
    got=$(complete "$db")
    if [ "$got" -eq "$expected" ] && [ "$got" -gt 0 ]; then
        pass "$label: single run complete, $got of $expected cells ($(elapsed))"
    else
        fail "$label: single run has $got complete cells, planned $expected"
    fi
}

# merge OUT IN...: experiments merge, which must succeed.
merge() {
    local out=$1
    shift
    "$bin/experiments" merge --into "$out" "$@" >"$out.log" 2>&1 || {
        cat "$out.log"
        die "experiments merge --into $out failed"
    }
}

# ---------------------------------------------------------------------------------------------------------
# 1. A quick sweep: single run, Slurm array, GNU parallel.

name=$(basename "$spec" .json)
say "$spec --quick: a single run, then $shards shards"
single "$name" "$spec" "$work/single.sqlite" --quick --no-pin

say "Slurm: sbatch --array=1-$shards --cpus-per-task=1 scripts/slurm-shard.sh $spec --quick --no-pin"
job=$(submit "$shards" "$work/slurm" -- "$spec" --quick --no-pin)
wait_gone "$job" 600
expect_completed "Slurm array" "$job"
for i in $(seq 1 "$shards"); do
    db=$work/slurm/shard-$i-of-$shards.sqlite
    expected=$(planned "$spec" --quick --shard "$i/$shards")
    got=$(complete "$db")
    if [ "$got" -eq "$expected" ]; then
        pass "Slurm shard $i/$shards: $got of $expected cells complete"
    else
        fail "Slurm shard $i/$shards: $got complete cells, planned $expected ($db)"
    fi
done
merge "$work/slurm.sqlite" "$work"/slurm/shard-*-of-"$shards".sqlite
compare "Slurm merge" "$work/single.sqlite" "$work/slurm.sqlite"

say "GNU parallel: parallel -j2 'experiments run $spec --quick --no-pin --shard {}/$shards ...' ::: $(seq -s ' ' 1 "$shards")"
mkdir -p "$work/parallel"
if timeout 600 parallel --will-cite -j2 --halt now,fail=1 \
    "$bin/experiments run $spec --quick --no-pin --shard {}/$shards --db $work/parallel/shard-{}-of-$shards.sqlite" \
    ::: $(seq 1 "$shards") >"$work/parallel.log" 2>&1; then
    pass "GNU parallel: $shards shards exited with status 0"
else
    fail "GNU parallel: a shard failed (log: $work/parallel.log)"
    tail -n 20 "$work/parallel.log"
fi
merge "$work/parallel.sqlite" "$work"/parallel/shard-*-of-"$shards".sqlite
compare "parallel merge" "$work/single.sqlite" "$work/parallel.sqlite"

# ---------------------------------------------------------------------------------------------------------
# 2. Cancel and resume: 2 shards of 3 cells of about 3 s each, stopped while their second cell runs,
#    a) by a plain `scancel`, which sends SIGTERM to every process of the job (the runner and its mock server,
#       which ignores it: it exits when its runner does),
#    b) by `scancel --batch --signal=TERM`, which signals the runner alone (as `#SBATCH --signal=B:TERM@300`
#       does before the time limit).
#    Each time every runner must finish its cell, mark the run `interrupted` and exit with 130.
#    Either way, submitting the array again with --resume must complete it, and the merge equal a single run.

cancel_shards=2
mkdir -p "$work/cancel"
cancel_spec=$work/cancel/distributed-cancel.json
cat >"$cancel_spec" <<'JSON'
{
  "name": "distributed-cancel",
  "question": "Does a cancelled and resumed shard give the same cells as a single run?",
  "notes": "Written by scripts/distributed-check.sh: cells of about 3 s, so that scancel lands mid-sweep.",
  "engines": ["sync"],
  "axes": {},
  "fixed": { "latencyMs": 20, "path": "/get" },
  "requests": 150,
  "warmup": 5,
  "repetitions": 6,
  "seed": 20261129
}
JSON
say "a spec of $(planned "$cancel_spec") cells of about 3 s, for cancelling: a single run"
single "cancel spec" "$cancel_spec" "$work/cancel-single.sqlite" --no-pin

# each_started DB...: whether every database has a complete cell.
each_started() {
    local db
    for db in "$@"; do [ "$(complete "$db")" -ge 1 ] || return 1; done
}

# cancel_and_resume LABEL GRACEFUL SCANCEL-OPTION...
cancel_and_resume() {
    local label=$1 graceful=$2 dir job deadline i db per_shard got runs state dbs=()
    shift 2
    dir=$work/cancel/$label
    say "$label: sbatch --array=1-$cancel_shards, \`scancel${*:+ $*}\` mid-sweep, then again with --resume"
    for i in $(seq 1 "$cancel_shards"); do dbs+=("$dir/shard-$i-of-$cancel_shards.sqlite"); done
    job=$(submit "$cancel_shards" "$dir" -- "$cancel_spec" --no-pin)
    # Wait until every shard has finished its first cell, then cancel the array.
    deadline=$(($(date +%s) + 90))
    until each_started "${dbs[@]}"; do
        if [ "$(date +%s)" -ge "$deadline" ] || [ -z "$(squeue -h -j "$job")" ]; then
            tail -n 20 "$work"/slurm-"$job"_*.out || true
            die "$label: the shards did not finish a first cell within 90 s (or ended first)"
        fi
        sleep 0.2
    done
    scancel "$@" "$job"
    wait_gone "$job" 90
    for i in $(seq 1 "$cancel_shards"); do
        db=${dbs[$((i - 1))]}
        per_shard=$(planned "$cancel_spec" --shard "$i/$cancel_shards")
        got=$(complete "$db")
        runs=$(sqlite3 "$db" "SELECT group_concat(status, ',') FROM runs")
        state=$(states "$job" | awk -v i="$i" '$1 == i { print $2 ", exit " $3 }')
        if [ "$got" -ge 1 ] && [ "$got" -lt "$per_shard" ]; then
            pass "$label: shard $i/$cancel_shards stopped with $got of $per_shard cells complete (task $state; run $runs)"
        else
            fail "$label: shard $i/$cancel_shards has $got of $per_shard cells complete after scancel; expected fewer"
        fi
        if [ "$graceful" = yes ]; then
            if [ "$runs" = interrupted ] && [[ "$state" == *"exit 130:0" ]]; then
                pass "$label: shard $i/$cancel_shards finished its cell, marked the run interrupted, exited with 130"
            else
                fail "$label: shard $i/$cancel_shards did not stop between cells (task $state; run $runs)"
                tail -n 5 "$work/slurm-${job}_$i.out" || true
            fi
        fi
    done

    job=$(submit "$cancel_shards" "$dir" -- "$cancel_spec" --no-pin --resume)
    wait_gone "$job" 300
    expect_completed "$label resume" "$job"
    for i in $(seq 1 "$cancel_shards"); do
        per_shard=$(planned "$cancel_spec" --shard "$i/$cancel_shards")
        got=$(complete "${dbs[$((i - 1))]}")
        if [ "$got" -eq "$per_shard" ]; then
            pass "$label resume: shard $i/$cancel_shards has all $per_shard cells complete"
        else
            fail "$label resume: shard $i/$cancel_shards has $got of $per_shard cells complete"
        fi
    done
    merge "$dir.sqlite" "${dbs[@]}"
    compare "$label merge" "$work/cancel-single.sqlite" "$dir.sqlite"
}

cancel_and_resume scancel yes
cancel_and_resume scancel-batch yes --batch --signal=TERM
