#pragma once
#include <cstdint>

namespace gossamer::kernels::cuda {

// Device pointers.
void add_inplace(void* stream, float* y /*[n]*/, const float* x /*[n]*/, int64_t n);
void axpy(void* stream, float* y /*[n]*/, float a, const float* x /*[n]*/, int64_t n);

}  // namespace gossamer::kernels::cuda
