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
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${GOSSAMER_TEST_JOBS:-2}" --timeout 900 "$@"
