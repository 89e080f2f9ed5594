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
//
// precision kFast: the tile (GEMM) path quantises the input rows to int8 per block of 32
// and runs vpdpbusd (kernels/cpu/mxfp4_int8.h) when grouped_mxfp4_int8_supported. Experts
// packed at load (Mxfp4Weight::packed, precision fast only) run the int8 kernels of that
// layout: AVX-512 VNNI where supported and allow_avx512, else the AVX2 packed GEMV for
// every row count (kernels/cpu/mxfp4_packed_avx2.cpp). Stored-layout experts (callers that
// did not pack) without AVX-512 VNNI run the exact f32 kernels in fast mode too.
void grouped_mxfp4(ThreadPool& pool, float* y, const float* x, const ExpertGroups& groups,
                   const Mxfp4Weight* weights, const float* bias, const SwigluEpilogue* swiglu,
                   bool allow_avx512 = true, Precision precision = Precision::kExact);

// Whether precision fast gets the int8 kernel here (AVX-512 path chosen, VNNI present).
bool grouped_mxfp4_int8_supported(bool allow_avx512 = true);

}  // namespace gossamer::kernels::cpu
