#include "kernels/ref/swiglu.h"

#include <algorithm>
#include <cmath>

namespace gossamer::kernels::ref {

void swiglu_clamped(float* out, const float* gate_up, int64_t n, int64_t intermediate,
                    float alpha, float limit) {
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < intermediate; ++i) {
      double g = std::min<double>(gate_up[t * 2 * intermediate + 2 * i], limit);  // above only
      double u = std::clamp<double>(gate_up[t * 2 * intermediate + 2 * i + 1], -limit, limit);
      double sig = 1.0 / (1.0 + std::exp(-double(alpha) * g));
      out[t * intermediate + i] = float(g * sig * (u + 1.0));
    }
}

}  // namespace gossamer::kernels::ref
