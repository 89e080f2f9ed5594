#include "kernels/ref/linear.h"

#include <vector>

#include "core/dtype.h"

namespace gossamer::kernels::ref {

float dense_at(const DenseWeight& w, int64_t r, int64_t c) {
  int64_t i = r * w.stride() + c;
  if (w.dtype == DType::kBF16) return bf16_to_f32(static_cast<const bf16*>(w.data)[i]);
  return static_cast<const float*>(w.data)[i];
}

void linear(float* y, const float* x, int64_t n, const DenseWeight& w, const float* bias) {
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < w.out; ++r) {
      double acc = bias ? bias[r] : 0.0;
      for (int64_t c = 0; c < w.in; ++c) acc += double(x[t * w.in + c]) * dense_at(w, r, c);
      y[t * w.out + r] = static_cast<float>(acc);
    }
  }
}

void linear_bf16_x(float* y, const float* x, int64_t n, const DenseWeight& w, const float* bias) {
  std::vector<float> rounded(size_t(n * w.in));
  for (size_t i = 0; i < rounded.size(); ++i) rounded[i] = bf16_to_f32(f32_to_bf16(x[i]));
  linear(y, rounded.data(), n, w, bias);
}

void embedding_lookup(float* out, const DenseWeight& table, const int32_t* ids, int64_t n) {
  for (int64_t t = 0; t < n; ++t)
    for (int64_t c = 0; c < table.in; ++c) out[t * table.in + c] = dense_at(table, ids[t], c);
}

}  // namespace gossamer::kernels::ref
