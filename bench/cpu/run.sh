#!/usr/bin/env bash
# bench/cpu/run.sh: the CPU engine against this machine's memory bandwidth, in one run, on
# the synthetic gpt-oss-20b (created if missing):
#   1. read bandwidth with the bench threads (build/bench/membw): the decode roofline is
#      bandwidth / 3.71 GB (the bytes one decoded token reads: 4 of 32 experts per layer
#      in MXFP4, attention and unembedding in bf16; docs/PERFORMANCE.md);
#   2. `gossamer bench`: prefill of a 512-token prompt, then 128 decoded tokens (batch 1),
#      peak RSS and load time;
#   3. the same with 16 sequences decoding together (aggregate tokens/s);
#   steps 2 and 3 run for each precision in PRECISIONS (default "exact fast").
# Prints one table and writes bench/results/cpu-run.json.
#
#   bench/cpu/run.sh                         # 2 threads, model in .cache/bench-cpu/gpt-oss-20b
#   MODEL=/path/to/gpt-oss-20b THREADS=4 bench/cpu/run.sh
#   GOSSAMER_CPU_ISA=avx2 bench/cpu/run.sh   # the AVX2 path on an AVX-512 machine
#   GOSSAMER_CPU_ISA=avx2 GOSSAMER_AVX_VNNI=0 bench/cpu/run.sh   # ... as on AVX2 CPUs without AVX-VNNI
#   PRECISIONS=fast bench/cpu/run.sh         # one precision only
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${GOSSAMER_BUILD_DIR:-$PWD/build}
THREADS=${THREADS:-2}
MODEL=${MODEL:-$PWD/.cache/bench-cpu/gpt-oss-20b}
OUT=$PWD/bench/results
# The 20b's bytes per decoded token; set BYTES_PER_TOKEN for another model (the roofline
# row means nothing otherwise).
BYTES_PER_TOKEN=${BYTES_PER_TOKEN:-3.71e9}
PRECISIONS=${PRECISIONS:-exact fast}
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -x "$BUILD/gossamer" ] && [ -x "$BUILD/bench/membw" ] || scripts/setup.sh gossamer membw
if [ ! -f "$MODEL/config.json" ]; then
  echo "bench/cpu: writing the synthetic gpt-oss-20b to $MODEL (13.8 GB, once)"
  "$BUILD/gossamer" --log-level warn synth --preset gpt-oss-20b --out "$MODEL"
fi

echo "bench/cpu: read bandwidth, $THREADS threads"
"$BUILD/bench/membw" --threads "$THREADS" | tee "$tmp/membw.txt"

# Both precisions (runtime.precision): exact keeps fp32 activations (golden fp32 tier),
# fast uses bf16/int8 activations and a bf16 KV cache (golden bf16 tier).
# Batch 16 first: in precision fast the first start on a checkpoint packs the experts into
# the cache (worker/packed_experts.h, once), so batch 1's load is the warm one.
for precision in $PRECISIONS; do
  # --max-context 256: the KV pool holds what the 16 sequences use (64 + 64 tokens), not
  # 16 x 4096 tokens faulted in at start (6.4 GB in f32), so the RSS row measures the engine.
  echo "bench/cpu: $precision, batch 16 (prompt 64 each, decode 64)"
  "$BUILD/gossamer" bench --model "$MODEL" --threads "$THREADS" --precision "$precision" --prompt-tokens 64 \
    --decode-tokens 64 --batch 16 --max-context 256 --label "cpu-$precision-batch16" \
    --json-out "$tmp/$precision-batch16.json" | tail -3
  echo "bench/cpu: $precision, batch 1 (prompt 512, decode 128)"
  "$BUILD/gossamer" bench --model "$MODEL" --threads "$THREADS" --precision "$precision" --prompt-tokens 512 \
    --decode-tokens 128 --label "cpu-$precision-batch1" --json-out "$tmp/$precision-batch1.json" | tail -3
done

python3 - "$tmp" "$OUT/cpu-run.json" "$BYTES_PER_TOKEN" "$THREADS" "$PRECISIONS" <<'PY'
import json, os, platform, re, subprocess, sys, time
tmp, out, bytes_per_token, threads = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
precisions = sys.argv[5].split()
m = re.search(r"median ([0-9.]+) GB/s, best ([0-9.]+) GB/s", open(f"{tmp}/membw.txt").read())
if not m:
    sys.exit("bench/cpu: could not read membw's output")
bw_median, bw_best = float(m.group(1)), float(m.group(2))
runs = {p: (json.load(open(f"{tmp}/{p}-batch1.json")), json.load(open(f"{tmp}/{p}-batch16.json"))) for p in precisions}
roofline = bw_median * 1e9 / bytes_per_token
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
flags = sorted({f for l in open("/proc/cpuinfo") if l.startswith("flags") for f in l.split(":", 1)[1].split()
                if f.startswith(("avx512", "avx2", "avx_vnni", "fma", "amx"))})
def per_precision(fmt):
    return [fmt(*runs[p]) for p in precisions]
rows = [
    ("read bandwidth (median / best)", [f"{bw_median:.1f} / {bw_best:.1f} GB/s"] * len(precisions), ""),
    ("decode roofline (median bandwidth / 3.71 GB)", [f"{roofline:.2f} tok/s"] * len(precisions), ""),
    ("prefill, 512-token prompt", per_precision(lambda b1, b16: f"{b1['prefill_tokens_per_s']:.1f} tok/s"),
     ">= 70 tok/s"),
    ("decode, batch 1", per_precision(lambda b1, b16: f"{b1['decode_tokens_per_s']:.2f} tok/s"), ">= 11 tok/s"),
    ("decode / roofline", per_precision(lambda b1, b16: f"{b1['decode_tokens_per_s'] / roofline:.0%}"), ">= 90%"),
    ("decode, batch 16 (aggregate)", per_precision(lambda b1, b16: f"{b16['decode_tokens_per_s']:.2f} tok/s"), ""),
    ("batch 16 / batch 1",
     per_precision(lambda b1, b16: f"{b16['decode_tokens_per_s'] / b1['decode_tokens_per_s']:.1f}x"), ">= 6x"),
    ("peak RSS (batch 1)", per_precision(lambda b1, b16: f"{b1['peak_rss_bytes'] / 2**30:.2f} GiB"), "<= 13 GiB"),
    ("peak RSS (batch 16)", per_precision(lambda b1, b16: f"{b16['peak_rss_bytes'] / 2**30:.2f} GiB"), ""),
    ("load (warm, incl. preparing weights)", per_precision(lambda b1, b16: f"{b1['load_seconds']:.1f} s"), "<= 5 s"),
]
# The kernel path asked for (kernels/cpu/isa.h): the best the CPU has unless forced.
path = {k: os.environ.get(k, "") for k in ("GOSSAMER_CPU_ISA", "GOSSAMER_AVX_VNNI")}
path_text = " ".join(f"{k}={v}" for k, v in path.items() if v) or "auto (best the CPU has)"
print(f"\nCPU: {cpu}, {threads} threads; flags: {' '.join(flags)}; kernel path: {path_text}")
print(f"| {'measure':<46} | " + " | ".join(f"{p:>18}" for p in precisions) + f" | {'target':>12} |")
print(f"|{'-' * 48}|" + "|".join("-" * 20 for _ in precisions) + f"|{'-' * 14}|")
for name, values, target in rows:
    print(f"| {name:<46} | " + " | ".join(f"{v:>18}" for v in values) + f" | {target:>12} |")
json.dump({"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpu": cpu, "flags": flags, "kernel_path": path,
           "threads": threads, "read_bandwidth_gb_s": {"median": bw_median, "best": bw_best},
           "bytes_per_token": bytes_per_token, "decode_roofline_tok_s": roofline,
           "precisions": {p: {"decode_fraction_of_roofline": runs[p][0]["decode_tokens_per_s"] / roofline,
                              "batch16_over_batch1": runs[p][1]["decode_tokens_per_s"] / runs[p][0]["decode_tokens_per_s"],
                              "batch1": runs[p][0], "batch16": runs[p][1]} for p in precisions}},
          open(out, "w"), indent=2)
print(f"wrote {out}")
PY
