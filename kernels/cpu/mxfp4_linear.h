#pragma once
#include <cstdint>

#include "kernels/mxfp4_linear.h"

namespace gossamer::kernels::cpu {

// y[n, out] = x[n, in] · W[out, in]ᵀ + bias with W decoded block by block inside the
// dot product (16-entry LUT x e8m0 scale); the matrix is never dequantized.
void mxfp4_linear(ThreadPool& pool, float* y, const float* x, int64_t n, const Mxfp4Weight& w,
                  const float* bias /*[out] or null*/);

}  // namespace gossamer::kernels::cpu
