#!/usr/bin/env bash
# Runs the whole test suite: set-up (install + build), then ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${GOSSAMER_BUILD_DIR:-$PWD/build}
# Open MPI refuses root and more ranks than cores unless told; tests run as root on 2 cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export GOSSAMER_TOKENIZER=$PWD/.cache/tokenizer-gptoss/tokenizer.json
# Readers of untrusted files (safetensors headers, indexes, configs, tokenizer input) also
# run under AddressSanitizer + UBSan: a corrupt checkpoint must give an error, never a
# silent out-of-bounds read. Only what those tests need is built there.
if [ "${GOSSAMER_SKIP_ASAN:-0}" != 1 ]; then
  ASAN_DIR=${GOSSAMER_ASAN_BUILD_DIR:-$PWD/build-asan}
  [ -f "$ASAN_DIR/build.ninja" ] ||
    cmake -S . -B "$ASAN_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGOSSAMER_ASAN=ON \
      -DGOSSAMER_CUDA=OFF -DGOSSAMER_MPI=OFF >/dev/null
  cmake --build "$ASAN_DIR" -j "${GOSSAMER_JOBS:-$(nproc)}" --target test_model
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$ASAN_DIR/tests/test_model" --gtest_brief=1 \
    --gtest_filter='*Safetensors*:*BadIndex*:*Checkpoint*:*Config*:*Mxfp4*:*TokenizerInput*:*TokenizerSpec*'
fi
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${GOSSAMER_TEST_JOBS:-2}" --timeout 900 "$@"
