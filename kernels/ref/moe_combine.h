#pragma once
#include <cstdint>

namespace gossamer::kernels::ref {

// Scalar oracles of kernels/moe_combine.h (double accumulation, slot order).
void moe_combine(float* out, const float* y, const int32_t* pair_row, const float* weights, int64_t n, int k,
                 int64_t H);
void moe_unpermute(float* out, const float* y, const int32_t* pair_row, int64_t pairs, int64_t H);

}  // namespace gossamer::kernels::ref
