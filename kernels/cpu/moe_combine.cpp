#include "kernels/cpu/moe_combine.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace gossamer::kernels::cpu {
namespace {

// Rows per parallel chunk: ~64 KB of output each.
int64_t row_grain(int64_t H) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, H)); }

}  // namespace

void moe_combine(ThreadPool& pool, float* out, const float* y, const int32_t* pair_row, const float* weights,
                 int64_t n, int k, int64_t H) {
  pool.parallel_for(n, row_grain(H), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      float* o = out + t * H;
      std::memset(o, 0, sizeof(float) * size_t(H));
      for (int s = 0; s < k; ++s) {
        const int64_t p = t * k + s;
        const int64_t row = pair_row ? pair_row[p] : p;
        if (row < 0) continue;
        const float* src = y + row * H;
        const float w = weights[p];
        const __m256 wv = _mm256_set1_ps(w);
        int64_t c = 0;
        for (; c + 8 <= H; c += 8)
          _mm256_storeu_ps(o + c, _mm256_fmadd_ps(wv, _mm256_loadu_ps(src + c), _mm256_loadu_ps(o + c)));
        for (; c < H; ++c) o[c] = std::fma(w, src[c], o[c]);
      }
    }
  });
}

void moe_unpermute(ThreadPool& pool, float* out, const float* y, const int32_t* pair_row, int64_t pairs,
                   int64_t H) {
  pool.parallel_for(pairs, row_grain(H), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      if (pair_row[p] < 0)
        std::memset(out + p * H, 0, sizeof(float) * size_t(H));
      else
        std::memcpy(out + p * H, y + int64_t{pair_row[p]} * H, sizeof(float) * size_t(H));
    }
  });
}

}  // namespace gossamer::kernels::cpu
