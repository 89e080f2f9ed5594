// AVX-512 VNNI GEMV of decode steps in precision fast (kernels/cpu/mxfp4_int8.h). Same
// rules as every file here: compiled with AVX-512 flags, called only after
// kernels/cpu/isa.h found AVX-512 and VNNI, internal linkage, no dynamic initialisers.
//
// Why: the f32 GEMV spends about 11 vector instructions per block and row (decode through
// two vpermps, then three FMAs), which caps it near 5 GB/s of weights per thread, under
// the DRAM rate. Here a pair of blocks takes a broadcast load, a masked shift, an AND and
// a vpshufb to decode, 4 instructions for the scales, and 4 per token (vpdpbusd, convert,
// scale, FMA), so a thread streams about twice the bytes.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/cpu/mxfp4_int8.h"

namespace gossamer::kernels::cpu {
namespace {

constexpr int64_t kGemvPrefetchBytes = 512;

// The weight scale 2^(e-127) of each lane's block, from the pair's two e8m0 bytes, built
// as float bits e << 23 (exact for e in 1..254; e = 0 gives 0 instead of 2^-127 and
// e = 255, NaN in e8m0, gives inf). The 0.5 of the "2x value" bytes is in xs.
inline __m512 lane_scales(uint32_t two_bytes, __m512i shifts) {
  const __m512i e = _mm512_and_si512(_mm512_srlv_epi32(_mm512_set1_epi32(int(two_bytes)), shifts), _mm512_set1_epi32(0xff));
  return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
}

template <int NR, int T>
void rows(const Int8GemvJob& j, int64_t r, int64_t r_begin) {
  const __m512i lut = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(kInt8WeightCodes)));
  const __m512i low_nibbles = _mm512_set1_epi8(0x0f);
  const __m512i shifts = _mm512_setr_epi32(0, 0, 0, 0, 8, 8, 8, 8, 0, 0, 0, 0, 8, 8, 8, 8);
  const __mmask32 upper_words = 0xffff0000u;
  const int64_t full_pairs = j.nb / 2;
  __m512 acc[NR][T];
#pragma GCC unroll 16
  for (int k = 0; k < NR * T; ++k) acc[k / T][k % T] = _mm512_setzero_ps();
  auto pair = [&](int64_t p, bool tail) __attribute__((always_inline)) {
#pragma GCC unroll 4
    for (int i = 0; i < NR; ++i) {
      const int64_t at = (r + i) * j.stride + 2 * p;
      const uint8_t* blk = j.blocks + at * 16;
      if ((p & 1) == 0) _mm_prefetch(reinterpret_cast<const char*>(blk) + kGemvPrefetchBytes, _MM_HINT_T0);
      const __m256i raw = tail ? _mm256_maskz_loadu_epi8(0xffffu, blk) : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk));
      __m512i z = _mm512_broadcast_i64x4(raw);
      z = _mm512_mask_srli_epi16(z, upper_words, z, 4);
      const __m512i w = _mm512_shuffle_epi8(lut, _mm512_and_si512(z, low_nibbles));
      uint32_t sc = j.scales[at];
      if (!tail) sc |= uint32_t{j.scales[at + 1]} << 8;
      const __m512 ws = lane_scales(sc, shifts);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const __m512i dot = _mm512_dpbusd_epi32(_mm512_loadu_si512(j.corr[t] + p * 16), w,
                                                _mm512_loadu_si512(j.q[t] + p * 64));
        acc[i][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(ws, _mm512_loadu_ps(j.xs[t] + p * 16)),
                                    acc[i][t]);
      }
    }
  };
  for (int64_t p = 0; p < full_pairs; ++p) pair(p, false);
  if (j.nb % 2) pair(full_pairs, true);
  for (int i = 0; i < NR; ++i)
    for (int t = 0; t < T; ++t) j.res[t * j.res_ld + (r + i - r_begin)] = _mm512_reduce_add_ps(acc[i][t]);
}

template <int T>
void rows_for_tokens(const Int8GemvJob& j, int64_t r_begin, int64_t r_end) {
  int64_t r = r_begin;
  for (; r + 2 <= r_end; r += 2) rows<2, T>(j, r, r_begin);
  if (r < r_end) rows<1, T>(j, r, r_begin);
}

}  // namespace

void quantize_gemv_int8_avx512(const float* x, int64_t in, int8_t* q, float* xs, int32_t* corr) {
  const int64_t nb = in / 32, pairs = (nb + 1) / 2;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int64_t p = 0; p < pairs; ++p) {
    int8_t* qp = q + p * 64;
    float* xp = xs + p * 16;
    int32_t* cp = corr + p * 16;
    for (int h = 0; h < 2; ++h) {
      const int64_t g = 2 * p + h;
      float d = 0.f;
      int32_t sum = 0;
      if (g < nb) {
        const __m512 a = _mm512_loadu_ps(x + g * 32), b = _mm512_loadu_ps(x + g * 32 + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
        const __m512 inv = _mm512_set1_ps(amax > 0.f ? 127.f / amax : 0.f);
        const __m512i qe = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_permutex2var_ps(a, even, b), inv));
        const __m512i qo = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_permutex2var_ps(a, odd, b), inv));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(qp + h * 16), _mm512_cvtepi32_epi8(qe));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(qp + 32 + h * 16), _mm512_cvtepi32_epi8(qo));
        sum = _mm512_reduce_add_epi32(_mm512_add_epi32(qe, qo));
        d = 0.5f * (amax / 127.f);  // x 0.5: the weights are stored as 2 x value
      } else {
        std::memset(qp + h * 16, 0, 16);
        std::memset(qp + 32 + h * 16, 0, 16);
      }
      for (int k = 0; k < 4; ++k) {
        xp[h * 4 + k] = xp[8 + h * 4 + k] = d;
        cp[h * 4 + k] = cp[8 + h * 4 + k] = 0;
      }
      cp[h * 4] = -kInt8WeightOffset * sum;
    }
  }
}

void int8_gemv_rows_avx512(const Int8GemvJob& job, int64_t r_begin, int64_t r_end) {
  switch (job.tokens) {
    case 1: return rows_for_tokens<1>(job, r_begin, r_end);
    case 2: return rows_for_tokens<2>(job, r_begin, r_end);
    case 3: return rows_for_tokens<3>(job, r_begin, r_end);
    default: return rows_for_tokens<4>(job, r_begin, r_end);
  }
  static_assert(kInt8GemvMaxTokens == 4, "the switch covers every token count");
}

}  // namespace gossamer::kernels::cpu
