#pragma once
#include <cstdint>

namespace gossamer::kernels::cuda {

// Device pointers. y[n, dim] = x / sqrt(mean(x²) + eps) * gain[dim]; y may alias x.
void rmsnorm(void* stream, float* y, const float* x, const float* gain, int64_t n, int64_t dim,
             float eps);

}  // namespace gossamer::kernels::cuda
