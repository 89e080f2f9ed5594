#!/usr/bin/env bash
# Builds the fuzz tree (clang, libFuzzer + ASan + UBSan; only the readers' libraries) and
# runs each target for N seconds, then prints per target: executions, corpus size, findings.
#   fuzz/run.sh [SECONDS] [TARGET...]     default 600 s, every fuzz/fuzz_*.cpp
#   fuzz/run.sh --build-only [TARGET...]  configure and build, run nothing
# Environment:
#   GOSSAMER_FUZZ_BUILD_DIR   the tree (default build-fuzz/); the grown corpora are kept in
#                             its corpus/<target>/ between runs, findings in findings/<target>/
#   GOSSAMER_FUZZ_CORPUS_DIR  where the grown corpora live instead (scripts/test.sh gives a
#                             fresh one, so its 20 s runs never replay a big corpus first)
#   GOSSAMER_FUZZ_PARALLEL    targets run at once (default 1)
#   GOSSAMER_JOBS             build jobs (default 2)
#   GOSSAMER_TOKENIZER        the gpt-oss tokenizer.json (default .cache/tokenizer-gptoss/)
# Exits non-zero when any target found something (a crash, sanitizer report, leak, timeout
# or out-of-memory); the reproducer is named in the table and stays in findings/<target>/.
# Re-run one with: build-fuzz/fuzz/fuzz_<target> <file>
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_ONLY=0
if [ "${1:-}" = --build-only ]; then
  BUILD_ONLY=1
  shift
fi
SECONDS_EACH=600
if [ $BUILD_ONLY = 0 ] && [ $# -gt 0 ]; then
  SECONDS_EACH=$1
  shift
fi
BUILD=${GOSSAMER_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
PARALLEL=${GOSSAMER_FUZZ_PARALLEL:-1}
CORPUS=${GOSSAMER_FUZZ_CORPUS_DIR:-$BUILD/corpus}
export GOSSAMER_TOKENIZER=${GOSSAMER_TOKENIZER:-$ROOT/.cache/tokenizer-gptoss/tokenizer.json}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in fuzz/fuzz_*.cpp; do
    t=$(basename "$src" .cpp)
    targets+=("${t#fuzz_}")
  done
fi

if [ ! -f "$BUILD/build.ninja" ]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DGOSSAMER_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" "${launcher[@]}" >/dev/null
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
cmake --build "$BUILD" -j "${GOSSAMER_JOBS:-2}" --target "${build_targets[@]}"
[ $BUILD_ONLY = 0 ] || exit 0

if [ ! -f "$GOSSAMER_TOKENIZER" ]; then
  echo "fuzz/run.sh: no tokenizer at $GOSSAMER_TOKENIZER (scripts/setup.sh fetches it)" >&2
  exit 2
fi

# -timeout: an input that takes this long is a finding (a quadratic path a client could
# hit); -rss_limit_mb likewise for memory. Leaks are findings (detect_leaks=1).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
run_one() {
  local t=$1 work=$CORPUS/$1 found=$BUILD/findings/$1 log=$BUILD/logs/$1.log
  mkdir -p "$work" "$found" "$BUILD/logs"
  rm -f "$found"/* "$BUILD/logs/$t.cpu"
  local rc=0
  # CPU seconds beside the wall clock: at nice 19 on a busy box a target may get a tenth of a core.
  local timer=()
  [ -x /usr/bin/time ] && timer=(/usr/bin/time -f '%U %S' -o "$BUILD/logs/$t.cpu")
  "${timer[@]}" "$BUILD/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$found/" "$work" "$ROOT/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  echo "$rc" >"$BUILD/logs/$t.rc"
}

pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$PARALLEL" ]; then
    wait "${pids[0]}"
    pids=("${pids[@]:1}")
  fi
done
wait

status=0
printf '%-16s %8s %8s %12s %8s %9s  %s\n' target seconds cpu_s executions corpus findings reproducer
for t in "${targets[@]}"; do
  log=$BUILD/logs/$t.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  corpus=$(find "$CORPUS/$t" -type f | wc -l)
  findings=$(find "$BUILD/findings/$t" -type f | wc -l)
  rc=$(cat "$BUILD/logs/$t.rc")
  repro=$(find "$BUILD/findings/$t" -type f | head -1)
  if [ "$rc" -ne 0 ] && [ "$findings" -eq 0 ]; then findings=1; repro="exit $rc, see $log"; fi
  cpu=$(tail -1 "$BUILD/logs/$t.cpu" 2>/dev/null | awk 'NF == 2 { printf "%.0f", $1 + $2 }')
  printf '%-16s %8s %8s %12s %8s %9s  %s\n' "$t" "${secs:-?}" "${cpu:-?}" "${execs:-?}" "$corpus" "$findings" "$repro"
  [ "$findings" -eq 0 ] || status=1
done
exit $status
