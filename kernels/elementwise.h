#pragma once
#include <cstdint>

#include "kernels/exec.h"

namespace gossamer::kernels {

// y[i] += x[i], i < n
void add_inplace(const Exec& exec, float* y, const float* x, int64_t n);
// y[i] += a * x[i], i < n
void axpy(const Exec& exec, float* y, float a, const float* x, int64_t n);

}  // namespace gossamer::kernels
