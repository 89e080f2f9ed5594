#pragma once
#include <cstdint>

namespace gossamer::kernels::ref {

// out[n, I] from interleaved gate_up[n, 2I] (gate even, up odd):
// docs/MODEL.md, "Experts: clamped SwiGLU".
void swiglu_clamped(float* out, const float* gate_up, int64_t n, int64_t intermediate,
                    float alpha, float limit);

}  // namespace gossamer::kernels::ref
