// The paged K/V write of the batched attention (kernels/attention.h), CPU: each token's
// row of all KV heads goes to its position's block; a bf16 cache (Precision::kFast) gets
// the values rounded to nearest even, as core/dtype.h's f32_to_bf16 and the oracle do.
#include <algorithm>
#include <cstring>

#include "core/dtype.h"
#include "kernels/cpu/attention_varlen.h"

namespace gossamer::kernels::cpu {
namespace {

inline void round_bf16(const float* src, int64_t n, uint16_t* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_bf16(src[i]).bits;
}

}  // namespace

void kv_cache_write_varlen(ThreadPool& pool, const PagedKv& kv, const float* k, const float* v,
                           const VarlenBatch& batch, const AttentionShape& shape) {
  struct Write {
    const PagedKv* kv;
    const float *k, *v;
    const VarlenBatch* batch;
    int64_t row;  // floats of one position: all KV heads
  } w{&kv, k, v, &batch, int64_t(shape.n_kv_heads) * shape.head_dim};
  pool.parallel_for(batch.n_tokens, 16, [c = &w](int64_t b, int64_t e) {
    const VarlenBatch& bt = *c->batch;
    const int64_t bs = c->kv->block_size;
    // The sequence of token b: the last whose first row is <= b.
    int64_t seq = std::upper_bound(bt.seq_offsets, bt.seq_offsets + bt.n_seqs + 1, int32_t(b)) - bt.seq_offsets - 1;
    for (int64_t t = b; t < e; ++t) {
      while (t >= bt.seq_offsets[seq + 1]) ++seq;
      const int32_t* table = bt.block_tables + bt.block_table_offsets[seq];
      const int64_t pos = bt.positions[t];
      const int64_t dst = (int64_t(table[pos / bs]) * bs + pos % bs) * c->row;
      if (c->kv->dtype == DType::kBF16) {
        round_bf16(c->k + t * c->row, c->row, static_cast<uint16_t*>(c->kv->k) + dst);
        round_bf16(c->v + t * c->row, c->row, static_cast<uint16_t*>(c->kv->v) + dst);
        continue;
      }
      std::memcpy(static_cast<float*>(c->kv->k) + dst, c->k + t * c->row, sizeof(float) * size_t(c->row));
      std::memcpy(static_cast<float*>(c->kv->v) + dst, c->v + t * c->row, sizeof(float) * size_t(c->row));
    }
  });
}

}  // namespace gossamer::kernels::cpu
