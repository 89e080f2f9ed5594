#!/usr/bin/env bash
# Tokenizer encode throughput, single thread: Gossamer vs js-tiktoken, side by side.
#   bench/tokenizer/run.sh [corpus_mb]        (default 20)
# Builds a corpus of the 207 golden texts (edge cases, code, 20+ scripts, emoji,
# whitespace runs) repeated to >= corpus_mb MB, one {"text": ...} per line; each
# implementation encodes every text as plain text, one warm-up pass then the best of N
# timed passes. Both must produce the same ids (token count and an FNV-1a hash of all
# ids are compared). Prints a table and writes bench/results/tokenizer.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
MB=${1:-20}
BUILD_DIR=${GOSSAMER_BUILD_DIR:-$ROOT/build}
TOKENIZER=${GOSSAMER_TOKENIZER:-$ROOT/.cache/tokenizer-gptoss/tokenizer.json}
RUNS=${GOSSAMER_BENCH_RUNS:-3}
JS_RUNS=${GOSSAMER_BENCH_JS_RUNS:-2}
OUT_DIR=$ROOT/bench/results
WORK=$ROOT/.cache/bench-tokenizer
mkdir -p "$OUT_DIR" "$WORK"

[ -f "$TOKENIZER" ] || { echo "run scripts/setup.sh first: $TOKENIZER is missing" >&2; exit 1; }

# js-tiktoken (its o200k_base ranks ship inside the package), pinned, into .cache/.
JS_DIR=$ROOT/.cache/js-tiktoken
if [ ! -f "$JS_DIR/node_modules/js-tiktoken/package.json" ]; then
  mkdir -p "$JS_DIR"
  (cd "$JS_DIR" && npm install --silent --no-audit --no-fund --prefix . js-tiktoken@1.0.21 >/dev/null)
fi

if [ ! -x "$BUILD_DIR/bench/tokenizer_bench" ]; then
  [ -f "$BUILD_DIR/build.ninja" ] || cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" --target tokenizer_bench -j "${GOSSAMER_JOBS:-2}"
fi

CORPUS=$WORK/corpus_${MB}mb.jsonl
if [ ! -f "$CORPUS" ]; then
  python3 - "$ROOT/tests/data/tokenizer/encode_cases.jsonl" "$CORPUS" "$MB" <<'PY'
import json, sys
src, dst, mb = sys.argv[1], sys.argv[2], float(sys.argv[3])
texts = [json.loads(l)["text"] for l in open(src, encoding="utf-8") if l.strip()]
texts = [t for t in texts if t]
target, n = int(mb * 1e6), 0
with open(dst, "w", encoding="utf-8") as out:
    while n < target:
        for t in texts:
            out.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
            n += len(t.encode("utf-8"))
PY
fi

echo "corpus: $CORPUS ($(du -h "$CORPUS" | cut -f1)); machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
OURS=$("$BUILD_DIR/bench/tokenizer_bench" --tokenizer "$TOKENIZER" --corpus "$CORPUS" --runs "$RUNS")
JS=$(node "$ROOT/bench/tokenizer/js_tiktoken_bench.mjs" "$JS_DIR/node_modules" "$CORPUS" "$JS_RUNS")

python3 - "$OURS" "$JS" "$OUT_DIR/tokenizer.json" "$CORPUS" <<'PY'
import json, os, platform, subprocess, sys, time
ours, js, dst, corpus = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
same = ours["tokens"] == js["tokens"] and ours["ids_fnv1a"] == js["ids_fnv1a"]
speedup = ours["mb_per_s"] / js["mb_per_s"]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print()
print(f"{'implementation':<28}{'MB/s':>10}{'seconds':>10}{'tokens':>12}")
print(f"{'gossamer (C++, PCRE2 JIT)':<28}{ours['mb_per_s']:>10.2f}{ours['best_seconds']:>10.3f}{ours['tokens']:>12}")
print(f"{'js-tiktoken ' + js['version'] + ' (' + js['node'] + ')':<28}{js['mb_per_s']:>10.2f}{js['best_seconds']:>10.3f}{js['tokens']:>12}")
print(f"speed-up: {speedup:.1f}x (goal >= 5x); identical ids: {'yes' if same else 'NO'}")
result = {
    "benchmark": "tokenizer_encode_single_thread",
    "corpus": {"path": os.path.relpath(corpus), "bytes": ours["bytes"], "texts": ours["texts"],
               "source": "tests/data/tokenizer/encode_cases.jsonl repeated"},
    "machine": {"cpu": cpu, "cores": os.cpu_count(), "loadavg": open("/proc/loadavg").read().split()[:3]},
    "gossamer": ours, "js_tiktoken": js, "speedup": speedup, "identical_ids": same,
    "command": "bench/tokenizer/run.sh", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
}
json.dump(result, open(dst, "w"), indent=2)
print(f"wrote {os.path.relpath(dst)}")
sys.exit(0 if same else 1)
PY
