#pragma once
// MXFP4 primitives shared by the checkpoint reader and the kernels (docs/MODEL.md, "MXFP4"):
// 4-bit e2m1 codes, two per byte (even element in the low nibble), one e8m0 scale byte
// (2^(s-127)) per 32 consecutive values along the contraction axis.
#include <cmath>
#include <cstdint>

namespace gossamer {

constexpr int kMxfp4BlockSize = 32;        // values per scale
constexpr int kMxfp4BytesPerBlock = 16;    // 32 nibbles

// e2m1 code -> value; code 8 is -0.
inline constexpr float kFp4Values[16] = {+0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f, +4.0f, +6.0f,
                                         -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

// e8m0 scale byte -> 2^(s - 127). 255 is not special-cased, as in the reference decoder.
inline float e8m0_to_f32(uint8_t s) { return std::ldexp(1.0f, static_cast<int>(s) - 127); }

// Element j (0..31) of one 16-byte block.
inline uint8_t fp4_code(const uint8_t* block, int j) {
  uint8_t b = block[j >> 1];
  return (j & 1) ? static_cast<uint8_t>(b >> 4) : static_cast<uint8_t>(b & 0x0f);
}

}  // namespace gossamer
