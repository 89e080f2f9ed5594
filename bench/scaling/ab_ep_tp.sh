#!/usr/bin/env bash
# A/B of MoeLayer's ep == tp path (ExecutorOptions::moe_skip_dispatch_when_ep_is_tp):
# tp=2,ep=2 at np 2 and tp=4,ep=4 at np 4, alternating "run" (the configured dispatch) and
# "skip" (one all-reduce of the slot outputs) ROUNDS times so both see similar load.
#   bench/scaling/ab_ep_tp.sh MODEL_DIR LABEL [ROUNDS] [bench_scaling args...]
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=$1 LABEL=$2 ROUNDS=${3:-3}; shift 3 || true
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_mpi_yield_when_idle=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
mkdir -p bench/results
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M) UTC"
for round in $(seq "$ROUNDS"); do
  for np in 2 4; do
    for mode in run skip; do
      mpirun --oversubscribe --bind-to none -np "$np" build/bench/bench_scaling --model "$MODEL" \
        --label "$LABEL" --layouts "tp=$np,ep=$np" --ep-tp-dispatch "$mode" \
        --out "bench/results/ab-ep-tp-$LABEL-np$np-$mode-$round.json" "$@" | grep '^| tp'
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M) UTC"
