// RoPE, CPU. cos/sin are computed once per token (in double, via RopeTable::cos_sin,
// because f32 angles drift by pos * 2^-24 rad) and reused for every head.
#include "kernels/cpu/rope.h"

#include <vector>

namespace gossamer::kernels::cpu {

void rope_apply(ThreadPool& pool, float* x, const int32_t* pos, int64_t n, int64_t heads,
                const RopeTable& table) {
  const int64_t d = table.head_dim, half = d / 2;
  pool.parallel_for(n, 1, [&](int64_t b, int64_t e) {
    std::vector<float> cs(static_cast<size_t>(half)), sn(static_cast<size_t>(half));
    for (int64_t t = b; t < e; ++t) {
      table.cos_sin(pos[t], cs.data(), sn.data());
      for (int64_t h = 0; h < heads; ++h) {
        float* v = x + (t * heads + h) * d;
        for (int64_t i = 0; i < half; ++i) {  // vectorizes: no dependence across i
          float x1 = v[i], x2 = v[i + half];
          v[i] = x1 * cs[size_t(i)] - x2 * sn[size_t(i)];
          v[i + half] = x2 * cs[size_t(i)] + x1 * sn[size_t(i)];
        }
      }
    }
  });
}

}  // namespace gossamer::kernels::cpu
