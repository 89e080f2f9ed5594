#!/usr/bin/env python3
"""Merges the pieces of one bench/gpu/run.sh run into one table and one JSON file.

  report.py WORK_DIR OUT_JSON

WORK_DIR holds: bandwidth.json (copy_bandwidth), weights.json (weight_bytes.py),
golden-*.json (golden_bf16.py last lines), decode-b<B>.json and prefill-2k.json
(`gossamer bench --json-out`), gpumem.csv (nvidia-smi memory.used samples, MiB) and
meta.json. Roofline = copy bandwidth / bytes one batch-1 decode token reads.
"""
import glob
import json
import os
import re
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    work, out = sys.argv[1], sys.argv[2]
    meta = load(os.path.join(work, "meta.json"))
    bw = load(os.path.join(work, "bandwidth.json"))
    weights = load(os.path.join(work, "weights.json"))
    golden = [load(p) for p in sorted(glob.glob(os.path.join(work, "golden-*.json")))]
    decode = {}
    for p in glob.glob(os.path.join(work, "decode-b*.json")):
        batch = int(re.search(r"decode-b(\d+)\.json$", p).group(1))
        decode[batch] = load(p)
    prefill = load(os.path.join(work, "prefill-2k.json"))
    samples = []
    with open(os.path.join(work, "gpumem.csv")) as f:
        for line in f:
            line = line.strip()
            if line.isdigit():
                samples.append(int(line))
    bytes_per_token = weights["decode_bytes_per_token"]
    roofline_copy = bw["copy_GBps"] * 1e9 / bytes_per_token
    roofline_read = bw["read_GBps"] * 1e9 / bytes_per_token
    # Time to first token of one 2k prompt: its prefill (the bench's own figure when it
    # reports one, else prompt tokens / prefill tok/s at batch 1).
    ttft = prefill.get("ttft_seconds") or prefill["prompt_tokens"] / prefill["prefill_tokens_per_s"]
    peak_gpu = max((d.get("peak_gpu_bytes", 0) for d in list(decode.values()) + [prefill]), default=0)
    result = {
        "gpu": bw["gpu"],
        "when_utc": meta["when_utc"],
        "commit": meta["commit"],
        "model_dir": meta["model_dir"],
        "device_copy_GBps": bw["copy_GBps"],
        "device_read_GBps": bw["read_GBps"],
        "decode_bytes_per_token": bytes_per_token,
        "roofline_batch1_tokens_per_s": roofline_copy,
        "roofline_batch1_tokens_per_s_read": roofline_read,
        "golden_bf16": golden,
        "decode_tokens_per_s": {str(b): decode[b]["decode_tokens_per_s"] for b in sorted(decode)},
        "batch1_fraction_of_roofline": decode[1]["decode_tokens_per_s"] / roofline_copy if 1 in decode else None,
        "prefill_2k_tokens_per_s": prefill["prefill_tokens_per_s"],
        "ttft_2k_seconds": ttft,
        "peak_gpu_memory_bytes_sampled": max(samples, default=0) * 1048576,
        "peak_gpu_memory_bytes_reported": peak_gpu or None,
        "bench_runs": {"decode": {str(b): decode[b] for b in sorted(decode)}, "prefill_2k": prefill},
    }
    rows = [
        ("GPU", bw["gpu"]),
        ("device copy bandwidth", f"{bw['copy_GBps']:.0f} GB/s (read-only kernel {bw['read_GBps']:.0f} GB/s)"),
        ("weights read per batch-1 token", f"{bytes_per_token / 1e9:.3f} GB"),
        ("batch-1 roofline", f"{roofline_copy:.0f} tok/s (copy bw), {roofline_read:.0f} tok/s (read bw)"),
        ("golden bf16 tier", ", ".join(f"{g['layout']}: {'pass' if g['golden_bf16_pass'] else 'FAIL'}" for g in golden)),
    ]
    for b in sorted(decode):
        extra = f" ({100 * result['batch1_fraction_of_roofline']:.0f}% of roofline)" if b == 1 else ""
        rows.append((f"decode batch {b}", f"{decode[b]['decode_tokens_per_s']:.1f} tok/s{extra}"))
    rows += [
        ("prefill 2k tokens", f"{prefill['prefill_tokens_per_s']:.0f} tok/s"),
        ("time to first token (2k prompt)", f"{ttft * 1000:.1f} ms"),
        ("peak GPU memory (nvidia-smi)", f"{max(samples, default=0) / 1024:.2f} GiB"),
    ]
    print("| figure | value |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
