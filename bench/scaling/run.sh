#!/usr/bin/env bash
# Scaling benchmark (issue 4): every test layout at np 1, 2, 4 on one box, for the tiny
# model and a medium synthetic one (4 layers of the real gpt-oss-20b width), both dispatch
# strategies where ep > 1. Writes bench/results/scaling-<model>.json (all world sizes
# merged) and prints the tables. Needs `ninja -C build gossamer bench_scaling`.
#
#   bench/scaling/run.sh                 # tiny + medium
#   MODELS=tiny bench/scaling/run.sh     # one of them
#   TWO_HOSTS=1 bench/scaling/run.sh     # np 2 and 4 split over two hosts (network namespaces
#                                        # joined by TCP, launch/netns_two_hosts.sh): the cost
#                                        # of TCP between hosts beside shared memory; results
#                                        # as scaling-<model>-2hosts.json
# Environment: BUILD (build), MEDIUM_DIR (/tmp/gossamer-medium), TIMEOUT_S (60; 0 makes
# the MPI backend use blocking collectives), MPIRUN_ARGS (extra mpirun flags).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MEDIUM_DIR=${MEDIUM_DIR:-/tmp/gossamer-medium}
MODELS=${MODELS:-"tiny medium"}
TIMEOUT_S=${TIMEOUT_S:-60}
OUT=bench/results
mkdir -p "$OUT"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_mpi_yield_when_idle=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
MPIRUN="mpirun --oversubscribe --bind-to none ${MPIRUN_ARGS:-}"
TWO_HOSTS=${TWO_HOSTS:-0}

# Runs "$@" on np ranks: on this box, or (TWO_HOSTS=1, np > 1) half of them on each host.
launch() {
  local np=$1; shift
  if [[ $TWO_HOSTS == 1 && $np -gt 1 ]]; then
    launch/netns_two_hosts.sh --ranks-per-host $((np / 2)) "$@"
  else
    $MPIRUN -np "$np" "$@"
  fi
}

# The layouts of tests/mpi (equivalence-tested), by world size.
L1="tp=1"
L2="tp=2;tp=2,ep=2;dp=2,ep=2;pp=2"
L4="tp=4;tp=4,ep=4;dp=4,ep=4;tp=2,dp=2,ep=4;tp=2,pp=2;dp=2,ep=2,pp=2"

run_model() {  # name dir extra-args...
  local name=$1 dir=$2; shift 2
  [[ $TWO_HOSTS == 1 ]] && name="$name-2hosts"
  local parts=()
  for np in 1 2 4; do
    local layouts=$L1
    [[ $np == 2 ]] && layouts=$L2
    [[ $np == 4 ]] && layouts=$L4
    local part="$OUT/scaling-$name-np$np.json"
    launch "$np" "$BUILD/bench/bench_scaling" --model "$dir" --label "$name" \
      --layouts "$layouts" --comm-timeout-s "$TIMEOUT_S" --out "$part" "$@"
    parts+=("$part")
  done
  python3 - "$OUT/scaling-$name.json" "${parts[@]}" <<'PY'
import json, sys
out, parts = sys.argv[1], sys.argv[2:]
docs = [json.load(open(p)) for p in parts]
merged = {k: v for k, v in docs[0].items() if k not in ("np", "rows")}
merged["rows"] = [r for d in docs for r in d["rows"]]
json.dump(merged, open(out, "w"), indent=2)
print("wrote", out)
PY
}

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M) UTC"
for m in $MODELS; do
  case $m in
    tiny)
      # Steps of a few ms: many of them, so the medians hold against the other tenants.
      run_model tiny tests/data/tiny/model --prefill-steps 5 --decode-steps 32 ;;
    medium)
      if [[ ! -f $MEDIUM_DIR/config.json ]]; then
        "$BUILD/gossamer" synth --preset gpt-oss-20b --layers 4 --out "$MEDIUM_DIR"
      fi
      # 2 cores for up to 4 ranks of 2.3 GB of weights: few steps, shorter prefill.
      run_model medium "$MEDIUM_DIR" --prefill-seqs 4 --prefill-tokens 32 --prefill-steps 2 \
        --decode-seqs 8 --decode-context 16 --decode-steps 6 ;;
    *) echo "unknown model $m" >&2; exit 2 ;;
  esac
done
