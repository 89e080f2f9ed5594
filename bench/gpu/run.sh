#!/usr/bin/env bash
# The one prepared GPU run of issue 11, for a fresh machine with one NVIDIA GPU, from a
# clean checkout, in minutes:
#   1. build (only what the run needs, all cores, CUDA on)
#   2. CUDA tests: the backend-ops table on the GPU, the device communicators (they must
#      run, not skip), device collectives under mpirun when Open MPI is there
#   3. the golden bf16 tier on the tiny checkpoint, both layouts (bench/gpu/golden_bf16.py)
#   4. a full-size synthetic gpt-oss-20b in RAM-backed storage (/dev/shm)
#   5. device copy bandwidth and the batch-1 decode roofline it implies
#   6. decode tok/s at batch 1, 8, 64, 256; prefill tok/s and time to first token for a 2k
#      prompt; peak GPU memory (nvidia-smi samples during the runs)
#   7. one table on stdout, JSON in bench/results/gpu-<gpu>-<utc time>.json
# It stops at the first missing piece and says which step failed.
#
#   bench/gpu/run.sh
# Environment: BUILD (build-gpu), MODEL_DIR (/dev/shm/gossamer-gpt-oss-20b, kept between
# runs), CUDA_ARCH (CMAKE_CUDA_ARCHITECTURES; default: the project's sm_90a + PTX),
# DECODE_TOKENS (64), RUN_TIMEOUT_S (180, per bench run).
#
# What it needs from `gossamer bench` (apps/cmd_bench.cpp): --model, --device cuda,
# --batch, --prompt-tokens, --decode-tokens, --json-out, --label, and JSON fields
# prefill_tokens_per_s, decode_tokens_per_s, prompt_tokens; optional peak_gpu_bytes and
# ttft_seconds are used when present.
set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD=${BUILD:-build-gpu}
MODEL_DIR=${MODEL_DIR:-/dev/shm/gossamer-gpt-oss-20b}
DECODE_TOKENS=${DECODE_TOKENS:-64}
RUN_TIMEOUT_S=${RUN_TIMEOUT_S:-180}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$(mktemp -d)
SAMPLER_PID=""
STEP="start"
START_S=$SECONDS

cleanup() {
  if [[ -n $SAMPLER_PID ]]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "bench/gpu/run.sh: FAILED in step: $STEP (line $LINENO)" >&2' ERR

step() {
  STEP=$1
  echo
  echo "=== [$((SECONDS - START_S)) s] $STEP"
}
die() {
  echo "bench/gpu/run.sh: FAILED in step: $STEP: $*" >&2
  exit 1
}
need() {  # command, what it is for
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found ($2)"
}

step "0/7 prerequisites"
need nvidia-smi "the NVIDIA driver"
need cmake "the build"
need ninja "the build (CMake's Ninja generator)"
need python3 "the golden check and the report"
if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then export PATH=/usr/local/cuda/bin:$PATH; fi
need nvcc "the CUDA toolkit"
nvidia-smi -L | grep -q "^GPU 0" || die "nvidia-smi lists no GPU"
GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1)
echo "GPU: $GPU_NAME; nvcc: $(nvcc --version | tail -n 1); $(nproc) CPUs"

step "1/7 build"
cmake_args=(-S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGOSSAMER_CUDA=ON)
if [[ -n ${CUDA_ARCH:-} ]]; then cmake_args+=("-DCMAKE_CUDA_ARCHITECTURES=$CUDA_ARCH"); fi
cmake "${cmake_args[@]}" >"$WORK/cmake.log" 2>&1 || { cat "$WORK/cmake.log"; die "cmake configure failed"; }
grep -q "CUDA=ON" "$WORK/cmake.log" || die "CMake did not enable the CUDA backend (see gossamer: line above)"
targets=(gossamer test_kernels test_comm test_worker)
HAVE_MPI=0
if grep -q "MPI=ON" "$WORK/cmake.log" && command -v mpirun >/dev/null 2>&1; then
  HAVE_MPI=1
  targets+=(test_comm_mpi test_parallel_equivalence)
fi
cmake --build "$BUILD" -j "$(nproc)" --target "${targets[@]}"
nvcc -O2 -arch=native -o "$BUILD/copy_bandwidth" bench/gpu/copy_bandwidth.cu

step "2/7 CUDA tests"
# The CUDA tests skip without a GPU; here a skip means the GPU is not usable: fail.
"$BUILD/tests/test_kernels" --gtest_filter='BackendOps.*:CudaKernels.*' 2>&1 | tee "$WORK/test_kernels.log"
if grep -q "SKIPPED \]" "$WORK/test_kernels.log"; then die "CUDA kernel tests skipped on a machine with a GPU"; fi
"$BUILD/tests/test_comm" --gtest_filter='LocalCommunicatorOnGpu.*:StagedDeviceCommunicator.*:NcclCommunicator.*' 2>&1 | tee "$WORK/test_comm.log"
if grep -q "SKIPPED \]" "$WORK/test_comm.log"; then die "device communicator tests skipped on a machine with a GPU"; fi
# The forward pass through the executor on the GPU: step-array upload, weight upload, the
# tiny golden checkpoint against the bf16 tier and greedy tokens equal to the CPU's.
"$BUILD/tests/test_worker" --gtest_filter='StepArrays.*:WeightPrep.*:Layouts/GpuForward.*' 2>&1 | tee "$WORK/test_worker.log"
if grep -q "SKIPPED \]" "$WORK/test_worker.log"; then die "GPU forward-pass tests skipped on a machine with a GPU"; fi
if [[ $HAVE_MPI == 1 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  # Two ranks on one GPU: only the staged communicator can (NCCL needs a GPU per rank).
  tests/expect_pass.sh "[1-9][0-9]* checks, 0 failed: PASSED" \
    mpirun --oversubscribe --bind-to none -np 2 "$BUILD/tests/comm/mpi/test_comm_mpi" device-staged ||
    die "device collectives (staged, 2 ranks on one GPU) failed"
  # 2-rank layouts of the tiny model on this one GPU (staged communicator) against the
  # one-GPU run: bf16-level logits, identical greedy prefixes (tests/mpi/parallel_equivalence.cpp).
  for layout in tp=2 dp=2,ep=2 pp=2; do
    tests/expect_pass.sh "^[1-9][0-9]* passed, 0 failed$" \
      mpirun --oversubscribe --bind-to none -np 2 "$BUILD/tests/mpi/test_parallel_equivalence" \
      --parallel "$layout" --device cuda --gpu-comm staged ||
      die "2-rank layout $layout on one GPU (staged) differs from one GPU"
  done
else
  echo "(no MPI in this build or no mpirun: multi-rank device collectives not run)"
fi

step "3/7 golden bf16 tier (tiny checkpoint, both layouts, on the GPU)"
for layout in hf original; do
  python3 bench/gpu/golden_bf16.py "$BUILD/gossamer" "$WORK/golden-$layout" --layout "$layout" --device cuda \
    | tee "$WORK/golden-$layout.log" || die "golden bf16 tier failed for the $layout layout"
  tail -n 1 "$WORK/golden-$layout.log" >"$WORK/golden-$layout.json"
done

step "4/7 full-size synthetic gpt-oss-20b in $MODEL_DIR"
if [[ ! -f $MODEL_DIR/config.json ]]; then
  shm_free_gb=$(df -BG --output=avail "$(dirname "$MODEL_DIR")" | tail -n 1 | tr -dc '0-9')
  [[ ${shm_free_gb:-0} -ge 16 ]] || die "$(dirname "$MODEL_DIR") has ${shm_free_gb:-0} GB free; the 20b needs ~14 GB (set MODEL_DIR)"
  "$BUILD/gossamer" synth --preset gpt-oss-20b --out "$MODEL_DIR"
fi
python3 bench/gpu/weight_bytes.py "$MODEL_DIR" | tee "$WORK/weights.json"

step "5/7 device copy bandwidth"
"$BUILD/copy_bandwidth" | tee "$WORK/bandwidth.json"

step "6/7 decode, prefill, time to first token, peak GPU memory"
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$WORK/gpumem.csv" &
SAMPLER_PID=$!
bench() {  # label, json, gossamer bench args...
  local label=$1 json=$2
  shift 2
  timeout "$RUN_TIMEOUT_S" "$BUILD/gossamer" bench --model "$MODEL_DIR" --device cuda --label "$label" \
    --json-out "$json" "$@" || die "gossamer bench $label failed or ran past ${RUN_TIMEOUT_S} s"
}
for batch in 1 8 64 256; do
  bench "decode-b$batch" "$WORK/decode-b$batch.json" --batch "$batch" --prompt-tokens 128 \
    --decode-tokens "$DECODE_TOKENS"
done
bench prefill-2k "$WORK/prefill-2k.json" --batch 1 --prompt-tokens 2048 --decode-tokens 1
kill "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""

step "7/7 report"
python3 - "$WORK/meta.json" "$GPU_NAME" "$MODEL_DIR" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'PY'
import datetime, json, sys
path, gpu, model, commit = sys.argv[1:]
json.dump({"gpu": gpu, "model_dir": model, "commit": commit,
           "when_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}, open(path, "w"))
PY
slug=$(echo "$GPU_NAME" | tr -c 'A-Za-z0-9\n' '-' | tr -s '-')
python3 bench/gpu/report.py "$WORK" "bench/results/gpu-$slug-$STAMP.json"
echo "done in $((SECONDS - START_S)) s"
