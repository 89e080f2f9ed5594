#pragma once
// Scalar oracle for the dense linear layer and the embedding lookup (double accumulation).
#include <cstdint>

#include "kernels/linear.h"

namespace gossamer::kernels::ref {

// Element (r, c) of a dense weight as f32 (bf16 widened exactly).
float dense_at(const DenseWeight& w, int64_t r, int64_t c);

void linear(float* y /*[n, out]*/, const float* x /*[n, in]*/, int64_t n, const DenseWeight& w,
            const float* bias /*[out] or null*/);

// Precision::kFast's dense linear where the CPU rounds activations (avx512_bf16): x
// rounded to bf16 (nearest even) first, then the double-accumulated linear above.
void linear_bf16_x(float* y /*[n, out]*/, const float* x /*[n, in]*/, int64_t n, const DenseWeight& w,
                   const float* bias /*[out] or null*/);

void embedding_lookup(float* out /*[n, dim]*/, const DenseWeight& table /*[rows, dim]*/,
                      const int32_t* ids /*[n]*/, int64_t n);

}  // namespace gossamer::kernels::ref
