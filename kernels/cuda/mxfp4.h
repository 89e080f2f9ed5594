#pragma once
// MXFP4 expert matmuls on CUDA (kernels/grouped_mxfp4.h, kernels/mxfp4_linear.h have the
// contracts). Weights are decoded in registers; only experts with rows are read, so a
// decode step reads the k selected experts and nothing else.
#include <cstdint>

#include "kernels/grouped_mxfp4.h"

namespace gossamer::kernels::cuda {

// At most this many groups per call (the pointers travel in the kernel arguments).
inline constexpr int kMaxExpertGroups = 128;

// groups.offsets and groups.row_index are device pointers; `weights` is a host array of
// views whose blocks/scales are device pointers, all with the same stride.
// swiglu == nullptr: grouped_mxfp4_linear; else the fused SwiGLU variant.
struct SwigluParams {
  float alpha, limit;
};
void grouped_mxfp4(void* stream, float* y, const float* x, const ExpertGroups& groups, const Mxfp4Weight* weights,
                   const float* bias, const SwigluParams* swiglu);

// y[n, out] = x · Wᵀ + bias, one expert (device pointers).
void mxfp4_linear(void* stream, float* y, const float* x, int64_t n, const Mxfp4Weight& w, const float* bias);

}  // namespace gossamer::kernels::cuda
