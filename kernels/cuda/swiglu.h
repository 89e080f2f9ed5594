#pragma once
#include <cstdint>

namespace gossamer::kernels::cuda {

// Device pointers. out[n, I] from interleaved gate_up[n, 2I]; see kernels/swiglu.h.
void swiglu_clamped(void* stream, float* out, const float* gate_up, int64_t n,
                    int64_t intermediate, float alpha, float limit);

}  // namespace gossamer::kernels::cuda
