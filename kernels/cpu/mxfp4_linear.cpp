// MXFP4 linear, CPU. Twice every e2m1 value is a small integer (0, 1, 2, 3, 4, 6, 8, 12
// and negatives), so one vpshufb per 16 nibbles turns codes into int8 "2x values", which
// widen to f32 exactly. The dot product of a 32-element block is formed on those and
// multiplied once by scale/2 (a power of two, so exact). Each decoded block feeds up to
// 4 tokens, so for a small batch the decode cost is shared.
#include "kernels/cpu/mxfp4_linear.h"

#include <immintrin.h>

#include <algorithm>
#include <array>

#include "core/mxfp4.h"
#include "kernels/cpu/mxfp4_avx2.h"

namespace gossamer::kernels::cpu {
namespace {

// One row against T tokens.
template <int T>
void row_tokens(const Mxfp4Weight& w, int64_t r, const float* x, int64_t t0, float* y,
                const float* bias) {
  const auto& st = mxfp4_scale_table();
  const int64_t nb = w.in / kMxfp4BlockSize, in = w.in;
  const uint8_t* blocks = w.blocks + r * w.stride() * kMxfp4BytesPerBlock;
  const uint8_t* scales = w.scales + r * w.stride();
  __m256 acc[T][2];  // unrolled below so they live in registers
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  for (int64_t g = 0; g < nb; ++g) {
    __m256 v[4];
    mxfp4_decode_block_x2(blocks + g * kMxfp4BytesPerBlock, v);
    const __m256 half_scale = _mm256_set1_ps(0.5f * st[scales[g]]);
    if constexpr (T == 1) {
      // One token: scale the block's partial dot product once.
      const float* xp = x + t0 * in + g * kMxfp4BlockSize;
      __m256 p = _mm256_mul_ps(v[0], _mm256_loadu_ps(xp));
      __m256 q = _mm256_mul_ps(v[1], _mm256_loadu_ps(xp + 8));
      p = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(xp + 16), p);
      q = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(xp + 24), q);
      acc[0][g & 1] = _mm256_fmadd_ps(_mm256_add_ps(p, q), half_scale, acc[0][g & 1]);
    } else {
      // Several tokens: scale the decoded values once, then plain FMAs per token.
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) v[i] = _mm256_mul_ps(v[i], half_scale);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const float* xp = x + (t0 + t) * in + g * kMxfp4BlockSize;
        acc[t][0] = _mm256_fmadd_ps(v[0], _mm256_loadu_ps(xp), acc[t][0]);
        acc[t][1] = _mm256_fmadd_ps(v[1], _mm256_loadu_ps(xp + 8), acc[t][1]);
        acc[t][0] = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(xp + 16), acc[t][0]);
        acc[t][1] = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(xp + 24), acc[t][1]);
      }
    }
  }
  for (int t = 0; t < T; ++t)
    y[(t0 + t) * w.out + r] = hsum8(_mm256_add_ps(acc[t][0], acc[t][1])) + (bias ? bias[r] : 0.f);
}

}  // namespace

void mxfp4_linear(ThreadPool& pool, float* y, const float* x, int64_t n, const Mxfp4Weight& w,
                  const float* bias) {
  if (n <= 0 || w.out <= 0) return;
  // A row is in/32 * 17 bytes; tiles of ~128 KB stay in L2 while every token passes.
  const int64_t row_bytes = (w.in / kMxfp4BlockSize) * (kMxfp4BytesPerBlock + 1);
  const int64_t tile_rows = std::max<int64_t>(1, 128 * 1024 / std::max<int64_t>(1, row_bytes));
  const int64_t grain = std::max<int64_t>(1, std::min<int64_t>(tile_rows, w.out / (pool.size() * 4)));
  pool.parallel_for(w.out, grain, [&](int64_t b, int64_t e) {
    for (int64_t rb = b; rb < e; rb += tile_rows) {
      const int64_t re = std::min(e, rb + tile_rows);
      int64_t t = 0;
      for (; t + 4 <= n; t += 4)
        for (int64_t r = rb; r < re; ++r) row_tokens<4>(w, r, x, t, y, bias);
      for (int64_t r = rb; r < re && n - t > 0; ++r) {
        switch (n - t) {
          case 3: row_tokens<3>(w, r, x, t, y, bias); break;
          case 2: row_tokens<2>(w, r, x, t, y, bias); break;
          default: row_tokens<1>(w, r, x, t, y, bias); break;
        }
      }
    }
  });
}

}  // namespace gossamer::kernels::cpu
