#pragma once
#include <cstdint>

namespace gossamer::kernels::ref {

// y[n, dim] = x / sqrt(mean(x²) + eps) * gain[dim], mean in double. y may alias x.
void rmsnorm(float* y, const float* x, const float* gain /*[dim]*/, int64_t n, int64_t dim,
             float eps);

}  // namespace gossamer::kernels::ref
