#pragma once
#include <cstdint>

#include "core/thread_pool.h"

namespace gossamer::kernels::cpu {

// See kernels/moe_combine.h. Tokens are split over the pool; each output element is one
// chain acc = acc + w_s * y_s in slot order, whatever the split.
void moe_combine(ThreadPool& pool, float* out, const float* y, const int32_t* pair_row, const float* weights,
                 int64_t n, int k, int64_t H);
void moe_unpermute(ThreadPool& pool, float* out, const float* y, const int32_t* pair_row, int64_t pairs,
                   int64_t H);

}  // namespace gossamer::kernels::cpu
