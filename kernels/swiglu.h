#pragma once
#include <cstdint>

#include "kernels/exec.h"

namespace gossamer::kernels {

// gpt-oss gated unit over interleaved gate/up (gate = even, up = odd columns):
//   gate = min(gate, limit); up = clamp(up, -limit, limit)
//   out[n, I] = gate * sigmoid(alpha * gate) * (up + 1)
void swiglu_clamped(const Exec& exec, float* out, const float* gate_up /*[n, 2I]*/, int64_t n,
                    int64_t intermediate, float alpha, float limit);

}  // namespace gossamer::kernels
