#pragma once
// Dense linear layer with bf16 (or f32) weights and f32 activations.
#include <cstdint>

#include "kernels/exec.h"

namespace gossamer::kernels {

// A weight matrix W[out, in] in PyTorch orientation. row_stride (in elements) lets a
// column slice of a bigger matrix (tensor-parallel o_proj) be used without a copy.
struct DenseWeight {
  const void* data = nullptr;
  DType dtype = DType::kBF16;  // kBF16 or kF32
  int64_t out = 0, in = 0;
  int64_t row_stride = 0;      // 0 means `in` (contiguous)
  int64_t stride() const { return row_stride ? row_stride : in; }
};

// y[n, out] = x[n, in] · W[out, in]ᵀ + bias[out]      (bias f32 or nullptr)
// exec.fast(): on CPUs with avx512_bf16, x may be rounded to bf16 (kernels/cpu/linear.h).
void linear(const Exec& exec, float* y, const float* x, int64_t n, const DenseWeight& w,
            const float* bias);

// out[n, dim] = f32(table[ids[i], :])  — embedding lookup, table [rows, dim] bf16/f32
void embedding_lookup(const Exec& exec, float* out, const DenseWeight& table, const int32_t* ids,
                      int64_t n);

}  // namespace gossamer::kernels
