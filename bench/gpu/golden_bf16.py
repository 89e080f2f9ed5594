#!/usr/bin/env python3
"""The bf16 tier of tests/data/tiny/golden/manifest.json (tolerances.bf16_engine) for one
engine configuration: runs `gossamer eval-logits` on every golden sequence (prompt plus
the golden greedy continuation, teacher-forced) and compares the logits with the fp32
golden files. Pure standard library (no numpy on a fresh GPU machine).

  golden_bf16.py GOSSAMER_BINARY OUT_DIR [--layout hf|original] [extra eval-logits args, e.g. --device cuda]

--layout picks the checkpoint layout of the tiny model (manifest "layouts": model/ or
model/original/); the default is hf.

Passes (exit 0) when, over all positions of all sequences:
  median and p90 of the per-position max |logit error| are within the tier's values,
  argmax agreement >= the tier's floor, mean KL(golden || engine) <= the tier's bound,
  and in every sequence the first bf16_strict_greedy_prefix generated tokens are the
  golden greedy ones. Prints one JSON line with the figures (the last line of output).
"""
import array
import ast
import json
import math
import os
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
GOLDEN = os.path.join(ROOT, "tests", "data", "tiny", "golden")


def read_f32(path, count):
    data = array.array("f")
    with open(path, "rb") as f:
        data.fromfile(f, count)
    if sys.byteorder != "little":
        data.byteswap()
    return data


def read_npy_f32(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:6] != b"\x93NUMPY":
        raise SystemExit(f"{path}: not a .npy file")
    major = raw[6]
    header_len = int.from_bytes(raw[8:10], "little") if major == 1 else int.from_bytes(raw[8:12], "little")
    start = (10 if major == 1 else 12) + header_len
    header = ast.literal_eval(raw[(10 if major == 1 else 12):start].decode("latin1"))
    if header["descr"] != "<f4" or header["fortran_order"]:
        raise SystemExit(f"{path}: want little-endian float32 C order, got {header}")
    data = array.array("f")
    data.frombytes(raw[start:])
    return data, tuple(header["shape"])


def log_softmax(row):
    mx = max(row)
    lse = mx + math.log(sum(math.exp(v - mx) for v in row))
    return [v - lse for v in row]


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    binary, out_dir, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    layout = "hf"
    if len(extra) >= 2 and extra[0] == "--layout":
        layout = extra[1]
        extra = extra[2:]
    os.makedirs(out_dir, exist_ok=True)
    manifest = json.load(open(os.path.join(GOLDEN, "manifest.json")))
    tier = manifest["tolerances"]["bf16_engine"]
    model = os.path.join(GOLDEN, "..", manifest["layouts"][layout])
    max_errs, agree, kls, greedy_fail = [], [], [], []
    for seq in manifest["sequences"]:
        tokens = seq["tokens"]
        rows, vocab = seq["logits_shape"]
        out = os.path.join(out_dir, f"p{seq['id']}.npy")
        cmd = [binary, "eval-logits", "--model", model, "--layout", layout, "--tokens", ",".join(map(str, tokens)), "--out", out] + extra
        subprocess.run(cmd, check=True)
        got, shape = read_npy_f32(out)
        if shape != (rows, vocab):
            raise SystemExit(f"sequence {seq['id']}: eval-logits wrote {shape}, golden is {(rows, vocab)}")
        want = read_f32(os.path.join(GOLDEN, seq["files"]["ref_fp32"]), rows * vocab)
        for t in range(rows):
            g = got[t * vocab:(t + 1) * vocab]
            w = want[t * vocab:(t + 1) * vocab]
            max_errs.append(max(abs(a - b) for a, b in zip(g, w)))
            g_arg = max(range(vocab), key=lambda i: (g[i], -i))
            w_arg = max(range(vocab), key=lambda i: (w[i], -i))
            agree.append(g_arg == w_arg)
            lp, lq = log_softmax(w), log_softmax(g)
            kls.append(sum(math.exp(p) * (p - q) for p, q in zip(lp, lq)))
        # Greedy: row prompt_len - 1 + j predicts generated token j.
        for j in range(seq["bf16_strict_greedy_prefix"]):
            t = seq["prompt_len"] - 1 + j
            g = got[t * vocab:(t + 1) * vocab]
            if max(range(vocab), key=lambda i: (g[i], -i)) != seq["greedy"][j]:
                greedy_fail.append(f"sequence {seq['id']} generated token {j}")
    srt = sorted(max_errs)
    median = srt[len(srt) // 2]
    p90 = srt[min(len(srt) - 1, int(0.9 * len(srt)))]
    agreement = sum(agree) / len(agree)
    mean_kl = sum(kls) / len(kls)
    checks = {
        "median_max_abs": (median, median <= tier["median_over_positions_of_per_position_max_abs"]),
        "p90_max_abs": (p90, p90 <= tier["p90_over_positions_of_per_position_max_abs"]),
        "argmax_agreement": (agreement, agreement >= tier["argmax_agreement_over_all_positions_at_least"]),
        "mean_kl": (mean_kl, mean_kl <= tier["mean_kl_golden_to_engine_at_most"]),
        "greedy_prefix": (len(greedy_fail), not greedy_fail),
    }
    for name, (value, ok) in checks.items():
        print(f"  {name:18s} {value:.6g}  {'ok' if ok else 'FAIL'}")
    for what in greedy_fail:
        print(f"  greedy differs: {what}")
    passed = all(ok for _, ok in checks.values())
    print(json.dumps({"golden_bf16_pass": passed, "layout": layout, "positions": len(max_errs),
                      **{k: v for k, (v, _) in checks.items()}}))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
