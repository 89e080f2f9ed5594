#include "kernels/ref/moe_combine.h"

namespace gossamer::kernels::ref {

void moe_combine(float* out, const float* y, const int32_t* pair_row, const float* weights, int64_t n, int k,
                 int64_t H) {
  for (int64_t t = 0; t < n; ++t)
    for (int64_t c = 0; c < H; ++c) {
      double acc = 0;
      for (int s = 0; s < k; ++s) {
        const int64_t p = t * k + s;
        const int64_t row = pair_row ? pair_row[p] : p;
        if (row >= 0) acc += double(weights[p]) * y[row * H + c];
      }
      out[t * H + c] = float(acc);
    }
}

void moe_unpermute(float* out, const float* y, const int32_t* pair_row, int64_t pairs, int64_t H) {
  for (int64_t p = 0; p < pairs; ++p)
    for (int64_t c = 0; c < H; ++c) out[p * H + c] = pair_row[p] < 0 ? 0.f : y[int64_t{pair_row[p]} * H + c];
}

}  // namespace gossamer::kernels::ref
