#pragma once
#include <cstdint>

namespace gossamer::kernels::ref {

void add_inplace(float* y /*[n]*/, const float* x /*[n]*/, int64_t n);
void axpy(float* y /*[n]*/, float a, const float* x /*[n]*/, int64_t n);

}  // namespace gossamer::kernels::ref
