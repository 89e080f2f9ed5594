#pragma once
#include <cstdint>

#include "kernels/exec.h"

namespace gossamer::kernels {

// y[n, dim] = x / sqrt(mean(x²) + eps) * gain[dim]   (y may alias x)
void rmsnorm(const Exec& exec, float* y, const float* x, const float* gain, int64_t n, int64_t dim,
             float eps);

}  // namespace gossamer::kernels
