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

namespace gossamer::kernels::cpu {
namespace {

// 2^(s - 127) for every scale byte, so the hot loop does a load, not an ldexp.
const std::array<float, 256>& scale_table() {
  static const std::array<float, 256> t = [] {
    std::array<float, 256> a{};
    for (int s = 0; s < 256; ++s) a[size_t(s)] = e8m0_to_f32(uint8_t(s));
    return a;
  }();
  return t;
}

// Decodes one 16-byte block into 32 floats (2x the e2m1 values) in v[0..3].
inline void decode_block(const uint8_t* blk, __m256 (&v)[4]) {
  const __m128i lut2 = _mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk));
  const __m128i lo = _mm_shuffle_epi8(lut2, _mm_and_si128(b, _mm_set1_epi8(0x0f)));
  const __m128i hi = _mm_shuffle_epi8(lut2, _mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(0x0f)));
  // Element j: low nibble of byte j/2 when j is even, high nibble when odd.
  const __m128i e0 = _mm_unpacklo_epi8(lo, hi);  // elements 0..15
  const __m128i e1 = _mm_unpackhi_epi8(lo, hi);  // elements 16..31
  v[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(e0));
  v[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(e0, 8)));
  v[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(e1));
  v[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(e1, 8)));
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// One row against T tokens.
template <int T>
void row_tokens(const Mxfp4Weight& w, int64_t r, const float* x, int64_t t0, float* y,
                const float* bias) {
  const auto& st = scale_table();
  const int64_t nb = w.in / kMxfp4BlockSize, in = w.in;
  const uint8_t* blocks = w.blocks + r * w.stride() * kMxfp4BytesPerBlock;
  const uint8_t* scales = w.scales + r * w.stride();
  __m256 acc[T][2];  // unrolled below so they live in registers
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  for (int64_t g = 0; g < nb; ++g) {
    __m256 v[4];
    decode_block(blocks + g * kMxfp4BytesPerBlock, v);
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
    y[(t0 + t) * w.out + r] = hsum(_mm256_add_ps(acc[t][0], acc[t][1])) + (bias ? bias[r] : 0.f);
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
