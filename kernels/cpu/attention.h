#pragma once
#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/attention.h"

namespace gossamer::kernels::cpu {

void kv_cache_write(ThreadPool& pool, const KvCacheView& kv, const float* k /*[nt, n_kv, d]*/,
                    const float* v /*[nt, n_kv, d]*/, const int32_t* pos /*[nt]*/, int64_t nt,
                    const AttentionShape& shape);

// out[nt, n_heads, d]; see kernels/attention.h.
void attention_sink(ThreadPool& pool, float* out, const float* q /*[nt, n_heads, d]*/,
                    const int32_t* q_pos /*[nt]*/, int64_t nt, const KvCacheView& kv,
                    const float* sinks /*[n_heads]*/, const AttentionShape& shape);

}  // namespace gossamer::kernels::cpu
