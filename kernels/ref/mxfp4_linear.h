#pragma once
// Scalar oracle for the MXFP4 linear layer, straight from docs/MODEL.md, "MXFP4".
#include <cstdint>

#include "kernels/mxfp4_linear.h"

namespace gossamer::kernels::ref {

// M[r, c] = FP4(code) * 2^(scale - 127)
float mxfp4_at(const Mxfp4Weight& w, int64_t r, int64_t c);

// Dequantizes the whole matrix: out[w.out, w.in] f32. For tests and tools only; the
// kernels never materialize this.
void mxfp4_dequantize(float* out, const Mxfp4Weight& w);

void mxfp4_linear(float* y /*[n, out]*/, const float* x /*[n, in]*/, int64_t n,
                  const Mxfp4Weight& w, const float* bias /*[out] or null*/);

}  // namespace gossamer::kernels::ref
