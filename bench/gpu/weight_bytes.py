#!/usr/bin/env python3
"""Bytes of weights one batch-1 decode token reads, from a checkpoint's safetensors
headers: every tensor once, except the token embedding (one row) and the MoE experts
(only experts_per_token of num_local_experts per layer). Prints one JSON line.

  weight_bytes.py MODEL_DIR
"""
import glob
import json
import os
import struct
import sys


def main():
    model = sys.argv[1]
    cfg = json.load(open(os.path.join(model, "config.json")))
    k = cfg.get("experts_per_token", cfg.get("num_experts_per_tok"))
    experts = cfg["num_local_experts"]
    total = dense = expert = embed = 0
    for path in sorted(glob.glob(os.path.join(model, "*.safetensors"))):
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
        for name, info in header.items():
            if name == "__metadata__":
                continue
            size = info["data_offsets"][1] - info["data_offsets"][0]
            total += size
            if "embed_tokens" in name or name.endswith("embedding.weight"):
                embed += size
            elif ".experts." in name or "mlp1_weight" in name or "mlp2_weight" in name or "mlp1_bias" in name \
                    or "mlp2_bias" in name:
                expert += size
            else:
                dense += size
    per_token = dense + expert * k / experts
    print(json.dumps({"checkpoint_bytes": total, "dense_bytes": dense, "expert_bytes": expert,
                      "embedding_bytes": embed, "experts_per_token": k, "num_local_experts": experts,
                      "decode_bytes_per_token": per_token}))


if __name__ == "__main__":
    main()
