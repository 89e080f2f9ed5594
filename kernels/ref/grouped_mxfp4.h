#pragma once
#include <cstdint>

#include "kernels/grouped_mxfp4.h"

namespace gossamer::kernels::ref {

// Scalar oracles of kernels/grouped_mxfp4.h: per group, ref::mxfp4_linear row by row
// (double accumulation), then ref::swiglu_clamped for the fused variant.
void grouped_mxfp4_linear(float* y, const float* x, const ExpertGroups& groups, const Mxfp4Weight* weights,
                          const float* bias);
void grouped_mxfp4_swiglu(float* y, const float* x, const ExpertGroups& groups, const Mxfp4Weight* weights,
                          const float* bias, float alpha, float limit);

}  // namespace gossamer::kernels::ref
