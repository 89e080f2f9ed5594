#include "kernels/ref/mxfp4_linear.h"

#include "core/mxfp4.h"

namespace gossamer::kernels::ref {

float mxfp4_at(const Mxfp4Weight& w, int64_t r, int64_t c) {
  int64_t g = c / kMxfp4BlockSize;
  const uint8_t* block = w.blocks + (r * w.stride() + g) * kMxfp4BytesPerBlock;
  uint8_t code = fp4_code(block, static_cast<int>(c % kMxfp4BlockSize));
  return kFp4Values[code] * e8m0_to_f32(w.scales[r * w.stride() + g]);
}

void mxfp4_dequantize(float* out, const Mxfp4Weight& w) {
  for (int64_t r = 0; r < w.out; ++r)
    for (int64_t c = 0; c < w.in; ++c) out[r * w.in + c] = mxfp4_at(w, r, c);
}

void mxfp4_linear(float* y, const float* x, int64_t n, const Mxfp4Weight& w, const float* bias) {
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < w.out; ++r) {
      double acc = bias ? bias[r] : 0.0;
      for (int64_t c = 0; c < w.in; ++c) acc += double(x[t * w.in + c]) * mxfp4_at(w, r, c);
      y[t * w.out + r] = static_cast<float>(acc);
    }
  }
}

}  // namespace gossamer::kernels::ref
