#pragma once
// Causal attention with per-head sinks, optional sliding window and GQA, over a paged
// KV cache (GPT-OSS.md §5.3).
#include <cstdint>

#include "kernels/exec.h"

namespace gossamer::kernels {

// The KV cache of one layer for one sequence. Storage is shared by all sequences:
//   k, v [num_blocks, block_size, n_kv_heads, head_dim] f32
// block_table maps a sequence's logical block (position / block_size) to a physical block.
struct KvCacheView {
  float* k = nullptr;
  float* v = nullptr;
  int64_t block_size = 0;
  const int32_t* block_table = nullptr;
};

struct AttentionShape {
  int n_heads = 0;      // query heads (this rank's)
  int n_kv_heads = 0;   // key/value heads (this rank's); n_heads % n_kv_heads == 0
  int head_dim = 0;
  int window = 0;       // 0 = full causal; W = the current token and the W-1 before it
  float sm_scale = 0;   // 1/sqrt(head_dim)
};

// k, v [nt, n_kv_heads, head_dim] are stored at positions pos[nt].
void kv_cache_write(const Exec& exec, const KvCacheView& kv, const float* k, const float* v,
                    const int32_t* pos, int64_t nt, const AttentionShape& shape);

// One sequence: out[nt, n_heads, head_dim] for queries q[nt, n_heads, head_dim] at
// positions q_pos[nt]; each attends to cached positions s <= q_pos (and q_pos - s < window).
// sinks[n_heads] f32: one extra logit per head in the softmax denominator, no value.
void attention_sink(const Exec& exec, float* out, const float* q, const int32_t* q_pos,
                    int64_t nt, const KvCacheView& kv, const float* sinks,
                    const AttentionShape& shape);

}  // namespace gossamer::kernels
