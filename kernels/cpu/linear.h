#pragma once
#include <cstdint>

#include "kernels/linear.h"

namespace gossamer::kernels::cpu {

// y[n, out] = x[n, in] · W[out, in]ᵀ + bias; W bf16 or f32, f32 accumulation.
void linear(ThreadPool& pool, float* y, const float* x, int64_t n, const DenseWeight& w,
            const float* bias /*[out] or null*/);

// out[n, dim] = f32(table[ids[i], :])
void embedding_lookup(ThreadPool& pool, float* out, const DenseWeight& table,
                      const int32_t* ids /*[n]*/, int64_t n);

}  // namespace gossamer::kernels::cpu
