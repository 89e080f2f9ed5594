#include "kernels/cpu/swiglu.h"

#include <algorithm>
#include <cmath>

namespace gossamer::kernels::cpu {

void swiglu_clamped(ThreadPool& pool, float* out, const float* gate_up, int64_t n,
                    int64_t intermediate, float alpha, float limit) {
  const int64_t total = n * intermediate;
  pool.parallel_for(total, 4096, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const float g = std::min(gate_up[2 * k], limit);  // gate: clamped above only
      const float u = std::clamp(gate_up[2 * k + 1], -limit, limit);
      out[k] = g / (1.0f + std::exp(-alpha * g)) * (u + 1.0f);
    }
  });
}

}  // namespace gossamer::kernels::cpu
