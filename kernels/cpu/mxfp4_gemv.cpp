// MXFP4 GEMV for decode steps, AVX2 (kernels/cpu/mxfp4_gemv.h). Twice every e2m1 value is
// a small integer, so a vpshufb per 16 nibbles gives int8 "2x values" that widen to f32
// exactly; the block's partial dot product is scaled once by scale/2 (a power of two).
#include "kernels/cpu/mxfp4_gemv.h"

#include <immintrin.h>

#include "kernels/cpu/mxfp4_avx2.h"

namespace gossamer::kernels::cpu {
namespace {

// Bytes ahead of the current block that each row prefetches, once per line. Without it the
// decode GEMV read its experts from DRAM at 7.8 GB/s; with 1 KB 9.2 and with 4 KB 11.1, its
// compute limit (11.4 GB/s with the weights in L3; bench_kernels, GOSSAMER_CPU_ISA=avx2).
constexpr int64_t kPrefetchBytes = 4096;

// v[0], v[1]: the even elements 0..14 and 16..30 of one block; v[2], v[3]: the odd ones.
inline void decode_split_x2(const uint8_t* blk, __m256 (&v)[4]) {
  const __m128i lut2 = _mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk));
  const __m128i even = _mm_shuffle_epi8(lut2, _mm_and_si128(b, _mm_set1_epi8(0x0f)));
  const __m128i odd = _mm_shuffle_epi8(lut2, _mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(0x0f)));
  v[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(even));
  v[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(even, 8)));
  v[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(odd));
  v[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(odd, 8)));
}

// NR rows from r against T tokens. Two accumulators per (row, token), alternating by
// block, so the FMA chains overlap.
template <int NR, int T>
void rows(const Mxfp4GemvJob& j, int64_t r, int64_t r_begin) {
  __m256 acc[NR][T][2];
#pragma GCC unroll 8
  for (int k = 0; k < NR * T; ++k) acc[k / T][k % T][0] = acc[k / T][k % T][1] = _mm256_setzero_ps();
  for (int64_t g = 0; g < j.nb; ++g) {
#pragma GCC unroll 2
    for (int i = 0; i < NR; ++i) {
      const int64_t at = (r + i) * j.stride + g;
      if ((g & 3) == 0) _mm_prefetch(reinterpret_cast<const char*>(j.blocks + at * 16) + kPrefetchBytes, _MM_HINT_T0);
      __m256 v[4];
      decode_split_x2(j.blocks + at * 16, v);
      const __m256 half_scale = _mm256_set1_ps(0.5f * j.scale_table[j.scales[at]]);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const float* xp = j.xs[t] + g * 32;
        __m256 p = _mm256_mul_ps(v[0], _mm256_loadu_ps(xp));
        __m256 q = _mm256_mul_ps(v[1], _mm256_loadu_ps(xp + 8));
        p = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(xp + 16), p);
        q = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(xp + 24), q);
        acc[i][t][g & 1] = _mm256_fmadd_ps(_mm256_add_ps(p, q), half_scale, acc[i][t][g & 1]);
      }
    }
  }
  for (int i = 0; i < NR; ++i)
    for (int t = 0; t < T; ++t)
      j.res[t * j.res_ld + (r + i - r_begin)] = hsum8(_mm256_add_ps(acc[i][t][0], acc[i][t][1]));
}

template <int T>
void rows_for_tokens(const Mxfp4GemvJob& j, int64_t r_begin, int64_t r_end) {
  // Two rows at a time up to 3 tokens (2 x 3 x 2 accumulators and 4 decoded vectors fill
  // the 16 registers), one row at 4. 4 tokens here beat the decoded tile: bench_kernels,
  // exact, GOSSAMER_CPU_ISA=avx2, 32 experts x 4 rows 57 -> 65 GFLOP/s.
  constexpr int kRows = T <= 3 ? 2 : 1;
  int64_t r = r_begin;
  for (; r + kRows <= r_end; r += kRows) rows<kRows, T>(j, r, r_begin);
  if (r < r_end) rows<1, T>(j, r, r_begin);
}

}  // namespace

void mxfp4_split_input(const float* x, int64_t in, float* dst) {
  for (int64_t b = 0; b < in; b += 32)
    for (int j = 0; j < 16; ++j) {
      dst[b + j] = x[b + 2 * j];
      dst[b + 16 + j] = x[b + 2 * j + 1];
    }
}

void mxfp4_gemv_rows_avx2(const Mxfp4GemvJob& job, int64_t r_begin, int64_t r_end) {
  switch (job.tokens) {
    case 1: return rows_for_tokens<1>(job, r_begin, r_end);
    case 2: return rows_for_tokens<2>(job, r_begin, r_end);
    case 3: return rows_for_tokens<3>(job, r_begin, r_end);
    default: return rows_for_tokens<4>(job, r_begin, r_end);
  }
  static_assert(kMxfp4GemvMaxTokensAvx2 == 4, "the switch covers every token count");
}

}  // namespace gossamer::kernels::cpu
