#pragma once
#include <cstdint>

#include "kernels/grouped_mxfp4.h"

namespace gossamer::kernels::cpu {

struct SwigluEpilogue {
  float alpha = 1.702f, limit = 7.f;
};

// Both variants of kernels/grouped_mxfp4.h; swiglu == nullptr is the plain one.
// Work items are (expert, tile of weight rows). A tile is decoded once into a per-thread
// f32 scratch and then multiplied against every row of its expert by a register-blocked
// micro-kernel; experts with at most a few rows (decode steps) skip the scratch and
// decode in registers instead (the GEMV path). Items are split over the pool by
// estimated cost, so a skewed routing keeps every thread busy. allow_avx512 = false keeps
// the AVX2 micro-kernel on a CPU that has AVX-512 (tests cover both paths).
void grouped_mxfp4(ThreadPool& pool, float* y, const float* x, const ExpertGroups& groups,
                   const Mxfp4Weight* weights, const float* bias, const SwigluEpilogue* swiglu,
                   bool allow_avx512 = true);

}  // namespace gossamer::kernels::cpu
