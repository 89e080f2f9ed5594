#include "kernels/ref/rope.h"

#include <cmath>

namespace gossamer::kernels::ref {

void rope_apply(float* x, const int32_t* pos, int64_t n, int64_t heads, const RopeTable& table) {
  const int64_t d = table.head_dim, half = d / 2;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t h = 0; h < heads; ++h) {
      float* v = x + (t * heads + h) * d;
      for (int64_t i = 0; i < half; ++i) {
        double a = double(pos[t]) * table.inv_freq[size_t(i)];
        double c = std::cos(a) * table.concentration, s = std::sin(a) * table.concentration;
        double x1 = v[i], x2 = v[i + half];
        v[i] = static_cast<float>(x1 * c - x2 * s);
        v[i + half] = static_cast<float>(x2 * c + x1 * s);
      }
    }
  }
}

}  // namespace gossamer::kernels::ref
