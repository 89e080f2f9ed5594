#pragma once
// Paged KV write and variable-length attention on CUDA (kernels/attention.h has the
// contract). Every pointer, the VarlenBatch index arrays included, is a device pointer;
// the f32 cache layout is the CPU's.
#include <cstdint>

#include "kernels/attention.h"

namespace gossamer::kernels::cuda {

inline constexpr int kAttentionMaxHeadDim = 256;

// Rows whose table entry is not a block in [0, num_blocks) are skipped (the host cannot
// check device tables without a synchronisation; the CPU backend does).
void kv_cache_write_varlen(void* stream, const PagedKv& kv, const float* k, const float* v, const VarlenBatch& batch,
                           const AttentionShape& shape);

// head_dim <= 256. A key whose table entry is not a real block counts as masked.
void attention_varlen(void* stream, float* out, const float* q, const PagedKv& kv, const VarlenBatch& batch,
                      const float* sinks, const AttentionShape& shape);

}  // namespace gossamer::kernels::cuda
