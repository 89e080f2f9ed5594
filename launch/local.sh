#!/usr/bin/env bash
# launch/local.sh: run a Gossamer command as N MPI ranks on this machine.
#
#   launch/local.sh -np 4 build/gossamer generate --config configs/test/tp2-dp2-ep4-np4-allgather.yaml --prompt "hi"
#   launch/local.sh -np 2 --dry-run build/gossamer eval-logits ...   # print the mpirun line only
#
# What it adds to a plain mpirun (docs/LAUNCH.md):
# * --oversubscribe and --bind-to none when there are more ranks than cores (CI: 4 ranks on
#   2 cores), plus mpi_yield_when_idle so waiting ranks give their core away;
# * the variables Open MPI needs to run as root (containers, CI);
# * single-copy shared memory off (CMA fails inside many containers, ompi#4948);
# * extra mpirun arguments from $GOSSAMER_MPIRUN_ARGS (e.g. "--mca btl self,tcp").
set -euo pipefail

np=${GOSSAMER_NP:-2}
dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    -np|-n|--np) np=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
if [ $# -eq 0 ]; then
  echo "usage: launch/local.sh [-np N] [--dry-run] COMMAND [ARGS...]" >&2
  exit 2
fi
if ! [[ "$np" =~ ^[1-9][0-9]*$ ]]; then
  echo "launch/local.sh: -np expects a positive integer, got '$np'" >&2
  exit 2
fi

cores=$(nproc)
args=(-np "$np")
if [ "$np" -gt "$cores" ]; then
  args+=(--oversubscribe --bind-to none --mca mpi_yield_when_idle 1)
fi
args+=(--mca btl_vader_single_copy_mechanism none)
# shellcheck disable=SC2206  # word splitting of the extra arguments is intended
[ -n "${GOSSAMER_MPIRUN_ARGS:-}" ] && args+=(${GOSSAMER_MPIRUN_ARGS})

if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

if [ "$dry_run" -eq 1 ]; then
  echo mpirun "${args[@]}" "$@"
  exit 0
fi
exec mpirun "${args[@]}" "$@"
