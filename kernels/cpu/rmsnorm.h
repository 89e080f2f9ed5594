#pragma once
#include <cstdint>

#include "core/thread_pool.h"

namespace gossamer::kernels::cpu {

// y[n, dim] = x / sqrt(mean(x²) + eps) * gain[dim]   (y may alias x)
void rmsnorm(ThreadPool& pool, float* y, const float* x, const float* gain, int64_t n, int64_t dim,
             float eps);

}  // namespace gossamer::kernels::cpu
