#!/usr/bin/env bash
# Runs the whole test suite: set-up (install + build), then ctest, and the readers of
# untrusted files under AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
GOSSAMER_SETUP_NO_BUILD=1 scripts/setup.sh  # the installs; the main build comes below
BUILD_DIR=${GOSSAMER_BUILD_DIR:-$PWD/build}
JOBS=${GOSSAMER_JOBS:-$(nproc)}
# Open MPI refuses root and more ranks than cores unless told; tests run as root on 2 cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export GOSSAMER_TOKENIZER=$PWD/.cache/tokenizer-gptoss/tokenizer.json

# Readers of untrusted files (safetensors headers, indexes, configs, tokenizer input) also
# run under AddressSanitizer + UBSan: a corrupt checkpoint must give an error, never a
# silent out-of-bounds read. Only what those tests need is built there (test_model), at
# -O1 with line tables (-g1: symbolized reports, a third less compile time than -O2 -g).
# The sanitizer tree builds at the lowest CPU priority from the start, beside the main
# build and ctest: a nice 19 build takes only the cores they leave idle (the main build's
# serial tail of links, ctest's ranks and servers waiting on each other), so it delays
# neither (docs/PERFORMANCE.md, "Test suite time").
have_libfuzzer() {
  command -v clang++ >/dev/null 2>&1 &&
    echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
      clang++ -x c++ -fsanitize=fuzzer - -o /dev/null >/dev/null 2>&1
}
use_fuzz=0
if [ "${GOSSAMER_SKIP_FUZZ:-0}" != 1 ] && have_libfuzzer; then use_fuzz=1; fi

# The fuzz targets (fuzz/) get a short run when clang++ can link libFuzzer: 20 s each, two
# at a time; any finding fails the suite. Their tree (only the readers' libraries, clang,
# ASan + UBSan) builds at nice 19 during the main build and ctest, and builds the readers'
# tests too (test_readers): with clang, that one tree is the sanitizer tree; without, a gcc
# one builds test_model. The 20 s runs start as soon as that tree is built (at nice 19 while ctest
# runs), so they use the cores ctest leaves idle instead of adding 80 s after it
# (docs/PERFORMANCE.md, "Test suite time").
FUZZ_DIR=${GOSSAMER_FUZZ_BUILD_DIR:-$PWD/build-fuzz}
FUZZ_SECONDS=${GOSSAMER_FUZZ_SECONDS:-20}
ASAN_DIR=${GOSSAMER_ASAN_BUILD_DIR:-$PWD/build-asan}
[ "$use_fuzz" = 1 ] && ASAN_DIR=$FUZZ_DIR
asan_pid=""
fuzz_pid=""
asan_log=$(mktemp)
fuzz_log=$(mktemp)
fuzz_built=$(mktemp -u)  # exists once the fuzz tree (and test_readers) is built
ctest_done=$(mktemp -u)  # exists once ctest has returned
trap 'rm -f "$asan_log" "$fuzz_log" "$fuzz_built" "$ctest_done"; for p in $asan_pid $fuzz_pid; do kill "$p" 2>/dev/null || true; done' EXIT
if [ "$use_fuzz" = 1 ]; then
  (
    set -e
    GOSSAMER_FUZZ_BUILD_DIR=$FUZZ_DIR GOSSAMER_JOBS=$JOBS nice -n 19 fuzz/run.sh --build-only
    nice -n 19 cmake --build "$FUZZ_DIR" -j "$JOBS" --target test_readers
    touch "$fuzz_built"
    echo "== fuzz targets, ${FUZZ_SECONDS} s each ($FUZZ_DIR)"
    # A fresh working corpus (the seeds plus what 20 s finds): a corpus grown by earlier
    # long runs would be replayed in full first, however long that takes.
    fuzz_corpus=$(mktemp -d)
    trap 'rm -rf "$fuzz_corpus"' EXIT
    # While ctest runs the runs take only the cores it leaves idle (nice 19); started after
    # it, they run at the normal priority, so another user's load cannot starve them.
    fuzz_nice=0
    [ -f "$ctest_done" ] || fuzz_nice=19
    GOSSAMER_FUZZ_BUILD_DIR=$FUZZ_DIR GOSSAMER_FUZZ_CORPUS_DIR=$fuzz_corpus \
      GOSSAMER_FUZZ_PARALLEL=${GOSSAMER_FUZZ_PARALLEL:-2} nice -n "$fuzz_nice" fuzz/run.sh "$FUZZ_SECONDS"
  ) >"$fuzz_log" 2>&1 &
  fuzz_pid=$!
else
  echo "test.sh: no clang++ with libFuzzer; the fuzz targets do not run, the readers' tests use a gcc ASan tree" >&2
  if [ "${GOSSAMER_SKIP_ASAN:-0}" != 1 ]; then
    (
      [ -f "$ASAN_DIR/build.ninja" ] ||
        cmake -S . -B "$ASAN_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
          "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" -DGOSSAMER_ASAN=ON \
          -DGOSSAMER_CUDA=OFF -DGOSSAMER_MPI=OFF
      nice -n 19 cmake --build "$ASAN_DIR" -j "$JOBS" --target test_model
    ) >"$asan_log" 2>&1 &
    asan_pid=$!
  fi
fi

scripts/setup.sh  # configure and build the main tree (the installs are checked again: ~1 s)

# Packed experts of precision fast (worker/packed_experts.h) written by the tests' engines:
# in the build tree, emptied first so the suite packs afresh as well as reading the cache.
export GOSSAMER_CACHE_DIR=$BUILD_DIR/test-cache
rm -rf "$GOSSAMER_CACHE_DIR"

ctest_rc=0
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${GOSSAMER_TEST_JOBS:-2}" --timeout 900 "$@" ||
  ctest_rc=$?
touch "$ctest_done"

# The readers of untrusted files under ASan + UBSan (test_model of whichever tree built it).
asan_rc=0
run_readers_tests() {
  echo "== readers of untrusted files under ASan + UBSan ($1)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$1" --gtest_brief=1 \
    --gtest_filter='*Safetensors*:*BadIndex*:*Checkpoint*:*Config*:*Mxfp4*:*TokenizerInput*:*TokenizerSpec*' ||
    asan_rc=$?
}
if [ -n "$asan_pid" ]; then
  if wait "$asan_pid"; then
    asan_pid=""
    run_readers_tests "$ASAN_DIR/tests/test_model"
  else
    asan_rc=$?
    asan_pid=""
    echo "test.sh: building the sanitizer tree failed; its log:" >&2
    cat "$asan_log" >&2
  fi
fi
fuzz_rc=0
if [ -n "$fuzz_pid" ]; then
  # The readers' tests as soon as the tree is built (the fuzz runs may still be going).
  while [ ! -f "$fuzz_built" ] && kill -0 "$fuzz_pid" 2>/dev/null; do sleep 1; done
  [ -f "$fuzz_built" ] && run_readers_tests "$FUZZ_DIR/test_readers"
  # The runs' table (the build's log only when the build failed).
  if wait "$fuzz_pid"; then
    fuzz_pid=""
    sed -n '/^== fuzz targets/,$p' "$fuzz_log"
  else
    fuzz_rc=$?
    fuzz_pid=""
    if [ -f "$fuzz_built" ]; then
      sed -n '/^== fuzz targets/,$p' "$fuzz_log"
    else
      echo "test.sh: building the fuzz tree failed; its log:" >&2
      cat "$fuzz_log" >&2
    fi
  fi
fi
[ "$ctest_rc" -eq 0 ] && [ "$asan_rc" -eq 0 ] && [ "$fuzz_rc" -eq 0 ]
