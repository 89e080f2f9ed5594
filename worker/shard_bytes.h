#pragma once
// Checkpoint bytes one rank maps under a parallel layout, from worker::Mapping and the
// tensor sizes of the checkpoint's headers alone (no tensor data is read). Used by
// `gossamer inspect --parallel` to show what each rank of a layout costs in memory.
//
// A slice of a tensor counts its share of the tensor's bytes: q/k/v rows and sinks of
// this rank's heads, the o_proj column slice of its query heads, its experts' MXFP4 blocks,
// scales and biases, its lm_head vocab rows. Norms, router and the o_proj bias are counted
// whole on every rank of the stage; the input embedding whole on stage 0 (as mapped: only
// rows of seen tokens are ever read).
#include <cstdint>
#include <string>

#include "model/checkpoint.h"
#include "worker/mapping.h"

namespace gossamer::worker {

struct ShardBytes {
  uint64_t embedding = 0;  // input embedding (stage 0)
  uint64_t attention = 0;  // q, k, v, o (weights and biases) and sinks: this rank's heads
  uint64_t experts = 0;    // mlp1/mlp2 blocks, scales, biases of this rank's experts
  uint64_t shared = 0;     // per layer, whole on every rank: two norms, router, o_proj bias
  uint64_t lm_head = 0;    // unembedding rows of this rank's vocab slice + final norm
  uint64_t total() const { return embedding + attention + experts + shared + lm_head; }
};

ShardBytes shard_bytes(const model::Checkpoint& checkpoint, const Mapping& mapping);

}  // namespace gossamer::worker
