#pragma once
// Linear layer over one expert's MXFP4 weights, decoded on the fly (never dequantized
// into a full copy).
#include <cstdint>

#include "kernels/exec.h"

namespace gossamer::kernels {

// One expert matrix W[out, in], in % 32 == 0.
//   blocks [out, blocks_stride, 16] u8 — element c of row r is nibble (c%32) of block c/32
//   scales [out, blocks_stride]     u8 — e8m0
// blocks_stride (0 = in/32) lets a column slice at block granularity be a view.
struct Mxfp4Weight {
  const uint8_t* blocks = nullptr;
  const uint8_t* scales = nullptr;
  int64_t out = 0, in = 0;
  int64_t blocks_stride = 0;
  // Precision fast (CPU): the same matrix repacked at load for the int8
  // expert kernels (layout: kernels/cpu/mxfp4_int8.h), which then read only this;
  // blocks/scales stay valid views of the stored bytes.
  const uint8_t* packed = nullptr;
  int64_t stride() const { return blocks_stride ? blocks_stride : in / 32; }
};

// y[n, out] = x[n, in] · W[out, in]ᵀ + bias[out]      (bias f32 or nullptr)
void mxfp4_linear(const Exec& exec, float* y, const float* x, int64_t n, const Mxfp4Weight& w,
                  const float* bias);

}  // namespace gossamer::kernels
