// AVX-512 VNNI kernels of the int8 expert GEMM (kernels/cpu/mxfp4_int8.h). Compiled with
// AVX-512 flags (CMakeLists.txt) and only called after kernels/cpu/isa.h found AVX-512 and
// VNNI. Internal linkage only, no header with inline code and no dynamic initialisers
// (the index tables are constexpr), so nothing here runs on a CPU without AVX-512.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/mxfp4_int8.h"

namespace gossamer::kernels::cpu {
namespace {

// The 16 x 8 transpose of 16-bit words (16 rows' blocks -> 8 steps of 16 rows) in two
// vpermt2w stages. A word index's bit 5 picks the second source.
//  Stage 1: Z[j] = rows 4j..4j+3, word (row % 4) * 8 + s. From Z[0], Z[1] (rows 0..7),
//    half h (s = 4h .. 4h+3) at word (s - 4h) * 8 + row.
//  Stage 2: from the rows 0..7 and rows 8..15 results of half h, steps 4h + 2p and
//    4h + 2p + 1 at words (s - 4h - 2p) * 16 + row.
struct PermTables {
  alignas(64) int16_t stage1[2][32];
  alignas(64) int16_t stage2[2][32];
};
constexpr PermTables make_perm_tables() {
  PermTables t{};
  for (int h = 0; h < 2; ++h)
    for (int sl = 0; sl < 4; ++sl)
      for (int r = 0; r < 8; ++r) t.stage1[h][sl * 8 + r] = int16_t((r < 4 ? 0 : 32) + (r % 4) * 8 + sl + 4 * h);
  for (int p = 0; p < 2; ++p)
    for (int hh = 0; hh < 2; ++hh)
      for (int i = 0; i < 16; ++i) t.stage2[p][hh * 16 + i] = int16_t((i < 8 ? 0 : 32) + (2 * p + hh) * 8 + i % 8);
  return t;
}
alignas(64) constexpr PermTables kPerm = make_perm_tables();

// 16 words (one per row: bytes 2s, 2s+1 of its block = elements 4s .. 4s+3) -> 64 weight
// bytes, lane i = row i's elements in order (low nibble = even element).
inline __m512i expand_step(__m256i words, __m512i lut) {
  const __m512i w = _mm512_cvtepu8_epi16(words);
  // byte 2m = low nibble of byte m, byte 2m+1 = its high nibble: (w | w << 4) & 0x0f0f.
  const __m512i nib = _mm512_ternarylogic_epi32(w, _mm512_slli_epi16(w, 4), _mm512_set1_epi16(0x0f0f), 0xA8);
  return _mm512_shuffle_epi8(lut, nib);
}

// Rows 4j .. 4j+3 of a group, block at src (row k at src + k * row_bytes), one per lane.
inline __m512i load_four_rows(const uint8_t* src, int64_t row_bytes) {
  __m512i z = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)));
  z = _mm512_inserti32x4(z, _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + row_bytes)), 1);
  z = _mm512_inserti32x4(z, _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * row_bytes)), 2);
  return _mm512_inserti32x4(z, _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 3 * row_bytes)), 3);
}

inline int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// R groups of 16 weight rows x T tokens. Per 32-block: the int32 accumulators start at
// the token's offset correction, take 8 vpdpbusd, then are scaled once into f32.
template <int R, int T>
void micro(const Int8TileJob& j, int64_t grp, int64_t t0) {
  const int64_t nb = j.nb, in = j.x->in;
  const int8_t* q[T];
  const float* xs[T];
  const int32_t* xc[T];
  for (int t = 0; t < T; ++t) {
    const int64_t src = j.rows ? int64_t{j.rows[t0 + t]} : j.row0 + t0 + t;
    q[t] = j.x->q + src * in;
    xs[t] = j.x->scale + src * nb;
    xc[t] = j.x->corr + src * nb;
  }
  __m512 facc[R][T];
#pragma GCC unroll 16
  for (int k = 0; k < R * T; ++k) facc[k / T][k % T] = _mm512_setzero_ps();
  const uint8_t* wbase = j.w + grp * nb * kInt8GroupBytes;
  const float* sbase = j.wscale + grp * nb * kInt8GroupRows;
  for (int64_t g = 0; g < nb; ++g) {
    __m512i iacc[R][T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512i c = _mm512_set1_epi32(xc[t][g]);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) iacc[r][t] = c;
    }
    const uint8_t* wg = wbase + g * kInt8GroupBytes;
#pragma GCC unroll 8
    for (int s = 0; s < 8; ++s) {
      __m512i wv[R];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) wv[r] = _mm512_loadu_si512(wg + r * nb * kInt8GroupBytes + s * 64);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const __m512i a = _mm512_set1_epi32(load_i32(q[t] + g * 32 + s * 4));
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) iacc[r][t] = _mm512_dpbusd_epi32(iacc[r][t], wv[r], a);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 ws = _mm512_loadu_ps(sbase + (r * nb + g) * kInt8GroupRows);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t)
        facc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[r][t]), _mm512_mul_ps(ws, _mm512_set1_ps(xs[t][g])),
                                     facc[r][t]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) _mm512_storeu_ps(j.dots + (t0 + t) * j.dots_ld + (grp + r) * kInt8GroupRows, facc[r][t]);
}

template <int T>
void groups_for_tokens(const Int8TileJob& j, int64_t t0) {
  int64_t grp = 0;
  for (; grp + 2 <= j.groups; grp += 2) micro<2, T>(j, grp, t0);
  if (grp < j.groups) micro<1, T>(j, grp, t0);
}

// e^x for x in [-87, 88]: e^x = 2^n e^r, n = round(x log2 e), |r| <= ln2 / 2, e^r by its
// degree-6 Taylor polynomial (truncation error r^7 / 5040 < 1.3e-7 relative).
inline __m512 exp_ps(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.f)), _mm512_set1_ps(88.f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);  // ln 2 in two parts
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.f / 720.f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  return _mm512_scalef_ps(p, n);
}

}  // namespace

void swiglu_pairs_avx512(const float* u, int64_t pairs, float alpha, float limit, float* y) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512 lim = _mm512_set1_ps(limit), neg_lim = _mm512_set1_ps(-limit), one = _mm512_set1_ps(1.f);
  const __m512 neg_alpha = _mm512_set1_ps(-alpha);
  for (int64_t i = 0; i < pairs; i += 16) {
    const int64_t n = pairs - i < 16 ? pairs - i : 16;
    const __mmask16 lo = _cvtu32_mask16(n >= 8 ? 0xffffu : (1u << (2 * n)) - 1);
    const __mmask16 hi = _cvtu32_mask16(n <= 8 ? 0u : n == 16 ? 0xffffu : (1u << (2 * (n - 8))) - 1);
    const __m512 a = _mm512_maskz_loadu_ps(lo, u + 2 * i), b = _mm512_maskz_loadu_ps(hi, u + 2 * i + 16);
    const __m512 g = _mm512_min_ps(_mm512_permutex2var_ps(a, even, b), lim);
    const __m512 l = _mm512_min_ps(_mm512_max_ps(_mm512_permutex2var_ps(a, odd, b), neg_lim), lim);
    const __m512 sig = _mm512_div_ps(one, _mm512_add_ps(one, exp_ps(_mm512_mul_ps(neg_alpha, g))));
    const __m512 out = _mm512_mul_ps(_mm512_mul_ps(g, sig), _mm512_add_ps(l, one));
    _mm512_mask_storeu_ps(y + i, _cvtu32_mask16(n == 16 ? 0xffffu : (1u << n) - 1), out);
  }
}

void quantize_rows_int8_avx512(const float* x, int64_t r0, int64_t r1, const Int8Rows& dst) {
  const int64_t in = dst.in, nb = in / 32;
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * in;
    for (int64_t g = 0; g < nb; ++g) {
      const __m512 a = _mm512_loadu_ps(xr + g * 32), b = _mm512_loadu_ps(xr + g * 32 + 16);
      const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
      const float inv = amax > 0.f ? 127.f / amax : 0.f;
      // Round to nearest (the default MXCSR mode); |x * inv| <= 127 so the narrowing is exact.
      const __m512i qa = _mm512_cvtps_epi32(_mm512_mul_ps(a, _mm512_set1_ps(inv)));
      const __m512i qb = _mm512_cvtps_epi32(_mm512_mul_ps(b, _mm512_set1_ps(inv)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst.q + r * in + g * 32), _mm512_cvtepi32_epi8(qa));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst.q + r * in + g * 32 + 16), _mm512_cvtepi32_epi8(qb));
      dst.scale[r * nb + g] = amax / 127.f;
      dst.corr[r * nb + g] = -kInt8WeightOffset * _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qb));
    }
  }
}

void decode_tile_int8_avx512(const uint8_t* blocks, const uint8_t* scales, int64_t stride, int64_t nb,
                             int64_t o0, int64_t o1, const float* scale_table, uint8_t* dst, float* wscale) {
  const __m512i lut = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(kInt8WeightCodes)));
  const __m512i s1a = _mm512_load_si512(kPerm.stage1[0]), s1b = _mm512_load_si512(kPerm.stage1[1]);
  const __m512i s2a = _mm512_load_si512(kPerm.stage2[0]), s2b = _mm512_load_si512(kPerm.stage2[1]);
  const int64_t row_bytes = stride * 16;
  const __m512i row_index = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                               _mm512_set1_epi32(int32_t(stride)));
  for (int64_t base = o0, grp = 0; base < o1; base += kInt8GroupRows, ++grp) {
    const int64_t real = o1 - base < kInt8GroupRows ? o1 - base : kInt8GroupRows;
    const uint8_t* rows0 = blocks + base * row_bytes;
    const uint8_t* srow0 = scales + base * stride;
    uint8_t* d = dst + grp * nb * kInt8GroupBytes;
    float* ws = wscale + grp * nb * kInt8GroupRows;
    // A last group with fewer rows goes through a zero-padded copy of each block (codes 0
    // decode to weight 0), with scale 0 for the missing rows.
    alignas(64) uint8_t padded[kInt8GroupRows * 16];
    if (real < kInt8GroupRows) std::memset(padded, 0, sizeof padded);
    for (int64_t g = 0; g < nb; ++g) {
      const uint8_t* src = rows0 + g * 16;
      int64_t rb = row_bytes;
      if (real < kInt8GroupRows) {
        for (int64_t i = 0; i < real; ++i) std::memcpy(padded + i * 16, src + i * row_bytes, 16);
        src = padded;
        rb = 16;
      } else if ((g & 3) == 0) {
        // Sixteen rows stream at once: fetch each one's line 8 blocks ahead.
        for (int i = 0; i < kInt8GroupRows; ++i) _mm_prefetch(reinterpret_cast<const char*>(src + i * row_bytes) + 128, _MM_HINT_T0);
      }
      const __m512i z0 = load_four_rows(src, rb), z1 = load_four_rows(src + 4 * rb, rb);
      const __m512i z2 = load_four_rows(src + 8 * rb, rb), z3 = load_four_rows(src + 12 * rb, rb);
      // Half h: steps 4h .. 4h+3 of rows 0..7 (lo) and rows 8..15 (hi).
      const __m512i lo0 = _mm512_permutex2var_epi16(z0, s1a, z1), hi0 = _mm512_permutex2var_epi16(z2, s1a, z3);
      const __m512i lo1 = _mm512_permutex2var_epi16(z0, s1b, z1), hi1 = _mm512_permutex2var_epi16(z2, s1b, z3);
      const __m512i steps[4] = {_mm512_permutex2var_epi16(lo0, s2a, hi0), _mm512_permutex2var_epi16(lo0, s2b, hi0),
                                _mm512_permutex2var_epi16(lo1, s2a, hi1), _mm512_permutex2var_epi16(lo1, s2b, hi1)};
      uint8_t* dg = d + g * kInt8GroupBytes;
      for (int k = 0; k < 4; ++k) {
        _mm512_storeu_si512(dg + (2 * k) * 64, expand_step(_mm512_castsi512_si256(steps[k]), lut));
        _mm512_storeu_si512(dg + (2 * k + 1) * 64, expand_step(_mm512_extracti64x4_epi64(steps[k], 1), lut));
      }
      // 0.5 * 2^(e-127) is the float with bits (e - 1) << 23 for e in 2..254: one gather of
      // the 16 rows' scale bytes instead of 16 table lookups. The gather reads 4 bytes per
      // row, so the last 3 blocks of a row, a short group and e in {0, 1, 255} (none in a
      // real checkpoint) take the table.
      bool done = false;
      if (real == kInt8GroupRows && g + 4 <= nb) {
        const __m512i e = _mm512_and_si512(_mm512_i32gather_epi32(row_index, srow0 + g, 1), _mm512_set1_epi32(0xff));
        const __mmask16 odd = _mm512_cmplt_epu32_mask(e, _mm512_set1_epi32(2)) |
                              _mm512_cmpeq_epi32_mask(e, _mm512_set1_epi32(255));
        if (!odd) {
          _mm512_storeu_si512(ws + g * kInt8GroupRows, _mm512_slli_epi32(_mm512_sub_epi32(e, _mm512_set1_epi32(1)), 23));
          done = true;
        }
      }
      if (!done)
        for (int64_t i = 0; i < kInt8GroupRows; ++i)
          ws[g * kInt8GroupRows + i] = i < real ? 0.5f * scale_table[srow0[i * stride + g]] : 0.f;
    }
  }
}

void int8_tile_rows_avx512(const Int8TileJob& j) {
  constexpr int kTokens = 6;  // 2 x 6 int32 + 2 x 6 f32 accumulators + 2 weights + 1 broadcast
  int64_t t = 0;
  for (; t + kTokens <= j.m; t += kTokens) groups_for_tokens<kTokens>(j, t);
  switch (j.m - t) {
    case 1: return groups_for_tokens<1>(j, t);
    case 2: return groups_for_tokens<2>(j, t);
    case 3: return groups_for_tokens<3>(j, t);
    case 4: return groups_for_tokens<4>(j, t);
    case 5: return groups_for_tokens<5>(j, t);
    default: return;
  }
}

}  // namespace gossamer::kernels::cpu
