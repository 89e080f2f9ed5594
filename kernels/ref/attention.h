#pragma once
#include <cstdint>

#include "kernels/attention.h"

namespace gossamer::kernels::ref {

// Address of row (position, kv head) in a paged cache: physical block
// block_table[pos / block_size], row pos % block_size.
int64_t kv_offset(const KvCacheView& kv, int64_t pos, int64_t kv_head,
                  const AttentionShape& shape);

void kv_cache_write(const KvCacheView& kv, const float* k /*[nt, n_kv, d]*/,
                    const float* v /*[nt, n_kv, d]*/, const int32_t* pos /*[nt]*/, int64_t nt,
                    const AttentionShape& shape);

// Plain softmax with the sink appended as an extra column, in double (docs/MODEL.md, "Attention").
void attention_sink(float* out /*[nt, n_heads, d]*/, const float* q /*[nt, n_heads, d]*/,
                    const int32_t* q_pos /*[nt]*/, int64_t nt, const KvCacheView& kv,
                    const float* sinks /*[n_heads]*/, const AttentionShape& shape);

// The batched ops (kernels/attention.h), one sequence at a time through the oracles above:
// a -1 block a query can see still throws.
void kv_cache_write_varlen(const PagedKv& kv, const float* k, const float* v,
                           const VarlenBatch& batch, const AttentionShape& shape);
void attention_varlen(float* out, const float* q, const PagedKv& kv, const VarlenBatch& batch,
                      const float* sinks, const AttentionShape& shape);

}  // namespace gossamer::kernels::ref
