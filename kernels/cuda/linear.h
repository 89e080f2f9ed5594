#pragma once
// Dense linear layer and embedding gather on CUDA (kernels/linear.h has the contract).
#include <cstdint>

#include "kernels/linear.h"

namespace gossamer::kernels::cuda {

// Device pointers. n <= 8: a GEMV kernel (one warp per output row, f32 accumulation over
// bf16/f32 weights, x read at full f32 precision). n > 8: cuBLAS, with x rounded to bf16
// for bf16 weights (bf16 activations, f32 accumulation), f32 SGEMM for f32 weights.
void linear(void* stream, float* y, const float* x, int64_t n, const DenseWeight& w, const float* bias);

// out[n, dim] = table[ids[i]]; an id outside [0, rows) yields a row of NaN (the host
// cannot check ids it does not hold, and NaN makes the error visible downstream).
void embedding_lookup(void* stream, float* out, const DenseWeight& table, const int32_t* ids, int64_t n);

}  // namespace gossamer::kernels::cuda
