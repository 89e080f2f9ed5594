// RoPE, CPU. cos/sin are computed once per token (in double, via RopeTable::cos_sin,
// because f32 angles drift by pos * 2^-24 rad) and reused for every head.
#include "kernels/cpu/rope.h"

#include "core/error.h"

namespace gossamer::kernels::cpu {

void rope_apply(ThreadPool& pool, float* x, const int32_t* pos, int64_t n, int64_t heads,
                const RopeTable& table) {
  const int64_t d = table.head_dim, half = d / 2;
  // On the stack: a decode step calls this twice per layer, and it must not allocate.
  constexpr int64_t kMaxHalf = 256;
  GOSSAMER_CHECK(half <= kMaxHalf, "rope_apply: head_dim {} above {}", d, 2 * kMaxHalf);
  pool.parallel_for(n, 1, [&](int64_t b, int64_t e) {
    float cs[kMaxHalf], sn[kMaxHalf];
    for (int64_t t = b; t < e; ++t) {
      table.cos_sin(pos[t], cs, sn);
      for (int64_t h = 0; h < heads; ++h) {
        float* v = x + (t * heads + h) * d;
        for (int64_t i = 0; i < half; ++i) {  // vectorizes: no dependence across i
          float x1 = v[i], x2 = v[i + half];
          v[i] = x1 * cs[i] - x2 * sn[i];
          v[i + half] = x2 * cs[i] + x1 * sn[i];
        }
      }
    }
  });
}

}  // namespace gossamer::kernels::cpu
