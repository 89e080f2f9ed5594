#include "kernels/ref/rmsnorm.h"

#include <cmath>

namespace gossamer::kernels::ref {

void rmsnorm(float* y, const float* x, const float* gain, int64_t n, int64_t dim, float eps) {
  for (int64_t t = 0; t < n; ++t) {
    const float* xr = x + t * dim;
    double ss = 0;
    for (int64_t i = 0; i < dim; ++i) ss += double(xr[i]) * xr[i];
    double inv = 1.0 / std::sqrt(ss / double(dim) + double(eps));
    float* yr = y + t * dim;
    for (int64_t i = 0; i < dim; ++i) yr[i] = static_cast<float>(xr[i] * inv * gain[i]);
  }
}

}  // namespace gossamer::kernels::ref
