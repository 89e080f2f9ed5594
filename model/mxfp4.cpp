#include "model/mxfp4.h"

#include <cmath>

#include "core/error.h"
#include "core/mxfp4.h"

namespace gossamer::model {

void mxfp4_decode_row(const uint8_t* blocks, const uint8_t* scales, int64_t in, float* out) {
  GOSSAMER_CHECK(in % kMxfp4BlockSize == 0, "row length {} is not a multiple of 32", in);
  for (int64_t g = 0; g < in / kMxfp4BlockSize; ++g) {
    const uint8_t* block = blocks + g * kMxfp4BytesPerBlock;
    float scale = e8m0_to_f32(scales[g]);
    for (int j = 0; j < kMxfp4BlockSize; ++j) out[g * kMxfp4BlockSize + j] = kFp4Values[fp4_code(block, j)] * scale;
  }
}

void mxfp4_decode_matrix(const uint8_t* blocks, const uint8_t* scales, int64_t rows, int64_t in, float* out) {
  const int64_t nb = in / kMxfp4BlockSize;
  for (int64_t r = 0; r < rows; ++r)
    mxfp4_decode_row(blocks + r * nb * kMxfp4BytesPerBlock, scales + r * nb, in, out + r * in);
}

uint8_t fp4_encode(float v) {
  // Midpoints between consecutive magnitudes {0, .5, 1, 1.5, 2, 3, 4, 6}; at an exact
  // midpoint the even code (0, 2, 4, 6) wins.
  static constexpr float kMid[7] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f};
  uint8_t sign = std::signbit(v) ? 8 : 0;
  float a = std::fabs(v);
  if (std::isnan(a)) return 0;
  uint8_t code = 0;
  while (code < 7 && (a > kMid[code] || (a == kMid[code] && (code & 1) == 1))) ++code;
  if (code == 0) return 0;  // ±0 both encode as +0
  return static_cast<uint8_t>(sign | code);
}

void mxfp4_quantize_row(const float* x, int64_t in, uint8_t* blocks, uint8_t* scales) {
  GOSSAMER_CHECK(in % kMxfp4BlockSize == 0, "row length {} is not a multiple of 32", in);
  for (int64_t g = 0; g < in / kMxfp4BlockSize; ++g) {
    const float* v = x + g * kMxfp4BlockSize;
    float amax = 0.0f;
    for (int j = 0; j < kMxfp4BlockSize; ++j) amax = std::fmax(amax, std::fabs(v[j]));
    int e = -127;
    if (amax > 0.0f && std::isfinite(amax)) {
      // smallest e with amax / 2^e <= 6
      int ex;
      std::frexp(amax / 6.0f, &ex);  // amax/6 = m * 2^ex, m in [0.5, 1)
      e = ex;
      if (std::ldexp(6.0f, e - 1) >= amax) e -= 1;  // exact powers of two
    }
    if (e < -127) e = -127;
    if (e > 127) e = 127;
    scales[g] = static_cast<uint8_t>(e + 127);
    float inv = std::ldexp(1.0f, -e);
    uint8_t* out = blocks + g * kMxfp4BytesPerBlock;
    for (int j = 0; j < kMxfp4BlockSize; j += 2) {
      uint8_t lo = fp4_encode(v[j] * inv), hi = fp4_encode(v[j + 1] * inv);
      out[j / 2] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

}  // namespace gossamer::model
