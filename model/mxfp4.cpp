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
  // Count the midpoints between consecutive magnitudes {0, .5, 1, 1.5, 2, 3, 4, 6} that
  // |v| passes. At an exact midpoint the even code (0, 2, 4, 6) wins: strict > before an
  // odd code, >= before an even one. Branch-free, so the synth loop vectorizes.
  float a = std::fabs(v);
  if (!(a == a)) return 0;  // NaN
  uint8_t code = static_cast<uint8_t>((a > 0.25f) + (a >= 0.75f) + (a > 1.25f) + (a >= 1.75f) + (a > 2.5f) +
                                      (a >= 3.5f) + (a > 5.0f));
  return code == 0 ? 0 : static_cast<uint8_t>(code | (std::signbit(v) ? 8 : 0));  // ±0 both encode as +0
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
