#pragma once
// Causal attention with per-head sinks, optional sliding window and GQA, over a paged
// KV cache (docs/MODEL.md, "Attention").
#include <cstdint>

#include "core/dtype.h"
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

// ---- Variable-length batched attention: one call per layer for a whole step ----------
// Prefill chunks and decodes of many sequences in one call. Everything is flat int32
// arrays and raw storage (no pointer-to-pointer), so a GPU backend can take the same
// arguments.

// The paged K/V storage of one layer, shared by all sequences:
//   k, v [num_blocks, block_size, n_kv_heads, head_dim] of `dtype`.
// kF32 everywhere; kBF16 (Precision::kFast's cache, half the bytes) on the CPU only:
// writes round to bf16 (nearest even), reads widen exactly and compute in f32.
struct PagedKv {
  void* k = nullptr;
  void* v = nullptr;
  DType dtype = DType::kF32;
  int64_t num_blocks = 0;
  int64_t block_size = 0;
};

// One step's tokens grouped by sequence.
//   positions[n_tokens]            position of each token row in its sequence
//   seq_offsets[n_seqs + 1]        sequence i owns token rows [seq_offsets[i], seq_offsets[i+1])
//   block_tables[...]              every sequence's block table (logical -> physical), concatenated
//   block_table_offsets[n_seqs+1]  sequence i's table is block_tables[off[i], off[i+1])
// A table must cover every position the sequence writes or reads. Entries of blocks no
// query of the step can see may be kNoBlock (-1, worker/kv_pools.h): kernels never touch them.
struct VarlenBatch {
  int64_t n_tokens = 0;
  int64_t n_seqs = 0;
  const int32_t* positions = nullptr;
  const int32_t* seq_offsets = nullptr;
  const int32_t* block_tables = nullptr;
  const int32_t* block_table_offsets = nullptr;
};

// Writes k, v [n_tokens, n_kv_heads, head_dim] f32 at each token's position of its sequence.
void kv_cache_write_varlen(const Exec& exec, const PagedKv& kv, const float* k, const float* v,
                           const VarlenBatch& batch, const AttentionShape& shape);

// out[n_tokens, n_heads, head_dim] for q[n_tokens, n_heads, head_dim]: each token attends
// to the cached positions s of its sequence with s <= pos (and pos - s < window), the
// step's own rows included (write them first). sinks[n_heads] as in attention_sink.
void attention_varlen(const Exec& exec, float* out, const float* q, const PagedKv& kv,
                      const VarlenBatch& batch, const float* sinks, const AttentionShape& shape);

}  // namespace gossamer::kernels
