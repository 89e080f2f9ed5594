#pragma once
// Batched (variable-length) paged attention on the CPU; see kernels/attention.h.
#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/attention.h"

namespace gossamer::kernels::cpu {

// The widest head the tile kernel keeps a row of in its scratch.
constexpr int kVarlenMaxHeadDim = 256;

// Arguments already checked by kernels/attention_varlen.cpp (every touched block exists).
void kv_cache_write_varlen(ThreadPool& pool, const PagedKv& kv, const float* k, const float* v,
                           const VarlenBatch& batch, const AttentionShape& shape);

void attention_varlen(ThreadPool& pool, float* out, const float* q, const PagedKv& kv,
                      const VarlenBatch& batch, const float* sinks, const AttentionShape& shape);

}  // namespace gossamer::kernels::cpu
